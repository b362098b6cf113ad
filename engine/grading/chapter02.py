"""Checks for chapter 2, Tensors from scratch (exercises/02_tensors.ipynb).

Expected answers are written out by hand for the first cases and taken from the engine itself
for the rest (the engine's strides and broadcasting are tested against PyTorch in tests/).
"""

from __future__ import annotations

import numpy as np

import engine
from engine.grading.core import CheckFailed, exercise, expect, expect_type, explain, outcome
from engine.testing import same_storage

CHAPTER = "02_tensors"


def _expect_equal(case: str, expected, got) -> None:
    if got != expected:
        raise CheckFailed(f"{case}: expected {expected!r}, got {got!r}")


def _as_tuple(case: str, got) -> tuple:
    if got is None:
        raise CheckFailed(f"{case}: expected a tuple, got None (a missing return statement?)")
    if not isinstance(got, (tuple, list)):
        raise CheckFailed(f"{case}: expected a tuple of ints, got {type(got).__name__} ({got!r})")
    return tuple(got)


@exercise(
    CHAPTER,
    "contiguous_strides",
    "the strides of a contiguous (row-major) tensor",
    hints=(
        "Walk the shape from the right: the last stride is 1, and each stride is the stride to its "
        "right times the size to its right.",
        "Multiply by max(size, 1), so that a size of 0 counts as 1; return a tuple, which is () "
        "for the shape ().",
    ),
)
def check_contiguous_strides(contiguous_strides) -> str:
    cases = {(2, 3): (3, 1), (2, 3, 4): (12, 4, 1), (5,): (1,), (): ()}
    for shape, expected in cases.items():
        case = f"contiguous_strides({shape})"
        _expect_equal(case, expected, _as_tuple(case, contiguous_strides(shape)))
    # Sizes of 0 and 1: PyTorch counts them as 1 when it multiplies sizes into strides.
    for shape in [(4, 1, 3), (3, 0, 2), (1, 1), (2, 5, 1, 7)]:
        case = f"contiguous_strides({shape})"
        expected = tuple(engine.zeros(shape).stride())
        _expect_equal(case, expected, _as_tuple(case, contiguous_strides(shape)))
    return "8 cases passed"


@exercise(
    CHAPTER,
    "storage_index",
    "where element (i, j, ...) of a view lives in storage",
    hints=(
        "Start from storage_offset and add index[d] * strides[d] for every dimension d.",
        "zip(index, strides) pairs them up. A stride of 0 (an expanded dimension) adds nothing, "
        "which is how many elements share one place in storage.",
    ),
)
def check_storage_index(storage_index) -> str:
    _expect_equal(
        "storage_index((1, 2), strides=(4, 1), offset=0)", 6, storage_index((1, 2), (4, 1), 0)
    )
    _expect_equal(
        "storage_index((2, 0), strides=(1, 3), offset=5)", 7, storage_index((2, 0), (1, 3), 5)
    )
    base = engine.arange(60).view(3, 4, 5)
    views = {
        "a contiguous tensor": base,
        "a transpose": base.transpose(0, 2),
        "a slice with steps": base[1:, ::2, 1::3],
        "an expanded tensor": base[:, :1, :].expand(3, 4, 5),
        "a permuted narrow": base.permute(2, 0, 1).narrow(1, 1, 2),
    }
    for name, view in views.items():
        storage = view._storage
        for index in np.ndindex(*view.shape):
            position = storage_index(index, tuple(view.stride()), view.storage_offset())
            case = f"{name} of shape {tuple(view.shape)}, index {index}"
            expect_type(case, position, int)
            expect(
                case,
                0 <= position < storage.size,
                f"position {position} is outside the storage of {storage.size} elements",
            )
            _expect_equal(
                f"{case}: the element stored there", view[index].item(), storage[position].item()
            )
    return f"{2 + len(views)} cases passed"


@exercise(
    CHAPTER,
    "broadcast_shapes",
    "PyTorch's broadcasting rule for shapes",
    hints=(
        "Pad every shape on the left with 1s to the length of the longest one, then compare them "
        "position by position.",
        "In each position the sizes that are not 1 must all be equal: the result takes that size, "
        "or 1 when every size there is 1.",
        "Compare every shape, not just the first two; when two sizes differ and neither is 1, "
        "raise RuntimeError naming both.",
    ),
)
def check_broadcast_shapes(broadcast_shapes) -> str:
    good = [
        ([(3, 1), (1, 4)], (3, 4)),
        ([(8, 1, 6, 1), (7, 1, 5)], (8, 7, 6, 5)),
        ([(5,), ()], (5,)),
        ([(2, 3), (3,)], (2, 3)),
        ([(0, 1), (1, 4)], (0, 4)),
        ([(1,), (1, 1, 1)], (1, 1, 1)),
        ([(4, 1), (1, 1), (1, 4)], (4, 4)),
    ]
    for shapes, expected in good:
        case = f"broadcast_shapes{tuple(shapes)}"
        _expect_equal(case, expected, _as_tuple(case, broadcast_shapes(*shapes)))
    # Mismatches in the last dim, and in earlier dims only (a check of the last dim alone
    # passes the first kind), and between the first and the last of three shapes.
    mismatches = [
        [(3,), (4,)],
        [(2, 3), (3, 2)],
        [(2, 1, 3), (1, 4, 2)],
        [(2, 3), (4, 3)],
        [(5, 2, 1), (3, 2, 1)],
        [(2, 1), (1, 1), (3, 1)],
    ]
    for shapes in mismatches:
        case = f"broadcast_shapes{tuple(shapes)}"
        try:
            got = broadcast_shapes(*shapes)
        except RuntimeError:
            continue
        except Exception as error:
            raise CheckFailed(
                f"{case}: expected RuntimeError as in PyTorch, got {type(error).__name__}: {error}"
            ) from None
        raise CheckFailed(
            f"{case}: the shapes do not broadcast, expected RuntimeError, got {got!r}"
        )
    return f"{len(good) + len(mismatches)} cases passed"


def _expect_same_view(case: str, expected, got) -> None:
    expect_type(case, got, engine.Tensor)
    _expect_equal(f"{case}: shape", tuple(expected.shape), tuple(got.shape))
    _expect_equal(f"{case}: strides", tuple(expected.stride()), tuple(got.stride()))
    _expect_equal(f"{case}: storage offset", expected.storage_offset(), got.storage_offset())
    expect(
        case,
        same_storage(expected, got),
        "the result must be a view sharing the input's storage, not a copy",
    )
    _expect_equal(f"{case}: values", expected.tolist(), got.tolist())


TRANSPOSES = (
    "engine.Tensor.transpose",
    "engine.Tensor.swapaxes",
    "engine.Tensor.permute",
    "engine.Tensor.t",
    "engine.transpose",
    "engine.permute",
    "engine.ops.shape.transpose",
    "engine.ops.shape.permute",
    "torch.Tensor.transpose",
)


@exercise(
    CHAPTER,
    "transpose",
    "transpose as a pure change of shape and strides",
    forbidden=TRANSPOSES,
    hints=(
        "A transpose moves no data: it keeps the storage and the offset (t.storage_offset()).",
        "Swap entries dim0 and dim1 in both the list of sizes and the list of strides, then pass "
        "all three to t.as_strided(size, stride, offset).",
    ),
)
def check_transpose(transpose) -> str:
    base = engine.arange(24.0).view(2, 3, 4)
    cases = [
        (base, 0, 1),
        (base, 0, 2),
        (base, 2, 1),
        (base, 1, 1),
        (base[:, 1:, ::2], 0, 2),
        (engine.arange(6.0).view(2, 3).t(), 0, 1),
    ]
    for tensor, dim0, dim1 in cases:
        case = (
            f"transpose of a {tuple(tensor.shape)} tensor with strides {tensor.stride()}, "
            f"dims ({dim0}, {dim1})"
        )
        _expect_same_view(case, tensor.transpose(dim0, dim1), transpose(tensor, dim0, dim1))
    return f"{len(cases)} cases passed"


@exercise(
    CHAPTER,
    "sliding_windows",
    "overlapping windows as a view, with as_strided",
    forbidden=("engine.Tensor.unfold", "engine.ops.shape.unfold", "torch.Tensor.unfold"),
    hints=(
        "The result has two dimensions: the number of windows that fit, which is (len(t) - size) "
        "// step + 1, and size.",
        "One step along a window moves t.stride()[0] in storage; one step to the next window moves "
        "step times as far.",
        "Start at t.storage_offset(), not 0, so that it works when t is itself a view.",
    ),
)
def check_sliding_windows(sliding_windows) -> str:
    signal = engine.arange(10.0)
    cases = [
        (signal, 3, 1),
        (signal, 4, 2),
        (signal, 10, 1),
        (signal, 3, 4),
        (signal[1::2], 2, 1),  # a non-contiguous input: stride 2, offset 1
        (signal[2:9], 5, 3),
        # 11 elements, windows of 3, 4 apart: starts 0, 4 and 8, so 3 windows, not 11 // 4.
        (engine.arange(11.0), 3, 4),
    ]
    for tensor, size, step in cases:
        case = (
            f"sliding_windows of {tensor.tolist()} (stride {tensor.stride()[0]}, offset "
            f"{tensor.storage_offset()}), size={size}, step={step}"
        )
        _expect_same_view(case, tensor.unfold(0, size, step), sliding_windows(tensor, size, step))
    return f"{len(cases)} cases passed"


@exercise(
    CHAPTER,
    "permute_then_view",
    "predict a permuted tensor's strides, and whether view works on it",
    kind="predict",
    hints=(
        "permute moves no data: write down the strides of the contiguous zeros(2, 3, 4), then "
        "reorder them as the dims are, (2, 0, 1).",
        "view keeps the same memory: ask whether one stride can walk the elements of p in "
        "row-major order.",
    ),
)
def check_permute_then_view(permute_then_view) -> str:
    prediction = permute_then_view()
    case = "permute_then_view()"
    expect(
        case,
        isinstance(prediction, tuple) and len(prediction) == 2,
        f"return a tuple (strides, what view(24) does), got {prediction!r}",
    )
    strides, view = prediction
    permuted = engine.zeros(2, 3, 4).permute(2, 0, 1)
    first = explain(
        "engine.zeros(2, 3, 4).permute(2, 0, 1).stride()",
        tuple(strides) if isinstance(strides, list | tuple) else strides,
        permuted.stride(),
        "permute moves no data: the strides (12, 4, 1) are reordered like the dims.",
    )
    second = explain(
        "its .view(24)",
        view,
        outcome(lambda: tuple(permuted.view(24).shape)),
        "Its elements are 4 apart in storage along the last dim, 12 apart along the middle "
        "one and 1 apart along the first: no single stride walks them in row-major order, so "
        "view refuses (RuntimeError); reshape would copy.",
    )
    return f"{first} {second}"


def _torch_view_strides(shape, strides, new_shape):
    """What torch's view gives for a tensor of this shape and these strides (None: raises)."""
    import torch

    size = 1 + sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if n > 0)
    base = torch.zeros(max(size, 1))
    tensor = torch.as_strided(base, shape, strides)
    try:
        return tuple(tensor.view(new_shape).stride())
    except RuntimeError:
        return None


VIEW_CASES = [
    ((2, 3, 4), (12, 4, 1), (6, 4)),
    ((2, 3, 4), (12, 4, 1), (24,)),
    ((4, 3), (1, 4), (12,)),  # a transpose
    ((4, 3), (1, 4), (4, 3, 1)),
    ((4, 3), (1, 4), (2, 2, 3)),  # splits the non-contiguous dim: fine
    ((2, 4), (8, 2), (8,)),  # a slice with a step: one chunk
    ((2, 4), (16, 2), (8,)),  # two chunks: impossible
    ((3, 1, 5), (5, 99, 1), (15,)),  # a size-1 dim with any stride
    ((3, 4), (0, 1), (12,)),  # expanded
    ((3, 4), (0, 1), (3, 2, 2)),
    ((6,), (2,), (2, 3)),
    ((2, 3), (3, 1), (2, 1, 3, 1)),
]


@exercise(
    CHAPTER,
    "can_view",
    "torch's rule for when view works, and the strides it gives",
    forbidden=(
        "engine.layout.view_strides",
        "engine.Tensor.view",
        "engine.Tensor.reshape",
        "torch.Tensor.view",
        "torch.Tensor.reshape",
    ),
    hints=(
        "Group the old dims into chunks that are contiguous among themselves: dim i and dim i+1 "
        "are in one chunk when stride[i] == shape[i+1] * stride[i+1] (size-1 dims join any "
        "chunk).",
        "A view exists when the new dims can be grouped so that each group multiplies to exactly "
        "one chunk's size; inside a group, the strides are contiguous, ending at the chunk's last "
        "stride.",
        "Walk both shapes from the right, as torch's computeStride does.",
    ),
)
def check_can_view(can_view) -> str:
    for shape, strides, new_shape in VIEW_CASES:
        case = f"can_view({shape}, {strides}, {new_shape})"
        got = can_view(shape, strides, new_shape)
        want = _torch_view_strides(shape, strides, new_shape)
        got = tuple(got) if isinstance(got, list) else got
        if (got is None) != (want is None):
            says = "view raises" if want is None else f"view works, with strides {want}"
            raise CheckFailed(f"{case}: torch says {says}; you returned {got!r}")
        if got != want:
            raise CheckFailed(f"{case}: expected strides {want}, got {got!r}")
    return f"{len(VIEW_CASES)} shapes and strides, torch's answer each time"


@exercise(
    CHAPTER,
    "strided_map",
    "apply a function to every element of a view, walking shape, strides and offset by hand",
    forbidden=(
        "engine.Tensor.as_strided",
        "engine.as_strided",
        "numpy.lib.stride_tricks.as_strided",
        "torch.as_strided",
        "torch.Tensor.as_strided",
    ),
    hints=(
        "Enumerate every index (i0, i1, ...) in row-major order: the last dim changes fastest "
        "(itertools.product over range(n) for each size does exactly that).",
        "The element at an index is storage[offset + sum(i * s for i, s in zip(index, "
        "strides))]. A 0-d view has one element; a view with a size-0 dim has none.",
    ),
)
def check_strided_map(strided_map) -> str:
    storage = [float(v) for v in range(30)]
    cases = [
        ((2, 3), (3, 1), 0),
        ((3, 2), (1, 3), 0),
        ((2, 2), (6, 2), 5),
        ((4,), (0,), 7),
        ((2, 0, 3), (3, 3, 1), 0),
        ((), (), 11),
        ((2, 3, 2), (12, 4, 1), 2),
    ]
    for shape, strides, offset in cases:
        case = f"strided_map(f, storage, shape={shape}, strides={strides}, offset={offset})"
        got = strided_map(lambda v: 2 * v + 1, storage, shape, strides, offset)
        view = engine.tensor(storage).as_strided(shape, strides, offset)
        want = [2 * v + 1 for v in np.asarray(view.tolist()).reshape(-1).tolist()]
        if not isinstance(got, list) or got != want:
            raise CheckFailed(f"{case}: expected {want}, got {got!r:.120}")
    return f"{len(cases)} views, with offsets, a stride 0, a 0-d and an empty one"


@exercise(
    CHAPTER,
    "centered",
    "fix a function that changes the array its caller passed in",
    kind="debug",
    hints=(
        "Look at the caller's array after calling centered(array). Which engine call shares "
        "memory with it?",
        "Keep the sharing out of the result: copy first, or compute out of place.",
    ),
)
def check_centered(centered) -> str:
    array = np.array([1.0, 2.0, 6.0])
    before = array.copy()
    got = centered(array)
    case = "centered(np.array([1.0, 2.0, 6.0]))"
    expect(case, isinstance(got, engine.Tensor), f"expected an engine Tensor, got {got!r}")
    if not np.array_equal(array, before):
        raise CheckFailed(
            f"{case}: the caller's array is now {array.tolist()}: engine.from_numpy shares its "
            "memory, and an in-place subtraction writes through to it"
        )
    expect(
        case, got.tolist() == [-2.0, -1.0, 3.0], f"expected [-2.0, -1.0, 3.0], got {got.tolist()}"
    )
    return "the result is centered and the caller's array is untouched"
