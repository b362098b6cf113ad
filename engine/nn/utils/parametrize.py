"""Parametrizations (``torch.nn.utils.parametrize``): make a module's tensor a function of
other tensors, recomputed on every access.

``register_parametrization(module, "weight", P)`` moves the weight to
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when
``P.right_inverse`` splits it into several tensors, as weight normalization does) and gives
the module a *property* ``weight`` that returns ``P(original)``.  Properties live on classes,
so the module's class is swapped for a one-off subclass ``Parametrized<Class>`` that holds
it; ``remove_parametrizations`` undoes all of this.  Gradients flow to the originals, which
are what an optimizer sees in ``parameters()``.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.autograd import no_grad
from engine.nn.modules.container import ModuleDict, ModuleList
from engine.nn.modules.module import Module
from engine.nn.parameter import Parameter
from engine.tensor import Tensor

__all__ = [
    "ParametrizationList",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
]


def _register(module: Module, name: str, value: Tensor) -> None:
    """``value`` as a parameter of ``module`` if it is a Parameter, else as a buffer."""
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the original tensor(s) they
    are applied to."""

    def __init__(self, modules: Sequence[Module], original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if new is not original:
                with no_grad():
                    original.data = new  # the same Parameter object: optimizers keep working
            _register(self, "original", original)
        else:
            self.is_tensor, self.ntensors = False, len(new)
            for index, value in enumerate(new):
                if isinstance(original, Parameter):
                    value = Parameter(value.detach(), original.requires_grad)
                _register(self, f"original{index}", value)

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(module).__name__} does not implement right_inverse."
                    )
                value = module.right_inverse(value)
            if self.is_tensor:
                self.original.copy_(value)
            else:
                for index, tensor in enumerate(value):
                    getattr(self, f"original{index}").copy_(tensor)

    def forward(self) -> Tensor:
        """The parametrized tensor: the first parametrization applied to the original(s), each
        next one to the previous result."""
        if self.is_tensor:
            result = self[0](self.original)
        else:
            result = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        for module in list(self)[1:]:
            result = module(result)
        return result


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def register_parametrization(
    module: Module, tensor_name: str, parametrization: Module, *, unsafe: bool = False
) -> Module:
    """Make ``module.<tensor_name>`` compute ``parametrization(original)`` on every access
    (a second registration on the same tensor applies after the first)."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    own = {name for name, _ in module.named_parameters(recurse=False)}
    own |= {name for name, _ in module.named_buffers(recurse=False)}
    if tensor_name not in own:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a parametrized element "
            f"with name '{tensor_name}'"
        )
    original = getattr(module, tensor_name)
    parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
        module.parametrizations = ModuleDict()

    def get_parametrized(self: Module) -> Tensor:
        return self.parametrizations[tensor_name]()

    def set_original(self: Module, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(type(module), tensor_name, property(get_parametrized, set_original))
    module.parametrizations[tensor_name] = parametrizations
    return module


def remove_parametrizations(
    module: Module, tensor_name: str, leave_parametrized: bool = True
) -> Module:
    """Undo :func:`register_parametrization` on ``tensor_name``: the tensor becomes a plain
    parameter again, holding the current parametrized value (``leave_parametrized=True``) or
    the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
                original.data = value
    elif leave_parametrized:
        value = getattr(module, tensor_name)
        original = (
            Parameter(value.detach(), value.requires_grad)
            if value.requires_grad
            else (value.detach())
        )
    else:
        raise ValueError(
            "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
            "parametrized in terms of a sequence of tensors."
        )
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module
