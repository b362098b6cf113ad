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

import numpy as np

from engine import dtypes, layout
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


def _check_inner(first_shape, second_shape) -> None:
    if first_shape[1] != second_shape[0]:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({first_shape[0]}x{first_shape[1]} and {second_shape[0]}x{second_shape[1]})"
        )


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
