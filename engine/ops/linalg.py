"""Matrix products: ``matmul`` (the ``@`` operator), ``mm``, ``bmm``, ``mv``, ``dot``.

``matmul`` dispatches on the operands' dims like ``torch.matmul``:

* 1-D @ 1-D  -> ``dot``, a 0-d tensor;
* 2-D @ 2-D  -> ``mm``; 1-D @ 2-D treats the vector as a 1-row matrix; 2-D @ 1-D is ``mv``;
* n-D (n >= 3) @ 1-D or 2-D folds the batch dims into the rows of one ``mm``/``mv``;
* otherwise the batch dims (all but the last two) broadcast and each pair is multiplied (``bmm``).

Unlike elementwise ops, products do not promote: both operands must have the same dtype.

Backward of ``C = A @ B`` is ``dA = dC @ B^T`` and ``dB = A^T @ dC`` (with batch dims summed
back when they were broadcast); each op saves only the operand the *other* gradient needs.
"""

from __future__ import annotations

import numpy as np

from engine import dtypes, layout
from engine.autograd.function import Function
from engine.ops import shape as shape_ops
from engine.ops.iterator import cast_array, compute_numpy_dtype, wrap
from engine.ops.reduction import sum_to_shape
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
    return wrap(values, first.dtype)


def _check_same_dtype(first: Tensor, second: Tensor) -> None:
    if first.dtype is not second.dtype:
        raise RuntimeError(
            "expected m1 and m2 to have the same dtype, but got: "
            f"{_CPP_NAMES[first.dtype.name]} != {_CPP_NAMES[second.dtype.name]}"
        )
    if first.dtype is dtypes.bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product ``(n, k) @ (k, m) -> (n, m)``."""
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_same_dtype(input, mat2)
    _check_inner(input.shape, mat2.shape)
    return Mm.apply(input, mat2)


def _save_operands(ctx, first: Tensor, second: Tensor) -> None:
    # d(first) needs second and d(second) needs first: save only what will be used.
    ctx.save_for_backward(
        first if ctx.needs_input_grad[1] else None, second if ctx.needs_input_grad[0] else None
    )


class Mm(Function):
    """``(n, k) @ (k, m) -> (n, m)``; saves the operands."""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, mat2: Tensor) -> Tensor:
        _save_operands(ctx, input, mat2)
        return _product(input, mat2)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, mat2 = ctx.saved_tensors
        grad_input = mm(grad_output, shape_ops.t(mat2)) if ctx.needs_input_grad[0] else None
        grad_mat2 = mm(shape_ops.t(input), grad_output) if ctx.needs_input_grad[1] else None
        return grad_input, grad_mat2


def _check_inner(first_shape, second_shape) -> None:
    if first_shape[1] != second_shape[0]:
        raise RuntimeError(
            "mat1 and mat2 shapes cannot be multiplied "
            f"({first_shape[0]}x{first_shape[1]} and {second_shape[0]}x{second_shape[1]})"
        )


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product ``(n, k) @ (k,) -> (n,)``."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_same_dtype(input, vec)
    _check_mv(input.shape, vec.shape)
    return Mv.apply(input, vec)


class Mv(Function):
    """``(n, k) @ (k,) -> (n,)``; saves the operands."""

    node_name = "MvBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, vec: Tensor) -> Tensor:
        _save_operands(ctx, input, vec)
        return _product(input, vec)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, vec = ctx.saved_tensors
        grad_input = grad_vec = None
        if ctx.needs_input_grad[0]:  # outer product grad_output vec^T
            grad_input = shape_ops.unsqueeze(grad_output, 1) * shape_ops.unsqueeze(vec, 0)
        if ctx.needs_input_grad[1]:
            grad_vec = mv(shape_ops.t(input), grad_output)
        return grad_input, grad_vec


def _check_mv(matrix_shape, vector_shape) -> None:
    if matrix_shape[1] != vector_shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({matrix_shape[0]}), mat "
            f"({matrix_shape[0]}x{matrix_shape[1]}), vec ({vector_shape[0]})"
        )


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors of the same size and dtype -> 0-d tensor."""
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
    return Dot.apply(input, other)


class Dot(Function):
    """``(k,) . (k,) -> ()``; saves the operands."""

    node_name = "DotBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, other: Tensor) -> Tensor:
        _save_operands(ctx, input, other)
        return _product(input, other)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, other = ctx.saved_tensors
        grad_input = grad_output * other if ctx.needs_input_grad[0] else None
        grad_other = grad_output * input if ctx.needs_input_grad[1] else None
        return grad_input, grad_other


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product ``(b, n, k) @ (b, k, m) -> (b, n, m)`` (no broadcasting)."""
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
    return Bmm.apply(input, mat2)


class Bmm(Function):
    """``(b, n, k) @ (b, k, m) -> (b, n, m)``; saves the operands."""

    node_name = "BmmBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, mat2: Tensor) -> Tensor:
        _save_operands(ctx, input, mat2)
        return _product(input, mat2)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, mat2 = ctx.saved_tensors
        grad_input = grad_mat2 = None
        if ctx.needs_input_grad[0]:
            grad_input = bmm(grad_output, shape_ops.transpose(mat2, 1, 2))
        if ctx.needs_input_grad[1]:
            grad_mat2 = bmm(shape_ops.transpose(input, 1, 2), grad_output)
        return grad_input, grad_mat2


class Matmul(Function):
    """The general ``matmul`` (vector/batched operands, broadcast batch dims).  Backward treats
    a 1-D operand as a matrix with a size-1 dim, multiplies by the other operand's transpose,
    and sums the broadcast batch dims back (torch decomposes this case into view/expand/bmm
    nodes instead of one node)."""

    node_name = "MatmulBackward0"

    @staticmethod
    def forward(ctx, input: Tensor, other: Tensor) -> Tensor:
        _save_operands(ctx, input, other)
        ctx.shapes = (input.shape, other.shape)
        return _product(input, other)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        input, other = ctx.saved_tensors
        input_shape, other_shape = ctx.shapes
        # Put back the size-1 dims that a 1-D operand stood for, so everything is a matrix.
        grad = grad_output
        if len(input_shape) == 1:
            grad = shape_ops.unsqueeze(grad, -2)
        if len(other_shape) == 1:
            grad = shape_ops.unsqueeze(grad, -1)
        grad_input = grad_other = None
        if ctx.needs_input_grad[0]:
            matrix = shape_ops.unsqueeze(other, 1) if other.ndim == 1 else other
            product = matmul(grad, shape_ops.matrix_transpose(matrix))
            grad_input = _sum_back(product, input_shape)
        if ctx.needs_input_grad[1]:
            matrix = shape_ops.unsqueeze(input, 0) if input.ndim == 1 else input
            product = matmul(shape_ops.matrix_transpose(matrix), grad)
            grad_other = _sum_back(product, other_shape)
        return grad_input, grad_other


def _sum_back(product: Tensor, shape) -> Tensor:
    """Sum broadcast batch dims out of ``product``; a 1-D operand's matrix is reshaped back."""
    if len(shape) == 1:
        return shape_ops.reshape(sum_to_shape(product, product.shape[-2:]), shape)
    return sum_to_shape(product, shape)


def _check_batch(batch: int, inner: int, other_batch: int, other_inner: int) -> None:
    if (batch, inner) != (other_batch, other_inner):
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch}, {inner}] but got: [{other_batch}, {other_inner}]."
        )


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with torch's rules for 1-D and batched operands (see module docstring).

    Shapes: ``(k,) @ (k,) -> ()``, ``(n, k) @ (k,) -> (n,)``, ``(k,) @ (k, m) -> (m,)``,
    ``(*batch1, n, k) @ (*batch2, k, m) -> (*broadcast(batch1, batch2), n, m)``.
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
        return Matmul.apply(input, other)
    if input.ndim == 2 and other.ndim == 2:
        return mm(input, other)
    _check_same_dtype(input, other)
    rows = layout.numel(input.shape[:-1])
    if input.ndim >= 3 and other.ndim == 1:
        # Folding the batch into rows: one (batch*n, k) @ (k,) product, as ATen does.
        _check_mv((rows, input.shape[-1]), other.shape)
        return Matmul.apply(input, other)
    if input.ndim >= 3 and other.ndim == 2:
        _check_inner((rows, input.shape[-1]), other.shape)
        return Matmul.apply(input, other)
    # Both batched (or a vector/matrix against a batch): broadcast the batch dims.
    first_batch = input.shape[:-2]
    second_batch = other.shape[:-2]
    batch = layout.broadcast_shapes(first_batch, second_batch)
    inner = input.shape[-1]
    other_inner = other.shape[-2] if other.ndim >= 2 else other.shape[0]
    batch_size = layout.numel(batch)
    _check_batch(batch_size, inner, batch_size, other_inner)
    return Matmul.apply(input, other)
