"""The derivative table: each differentiable op is one entry, its kernel and its derivatives.

PyTorch keeps every op's derivatives in one file, ``tools/autograd/derivatives.yaml``: an
entry per op names, for each differentiable input, its vector-Jacobian product written with
ordinary tensor ops (``self: grad * other``), and a code generator turns the entries into the
``MulBackward0`` nodes.  The engine does the same in Python.  An entry is a kernel function
decorated with :func:`op`, whose keyword arguments are the VJPs, one per differentiable
argument of the kernel::

    @op(
        input=lambda grad, other: grad * other,
        other=lambda grad, input: grad * input,
        jvp=lambda input, other, input_t, other_t: input_t * other + other_t * input,
    )
    def mul(input, other):
        return iterator.compute(np.multiply, (input, other), result_type(input, other))

The decorator builds the :class:`~engine.autograd.Function` (node ``MulBackward0``) that
the public ``mul`` calls, and registers the entry in :data:`DERIVATIVES`.  What it does once,
for every op, is what the generated code does in torch:

* **saving**: a formula's parameters name what it reads -- ``grad``, ``result``, a kernel
  argument (``input``, ``other``, ``dim`` ...), or an argument's ``_shape`` / ``_dtype`` --
  and only what the formulas of the inputs that need a gradient read is saved.  Tensors are
  saved with ``ctx.save_for_backward`` (so an in-place change is caught), everything else as
  plain values.  ``mul`` saves ``other`` only if ``input`` needs a gradient, as torch does.
* **shapes and dtypes**: a formula returns the gradient for its argument in whatever shape the
  math gives (``grad * other`` has the broadcast shape); the backward engine sums it back to
  the argument's shape (torch's ``sum_to``) and casts it to its dtype.  No entry unbroadcasts
  by hand.
* **higher derivatives**: formulas are written with engine ops, so with
  ``create_graph=True`` the backward pass is itself recorded and can be differentiated again.
* **forward mode**: ``jvp=`` is the entry's Jacobian-vector product, torch's ``result:`` line.
  It reads the arguments, ``result``, and each argument's tangent as ``<argument>_t`` (zero for
  an argument without one): ``mul``'s is ``input_t * other + other_t * input``.  When a dual
  level is open (:mod:`engine.autograd.forward_ad`), ``Function.apply`` evaluates it right after
  the kernel, and the result's tangent is converted to the result's shape and dtype.

Ops that return several outputs (``max(dim)``: values and indices) and ops whose backward is
a different kind of op (indexing's gather/scatter pair) remain hand-written ``Function``
subclasses with ``forward`` and ``backward`` side by side; they are registered here with
:func:`register` so that :data:`DERIVATIVES` lists every differentiable op.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.autograd import grad_mode
from engine.autograd.function import Function, FunctionCtx
from engine.ops.autocast import AUTOCAST, cast_arguments
from engine.ops.iterator import wrap_fresh
from engine.tensor import Tensor

# Names a formula may read besides the kernel's arguments.
_GRAD, _RESULT = "grad", "result"
_SUFFIXES = ("_shape", "_dtype")


@dataclass
class Entry:
    """One row of the derivative table: the op's name, its kernel and its VJP formulas
    (``formulas[argument] = lambda grad, ...: ...``; empty for a hand-written Function), and
    the :class:`Function` classes that record it (one per node name, made on first use)."""

    name: str
    kernel: Callable
    formulas: dict[str, Callable] = field(default_factory=dict)
    functions: list[type[Function]] = field(default_factory=list)
    jvp: Callable | None = None


DERIVATIVES: dict[str, Entry] = {}
"""Every differentiable op of the engine, by name (``DERIVATIVES["mul"].formulas``)."""


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.strip("_").split("_"))


def _reads(formula: Callable) -> tuple[str, ...]:
    """The names a formula reads: its parameters, in order."""
    return tuple(inspect.signature(formula).parameters)


def op(
    *,
    jvp: Callable | None = None,
    node_name: str | Callable[..., str] | None = None,
    numbers_are_inputs: bool = False,
    non_differentiable: tuple[str, ...] = (),
    **formulas: Callable,
) -> Callable[[Callable], Callable]:
    """Make the decorated kernel a differentiable op whose VJP for argument ``a`` is
    ``formulas[a]`` (see the module docstring for what a formula may read).

    ``node_name`` is the graph node's class name (default ``<Name>Backward0``), or a function
    of the call's arguments for ops torch records under several names (``SumBackward0`` for a
    full sum, ``SumBackward1`` with ``dim``).  ``numbers_are_inputs``: a Python-number operand
    gets an empty edge, as in torch's ``(x * 2).grad_fn.next_functions``.
    ``non_differentiable``: tensor arguments with no edge at all (``where``'s condition).
    ``jvp``: the forward-mode formula, reading arguments, ``result`` and ``<argument>_t``.
    """

    def decorate(kernel: Callable) -> Callable:
        signature = inspect.signature(kernel)
        positional = [
            parameter.name
            for parameter in signature.parameters.values()
            if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        ]
        defaults = {
            parameter.name: parameter.default
            for parameter in signature.parameters.values()
            if parameter.default is not inspect.Parameter.empty
        }
        unknown = set(formulas) - set(positional)
        if unknown:
            raise TypeError(f"{kernel.__name__}: formulas for unknown arguments {sorted(unknown)}")
        # For each positional argument: its formula and the names that formula reads.
        plan = tuple(
            (formulas.get(name), _reads(formulas[name]) if name in formulas else ())
            for name in positional
        )
        for _, reads in plan:
            for name in reads:
                base = _strip_suffix(name)
                if name not in (_GRAD, _RESULT) and base not in signature.parameters:
                    raise TypeError(f"{kernel.__name__}: a formula reads unknown name {name!r}")

        # needs_input_grad -> what to save: worked out once per pattern, not once per call.
        save_plans: dict[tuple[bool, ...], tuple] = {}

        def forward(ctx, *args, **kwargs):
            result = kernel(*args, **kwargs)
            if grad_mode.FORWARD_AD.active and _has_tangent(args):
                ctx.forward_call = (args, kwargs, result)  # for the JVP, computed next
            if type(ctx) is not FunctionCtx:  # a graph node is being recorded
                needs = ctx.needs_input_grad
                what = save_plans.get(needs)
                if what is None:
                    what = save_plans[needs] = _save_plan(plan, needs, positional)
                _save(ctx, what, defaults, args, kwargs, result)
            return result

        def backward(ctx, grad_output):
            values = dict(ctx.saved_values)
            for name, tensor in zip(ctx.saved_names, ctx.saved_tensors, strict=True):
                values[name] = tensor
            values[_GRAD] = grad_output
            grads = []
            for (formula, reads), needed in zip(plan, ctx.needs_input_grad, strict=True):
                if needed and formula is not None:
                    arguments = []
                    for name in reads:
                        arguments.append(values[name])
                    grads.append(formula(*arguments))
                else:
                    grads.append(None)
            return tuple(grads)

        jvp_reads = _reads(jvp) if jvp is not None else ()
        for name in jvp_reads:
            base = name[:-2] if name.endswith("_t") else _strip_suffix(name)
            if name != _RESULT and base not in signature.parameters:
                raise TypeError(f"{kernel.__name__}: the JVP reads unknown name {name!r}")

        def forward_derivative(ctx, *tangents):
            """The JVP formula, given each argument's tangent (zero where there is none)."""
            if jvp is None:
                raise RuntimeError(f"{entry.name} has no forward-mode derivative (JVP)")
            args, kwargs, result = vars(ctx).pop("forward_call")  # read once, not kept
            values = {_RESULT: result}
            for name, value, tangent in zip(positional, args, tangents, strict=False):
                values[name] = value
                values[name + "_t"] = zero_tangent(value) if tangent is None else tangent
            for name in jvp_reads:
                if name not in values:  # a keyword-only argument
                    values[name] = kwargs.get(name, defaults.get(name))
            arguments = []
            for name in jvp_reads:
                arguments.append(values[name])
            return jvp(*arguments)

        # A kernel named _view (the public view() checks its arguments first) is listed as "view".
        entry = Entry(kernel.__name__.lstrip("_"), kernel, dict(formulas), jvp=jvp)
        DERIVATIVES[entry.name] = entry
        classes: dict[str, type[Function]] = {}

        def function_named(name: str) -> type[Function]:
            function = classes.get(name)
            if function is None:
                attributes = {
                    "node_name": name,
                    "numbers_are_inputs": numbers_are_inputs,
                    "non_differentiable_arguments": tuple(
                        positional.index(argument) for argument in non_differentiable
                    ),
                    "forward": staticmethod(forward),
                    "backward": staticmethod(backward),
                    "jvp": staticmethod(forward_derivative),
                    "__doc__": f"The autograd Function of ``{kernel.__name__}`` (generated).",
                }
                function = type(re.sub(r"Backward\d*$", "", name), (Function,), attributes)
                classes[name] = function
                entry.functions.append(function)
            return function

        fixed_name = (
            node_name if isinstance(node_name, str) else f"{_camel(kernel.__name__)}Backward0"
        )
        fixed = None if callable(node_name) else function_named(fixed_name)
        count = len(positional)

        @functools.wraps(kernel)
        def differentiable(*args, **kwargs):
            if AUTOCAST.device is not None:  # inside engine.autocast(): torch's cast policy
                args, kwargs = cast_arguments(entry.name, args, kwargs)
            if len(args) < count:
                # Every positional argument is passed positionally, so that edges and
                # needs_input_grad line up with the kernel's parameters.
                args = args + tuple(
                    _take(kernel, name, kwargs, defaults) for name in positional[len(args) :]
                )
            function = fixed if fixed is not None else function_named(node_name(*args, **kwargs))
            return function.apply(*args, **kwargs)

        return differentiable

    return decorate


def _has_tangent(args: tuple) -> bool:
    for argument in args:
        if isinstance(argument, Tensor) and argument._tangent is not None:
            return True
    return False


def zero_tangent(value: object) -> object:
    """The tangent of an argument that has none: zeros like a tensor, 0 for a number."""
    if isinstance(value, Tensor):
        return wrap_fresh(np.zeros(value._shape, dtype=value._storage.dtype))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0.0
    return None


def _take(kernel: Callable, name: str, kwargs: dict, defaults: dict):
    """The value of parameter ``name`` from the keyword arguments (removed) or its default;
    ``axis=`` is accepted for ``dim``, as torch accepts NumPy's name."""
    if name in kwargs:
        return kwargs.pop(name)
    if name == "dim" and "axis" in kwargs:
        return kwargs.pop("axis")
    if name in defaults:
        return defaults[name]
    raise TypeError(f"{kernel.__name__.lstrip('_')}() missing required argument '{name}'")


def _strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _save_plan(plan: tuple, needs: tuple[bool, ...], positional: list[str]) -> tuple:
    """What the formulas of the inputs that need a gradient read, as ``(name, argument,
    attribute, position)`` rows in the kernel's argument order, then the result (the order
    torch's nodes save in).  ``position`` is None for the result and keyword-only arguments."""
    needed: set[str] = set()
    for (_, reads), needed_here in zip(plan, needs, strict=False):
        if needed_here:
            needed.update(name for name in reads if name != _GRAD)
    rank = {name: position for position, name in enumerate(positional)}
    rows = []
    for name in sorted(needed, key=lambda name: (rank.get(_strip_suffix(name), len(rank)), name)):
        argument = _strip_suffix(name)
        attribute = name[len(argument) + 1 :] if argument != name else None
        rows.append((name, argument, attribute, rank.get(argument)))
    return tuple(rows)


def _save(ctx, what: tuple, defaults: dict, args: tuple, kwargs: dict, result) -> None:
    """Save the rows of a :func:`_save_plan`: tensors through ``ctx.save_for_backward``
    (version-checked at backward), other values as they are."""
    names, tensors, values = [], [], {}
    for name, argument, attribute, position in what:
        if argument == _RESULT:
            value = result
        elif position is not None:
            value = args[position]
        else:
            value = kwargs.get(argument, defaults.get(argument))
        if attribute == "shape":
            value = value._shape if isinstance(value, Tensor) else ()
        elif attribute == "dtype":
            value = value.dtype if isinstance(value, Tensor) else None
        if isinstance(value, Tensor):
            names.append(name)
            tensors.append(value)
        else:
            values[name] = value
    ctx.saved_names = tuple(names)
    ctx.saved_values = values
    ctx.save_for_backward(*tensors)


def register(name: str, *functions: type[Function]) -> None:
    """List hand-written :class:`Function` classes in :data:`DERIVATIVES` under one op name
    (multi-output ops and gather/scatter pairs, which do not fit a formula per input)."""
    entry = DERIVATIVES.setdefault(name, Entry(name, functions[0].forward))
    entry.functions.extend(functions)


def accepts_axis(function: Callable) -> Callable:
    """Let ``function`` take ``axis=`` for its ``dim`` argument, as torch does everywhere (the
    table's entries accept it already, in :func:`_take`)."""

    @functools.wraps(function)
    def with_axis(*args, **kwargs):
        if "axis" in kwargs:
            kwargs["dim"] = kwargs.pop("axis")
        return function(*args, **kwargs)

    return with_axis
