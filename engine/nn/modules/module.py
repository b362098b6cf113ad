"""``Module``: the base class of every layer, with ``torch.nn.Module``'s behaviour.

All of it rests on one mechanism, attribute registration: ``__setattr__`` looks at the value
and files a :class:`~engine.nn.Parameter` under ``_parameters``, a ``Module`` under
``_modules`` and a tensor named by :meth:`Module.register_buffer` under ``_buffers``.  The rest
is recursion over ``_modules``: ``named_parameters`` walks the tree and joins the names with
dots (``"0.weight"``), ``train()`` sets ``training`` on every submodule, ``state_dict`` collects
each module's parameters, then its persistent buffers, then its children's entries.

``module(x)`` is :meth:`Module.__call__`: forward pre-hooks (they may replace the arguments),
``forward``, forward hooks (they may replace the result), and, when full backward hooks are
registered, an identity :class:`~engine.autograd.Function` on the inputs and one on the outputs
whose backward calls ``hook(module, grad_input, grad_output)`` (torch's ``BackwardHook``).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterator
from typing import Any

from engine import dtypes
from engine.autograd import Function, is_grad_enabled, no_grad
from engine.dtypes import DType
from engine.nn.parameter import Parameter, UninitializedParameter
from engine.ops.creation import empty
from engine.tensor import RemovableHandle, Tensor

__all__ = ["Module"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What :meth:`Module.load_state_dict` returns: the keys it could not fill and the keys it
    did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _typename(value: object) -> str:
    """How error messages name a value's type (torch's ``torch.typename``)."""
    if isinstance(value, Tensor):
        return f"engine.{type(value).__name__}"
    return type(value).__name__


def addindent(text: str, spaces: int) -> str:
    """Indent every line of ``text`` but the first (a child's repr inside its parent's)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class _BackwardHook(Function):
    """Identity on tensors whose backward hands the incoming gradients to ``callback``, which
    may return replacements: the module's inputs and outputs pass through it when full backward
    hooks are registered."""

    @staticmethod
    def forward(ctx, callback: Callable, *tensors: Tensor):
        ctx.callback = callback
        # A tensor that needs no gradient passes through without one: its gradient arrives
        # as zeros, which is what torch's hooks see for it.
        ctx.mark_non_differentiable(*(tensor for tensor in tensors if not tensor.requires_grad))
        return tensors[0] if len(tensors) == 1 else tensors

    @staticmethod
    def backward(ctx, *grads):
        replaced = ctx.callback(grads)
        return (None, *(grads if replaced is None else replaced))

    @staticmethod
    def jvp(ctx, callback, *tangents):
        return tangents[0] if len(tangents) == 1 else tangents


class Module:
    """Base class of layers and models: subclass it, create parameters and submodules in
    ``__init__`` (after ``super().__init__()``) and define ``forward``."""

    training: bool

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_backward_hooks", {})
        object.__setattr__(self, "_backward_pre_hooks", {})
        # ids of the forward hooks registered with_kwargs=True (torch keeps the same sets)
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", set())
        object.__setattr__(self, "_forward_hooks_with_kwargs", set())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of this module: every subclass defines it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                "(engine.nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly. To express '{name}' as a function of another Tensor, "
                "compute the value in the forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (BatchNorm's running mean) under
        ``name``; ``persistent=False`` leaves it out of :meth:`state_dict`."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                "(engine Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name`` (what ``self.name = module`` does)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_name(name, "module", self._modules)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name: object, kind: str, registry: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            got = f", got: {name}" if kind == "module" else ""
            raise KeyError(f'{kind} name can\'t contain "."{got}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=params)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' "
                    "(engine.nn.Parameter or None expected)"
                )
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if self.__dict__.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' "
                    "(engine.nn.Module or None expected)"
                )
            self._modules[name] = value
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' "
                    "(engine Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Remove ``name`` from the registries other than ``keep`` (where a replacement keeps
        its position) before it is registered as a value of that kind."""
        for registry in (self.__dict__, self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: parameters, buffers and modules live in dicts.
        for registry in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(registry)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._parameters, *self._buffers, *self._modules})

    # ------------------------------------------------------------------ iteration
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (name ``""``) and every submodule, depth
        first in registration order; a module reachable twice comes once."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every submodule (see :meth:`named_modules`)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for each direct child."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Tensor]]:
        """Each module's own entries of ``registry`` (``"_parameters"`` or ``"_buffers"``) with
        dotted names; a tensor shared by two modules comes once when ``remove_duplicate``."""
        memo = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """``(dotted name, parameter)`` for this module's parameters and (with ``recurse``)
        its submodules', in registration order."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """The parameters (see :meth:`named_parameters`)."""
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """``(dotted name, buffer)`` for the buffers, persistent or not."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """The buffers (see :meth:`named_buffers`)."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Set ``training`` on this module and every submodule (Dropout and BatchNorm read it);
        returns ``self``.  It does not change whether gradients are computed."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """``self.train(False)``: evaluation behaviour (gradients are still computed; use
        ``engine.no_grad()`` to turn them off)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set ``requires_grad`` on every parameter (``False`` freezes the module)."""
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (the default), or to zeros."""
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
            else:
                grad = parameter.grad
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule, children first, then on ``self``; returns ``self``
        (the usual way to run a custom initialization)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ dtype conversion
    def _apply(self, fn: Callable[[Tensor], Tensor]) -> Module:
        """Replace every parameter's data (and gradient) and every buffer by ``fn`` of it, in
        place: the Parameter objects stay the same, so an optimizer holding them still works."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for parameter in self._parameters.values():
                if parameter is None:
                    continue
                parameter.data = fn(parameter)
                if parameter.grad is not None:
                    parameter.grad.data = fn(parameter.grad)
            for name, buffer in self._buffers.items():
                if buffer is not None:
                    self._buffers[name] = fn(buffer)
        return self

    def to(self, *args: Any, dtype: DType | None = None, **kwargs: Any) -> Module:
        """Convert the floating-point parameters and buffers to ``dtype`` (``to(engine.float64)``;
        a device argument must be ``'cpu'``); integer buffers are left alone."""
        for argument in [*args, *kwargs.values()]:
            if isinstance(argument, DType):
                dtype = argument
            elif isinstance(argument, Tensor):
                dtype = argument.dtype
            elif str(argument) != "cpu":
                raise RuntimeError(f"engine tensors live on the CPU only, got device {argument!r}")
        if dtype is None:
            return self
        if not dtype.is_floating_point:
            raise TypeError(
                "nn.Module.to only accepts floating point or complex dtypes, but got desired "
                f"dtype={dtype}"
            )
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def cpu(self) -> Module:
        """``self``: engine tensors always live on the CPU."""
        return self

    def float(self) -> Module:
        """Floating-point parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Module:
        """Floating-point parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def half(self) -> Module:
        """Floating-point parameters and buffers to float16."""
        return self.to(dtypes.float16)

    def bfloat16(self) -> Module:
        """Floating-point parameters and buffers to bfloat16."""
        return self.to(dtypes.bfloat16)

    # ------------------------------------------------------------------ state dict
    def state_dict(
        self, *, destination: dict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict[str, Tensor]:
        """The module's state by dotted name: each module's parameters, then its persistent
        buffers, then its children's entries.  Values are detached (``keep_vars=True`` keeps
        the Parameters themselves) and share storage with the module."""
        if destination is None:
            destination = OrderedDict()
        for name, value in self._local_state().items():
            destination[prefix + name] = value if keep_vars else value.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def _local_state(self) -> dict[str, Tensor]:
        """This module's own parameters and persistent buffers (not None), by name."""
        state = {name: value for name, value in self._parameters.items() if value is not None}
        for name, value in self._buffers.items():
            if value is not None and name not in self._non_persistent_buffers_set:
                state[name] = value
        return state

    def load_state_dict(
        self, state_dict: dict[str, Tensor], strict: bool = True, assign: bool = False
    ) -> _IncompatibleKeys:
        """Copy the values of ``state_dict`` into the parameters and persistent buffers (under
        ``no_grad``; with ``assign=True`` the state dict's tensors become them instead).
        Returns ``(missing_keys, unexpected_keys)``; with ``strict`` (the default) either kind
        raises a RuntimeError, and a shape mismatch always does."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        for prefix, module in self.named_modules():
            prefix = prefix + "." if prefix else ""
            local = module._local_state()
            for name, value in local.items():
                key = prefix + name
                if key not in state_dict:
                    missing.append(key)
                    continue
                source = state_dict[key]
                if isinstance(value, UninitializedParameter) and isinstance(source, Tensor):
                    # A lazy module takes its shape from the checkpoint.
                    value = Parameter(empty(source.shape, dtype=value.dtype))
                    setattr(module, name, value)
                error = _check_source(key, value, source)
                if error:
                    errors.append(error)
                elif assign:
                    if isinstance(value, Parameter):
                        source = Parameter(source, requires_grad=value.requires_grad)
                    setattr(module, name, source)
                else:
                    with no_grad():
                        value.copy_(source)
            for key in state_dict:
                if key.startswith(prefix):
                    first = key[len(prefix) :].split(".", 1)[0]
                    if first not in module._modules and first not in local:
                        unexpected.append(key)
        if strict:
            if unexpected:
                keys = ", ".join(f'"{key}"' for key in unexpected)
                errors.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing:
                keys = ", ".join(f'"{key}"' for key in missing)
                errors.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ hooks and calling
    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces the
        positional arguments (a single value is wrapped in a tuple).  With ``with_kwargs``:
        ``hook(module, args, kwargs)`` returning None or ``(args, kwargs)``.  ``prepend``
        runs it before the hooks already registered."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward`` (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a non-None result replaces the output."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known, before they flow into it; a non-None result replaces ``grad_output``."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to
        the module's positional inputs are computed (tuples, None for a non-tensor input);
        a non-None result replaces ``grad_input``."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_hook = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward_hook = _ModuleBackwardHook(self, args)
            args = backward_hook.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            if key in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_hook is not None:
            output = backward_hook.wrap_outputs(output)
        return output

    # ------------------------------------------------------------------ lookup by name
    def get_submodule(self, target: str) -> Module:
        """The submodule at the dotted path ``target`` (``""`` is ``self``)."""
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(module._get_name() + " has no attribute `" + item + "`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"0.weight"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        parameter = getattr(module, name)
        if not isinstance(parameter, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return parameter

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(module._get_name() + " has no attribute `" + name + "`")
        if name not in module._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(module, name)

    # ------------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The part of the repr between the parentheses (``in_features=2, ...``); layers
        override it."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + addindent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _add_hook(hooks: dict, hook: Callable, prepend: bool = False) -> RemovableHandle:
    """Register ``hook`` in ``hooks`` (last, or first with ``prepend``); the handle removes it."""
    handle = RemovableHandle(hooks)
    if prepend:
        others = list(hooks.items())
        hooks.clear()
        hooks[handle.id] = hook
        hooks.update(others)
    else:
        hooks[handle.id] = hook
    return handle


def _check_source(key: str, value: Tensor, source: object) -> str | None:
    """torch's error for loading ``source`` into ``value``: not a tensor, or another shape."""
    if not isinstance(source, Tensor):
        return (
            f'While copying the parameter named "{key}", expected engine.Tensor or Tensor-like '
            f"object from checkpoint but received {type(source)}"
        )
    if source.shape != value.shape:
        return (
            f"size mismatch for {key}: copying a param with shape {source.shape} from "
            f"checkpoint, the shape in current model is {value.shape}."
        )
    return None


class _ModuleBackwardHook:
    """One call's full backward hooks (torch's ``BackwardHook``): the gradients of the
    outputs pass the pre-hooks and are recorded at the outputs' identity; the hooks run when
    the gradients of the inputs pass the inputs' identity (or at the outputs when no input
    needs one)."""

    def __init__(self, module: Module, args: tuple) -> None:
        self.module = module
        self.count = len(args)
        self.positions: list[int] = []
        self.grad_outputs: tuple = ()

    def wrap_inputs(self, args: tuple) -> tuple:
        positions = [i for i, arg in enumerate(args) if isinstance(arg, Tensor)]
        if not (is_grad_enabled() and any(args[i].requires_grad for i in positions)):
            return args
        self.positions = positions
        wrapped = _BackwardHook.apply(self.on_inputs, *(args[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for position, tensor in zip(positions, wrapped, strict=True):
            args[position] = tensor
        return tuple(args)

    def wrap_outputs(self, output: Any) -> Any:
        tensors = output if isinstance(output, tuple) else (output,)
        if not all(isinstance(tensor, Tensor) for tensor in tensors):
            raise TypeError("full backward hooks need a module that returns tensors")
        if not (is_grad_enabled() and any(tensor.requires_grad for tensor in tensors)):
            return output
        return _BackwardHook.apply(self.on_outputs, *tensors)

    def run_hooks(self, grad_input: tuple) -> tuple:
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_outputs)
            if result is not None:
                grad_input = tuple(result)
        return grad_input

    def on_outputs(self, grads: tuple) -> tuple:
        for hook in list(self.module._backward_pre_hooks.values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = tuple(result)
        self.grad_outputs = grads
        if not self.positions:
            warnings.warn(
                "Full backward hook is firing when gradients are computed with respect to "
                "module outputs since no inputs require gradients.",
                UserWarning,
                stacklevel=2,
            )
            self.run_hooks((None,) * self.count)
        return grads

    def on_inputs(self, grads: tuple) -> tuple:
        grad_input = [None] * self.count
        for position, grad in zip(self.positions, grads, strict=True):
            grad_input[position] = grad
        grad_input = self.run_hooks(tuple(grad_input))
        return tuple(grad_input[position] for position in self.positions)
