"""Views and shape ops: new shape/strides/offset over the same storage, copying only when a view
cannot express the result (``reshape``, ``contiguous``).

Each public function checks its arguments and computes the new metadata with the pure helpers of
:mod:`engine.layout`; the view itself is an entry of the derivative table
(:mod:`engine.ops.table`) whose kernel calls ``Tensor._view`` and whose formula maps the view's
gradient back to the input's shape: reshape back, transpose back, sum over the expanded dims
(``sum_to``).  The views that select elements (``narrow``, ``unfold``, ``as_strided``) are
hand-written Functions whose backward scatters the gradient into the positions they read.
The only data movement is in :func:`contiguous` and :func:`clone`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from engine import layout
from engine.autograd.function import Function
from engine.dtypes import DType
from engine.ops import reduction, table
from engine.ops.indexing import Gather, ScatterAdd
from engine.ops.iterator import empty_strided_copy
from engine.ops.table import accepts_axis, op
from engine.tensor import Tensor


def _sizes_from_args(sizes: tuple) -> tuple[int, ...]:
    # `t.view(2, 3)` and `t.view((2, 3))` both work, as in torch; -1 is allowed here.
    if len(sizes) == 1 and isinstance(sizes[0], Sequence):
        sizes = tuple(sizes[0])
    return tuple(int(size) for size in sizes)


def view(tensor: Tensor, *shape) -> Tensor:
    """The same elements with a new ``shape`` (one size may be -1), sharing storage.

    Raises RuntimeError when no strides can express the new shape over the old memory layout
    (ATen's ``computeStride`` says no); ``reshape`` copies in that case.  ``view(dtype)``
    reads the same bytes as another dtype (:func:`view_as_dtype`).
    """
    if len(shape) == 1 and isinstance(shape[0], DType):
        return view_as_dtype(tensor, shape[0])
    new_shape = layout.infer_size(_sizes_from_args(shape), tensor.numel())
    strides = layout.view_strides(tensor.shape, tensor.stride(), new_shape)
    if strides is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return _view(tensor, new_shape, strides)


def view_as_dtype(tensor: Tensor, dtype: DType) -> Tensor:
    """``tensor.view(dtype)``: the same bytes read as ``dtype`` (no copy, no autograd history,
    as in torch).  With a different element size the last dim must have stride 1; it shrinks
    or grows by the size ratio, and the other strides and the offset are rescaled."""
    old, new = tensor.dtype.itemsize, dtype.itemsize
    shape, strides, offset = list(tensor.shape), list(tensor.stride()), tensor.storage_offset()
    if old != new:
        names = f"{tensor.dtype.scalar_type_name} as {dtype.scalar_type_name}"
        where = f"to view {names} (different element sizes)"
        if tensor.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {where}")
        if strides[-1] != 1:
            raise RuntimeError(f"self.stride(-1) must be 1 {where}, but got {strides[-1]}")
        if new > old:
            ratio = new // old
            checks = [("size(-1)", shape[-1]), ("storage_offset()", offset)]
            checks += [(f"stride({dim})", stride) for dim, stride in enumerate(strides[:-1])]
            for what, value in checks:
                if value % ratio:
                    raise RuntimeError(
                        f"self.{what} must be divisible by {ratio} {where}, but got {value}"
                    )
            shape[-1] //= ratio
            strides = [stride // ratio for stride in strides[:-1]] + [1]
            offset //= ratio
        else:
            ratio = old // new
            shape[-1] *= ratio
            strides = [stride * ratio for stride in strides[:-1]] + [1]
            offset *= ratio
    storage = tensor._storage
    usable = storage.shape[0] * old // new * new // old  # whole elements of the new dtype
    storage = storage[:usable].view(dtype.numpy_dtype)
    base = tensor._base if tensor._base is not None else tensor
    return Tensor(storage, shape, strides, offset, base=base)


@op(
    tensor=lambda grad, tensor_shape: grad.reshape(tensor_shape),
    jvp=lambda tensor_t, shape: tensor_t.reshape(shape),
)
def _view(tensor: Tensor, shape, strides) -> Tensor:
    """A new shape over the same storage; the gradient is reshaped back."""
    return tensor._view(shape, strides, tensor.storage_offset())


def reshape(tensor: Tensor, *shape) -> Tensor:
    """Like :func:`view` when a view is possible, else a contiguous copy with the new shape."""
    new_shape = layout.infer_size(_sizes_from_args(shape), tensor.numel())
    strides = layout.view_strides(tensor.shape, tensor.stride(), new_shape)
    if strides is not None:
        return _view(tensor, new_shape, strides)
    return view(contiguous(tensor), new_shape)


def contiguous(tensor: Tensor) -> Tensor:
    """``tensor`` itself if already contiguous, else a row-major copy."""
    if tensor.is_contiguous():
        return tensor
    return _clone(tensor, True)


def clone(tensor: Tensor) -> Tensor:
    """A copy with its own storage that keeps the memory order of the dims (preserve_format)."""
    return _clone(tensor, False)


@op(
    tensor=lambda grad: grad,
    jvp=lambda tensor_t, row_major: _clone(tensor_t, row_major),
    node_name="CloneBackward0",
)
def _clone(tensor: Tensor, row_major: bool) -> Tensor:
    """A copy (row-major, or in the input's memory order); the gradient passes unchanged."""
    if row_major:
        return Tensor._from_array(tensor._array())
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    return empty_strided_copy(tensor._array(), tensor.shape, strides)


@op(
    tensor=lambda grad, dim0, dim1: grad.transpose(dim0, dim1),
    jvp=lambda tensor_t, dim0, dim1: tensor_t.transpose(dim0, dim1),
)
def transpose(tensor: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims by swapping their sizes and strides: a view, nothing is copied.  The
    gradient is transposed back.  Saves nothing but the two dims."""
    dim0 = layout.wrap_dim(dim0, tensor.ndim)
    dim1 = layout.wrap_dim(dim1, tensor.ndim)
    if tensor.ndim == 0:
        return tensor._view((), (), tensor.storage_offset())
    shape, strides = list(tensor.shape), list(tensor.stride())
    shape[dim0], shape[dim1] = shape[dim1], shape[dim0]
    strides[dim0], strides[dim1] = strides[dim1], strides[dim0]
    return tensor._view(shape, strides, tensor.storage_offset())


@op(tensor=lambda grad: grad.t(), jvp=lambda tensor_t: tensor_t.t())
def _t(tensor: Tensor) -> Tensor:
    """``t()``: transpose of a matrix (0-d and 1-d unchanged); the gradient is ``t()``'d."""
    if tensor.ndim < 2:
        return tensor._view(tensor.shape, tensor.stride(), tensor.storage_offset())
    return tensor._view(tensor.shape[::-1], tensor.stride()[::-1], tensor.storage_offset())


def t(tensor: Tensor) -> Tensor:
    """Transpose of a matrix; 0-d and 1-d tensors are returned as views of themselves."""
    if tensor.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {tensor.ndim}D")
    return _t(tensor)


def reverse_dims(tensor: Tensor) -> Tensor:
    """``tensor.T``: all dims reversed (PyTorch warns for ndim other than 2, and so do we)."""
    if tensor.ndim not in (0, 2):
        warnings.warn(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated. Consider `x.mT` to transpose batches of matrices or "
            "`x.permute(*reversed(range(x.ndim)))` to reverse the dimensions of a tensor.",
            UserWarning,
            stacklevel=3,
        )
    return permute(tensor, tuple(reversed(range(tensor.ndim))))


def matrix_transpose(tensor: Tensor) -> Tensor:
    """``tensor.mT``: swap the last two dims of a (batch of) matrix."""
    if tensor.ndim == 0:
        warnings.warn("Tensor.mT is deprecated on 0-D tensors.", UserWarning, stacklevel=3)
        return transpose(tensor, 0, 0)
    if tensor.ndim < 2:
        raise RuntimeError(
            "tensor.mT is only supported on matrices or batches of matrices. "
            f"Got {tensor.ndim}-D tensor."
        )
    return transpose(tensor, -2, -1)


def _wrap_distinct(dims: Sequence[int], ndim: int, duplicate_message: str) -> list[int]:
    """Wrap negative dims one by one, raising at the first repeat (torch's order of errors)."""
    wrapped: list[int] = []
    for dim in dims:
        dim = layout.wrap_dim(dim, ndim)
        if dim in wrapped:
            raise RuntimeError(duplicate_message.format(dim=dim))
        wrapped.append(dim)
    return wrapped


def permute(tensor: Tensor, *dims) -> Tensor:
    """Reorder the dims: result dim ``i`` is input dim ``dims[i]`` (a view)."""
    if not dims:
        raise TypeError('permute() missing 1 required positional arguments: "dims"')
    dims = _sizes_from_args(dims)
    if len(dims) != tensor.ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. "
            f"input.dim() = {tensor.ndim} is not equal to len(dims) = {len(dims)}"
        )
    wrapped = _wrap_distinct(dims, tensor.ndim, "permute(): duplicate dims are not allowed.")
    return _permute(tensor, tuple(wrapped))


def _inverse_permutation(dims: tuple) -> tuple:
    inverse = [0] * len(dims)
    for position, dim in enumerate(dims):
        inverse[dim] = position
    return tuple(inverse)


@op(
    tensor=lambda grad, dims: grad.permute(_inverse_permutation(dims)),
    jvp=lambda tensor_t, dims: tensor_t.permute(dims),
)
def _permute(tensor: Tensor, dims: tuple) -> Tensor:
    """Reorder dims; the gradient gets the inverse permutation."""
    shape = [tensor.shape[dim] for dim in dims]
    strides = [tensor.stride()[dim] for dim in dims]
    return tensor._view(shape, strides, tensor.storage_offset())


def expand(tensor: Tensor, *sizes) -> Tensor:
    """Repeat size-1 dims (and add leading dims) without copying: their stride becomes 0.

    ``-1`` keeps a dim's size.  Writing into an expanded tensor writes several elements at once,
    which is why in-place ops on it are usually a mistake.
    """
    if not sizes:
        raise TypeError('expand() missing 1 required positional arguments: "size"')
    target = _sizes_from_args(sizes)
    shape, strides = layout.expand_strides(tensor.shape, tensor.stride(), target)
    return _expand(tensor, shape, strides)


@op(
    tensor=lambda grad, tensor_shape: grad.sum_to_size(tensor_shape),
    jvp=lambda tensor_t, shape: tensor_t.expand(shape),
)
def _expand(tensor: Tensor, shape, strides) -> Tensor:
    """Broadcast view (stride 0 in repeated dims); the gradient is summed back (``sum_to``)."""
    return tensor._view(shape, strides, tensor.storage_offset())


def broadcast_to(tensor: Tensor, shape: Sequence[int]) -> Tensor:
    """``expand`` to ``shape`` (a view with stride 0 in the broadcast dims)."""
    return expand(tensor, tuple(shape))


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Expand all tensors to their common broadcast shape (views)."""
    shape = layout.broadcast_shapes(*(tensor.shape for tensor in tensors))
    return tuple(expand(tensor, shape) for tensor in tensors)


@accepts_axis
def squeeze(tensor: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Remove size-1 dims: all of them, or those among ``dim`` (other dims are kept)."""
    if dim is None:
        chosen = set(range(tensor.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        chosen = set(
            _wrap_distinct(
                dims, tensor.ndim, "dim {dim} appears multiple times in the list of dims"
            )
        )
    keep = [
        index for index in range(tensor.ndim) if not (index in chosen and tensor.shape[index] == 1)
    ]
    return _squeeze(tensor, tuple(keep), dim)


def _squeeze_node_name(tensor, keep, dim) -> str:
    # torch: SqueezeBackward0 for squeeze(), 1 for squeeze(int), 2 for squeeze(tuple).
    return f"SqueezeBackward{0 if dim is None else 1 if isinstance(dim, int) else 2}"


@op(
    tensor=lambda grad, tensor_shape: grad.reshape(tensor_shape),
    jvp=lambda tensor_t, result: tensor_t.reshape(result.shape),
    node_name=_squeeze_node_name,
)
def _squeeze(tensor: Tensor, keep: tuple, dim) -> Tensor:
    """Keep only the dims in ``keep``; the gradient is reshaped back to the input's shape."""
    return tensor._view(
        [tensor.shape[index] for index in keep],
        [tensor.stride()[index] for index in keep],
        tensor.storage_offset(),
    )


@accepts_axis
def unsqueeze(tensor: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (in ``[-ndim-1, ndim]``)."""
    return _unsqueeze(tensor, layout.wrap_dim(dim, tensor.ndim + 1))


@op(tensor=lambda grad, dim: grad.squeeze(dim), jvp=lambda tensor_t, dim: tensor_t.unsqueeze(dim))
def _unsqueeze(tensor: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim; the gradient has it squeezed out."""
    shape, strides = list(tensor.shape), list(tensor.stride())
    # The new dim's stride is irrelevant for addressing; torch uses size*stride of the next dim.
    new_stride = shape[dim] * strides[dim] if dim < tensor.ndim else 1
    shape.insert(dim, 1)
    strides.insert(dim, new_stride)
    return tensor._view(shape, strides, tensor.storage_offset())


def flatten(tensor: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one (a view when possible, like reshape)."""
    if tensor.ndim == 0:
        return reshape(tensor, (1,))
    start = layout.wrap_dim(start_dim, tensor.ndim)
    end = layout.wrap_dim(end_dim, tensor.ndim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return tensor
    merged = layout.numel(tensor.shape[start : end + 1])
    return reshape(tensor, (*tensor.shape[:start], merged, *tensor.shape[end + 1 :]))


def narrow(tensor: Tensor, dim: int, start: int, length: int) -> Tensor:
    """Elements ``start .. start+length-1`` along ``dim`` (a view; negative start wraps)."""
    if tensor.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = layout.wrap_dim(dim, tensor.ndim)
    size = tensor.shape[dim]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return Narrow.apply(tensor, dim, start, length)


class Narrow(Function):
    """Elements ``start .. start+length-1`` along ``dim`` (torch records it as a slice);
    backward scatters the gradient into zeros of the input's shape."""

    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, dim: int, start: int, length: int) -> Tensor:
        if ctx is not None:  # None when backward reuses forward on a position tensor
            ctx.input_shape = tensor.shape
            ctx.arguments = (dim, start, length)
        shape = list(tensor.shape)
        shape[dim] = length
        offset = tensor.storage_offset() + start * tensor.stride()[dim]
        return tensor._view(shape, tensor.stride(), offset)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        positions = Narrow.forward(None, _position_tensor(ctx.input_shape), *ctx.arguments)
        return _scatter(grad_output, positions, ctx.input_shape, unique=True), None, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        # A view is linear, so it is its own JVP: the same view, of the tangent.
        return Narrow.apply(tensor_t, *ctx.arguments)


def _position_tensor(shape) -> Tensor:
    """An int64 tensor holding each element's flat (row-major) index: applying a view op to it
    tells which input element each element of the view reads."""
    return Tensor._from_array(np.arange(layout.numel(shape), dtype=np.int64).reshape(shape))


def _scatter(grad_output: Tensor, positions: Tensor, input_shape, unique: bool) -> Tensor:
    return ScatterAdd.apply(grad_output, positions._array(), tuple(input_shape), unique)


def unfold(tensor: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of ``size`` elements along ``dimension``, ``step`` apart, as a new last dim.

    Shape: ``dimension`` becomes ``(n - size) // step + 1`` and a dim of ``size`` is appended;
    windows overlap in memory when ``step < size`` (a view, nothing is copied).
    """
    dim = layout.wrap_dim(dimension, tensor.ndim)
    length = tensor.shape[dim] if tensor.ndim else 1
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {dim} is {length} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return Unfold.apply(tensor, dim, size, step)


class Unfold(Function):
    """Windows along a dim as a new last dim (they may overlap); backward adds up the gradient
    of every window an element belongs to."""

    node_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, dim: int, size: int, step: int) -> Tensor:
        if ctx is not None:
            ctx.input_shape = tensor.shape
            ctx.arguments = (dim, size, step)
        shape, strides = list(tensor.shape), list(tensor.stride())
        if tensor.ndim == 0:
            return tensor._view([size], [1], tensor.storage_offset())
        window_stride = strides[dim]
        shape[dim] = (shape[dim] - size) // step + 1
        strides[dim] = window_stride * step
        return tensor._view([*shape, size], [*strides, window_stride], tensor.storage_offset())

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        positions = Unfold.forward(None, _position_tensor(ctx.input_shape), *ctx.arguments)
        unique = ctx.arguments[2] >= ctx.arguments[1]
        return _scatter(grad_output, positions, ctx.input_shape, unique), None, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        return Unfold.apply(tensor_t, *ctx.arguments)


def as_strided(
    tensor: Tensor,
    size: Sequence[int],
    stride: Sequence[int],
    storage_offset: int | None = None,
) -> Tensor:
    """Any shape/strides/offset over ``tensor``'s storage (offset defaults to tensor's own).

    Like torch, the view must stay inside the storage; unlike torch's message, ours names the
    highest element index the view would read and the storage size.  Strides must be >= 0.
    """
    size = tuple(int(one) for one in size)
    stride = tuple(int(one) for one in stride)
    offset = tensor.storage_offset() if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: {len(size)} sizes and {len(stride)} strides"
        )
    if any(one < 0 for one in size):
        raise RuntimeError(f"as_strided: Negative sizes are not allowed, got {list(size)}")
    if any(one < 0 for one in stride):
        raise RuntimeError(
            "as_strided: Negative strides are not supported at the moment, "
            f"got strides: {list(stride)}"
        )
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    storage_size = tensor._storage.shape[0]
    if layout.numel(size) > 0:
        highest = offset + sum((one - 1) * step for one, step in zip(size, stride, strict=True))
        if highest >= storage_size:
            raise RuntimeError(
                f"as_strided: the view size={list(size)}, stride={list(stride)}, "
                f"storage_offset={offset} reads element {highest} of a storage that holds only "
                f"{storage_size} elements (valid indices 0..{storage_size - 1})"
            )
    elif offset > storage_size:
        raise RuntimeError(
            f"as_strided: storage_offset={offset} is past the end of a storage of "
            f"{storage_size} elements"
        )
    return AsStrided.apply(tensor, size, stride, offset)


class AsStrided(Function):
    """Any geometry over the input's storage.  Backward works in storage coordinates: each
    element of the view reads one storage slot, which belongs to (at most) one input element;
    the view's gradient is added into those elements (slots outside the input are dropped)."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, tensor: Tensor, size, stride, offset: int) -> Tensor:
        ctx.input_geometry = (tensor.shape, tensor.stride(), tensor.storage_offset())
        ctx.view_geometry = (size, stride, offset)
        ctx.storage_size = tensor._storage.shape[0]
        return tensor._view(size, stride, offset)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        grad = ScatterAdd.apply(
            grad_output, _read_positions(ctx), tuple(ctx.input_geometry[0]), False
        )
        return grad, None, None, None

    @staticmethod
    def jvp(ctx, tensor_t: Tensor, *no_tangents) -> Tensor:
        # The view reads input elements by storage slot; the tangent, whatever its own layout,
        # is read at the same input elements (a gather, which is what as_strided computes).
        return Gather.apply(tensor_t, _read_positions(ctx))


def _read_positions(ctx) -> np.ndarray:
    """For each element of the view, the flat index of the input element whose storage slot
    it reads (-1 for a slot outside the input), shaped like the view."""
    shape, strides, input_offset = ctx.input_geometry
    owner = np.full(ctx.storage_size + 1, -1, dtype=np.int64)
    input_slots = np.lib.stride_tricks.as_strided(
        owner[input_offset:], shape, [step * owner.itemsize for step in strides]
    )
    input_slots[...] = np.arange(layout.numel(shape)).reshape(shape)
    size, stride, offset = ctx.view_geometry
    return np.lib.stride_tricks.as_strided(
        owner[offset:], size, [step * owner.itemsize for step in stride]
    ).copy()


table.register("narrow", Narrow)
table.register("unfold", Unfold)
table.register("as_strided", AsStrided)


# ---------------------------------------------------------------- flips, rolls and rotations
def _dim_list(dims: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return tuple(_wrap_distinct(dims, ndim, "dim {dim} appears multiple times in the list of dims"))


def _copy_like(tensor: Tensor, values: np.ndarray) -> Tensor:
    """A new tensor holding ``values`` laid out in ``tensor``'s memory order (torch's
    ``empty_like``): what flip and roll return."""
    strides = layout.dense_strides_like(tensor.shape, tensor.stride())
    return empty_strided_copy(values, tensor.shape, strides)


def flip(input: Tensor, *dims) -> Tensor:
    """The elements in reverse order along each of ``dims`` (a copy, as in torch);
    ``flip(x, (0, 1))`` and ``x.flip(0, 1)`` both work."""
    return _flip(input, _dim_list(_sizes_from_args(dims), input.ndim))


@op(input=lambda grad, dims: _flip(grad, dims), jvp=lambda input_t, dims: _flip(input_t, dims))
def _flip(input: Tensor, dims: tuple[int, ...]) -> Tensor:
    """Reverse along ``dims``; the gradient is flipped back."""
    return _copy_like(input, np.flip(input._array(), dims if input.ndim else ()))


def fliplr(input: Tensor) -> Tensor:
    """Flip left-right: reverse dim 1 (the input must be at least 2-D)."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flip up-down: reverse dim 0 (the input must be at least 1-D)."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(
    input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
) -> Tensor:
    """Shift the elements ``shifts`` places along ``dims`` (cyclically); with ``dims`` None the
    flattened tensor is rolled and the shape restored."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None or (not isinstance(dims, int) and len(dims) == 0):
        if len(shifts) != 1:
            raise RuntimeError(
                f"`shifts` required to be a single integer when `dims` is not given, "
                f"but got {len(shifts)} shifts"
            )
        return view(_roll_or_clone(reshape(input, (-1,)), shifts, (0,)), input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    wrapped = tuple(layout.wrap_dim(dim, input.ndim) for dim in dims)
    return _roll_or_clone(input, shifts, wrapped)


def _roll_or_clone(input: Tensor, shifts: tuple, dims: tuple) -> Tensor:
    # torch returns an empty tensor's clone (laid out like it) without rolling.
    return clone(input) if input.numel() == 0 else _roll(input, shifts, dims)


@op(
    input=lambda grad, shifts, dims: _roll(grad, tuple(-shift for shift in shifts), dims),
    jvp=lambda input_t, shifts, dims: _roll(input_t, shifts, dims),
)
def _roll(input: Tensor, shifts: tuple[int, ...], dims: tuple[int, ...]) -> Tensor:
    """Cyclic shift along ``dims`` (a contiguous copy); the gradient is rolled back."""
    values = input._array()
    return Tensor._from_array(np.roll(values, shifts, dims) if input.ndim else values)


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first toward the
    second): torch's flips and transpose, or a row-major copy for a multiple of 4."""
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    first, second = (layout.wrap_dim(dim, input.ndim) for dim in dims)
    if first == second:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {first} and dim1 = {second}"
        )
    k %= 4
    if k == 1:
        return transpose(flip(input, (second,)), first, second)
    if k == 2:
        return flip(input, (first, second))
    if k == 3:
        return transpose(flip(input, (first,)), first, second)
    return _clone(input, True)  # a row-major copy


def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Move dims ``source`` to positions ``destination``, the other dims keeping their order
    (a view: a permutation)."""
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
            f"contain the same number of dims as destination ({list(destination)} dims)"
        )
    ndim = max(input.ndim, 1) if input.ndim == 0 else input.ndim
    sources = _wrap_distinct(source, ndim, f"movedim: repeated dim in `source` ({list(source)})")
    targets = _wrap_distinct(
        destination, ndim, f"movedim: repeated dim in `destination` ({list(destination)})"
    )
    if input.ndim == 0:
        return _permute(input, ())
    order: list[int | None] = [None] * input.ndim
    for dim, target in zip(sources, targets):
        order[target] = dim
    rest = iter(dim for dim in range(input.ndim) if dim not in sources)
    return _permute(input, tuple(dim if dim is not None else next(rest) for dim in order))


moveaxis = movedim


# ------------------------------------------------------------------ triangles and diagonals
def _check_matrix(input: Tensor, name: str) -> None:
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


@op(
    input=lambda grad, diagonal: tril(grad, diagonal),
    jvp=lambda input_t, diagonal: tril(input_t, diagonal),
)
def _tril(input: Tensor, diagonal: int) -> Tensor:
    """The lower triangle (last two dims), zeros above; the gradient keeps the same part."""
    return Tensor._from_array(np.tril(input._array(), diagonal))


@op(
    input=lambda grad, diagonal: triu(grad, diagonal),
    jvp=lambda input_t, diagonal: triu(input_t, diagonal),
)
def _triu(input: Tensor, diagonal: int) -> Tensor:
    """The upper triangle (last two dims), zeros below; the gradient keeps the same part."""
    return Tensor._from_array(np.triu(input._array(), diagonal))


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The elements on and below diagonal ``diagonal`` of each matrix (last two dims), zeros
    elsewhere (a contiguous copy)."""
    _check_matrix(input, "tril")
    return _tril(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The elements on and above diagonal ``diagonal`` of each matrix, zeros elsewhere."""
    _check_matrix(input, "triu")
    return _triu(input, diagonal)


def _diagonal_geometry(shape, strides, offset: int, first: int, second: int) -> tuple:
    """Shape, strides and extra storage offset of the diagonal ``offset`` of dims ``first`` and
    ``second``, moved to the end (torch's ``diagonal``)."""
    if offset >= 0:
        length = max(0, min(shape[first], shape[second] - offset))
        shift = offset * strides[second]
    else:
        length = max(0, min(shape[first] + offset, shape[second]))
        shift = -offset * strides[first]
    shift = shift if length > 0 else 0
    kept = [dim for dim in range(len(shape)) if dim not in (first, second)]
    new_shape = [shape[dim] for dim in kept] + [length]
    new_strides = [strides[dim] for dim in kept] + [strides[first] + strides[second]]
    return new_shape, new_strides, shift


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` (above the main one when positive) of the matrices in dims
    ``dim1``, ``dim2``, as a new last dim (a view)."""
    first, second = layout.wrap_dim(dim1, input.ndim), layout.wrap_dim(dim2, input.ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape, strides, shift = _diagonal_geometry(input.shape, input.stride(), offset, first, second)
    # AsStrided itself: an empty diagonal may point past the end of its storage, as in torch.
    return AsStrided.apply(input, tuple(shape), tuple(strides), input.storage_offset() + shift)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices (in dims ``dim1``, ``dim2`` of the result) whose diagonal ``offset`` holds the
    last dim of ``input``, zeros elsewhere."""
    ndim = input.ndim + 1
    first, second = layout.wrap_dim(dim1, ndim), layout.wrap_dim(dim2, ndim)
    if first == second:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    size = (input.shape[-1] if input.ndim else 1) + abs(offset)
    batch = list(input.shape[:-1])
    shape = list(batch)
    for dim in sorted((first, second)):
        shape.insert(dim, size)
    positions = np.arange(layout.numel(shape), dtype=np.int64).reshape(shape)
    where = Tensor._from_array(positions)
    chosen = diagonal(where, offset, first, second)._array()
    return ScatterAdd.apply(input, chosen.reshape(input.shape), tuple(shape), True)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input as the diagonal ``diagonal`` of a square matrix; the diagonal of a 2-D
    input."""
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal_of(input, diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def _diagonal_of(input: Tensor, offset: int) -> Tensor:
    return _clone(diagonal(input, offset, 0, 1), True)  # torch's diag copies


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (integers sum to int64)."""
    if input.dtype.name == "bool":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return reduction.sum(diagonal(input))


# --------------------------------------------------------------------- repeats and splits
def repeat(input: Tensor, *sizes) -> Tensor:
    """The tensor tiled ``sizes[i]`` times along each dim (leading dims added when ``sizes`` is
    longer): an expand of interleaved size-1 dims, then a reshape (a copy)."""
    if not sizes:
        raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
    sizes = _sizes_from_args(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = (1,) * (len(sizes) - input.ndim) + tuple(input.shape)
    spread = reshape(input, [one for size in shape for one in (1, size)])
    expanded = expand(spread, [one for pair in zip(sizes, shape) for one in pair])
    return _clone(expanded, True).view([count * size for count, size in zip(sizes, shape)])


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """:func:`repeat`, with ``dims`` padded with leading 1s to the tensor's number of dims."""
    dims = tuple(dims)
    return repeat(input, (1,) * (input.ndim - len(dims)) + dims)


@accepts_axis
def repeat_interleave(
    input: Tensor,
    repeats: int | Tensor | None = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """Each element (each slice along ``dim``) repeated ``repeats`` times in place; with no
    ``repeats``, the indices ``i`` repeated ``input[i]`` times."""
    if repeats is None:
        counts = input._array().astype(np.int64)
        return Tensor._from_array(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, dim = reshape(input, (-1,)), 0
    if input.ndim == 0:
        raise IndexError(f"repeat_interleave(): a 0-d tensor has no dim {dim} to repeat along")
    dim = layout.wrap_dim(dim, input.ndim)
    counts = repeats._array().astype(np.int64) if isinstance(repeats, Tensor) else repeats
    if np.any(np.asarray(counts) < 0):
        raise RuntimeError("repeats can not be negative")
    size = input.shape[dim] if input.ndim else 1
    index = np.repeat(np.arange(size, dtype=np.int64), counts)
    return repeat_select(input, dim, index)


def repeat_select(input: Tensor, dim: int, index: np.ndarray) -> Tensor:
    """The slices of ``input`` along ``dim`` at ``index`` (a gather)."""
    shape = list(input.shape) or [1]
    positions = np.arange(layout.numel(shape), dtype=np.int64).reshape(shape)
    chosen = np.take(positions, index, axis=dim)
    return Gather.apply(input, chosen)


@accepts_axis
def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Dim ``dim`` split into dims of ``sizes`` (one may be -1), a view when possible."""
    dim = layout.wrap_dim(dim, input.ndim)
    sizes = tuple(sizes)
    known = layout.numel([size for size in sizes if size != -1])
    if (-1 not in sizes and known != input.shape[dim]) or (
        -1 in sizes and known and input.shape[dim] % known
    ):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({input.shape[dim]}) in the input tensor"
        )
    return reshape(input, (*input.shape[:dim], *sizes, *input.shape[dim + 1 :]))


@accepts_axis
def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Views of consecutive pieces along ``dim``: of ``split_size`` elements each (the last
    may be smaller), or of the given sizes, which must add up to the dim's size."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = layout.wrap_dim(dim, tensor.ndim)
    size = tensor.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0 or (step == 0 and size != 0):
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )
        sizes = [min(step, size - start) for start in range(0, size, step)] if step else [0]
        sizes = sizes or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != size:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                f"size at dimension {dim}), but got split_sizes={sizes}"
            )
    return _pieces(tensor, dim, sizes)


def _pieces(tensor: Tensor, dim: int, sizes: Sequence[int]) -> tuple[Tensor, ...]:
    pieces, start = [], 0
    for size in sizes:
        pieces.append(narrow(tensor, dim, start, size))
        start += size
    return tuple(pieces)


@accepts_axis
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` views of equal size ``ceil(n / chunks)`` along ``dim`` (the last
    may be smaller)."""
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = input.shape[layout.wrap_dim(dim, input.ndim)]
    if size == 0:  # torch: `chunks` empty pieces
        return _pieces(input, layout.wrap_dim(dim, input.ndim), [0] * chunks)
    return split(input, -(-size // chunks), dim)


@accepts_axis
def tensor_split(
    input: Tensor, indices_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Views along ``dim``: ``n`` pieces whose sizes differ by at most one (the first ones
    larger), or the pieces between the given split indices."""
    if input.ndim == 0:
        raise RuntimeError(
            "tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims"
        )
    dim = layout.wrap_dim(dim, input.ndim)
    size = input.shape[dim]
    if isinstance(indices_or_sections, int):
        count = indices_or_sections
        if count <= 0:
            raise RuntimeError(
                f"number of sections must be larger than 0, got {indices_or_sections}"
            )
        sizes = [size // count + (1 if index < size % count else 0) for index in range(count)]
        return _pieces(input, dim, sizes)
    bounds = [0, *(min(max(index if index >= 0 else index + size, 0), size)
                   for index in indices_or_sections), size]  # fmt: skip
    pieces = []
    for start, stop in zip(bounds, bounds[1:]):
        start = min(start, size)
        pieces.append(narrow(input, dim, start, max(stop - start, 0)))
    return tuple(pieces)


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: for 1-D (or 0-d) tensors of sizes ``n1, n2, ...``, each expanded to
    ``(n1, n2, ...)`` (``indexing="ij"``; with ``"xy"`` the shape is ``(n2, n1, ...)``)."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    for tensor in tensors:
        if tensor.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {tensor}"
            )
    flat = [reshape(tensor, (-1,)) for tensor in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [tensor.shape[0] for tensor in flat]
    grids = []
    for position, tensor in enumerate(flat):
        sizes = [1] * len(flat)
        sizes[position] = -1
        grids.append(expand(view(tensor, sizes), shape))
    if swap:  # the grids of (second, first, ...), given back in the callers' order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
