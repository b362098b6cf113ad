"""Matrix products: ``matmul`` (the ``@`` operator), ``mm``, ``bmm``, ``mv``, ``dot``.

``matmul`` dispatches on the operands' dims like ``torch.matmul``:

* 1-D @ 1-D  -> ``dot``, a 0-d tensor;
* 2-D @ 2-D  -> ``mm``; 1-D @ 2-D treats the vector as a 1-row matrix; 2-D @ 1-D is ``mv``;
* n-D (n >= 3) @ 1-D or 2-D folds the batch dims into the rows of one ``mm``/``mv``;
* otherwise the batch dims (all but the last two) broadcast and each pair is multiplied (``bmm``).

Unlike elementwise ops, products do not promote: both operands must have the same dtype.

Each public function checks its operands (torch's errors, in torch's order); the product itself
is an entry of the derivative table (:mod:`engine.ops.table`) with one formula per operand:
``C = A @ B`` gives ``dA = dC @ B^T`` and ``dB = A^T @ dC``.  So each op saves only the operand
the *other* gradient needs, and only if that gradient is needed.  The general ``matmul`` entry
treats a 1-D operand as the matrix it stands for (a row on the left, a column on the right) and
drops that dim from its gradient again; the backward engine sums broadcast batch dims back.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from engine import dtypes, layout
from engine.dtypes import DType
from engine.ops import elementwise, join, reduction
from engine.ops.autocast import autocast_op
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.ops.table import op
from engine.tensor import Tensor

# C++ type names, which is how ATen's mm/matmul dtype errors name dtypes.
_CPP_NAMES = {
    "bool": "bool",
    "uint8": "unsigned char",
    "int8": "signed char",
    "int16": "short int",
    "int32": "int",
    "int64": "long int",
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "float32": "float",
    "float64": "double",
}


def _values(tensor: Tensor) -> np.ndarray:
    return cast_array(tensor._array(), compute_numpy_dtype(tensor.dtype))


def _product(first: Tensor, second: Tensor) -> Tensor:
    with np.errstate(all="ignore"):
        values = np.matmul(_values(first), _values(second))
    return wrap(values, first.dtype, fresh=True)


def _check_same_dtype(first: Tensor, second: Tensor) -> None:
    if first.dtype is not second.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_CPP_NAMES[first.dtype.name]} != {_CPP_NAMES[second.dtype.name]}"
        )
    if first.dtype is dtypes.bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


@autocast_op("mm")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product ``(n, k) @ (k, m) -> (n, m)``.  Saves ``mat2`` if ``input`` needs a
    gradient and ``input`` if ``mat2`` does."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_same_dtype(input, mat2)
    _check_inner(input.shape, mat2.shape)
    return _mm(input, mat2)


@op(
    input=lambda grad, mat2: mm(grad, mat2.t()),
    mat2=lambda grad, input: mm(input.t(), grad),
    jvp=lambda input, mat2, input_t, mat2_t: mm(input_t, mat2) + mm(input, mat2_t),
)
def _mm(input: Tensor, mat2: Tensor) -> Tensor:
    return _product(input, mat2)


@autocast_op("addmm")
def addmm(
    input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1
) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` as one kernel, torch's ``addmm`` (what
    ``nn.functional.linear`` runs for a 2-D input with a bias).  One kernel matters in 16 bits:
    the product and the sum are computed in float32 and rounded once, where ``mat1 @ mat2 +
    input`` rounds the product to 16 bits first.  ``input`` broadcasts to the product's shape;
    with ``beta=0`` it is ignored (its NaNs do not propagate), as in torch."""
    if mat1.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor")
    if mat2.ndim != 2:
        raise RuntimeError(f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    _check_same_dtype(mat1, mat2)
    _check_inner(mat1.shape, mat2.shape)
    if input.dtype is not mat1.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {_CPP_NAMES[input.dtype.name]} "
            f"and {_CPP_NAMES[mat2.dtype.name]}"
        )
    return _addmm(input, mat1, mat2, beta, alpha)


@op(
    input=lambda grad, beta: grad * beta if beta != 1 else grad,
    mat1=lambda grad, mat2, alpha: mm(grad, mat2.t()) * alpha if alpha != 1 else mm(grad, mat2.t()),
    mat2=lambda grad, mat1, alpha: mm(mat1.t(), grad) * alpha if alpha != 1 else mm(mat1.t(), grad),
    jvp=lambda input_t, mat1, mat2, mat1_t, mat2_t, beta, alpha: (
        input_t * beta + (mm(mat1_t, mat2) + mm(mat1, mat2_t)) * alpha
    ),
)
def _addmm(input: Tensor, mat1: Tensor, mat2: Tensor, beta: float = 1, alpha: float = 1) -> Tensor:
    with np.errstate(all="ignore"):
        values = np.matmul(_values(mat1), _values(mat2))
        if alpha != 1:
            values = values * alpha
        if beta != 0:
            values = values + (_values(input) if beta == 1 else _values(input) * beta)
    values = np.broadcast_to(values, np.broadcast_shapes(values.shape, tuple(input.shape)))
    return wrap(np.ascontiguousarray(values, dtype=values.dtype), mat1.dtype, fresh=True)


def _check_inner(first_shape, second_shape) -> None:
    if first_shape[1] != second_shape[0]:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({first_shape[0]}x{first_shape[1]} and {second_shape[0]}x{second_shape[1]})"
        )


@autocast_op("mv")
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product ``(n, k) @ (k,) -> (n,)``.  Saves ``vec`` if ``input`` needs a
    gradient and ``input`` if ``vec`` does."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_same_dtype(input, vec)
    _check_mv(input.shape, vec.shape)
    return _mv(input, vec)


@op(
    input=lambda grad, vec: grad.unsqueeze(1) * vec.unsqueeze(0),  # the outer product grad vec^T
    vec=lambda grad, input: mv(input.t(), grad),
    jvp=lambda input, vec, input_t, vec_t: mv(input_t, vec) + mv(input, vec_t),
)
def _mv(input: Tensor, vec: Tensor) -> Tensor:
    return _product(input, vec)


def _check_mv(matrix_shape, vector_shape) -> None:
    if matrix_shape[1] != vector_shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({matrix_shape[0]}), mat "
            f"({matrix_shape[0]}x{matrix_shape[1]}), vec ({vector_shape[0]})"
        )


@autocast_op("dot")
def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same size and dtype -> 0-d tensor.  Saves
    ``other`` if ``input`` needs a gradient and ``input`` if ``other`` does."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    if input.dtype is not other.dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{input.dtype.scalar_type_name} and {other.dtype.scalar_type_name}"
        )
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{input.shape[0]}] and src "
            f"[{other.shape[0]}] to have the same number of elements, but got "
            f"{input.shape[0]} and {other.shape[0]} elements respectively"
        )
    if input.dtype is dtypes.bool:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return _dot(input, other)


@op(
    input=lambda grad, other: grad * other,
    other=lambda grad, input: grad * input,
    jvp=lambda input, other, input_t, other_t: dot(input_t, other) + dot(input, other_t),
)
def _dot(input: Tensor, other: Tensor) -> Tensor:
    return _product(input, other)


@autocast_op("bmm")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting).  Saves
    ``mat2`` if ``input`` needs a gradient and ``input`` if ``mat2`` does."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if input.dtype is not mat2.dtype:
        raise RuntimeError(
            f"expected scalar type {input.dtype.scalar_type_name} but found "
            f"{mat2.dtype.scalar_type_name}"
        )
    _check_same_dtype(input, mat2)
    _check_batch(input.shape[0], input.shape[2], mat2.shape[0], mat2.shape[1])
    return _bmm(input, mat2)


@op(
    input=lambda grad, mat2: bmm(grad, mat2.transpose(1, 2)),
    mat2=lambda grad, input: bmm(input.transpose(1, 2), grad),
    jvp=lambda input, mat2, input_t, mat2_t: bmm(input_t, mat2) + bmm(input, mat2_t),
)
def _bmm(input: Tensor, mat2: Tensor) -> Tensor:
    return _product(input, mat2)


def _check_batch(batch: int, inner: int, other_batch: int, other_inner: int) -> None:
    if (batch, inner) != (other_batch, other_inner):
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch}, {inner}] but got: [{other_batch}, {other_inner}]."
        )


@autocast_op("matmul")
def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D and batched operands (see module docstring).

    Shapes: ``(k,) @ (k,) -> ()``, ``(n, k) @ (k,) -> (n,)``, ``(k,) @ (k, m) -> (m,)``,
    ``(*batch1, n, k) @ (*batch2, k, m) -> (*broadcast(batch1, batch2), n, m)``.  Saves the
    operand the other's gradient needs (see :func:`mm`); the cases that are not ``dot``, ``mv``
    or ``mm`` record one ``MatmulBackward0`` node, which also saves the operands' shapes.
    """
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError("matmul(): both arguments must be Tensors")
    if input.ndim == 0 or other.ndim == 0:
        raise RuntimeError(
            "both arguments to matmul need to be at least 1D, but they are "
            f"{input.ndim}D and {other.ndim}D"
        )
    if input.ndim == 1 and other.ndim == 1:
        return dot(input, other)
    if input.ndim == 2 and other.ndim == 1:
        return mv(input, other)
    if input.ndim == 1 and other.ndim == 2:
        _check_same_dtype(input, other)
        _check_inner((1, input.shape[0]), other.shape)
        return _matmul(input, other)
    if input.ndim == 2 and other.ndim == 2:
        return mm(input, other)
    _check_same_dtype(input, other)
    rows = layout.numel(input.shape[:-1])
    if input.ndim >= 3 and other.ndim == 1:
        # Folding the batch into rows: one (batch*n, k) @ (k,) product, as ATen does.
        _check_mv((rows, input.shape[-1]), other.shape)
        return _matmul(input, other)
    if input.ndim >= 3 and other.ndim == 2:
        _check_inner((rows, input.shape[-1]), other.shape)
        return _matmul(input, other)
    # Both batched (or a vector/matrix against a batch): broadcast the batch dims.
    first_batch = input.shape[:-2]
    second_batch = other.shape[:-2]
    batch = layout.broadcast_shapes(first_batch, second_batch)
    inner = input.shape[-1]
    other_inner = other.shape[-2] if other.ndim >= 2 else other.shape[0]
    batch_size = layout.numel(batch)
    _check_batch(batch_size, inner, batch_size, other_inner)
    return _matmul(input, other)


def _as_matrix(operand: Tensor, dim: int) -> Tensor:
    """A matmul operand as a matrix: a 1-D one gets its size-1 dim at ``dim`` (0: a row on the
    left, -1: a column on the right)."""
    return operand.unsqueeze(dim) if operand.ndim == 1 else operand


def _grad_as_matrix(grad: Tensor, input_shape, other_shape) -> Tensor:
    """matmul's output gradient with the size-1 dims of 1-D operands put back."""
    if len(input_shape) == 1:
        grad = grad.unsqueeze(-2)
    if len(other_shape) == 1:
        grad = grad.unsqueeze(-1)
    return grad


def _drop_vector_dim(grad: Tensor, shape, dim: int) -> Tensor:
    """The gradient of a 1-D operand without the size-1 dim :func:`_as_matrix` gave it."""
    return grad.squeeze(dim) if len(shape) == 1 else grad


@op(
    input=lambda grad, input_shape, other: _drop_vector_dim(
        matmul(_grad_as_matrix(grad, input_shape, other.shape), _as_matrix(other, -1).mT),
        input_shape,
        -2,
    ),
    other=lambda grad, input, other_shape: _drop_vector_dim(
        matmul(_as_matrix(input, 0).mT, _grad_as_matrix(grad, input.shape, other_shape)),
        other_shape,
        -1,
    ),
    jvp=lambda input, other, input_t, other_t: matmul(input_t, other) + matmul(input, other_t),
)
def _matmul(input: Tensor, other: Tensor) -> Tensor:
    """The general case (vector and batched operands), recorded as one node (torch records the
    view/expand/bmm ops it decomposes it into instead)."""
    return _product(input, other)


# ------------------------------------------------------------------------------- norms
def _norm_values(values: np.ndarray, ord: float, axes: tuple, keepdim: bool) -> np.ndarray:
    magnitudes = np.abs(values)
    if ord == 0:
        return np.sum(magnitudes != 0, axis=axes, keepdims=keepdim).astype(values.dtype)
    if ord == math.inf:
        return np.max(magnitudes, axis=axes, keepdims=keepdim)
    if ord == -math.inf:
        return np.min(magnitudes, axis=axes, keepdims=keepdim)
    if ord == 1:
        return np.sum(magnitudes, axis=axes, keepdims=keepdim)
    if ord == 2:
        return np.sqrt(np.sum(values * values, axis=axes, keepdims=keepdim))
    return np.sum(magnitudes**ord, axis=axes, keepdims=keepdim) ** (1.0 / ord)


def _norm_backward(grad: Tensor, input: Tensor, result: Tensor, ord: float, dim, keepdim: bool):
    """d ||x||_p / dx times ``grad``, torch's ``linalg_vector_norm_backward``: 0 where the
    norm is 0 (the subgradient torch picks), ``sign(x)`` for p = 1, ``x / norm`` for p = 2,
    the gradient split among the largest (smallest) ``|x|`` for p = +-inf."""
    grad = reduction.restore_dims(grad, input.shape, dim, keepdim)
    norm = reduction.restore_dims(result, input.shape, dim, keepdim)
    if ord == 0:
        return input * 0.0 * grad
    if ord == 1:
        return elementwise.sign(input) * grad
    if ord == 2:
        return elementwise.where(norm == 0, 0.0, input / norm) * grad
    if math.isinf(ord):
        chosen = elementwise.eq(elementwise.abs(input), norm)
        count = reduction.sum(chosen, layout.wrap_dims(dim, input.ndim), True)
        return elementwise.sign(input) * elementwise.where(chosen, grad / count, 0.0)
    scaled = elementwise.sign(input) * elementwise.abs(input) ** (ord - 1)
    return elementwise.where(norm == 0, 0.0, scaled * grad / norm ** (ord - 1))


@op(
    input=lambda grad, input, result, ord, dim, keepdim: _norm_backward(
        grad, input, result, ord, dim, keepdim
    ),
    jvp=lambda input, result, input_t, ord, dim, keepdim: reduction.sum(
        input_t * _norm_backward(result.new_ones(result.shape), input, result, ord, dim, keepdim),
        dim,
        keepdim,
    ),
    node_name="LinalgVectorNormBackward0",
)
def _vector_norm(input: Tensor, ord: float, dim, keepdim: bool) -> Tensor:
    axes = layout.wrap_dims(dim, input.ndim)
    with np.errstate(all="ignore"):
        values = _norm_values(_values(input), ord, axes, keepdim)
    return wrap(values, input.dtype, fresh=True)


@autocast_op("vector_norm")
def vector_norm(
    x: Tensor,
    ord: float = 2,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """The p-norm ``sum(|x|**ord) ** (1/ord)`` over ``dim`` (all dims when None); ``ord`` may
    be 0 (the count of nonzeros), ``inf`` or ``-inf`` (largest or smallest ``|x|``).
    Floating inputs only; the gradient is 0 where the norm is 0, as in torch."""
    if dtype is not None:
        x = elementwise.to_dtype(x, dtype)
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. "
            f"Got {x.dtype.scalar_type_name}"
        )
    axes = layout.wrap_dims(dim, x.ndim)
    if ord < 0 or math.isinf(ord):
        empty = x.numel() == 0 if dim is None else any(x.shape[axis] == 0 for axis in axes)
        if empty:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because "
                "the operation does not have an identity"
            )
    return _vector_norm(x, float(ord), dim if dim is None else axes, keepdim)


def matrix_norm(
    A: Tensor,  # noqa: N803 - torch's name
    ord: str | float = "fro",
    dim: tuple[int, int] = (-2, -1),
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """Norm of each matrix over the two dims ``dim``: ``"fro"`` (Frobenius), 1 / -1 (largest /
    smallest column sum of ``|A|``), ``inf`` / ``-inf`` (largest / smallest row sum).  The
    norms that need singular values (``"nuc"``, 2, -2) are not implemented."""
    if A.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    rows, columns = (layout.wrap_dim(one, A.ndim) for one in dim)
    if rows == columns:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {columns})")
    if ord == "fro":
        return vector_norm(A, 2, (rows, columns), keepdim, dtype=dtype)
    if ord in ("nuc", 2, -2):
        raise NotImplementedError(
            f"matrix_norm(ord={ord!r}) needs singular values, which the engine does not compute"
        )
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    summed, across = (rows, columns) if abs(ord) == 1 else (columns, rows)
    if A.numel() == 0:  # sums of nothing are 0; amin over no sums is torch's error
        if ord > 0 or A.shape[across] != 0:
            return vector_norm(A, 2, (rows, columns), keepdim, dtype=dtype)
        raise IndexError(
            f"amin(): Expected reduction dim {across - (summed < across)} to have non-zero size."
        )
    sums = vector_norm(A, 1, summed, True, dtype=dtype)
    pick = reduction.max if ord > 0 else reduction.min
    result = pick(sums, across, True).values
    return result if keepdim else result.squeeze((rows, columns))


@autocast_op("norm")
def norm(
    input: Tensor,
    p: str | float = "fro",
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    dtype: DType | None = None,
) -> Tensor:
    """``torch.norm``: the 2-norm of all elements for ``p="fro"`` (over ``dim`` if given), the
    vector p-norm for a number ``p``."""
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        return matrix_norm(input, p, (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


# ------------------------------------------------------------------ products built from ops
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim`` (``torch.cross``: the first dim of size 3
    when None), broadcasting; composed of selects, products and a stack."""
    if input.dtype is not other.dtype:
        raise RuntimeError(
            f"expected scalar type {input.dtype.scalar_type_name} but found "
            f"{other.dtype.scalar_type_name}"
        )
    shape = layout.broadcast_shapes(input.shape, other.shape)
    if dim is None:
        dim = next((index for index, size in enumerate(shape) if size == 3), -1)
        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.",
            UserWarning,
            stacklevel=2,
        )
    return linalg_cross(input, other, dim=dim)


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: the cross product of 3-vectors along ``dim`` (default -1)."""
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = layout.broadcast_shapes(input.shape, other.shape)
    axis = layout.wrap_dim(dim, len(shape))
    sizes = [input.shape[axis], other.shape[axis]]
    if sizes != [3, 3]:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {sizes[0]} and "
            f"{sizes[1]}"
        )
    a = [input.expand(shape).select(axis, index) for index in range(3)]
    b = [other.expand(shape).select(axis, index) for index in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return join.stack(parts, axis)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product ``input[i] * vec2[j]`` of two 1-D tensors (dtypes promote)."""
    for name, tensor in (("self", input), ("vec2", vec2)):
        if tensor.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {tensor.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: every element of ``input`` times a copy of ``other``, laid out
    block by block (the shorter shape is padded with leading 1s)."""
    ndim = max(input.ndim, other.ndim)
    first = (1,) * (ndim - input.ndim) + tuple(input.shape)
    second = (1,) * (ndim - other.ndim) + tuple(other.shape)
    left = input.reshape([size for pair in zip(first, (1,) * ndim) for size in pair])
    right = other.reshape([size for pair in zip((1,) * ndim, second) for size in pair])
    return (left * right).reshape([a * b for a, b in zip(first, second)])


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """Pairwise p-norm distances ``(*, P, M), (*, R, M) -> (*, P, R)``, batch dims
    broadcasting: the :func:`vector_norm` of every difference of rows."""
    for name, tensor in (("X1", x1), ("X2", x2)):
        if tensor.ndim < 2:
            raise RuntimeError(
                f"cdist only supports at least 2D tensors, {name} got: {tensor.ndim}D"
            )
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    return vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


# ------------------------------------------------------------------------------ einsum
# Ellipsis dims get letters no equation uses (they are not ASCII).
_ELLIPSIS_LETTERS = "".join(chr(0x3B1 + index) for index in range(24))


def einsum(equation: str, *operands: Tensor) -> Tensor:
    """Einstein summation, ``einsum("bij,bjk->bik", a, b)``: each operand's dims are named by
    letters; a letter repeated in one operand takes its diagonal, letters missing from the
    output are summed, and ``...`` stands for broadcast dims.  Without ``->`` the output is
    the ellipsis dims, then the letters used once, in alphabetical order.

    Built from views, sums and batched matrix products: operands are contracted left to
    right, each pair as one ``bmm`` over (shared kept letters, own letters, summed letters),
    so the gradient and double backward come from those ops."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(operands):
        fewer = len(operands) < len(terms)
        raise RuntimeError(
            f"einsum(): {'fewer' if fewer else 'more'} operands were provided than specified "
            "in the equation"
        )
    ellipsis_ndim = max(
        (tensor.ndim - len(term) + 3 for term, tensor in zip(terms, operands) if "..." in term),
        default=0,
    )
    ellipsis = _ELLIPSIS_LETTERS[:ellipsis_ndim]
    terms = [_expand_ellipsis(term, tensor, ellipsis, number) for number, (term, tensor) in
             enumerate(zip(terms, operands))]  # fmt: skip
    if not arrow:
        once = [letter for letter in sorted(set(inputs) - set(",."))
                if sum(term.count(letter) for term in terms) == 1]  # fmt: skip
        output = ellipsis + "".join(once)
    else:
        output = output.replace("...", ellipsis)
        _check_output(output, terms)
    sizes = _letter_sizes(terms, operands)
    tensors = [_take_diagonals(tensor, term, sizes) for term, tensor in zip(terms, operands)]
    terms = ["".join(dict.fromkeys(term)) for term in terms]
    current, letters = tensors[0], terms[0]
    for index in range(1, len(tensors)):
        later = output + "".join(terms[index + 1 :])
        current, letters = _contract(current, letters, tensors[index], terms[index], later, sizes)
    summed = [dim for dim, letter in enumerate(letters) if letter not in output]
    if summed:
        current = reduction.sum(current, tuple(summed))
        letters = "".join(letter for letter in letters if letter in output)
    current = current.permute([letters.index(letter) for letter in output])
    return current.expand([sizes[letter] for letter in output])


def _expand_ellipsis(term: str, tensor: Tensor, ellipsis: str, number: int) -> str:
    if "..." in term:
        count = tensor.ndim - len(term) + 3
        term = term.replace("...", ellipsis[len(ellipsis) - count :] if count else "")
    if len(term) != tensor.ndim or "." in term:
        raise RuntimeError(
            f"einsum(): the number of subscripts in the equation ({len(term)}) does not match "
            f"the number of dimensions ({tensor.ndim}) for operand {number} and no ellipsis "
            "was given"
        )
    for letter in term:
        if not (letter.isalpha() or letter in ellipsis):
            raise RuntimeError(f"einsum(): invalid subscript given at index {term.index(letter)}")
    return term


def _check_output(output: str, terms: list[str]) -> None:
    for letter in output:
        if output.count(letter) > 1:
            raise RuntimeError(
                f"einsum(): output subscript {letter} appears more than once in the output"
            )
        if not any(letter in term for term in terms):
            raise RuntimeError(
                f"einsum(): output subscript {letter} does not appear in the equation for any "
                "input operand"
            )


def _letter_sizes(terms: list[str], operands: tuple) -> dict[str, int]:
    """Each letter's size; sizes of 1 broadcast, other mismatches are errors."""
    sizes: dict[str, int] = {}
    for number, (term, tensor) in enumerate(zip(terms, operands)):
        for letter, size in zip(term, tensor.shape):
            known = sizes.get(letter, 1)
            if size != known and known != 1 and size != 1:
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes (original->"
                    f"remapped): subscript {letter} has size {known} and size {size} "
                    f"(operand {number})"
                )
            sizes[letter] = max(known, size) if size != 1 else known
    return sizes


def _take_diagonals(tensor: Tensor, term: str, sizes: dict[str, int]) -> Tensor:
    """The operand with each repeated letter's dims merged into their diagonal (a view)."""
    unique = list(dict.fromkeys(term))
    if len(unique) == len(term):
        return tensor
    shape, strides = [], []
    for letter in unique:
        dims = [dim for dim, name in enumerate(term) if name == letter]
        extents = {tensor.shape[dim] for dim in dims}
        if len(extents) > 1:
            raise RuntimeError(
                f"einsum(): subscript {letter} is repeated for operand but the sizes don't "
                f"match, {tensor.shape[dims[0]]} != {tensor.shape[dims[1]]}"
            )
        shape.append(tensor.shape[dims[0]])
        strides.append(sum(tensor.stride()[dim] for dim in dims))
    return tensor.as_strided(shape, strides, tensor.storage_offset())


def _contract(
    first: Tensor, first_letters: str, second: Tensor, second_letters: str, later: str, sizes
) -> tuple[Tensor, str]:
    """Contract two operands into one whose letters are those still needed (in ``later``)."""
    first, first_letters = _sum_unneeded(first, first_letters, second_letters + later)
    second, second_letters = _sum_unneeded(second, second_letters, first_letters + later)
    shared = [letter for letter in first_letters if letter in second_letters]
    batch = [letter for letter in shared if letter in later]
    summed = [letter for letter in shared if letter not in later]
    left = [letter for letter in first_letters if letter not in second_letters]
    right = [letter for letter in second_letters if letter not in first_letters]

    def arrange(tensor: Tensor, letters: str, groups: list[list[str]]) -> Tensor:
        order = [letters.index(letter) for group in groups for letter in group]
        full = [sizes[letter] for group in groups for letter in group]
        tensor = tensor.permute(order).expand(full)
        return tensor.reshape([layout.numel([sizes[one] for one in group]) for group in groups])

    product = bmm(
        arrange(first, first_letters, [batch, left, summed]),
        arrange(second, second_letters, [batch, summed, right]),
    )
    letters = batch + left + right
    return product.reshape([sizes[letter] for letter in letters]), "".join(letters)


def _sum_unneeded(tensor: Tensor, letters: str, needed: str) -> tuple[Tensor, str]:
    """Sum the dims whose letter no other operand and not the output uses."""
    dims = tuple(dim for dim, letter in enumerate(letters) if letter not in needed)
    if not dims:
        return tensor, letters
    kept = "".join(letter for letter in letters if letter in needed)
    return reduction.sum(tensor, dims), kept
