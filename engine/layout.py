"""Pure shape-and-stride arithmetic: no tensors, no data, only tuples of integers.

These are the rules PyTorch applies before it touches memory: what strides a contiguous tensor
has, when a view is possible (ATen's ``computeStride``), how ``-1`` is inferred, how shapes
broadcast, and how negative dims wrap.  Keeping them pure makes them easy to test and to show.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

Shape = tuple[int, ...]
Strides = tuple[int, ...]


def shape_from_args(args: Sequence) -> Shape:
    """Accept both ``f(2, 3)`` and ``f((2, 3))`` (or a list / Size) like torch factories do;
    ``f()`` is a TypeError (use ``f(())`` for a 0-d tensor)."""
    if len(args) == 0:
        raise TypeError('missing 1 required positional argument: "size"')
    if len(args) == 1 and isinstance(args[0], Iterable):
        args = tuple(args[0])
    shape = tuple(int(size) for size in args)
    for size in shape:
        if size < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {size}: {list(shape)}"
            )
    return shape


def numel(shape: Sequence[int]) -> int:
    """Number of elements of a tensor of this shape (1 for the 0-d shape ``()``)."""
    count = 1
    for size in shape:
        count *= size
    return count


@functools.lru_cache(maxsize=4096)
def contiguous_strides(shape: tuple[int, ...]) -> Strides:
    """Row-major strides in elements; a size-0 dim counts as 1 so strides stay positive.

    ``contiguous_strides((2, 3, 4)) == (12, 4, 1)``, ``contiguous_strides((2, 0, 3)) == (3, 3, 1)``.
    ``shape`` must be a tuple: the answer is cached per shape (a pure function of it).
    """
    strides = []
    running = 1
    for size in reversed(shape):
        strides.append(running)
        running *= max(size, 1)
    return tuple(reversed(strides))


def is_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """PyTorch's definition: row-major order, ignoring dims of size 1 (their stride is free)."""
    if numel(shape) == 0:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def is_non_overlapping_and_dense(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether the elements fill a block of memory exactly once, in some order of the dims.

    Port of ATen's ``compute_non_overlapping_and_dense``: dims of size 0 or 1 are ignored, and a
    contiguous tensor (which includes every empty tensor) counts as dense.
    """
    if is_contiguous(shape, strides):
        return True
    if len(shape) == 1:
        return shape[0] < 2 or strides[0] == 1
    # Innermost (smallest stride) first; dims of size < 2 go last and end the check.
    order = sorted(range(len(shape)), key=lambda dim: (shape[dim] < 2, strides[dim]))
    expected = 1
    for dim in order:
        if shape[dim] < 2:
            return True
        if strides[dim] != expected:
            return False
        expected *= shape[dim]
    return True


def dense_strides_like(shape: Sequence[int], strides: Sequence[int]) -> Strides:
    """Strides of a dense tensor that keeps the memory order of the dims of ``strides``.

    Port of ATen's ``infer_dense_strides`` (what ``empty_like`` uses with preserve_format):
    dims are insertion-sorted from innermost by stride, zero strides keep their place, and equal
    strides put the smaller size inside.
    """
    ndim = len(shape)
    if ndim == 0:
        return ()
    if is_non_overlapping_and_dense(shape, strides):
        return tuple(strides)

    def compare(dim0: int, dim1: int) -> int:
        stride0, stride1 = strides[dim0], strides[dim1]
        if stride0 == 0 or stride1 == 0:
            return 0
        if stride0 != stride1:
            return -1 if stride0 < stride1 else 1
        return 1 if shape[dim0] > shape[dim1] else 0

    innermost_first = _insertion_sort_dims(ndim, compare)
    result = [0] * ndim
    running = 1
    for dim in innermost_first:
        result[dim] = running
        running *= max(shape[dim], 1)
    return tuple(result)


def wrap_dim(dim: int, ndim: int) -> int:
    """Turn a possibly negative ``dim`` into an index in ``range(ndim)`` (a 0-d tensor has one
    addressable dim, as in torch); IndexError with torch's message otherwise."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
            f"but got {dim})"
        )
    return dim % rank


def wrap_dims(dims: int | Sequence[int] | None, ndim: int) -> tuple[int, ...]:
    """Normalise the ``dim`` of a reduction: None or () mean every dim; repeats are an error."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    wrapped = tuple(wrap_dim(dim, ndim) for dim in dims)
    seen = set()
    for dim in wrapped:
        if dim in seen:
            raise RuntimeError(f"dim {dim} appears multiple times in the list of dims")
        seen.add(dim)
    if ndim == 0:
        return ()
    return wrapped if wrapped else tuple(range(ndim))


def infer_size(shape: Sequence[int], total: int) -> Shape:
    """Replace a single ``-1`` in ``shape`` so that it holds ``total`` elements (view/reshape)."""
    shape = [int(size) for size in shape]
    inferred = None
    known = 1
    for index, size in enumerate(shape):
        if size == -1:
            if inferred is not None:
                raise RuntimeError("only one dimension can be inferred")
            inferred = index
        elif size >= 0:
            known *= size
        else:
            raise RuntimeError(f"invalid shape dimension {size} at index {index} of shape {shape}")
    if inferred is None:
        if known == total:
            return tuple(shape)
    elif known != 0 and total % known == 0:
        shape[inferred] = total // known
        return tuple(shape)
    elif known == 0 and total == 0:
        raise RuntimeError(
            f"cannot reshape tensor of 0 elements into shape {shape} because the unspecified "
            "dimension size -1 can be any value and is ambiguous"
        )
    raise RuntimeError(f"shape '{shape}' is invalid for input of size {total}")


def view_strides(
    old_shape: Sequence[int], old_strides: Sequence[int], new_shape: Sequence[int]
) -> Strides | None:
    """Strides that let ``new_shape`` view the same memory, or None when no view exists.

    Port of ATen's ``computeStride`` (aten/src/ATen/TensorUtils.cpp).  The old dims are grouped
    into chunks that are contiguous among themselves; a view exists when the new dims can be
    grouped the same way, each group spanning exactly one chunk.
    """
    if len(old_shape) == 0:
        return (1,) * len(new_shape)
    total = numel(old_shape)
    if total == 0:
        if tuple(old_shape) == tuple(new_shape):
            return tuple(old_strides)
        return contiguous_strides(new_shape)

    new_strides = [0] * len(new_shape)
    view_dim = len(new_shape) - 1
    chunk_base_stride = old_strides[-1]
    tensor_numel = 1
    view_numel = 1
    for tensor_dim in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[tensor_dim]
        chunk_ends = tensor_dim == 0 or (
            old_shape[tensor_dim - 1] != 1
            and old_strides[tensor_dim - 1] != tensor_numel * chunk_base_stride
        )
        if chunk_ends:
            while view_dim >= 0 and (view_numel < tensor_numel or new_shape[view_dim] == 1):
                new_strides[view_dim] = view_numel * chunk_base_stride
                view_numel *= new_shape[view_dim]
                view_dim -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_dim > 0:
                chunk_base_stride = old_strides[tensor_dim - 1]
                tensor_numel = 1
                view_numel = 1
    if view_dim != -1:
        return None
    return tuple(new_strides)


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """The shape that all ``shapes`` broadcast to, aligning them on their last dim.

    Sizes must be equal or 1 in every dim; otherwise RuntimeError with torch's message
    ("The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1").
    """
    result: list[int] = []
    for shape in shapes:
        shape = (int(shape),) if isinstance(shape, int) else tuple(shape)
        result = _broadcast_pair(result, shape)
    return tuple(result)


def is_expandable_to(shape: Sequence[int], target: Sequence[int]) -> bool:
    """Whether ``shape`` broadcasts to exactly ``target`` (torch's ``is_expandable_to``): each
    of its sizes, aligned from the right, is 1 or the target's size."""
    if len(shape) > len(target):
        return False
    return all(
        size == 1 or size == target_size
        for size, target_size in zip(reversed(shape), reversed(target), strict=False)
    )


def _broadcast_pair(first: Sequence[int], second: Sequence[int]) -> list[int]:
    ndim = max(len(first), len(second))
    result = [0] * ndim
    for index in range(ndim - 1, -1, -1):
        offset = ndim - 1 - index
        dim_first = len(first) - 1 - offset
        dim_second = len(second) - 1 - offset
        size_first = first[dim_first] if dim_first >= 0 else 1
        size_second = second[dim_second] if dim_second >= 0 else 1
        if size_first != size_second and size_first != 1 and size_second != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_first}) must match the size of tensor b "
                f"({size_second}) at non-singleton dimension {index} "
                f"(shapes {list(first)} and {list(second)})"
            )
        result[index] = size_second if size_first == 1 else size_first
    return result


def expand_strides(
    shape: Sequence[int], strides: Sequence[int], target: Sequence[int]
) -> tuple[Shape, Strides]:
    """Shape and strides of ``expand(target)``: new leading dims and expanded size-1 dims get
    stride 0, ``-1`` keeps a size.  Port of ATen's ``inferExpandGeometry``."""
    ndim, target_ndim = len(shape), len(target)
    if target_ndim < ndim:
        raise RuntimeError(
            f"expand(size={list(target)}): the number of sizes provided ({target_ndim}) must be "
            f"greater or equal to the number of dimensions in the tensor ({ndim})"
        )
    new_shape = [0] * target_ndim
    new_strides = [0] * target_ndim
    for index in range(target_ndim - 1, -1, -1):
        offset = target_ndim - 1 - index
        dim = ndim - 1 - offset
        size = shape[dim] if dim >= 0 else 1
        if dim >= 0:
            stride = strides[dim]
        elif index + 1 < target_ndim:
            stride = new_shape[index + 1] * new_strides[index + 1]
        else:
            stride = 0  # expanding a 0-d tensor: torch gives every new dim stride 0
        target_size = int(target[index])
        if target_size == -1:
            if dim < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, "
                    f"non-existing dimension {index}"
                )
            target_size = size
        if size != target_size:
            if size != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({target_size}) must match the existing "
                    f"size ({size}) at non-singleton dimension {index}.  Target sizes: "
                    f"{list(target)}.  Tensor sizes: {list(shape)}"
                )
            stride = 0
        new_shape[index] = target_size
        new_strides[index] = stride
    return tuple(new_shape), tuple(new_strides)


# ------------------------------------------------------------------ TensorIterator outputs
Geometry = tuple[Shape, Strides]


def is_channels_last_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a 4-d tensor is dense in NHWC order (C innermost, then W, H, N), ignoring size-1
    dims.  Port of c10's ``compute_channels_last_contiguous_2d``; False for any other rank."""
    if len(shape) != 4:
        return False
    expected = 1
    for dim in (1, 3, 2, 0):
        if shape[dim] != 1:
            if strides[dim] != expected:
                return False
            expected *= shape[dim]
    return True


def channels_last_strides(shape: Sequence[int]) -> Strides:
    """Strides of a new 4-d NHWC tensor (``memory_format=torch.channels_last``).  Port of c10's
    ``get_channels_last_strides_2d`` (sizes are used as they are, without ``max(size, 1)``)."""
    batch, channels, height, width = shape
    return (height * width * channels, 1, width * channels, channels)


def _fast_setup_strides(operands: Sequence[Geometry]) -> Strides | None:
    """The output strides of ``TensorIteratorBase::fast_set_up``, or None when it does not apply.

    It applies only when every operand has the same shape (a 0-d operand next to n-d ones,
    such as a Python number, rules it out: ``compute_shape``'s ``all_ops_same_shape_``) and
    all operands are contiguous (contiguous output), all channels-last contiguous (channels-last
    output), or all non-overlapping and dense with identical strides (those strides, verbatim).
    """
    common: tuple[int, ...] | None = None
    has_scalars = has_tensors = False
    for shape, _ in operands:
        if len(shape) == 0:
            has_scalars = True
        else:
            has_tensors = True
        if has_scalars and has_tensors:
            return None
        if common is None or len(common) == 0:
            common = tuple(shape)
        elif tuple(shape) != common:
            return None
    shape = common
    if all(is_contiguous(*operand) for operand in operands):
        return contiguous_strides(shape)
    if all(is_channels_last_contiguous(*operand) for operand in operands):
        return channels_last_strides(shape)
    if all(is_non_overlapping_and_dense(*operand) for operand in operands):
        first = tuple(operands[-1][1])
        if all(tuple(strides) == first for _, strides in operands):
            return first
    return None


def _iterator_strides(shape: Sequence[int], operand_shape, operand_strides) -> Strides:
    """An operand's strides in the broadcast ``shape`` (``compute_strides``): missing leading
    dims and broadcast size-1 dims get 0; a size-1 dim that stays size 1 keeps its stride."""
    offset = len(shape) - len(operand_shape)
    strides = [0] * offset
    for dim, (size, stride) in enumerate(zip(operand_shape, operand_strides, strict=True)):
        strides.append(0 if size == 1 and shape[offset + dim] != 1 else stride)
    return tuple(strides)


def iterator_permutation(shape: Sequence[int], operand_strides: Sequence[Strides]) -> list[int]:
    """The dims in iteration order, fastest first (``TensorIteratorBase::reorder_dimensions``).

    Starting from the reversed order (the last dim fastest, as for a contiguous tensor), an
    insertion sort compares two dims on each operand in turn: a zero stride (broadcast) says
    nothing and moves on to the next operand, a smaller stride goes first, and equal strides put
    the larger size later (only a strict "swap" ends the comparison there).  When no operand
    decides, the dims keep their order -- which is why this is an insertion sort and not a
    sort with a key: "ambiguous" is not transitive.
    """
    ndim = len(shape)
    if ndim <= 1:
        return list(range(ndim))

    def should_swap(dim0: int, dim1: int) -> int:
        for strides in operand_strides:
            stride0, stride1 = strides[dim0], strides[dim1]
            if stride0 == 0 or stride1 == 0:
                continue
            if stride0 != stride1:
                return -1 if stride0 < stride1 else 1
            if shape[dim0] > shape[dim1]:
                return 1
        return 0

    return _insertion_sort_dims(ndim, should_swap)


def _insertion_sort_dims(ndim: int, compare) -> list[int]:
    """ATen's dim sort (used by ``infer_dense_strides`` and ``reorder_dimensions``): start from
    the reversed dims (innermost first) and insertion-sort with ``compare(a, b)``: 1 swaps, -1
    stops, 0 is undecided and moves on.  Not a keyed sort, because "undecided" is not
    transitive."""
    order = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        moving = i
        for j in range(i - 1, -1, -1):
            comparison = compare(order[j], order[moving])
            if comparison > 0:
                order[j], order[moving] = order[moving], order[j]
                moving = j
            elif comparison < 0:
                break
    return order


def iterator_output_strides(operands: Sequence[Geometry]) -> Strides:
    """Strides of the new output of an elementwise op, given its inputs' ``(shape, strides)`` in
    argument order (a Python number is the 0-d operand ``((), ())``).

    Port of what ``TensorIteratorBase::build`` does for an output it allocates:
    ``compute_shape`` (broadcast), ``fast_set_up`` (see :func:`_fast_setup_strides`), and
    otherwise ``compute_strides``, ``reorder_dimensions`` (:func:`iterator_permutation`) and
    ``allocate_or_resize_outputs``: the output is dense with its dims laid out in iteration
    order.  If that order is the plain reversed one the output is contiguous; otherwise the
    strides are running products of the sizes *without* ``max(size, 1)`` (ATen's
    ``compatible_stride``), so an empty output can have zero strides, exactly as in torch.

    Inputs whose dtype differs from the op's common dtype must be passed with the layout of
    their ``.to(dtype)`` copy (:func:`dense_strides_like`): on the CPU, TensorIterator converts
    them to temporaries before it looks at strides.
    """
    shape = broadcast_shapes(*(operand_shape for operand_shape, _ in operands))
    fast = _fast_setup_strides(operands)
    if fast is not None:
        return fast
    operand_strides = [_iterator_strides(shape, *operand) for operand in operands]
    order = iterator_permutation(shape, operand_strides)
    if order == list(range(len(shape) - 1, -1, -1)):
        return contiguous_strides(shape)
    strides = [0] * len(shape)
    running = 1
    for dim in order:
        strides[dim] = running
        running *= shape[dim]
    return tuple(strides)


# ------------------------------------------------------------------ advanced indexing outputs
def advanced_index_strides(
    shape: Sequence[int], strides: Sequence[int], indices: Sequence[Geometry | None]
) -> Geometry:
    """Shape and strides of the result of ``index`` (advanced indexing) on a source of this
    ``shape`` and ``strides``.

    ``indices`` are the per-dim index tensors' ``(shape, strides)`` after ATen's
    ``expandTensors`` (a mask already replaced by its ``nonzero()`` columns), None for a dim that
    is not indexed.  Port of ``make_info`` (``expand_outplace`` of the indices, padding with
    None, ``transposeToFront`` when the indexed dims are not adjacent), ``AdvancedIndex``
    (``restride_src`` and ``reshape_indexer``) and the index TensorIterator's output layout.
    """
    indices = list(indices)
    while indices and indices[-1] is None:
        indices.pop()
    defined = [index for index in indices if index is not None]
    common = broadcast_shapes(*(index_shape for index_shape, _ in defined))
    indices = [None if index is None else expand_strides(*index, common) for index in indices]
    indices += [None] * (len(shape) - len(indices))
    positions = [dim for dim, index in enumerate(indices) if index is not None]
    if positions[-1] - positions[0] + 1 != len(positions):  # not adjacent: transposeToFront
        order = positions + [dim for dim, index in enumerate(indices) if index is None]
        shape = [shape[dim] for dim in order]
        strides = [strides[dim] for dim in order]
        indices = [indices[dim] for dim in order]
    dims_before = next(dim for dim, index in enumerate(indices) if index is not None)
    dims_indexed = len(defined)
    dims_after = len(shape) - dims_before - dims_indexed
    end = dims_before + dims_indexed
    src_shape = (*shape[:dims_before], *common, *shape[end:])
    src_strides = (*strides[:dims_before], *(0,) * len(common), *strides[end:])
    operands: list[Geometry] = [(src_shape, src_strides)]
    new_shape = (1,) * dims_before + tuple(common) + (1,) * dims_after
    for index in indices:
        if index is not None:  # reshape_indexer: a view when computeStride allows it
            index_strides = view_strides(index[0], index[1], new_shape)
            if index_strides is None:
                index_strides = contiguous_strides(new_shape)
            operands.append((new_shape, index_strides))
    return broadcast_shapes(*(operand_shape for operand_shape, _ in operands)), (
        iterator_output_strides(operands)
    )
