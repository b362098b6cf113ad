"""Function transforms with ``torch.func``'s names and conventions: ``grad``,
``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd`` and ``hessian``.

They are thin layers over the two modes the engine already has.  Reverse mode
(:func:`engine.autograd.grad`) gives a vector-Jacobian product ``v^T J`` per backward pass: one
*row* of the Jacobian, so :func:`jacrev` makes one pass per output element.  Forward mode
(:mod:`engine.autograd.forward_ad`) gives a Jacobian-vector product ``J v`` per forward pass:
one *column*, so :func:`jacfwd` makes one pass per input element.  Which is cheaper depends on
the shape of the Jacobian: few outputs (a loss) favour reverse mode, few inputs favour forward
mode.  :func:`hessian` is forward-over-reverse: ``jacfwd(jacrev(f))``.

torch batches the passes of ``jacrev`` and ``jacfwd`` into one with ``vmap`` (a vectorizing
transform); the engine has no ``vmap``, so these loop over the basis vectors, one pass each,
which gives the same numbers at the cost of a Python loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from engine.autograd import forward_ad, grad_mode
from engine.autograd.backward_engine import grad as autograd_grad
from engine.autograd.function import set_tangent
from engine.ops.creation import zeros, zeros_like
from engine.ops.join import stack
from engine.tensor import Tensor

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "vjp"]

Argnums = int | tuple[int, ...]


def _check_argnums(argnums: Argnums, count: int) -> tuple[int, ...]:
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for position in positions:
        if not -count <= position < count:
            raise RuntimeError(f"Got argnum={position}, but only {count} positional inputs")
    return tuple(position % count for position in positions)


def _differentiable_copy(tensor: Tensor) -> Tensor:
    """``tensor`` as an input to differentiate with respect to: a fresh leaf requiring grad
    (keeping its tangent, so that forward mode can run over this reverse pass), or, when an
    outer transform is already tracking it, a recorded alias that keeps it in the outer graph
    (so that ``grad(grad(f))`` works)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"expected a Tensor to differentiate with respect to, got {tensor!r}")
    if tensor.requires_grad and grad_mode.is_grad_enabled():
        return tensor.view_as(tensor)
    leaf = tensor.detach().requires_grad_()
    if tensor._tangent is not None:
        set_tangent(leaf, tensor._tangent)
    return leaf


def _with_differentiable_inputs(args: tuple, argnums: Argnums) -> tuple[list, list]:
    """``args`` with each one in ``argnums`` replaced by a :func:`_differentiable_copy`, and
    the list of those copies (the inputs to differentiate with respect to)."""
    positions = _check_argnums(argnums, len(args))
    args = list(args)
    for position in positions:
        args[position] = _differentiable_copy(args[position])
    return args, [args[position] for position in positions]


def _outer_graph(args: Sequence) -> bool:
    """Whether an enclosing transform differentiates through this one (then the results must
    stay in the graph: ``create_graph``)."""
    return grad_mode.is_grad_enabled() and any(
        isinstance(arg, Tensor) and arg.requires_grad for arg in args
    )


def _split_aux(result, has_aux: bool, name: str):
    if not has_aux:
        return result, None
    if not (isinstance(result, tuple) and len(result) == 2):
        raise RuntimeError(
            f"{name}(f, ...)(*args): output of function f should be a tuple: "
            "(output, aux) if has_aux is True"
        )
    return result


def grad_and_value(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """``grad_and_value(f)(*args)`` is ``(gradient, f(*args))``: the gradient of the scalar
    ``f`` with respect to ``args[argnums]`` (a tuple of them for a tuple of argnums)."""

    def wrapper(*args):
        keep_graph = _outer_graph(args)
        args, inputs = _with_differentiable_inputs(args, argnums)
        with grad_mode.enable_grad():
            output, aux = _split_aux(func(*args), has_aux, "grad_and_value")
        if not isinstance(output, Tensor) or output.ndim != 0:
            dims = output.ndim if isinstance(output, Tensor) else type(output).__name__
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {dims} dims. Maybe you wanted to use the vjp or jacrev APIs "
                "instead?"
            )
        if output.requires_grad:
            grads = autograd_grad(output, inputs, create_graph=keep_graph, allow_unused=True)
        else:
            grads = (None,) * len(inputs)
        grads = tuple(
            zeros_like(tensor) if value is None else value
            for tensor, value in zip(inputs, grads, strict=True)
        )
        result = grads[0] if isinstance(argnums, int) else grads
        value = output if keep_graph else output.detach()
        if value is not output and output._tangent is not None:
            set_tangent(value, output._tangent)
        return (result, (value, aux)) if has_aux else (result, value)

    return wrapper


def grad(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """``grad(f)(*args)``: the gradient of the scalar ``f`` with respect to ``args[argnums]``
    (shaped like it), by one reverse pass; with ``has_aux``, ``(gradient, aux)``."""
    with_value = grad_and_value(func, argnums, has_aux)

    def wrapper(*args):
        gradient, value = with_value(*args)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Tensor, has_aux: bool = False) -> tuple:
    """``(output, vjp_fn)``: ``vjp_fn(v)`` returns ``v^T J``, one gradient per primal (a
    tuple), for a ``v`` shaped like the output; it may be called several times."""
    keep_graph = _outer_graph(primals)
    inputs = [_differentiable_copy(primal) for primal in primals]
    with grad_mode.enable_grad():
        output, aux = _split_aux(func(*inputs), has_aux, "vjp")
    outputs = output if isinstance(output, tuple) else (output,)

    def vjp_fn(*cotangents: Tensor) -> tuple:
        if len(cotangents) == 1 and isinstance(cotangents[0], tuple):
            cotangents = cotangents[0]
        if len(cotangents) != len(outputs):
            raise RuntimeError(
                f"Expected pytree structure of cotangents to be the same as pytree structure "
                f"of outputs to the function: {len(outputs)} outputs, {len(cotangents)} "
                "cotangents"
            )
        grads = autograd_grad(
            list(outputs),
            inputs,
            list(cotangents),
            retain_graph=True,
            create_graph=keep_graph,
            allow_unused=True,
        )
        return tuple(
            zeros_like(tensor) if value is None else value
            for tensor, value in zip(inputs, grads, strict=True)
        )

    shown = tuple(value if keep_graph else value.detach() for value in outputs)
    shown = shown if isinstance(output, tuple) else shown[0]
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def jvp(
    func: Callable,
    primals: tuple,
    tangents: tuple,
    *,
    strict: bool = False,
    has_aux: bool = False,
) -> tuple:
    """``(func(*primals), J v)``: the Jacobian-vector product for the tangents ``v`` (one per
    primal, same shapes), by one forward pass in forward mode."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals to be a tuple. E.g. it should be "
            "valid to call f(*primals)."
        )
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to have the same python "
            "structure. For example, if primals is a tuple of 3 tensors, tangents also must be."
        )
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(primals, tangents, strict=True)]
        output, aux = _split_aux(func(*duals), has_aux, "jvp")
        outputs = output if isinstance(output, tuple) else (output,)
        unpacked = [forward_ad.unpack_dual(value) for value in outputs]
        primal_out = tuple(pair.primal for pair in unpacked)
        tangent_out = tuple(
            zeros_like(pair.primal) if pair.tangent is None else pair.tangent for pair in unpacked
        )
    if not isinstance(output, tuple):
        primal_out, tangent_out = primal_out[0], tangent_out[0]
    return (primal_out, tangent_out, aux) if has_aux else (primal_out, tangent_out)


def _basis(shape, dtype, index: int) -> Tensor:
    """The ``index``-th standard basis vector, shaped ``shape``."""
    vector = zeros(shape, dtype=dtype)
    vector.view(-1)[index] = 1.0
    return vector


def jacrev(func: Callable, argnums: Argnums = 0, *, has_aux: bool = False) -> Callable:
    """The Jacobian by reverse mode: one backward pass per output element, each giving a row.
    For an output of shape ``O`` and an input of shape ``I`` the result has shape ``O + I``
    (a tuple per input for a tuple of argnums, and per output for a tuple of outputs)."""

    def wrapper(*args):
        keep_graph = _outer_graph(args)
        args, inputs = _with_differentiable_inputs(args, argnums)
        with grad_mode.enable_grad():
            output, aux = _split_aux(func(*args), has_aux, "jacrev")
        outputs = output if isinstance(output, tuple) else (output,)
        jacobians = []
        for value in outputs:
            rows = [[] for _ in inputs]
            for index in range(value.numel()):
                cotangent = _basis(value.shape, value.dtype, index)
                grads = (
                    autograd_grad(
                        value,
                        inputs,
                        cotangent,
                        retain_graph=True,
                        create_graph=keep_graph,
                        allow_unused=True,
                    )
                    if value.requires_grad
                    else (None,) * len(inputs)
                )
                for slot, (tensor, row) in enumerate(zip(inputs, grads, strict=True)):
                    rows[slot].append(zeros_like(tensor) if row is None else row)
            per_input = tuple(
                _assemble(slot_rows, value.shape, tensor.shape, tensor.dtype)
                for slot_rows, tensor in zip(rows, inputs, strict=True)
            )
            jacobians.append(per_input[0] if isinstance(argnums, int) else per_input)
        result = tuple(jacobians) if isinstance(output, tuple) else jacobians[0]
        return (result, aux) if has_aux else result

    return wrapper


def _assemble(pieces: list, leading: tuple, trailing: tuple, dtype) -> Tensor:
    """Stack one piece per element of ``leading`` (each shaped ``trailing``) into a tensor of
    shape ``leading + trailing``."""
    if not pieces:
        return zeros((*leading, *trailing), dtype=dtype)
    return stack(pieces).reshape(*leading, *trailing)


def jacfwd(func: Callable, argnums: Argnums = 0, has_aux: bool = False) -> Callable:
    """The Jacobian by forward mode: one forward pass per input element, each giving a
    column (a :func:`jvp` with a standard basis tangent).  Same shapes as :func:`jacrev`."""

    def wrapper(*args):
        positions = _check_argnums(argnums, len(args))
        outputs_per_input = []
        output, aux = None, None
        for position in positions:
            primal = args[position]
            columns = []
            for index in range(primal.numel()):
                tangents = tuple(
                    _basis(arg.shape, arg.dtype, index) if slot == position else zeros_like(arg)
                    for slot, arg in enumerate(args)
                )
                result = jvp(func, tuple(args), tangents, has_aux=has_aux)
                output, column = result[0], result[1]
                aux = result[2] if has_aux else None
                columns.append(column if isinstance(column, tuple) else (column,))
            if output is None:
                output = func(*args)
                output = _split_aux(output, has_aux, "jacfwd")[0]
            outs = output if isinstance(output, tuple) else (output,)
            per_output = []
            for number, value in enumerate(outs):
                pieces = [column[number] for column in columns]
                # Columns stack along a new first dim: (I..., O...) -> move to (O..., I...).
                stacked = _assemble(pieces, tuple(primal.shape), tuple(value.shape), value.dtype)
                order = [*range(primal.ndim, stacked.ndim), *range(primal.ndim)]
                per_output.append(stacked.permute(order) if stacked.ndim else stacked)
            outputs_per_input.append(per_output)
        count = len(outputs_per_input[0]) if outputs_per_input else 0
        jacobians = []
        for number in range(count):
            per_input = tuple(block[number] for block in outputs_per_input)
            jacobians.append(per_input[0] if isinstance(argnums, int) else per_input)
        result = tuple(jacobians) if isinstance(output, tuple) else jacobians[0]
        return (result, aux) if has_aux else result

    return wrapper


def hessian(func: Callable, argnums: Argnums = 0) -> Callable:
    """The Hessian of a scalar function, forward-over-reverse as torch computes it:
    ``jacfwd(jacrev(func))``, shape ``I + I`` for an input of shape ``I``."""
    return jacfwd(jacrev(func, argnums), argnums)
