"""View and shape ops on random (often non-contiguous) tensors: same layout as torch, and the same
exception type exactly when torch raises."""

import pathlib
import sys
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import layout

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    assert_same_tensor,
    check_like_torch,
    shapes,
    tensor_pairs,
)

# torch warns that .T and .mT are deprecated on 0-d tensors; we compare the results anyway.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated on 0-D tensors:UserWarning")


@st.composite
def target_shapes(draw, numel: int):
    """Shapes for view/reshape: usually a factorisation of ``numel`` (size-1 dims sprinkled in,
    maybe one -1), sometimes a wrong one."""
    if draw(st.integers(0, 9)) == 0:
        return tuple(draw(shapes(max_dims=3, max_side=5)))
    sizes = []
    remaining = numel
    while remaining > 1 and len(sizes) < 4:
        divisors = [d for d in range(2, remaining + 1) if remaining % d == 0]
        divisor = draw(st.sampled_from(divisors))
        sizes.append(divisor)
        remaining //= divisor
    if numel == 0:
        sizes = [0] + [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2)))]
    for _ in range(draw(st.integers(0, 2))):
        sizes.insert(draw(st.integers(0, len(sizes))), 1)
    sizes = draw(st.permutations(sizes))
    if sizes and draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return tuple(sizes)


def assert_same(result, expected):
    assert_same_tensor(result, expected)


@settings(max_examples=600, deadline=None)
@given(tensor_pairs(max_steps=4, max_side=4), st.data())
def test_view_succeeds_exactly_when_torch_does(pair, data):
    engine_tensor, torch_tensor = pair
    target = data.draw(target_shapes(torch_tensor.numel()))
    check_like_torch(
        lambda: engine_tensor.view(target), lambda: torch_tensor.view(target), assert_same
    )


@settings(max_examples=150, deadline=None)
@given(tensor_pairs(max_steps=4, max_side=4), st.data())
def test_reshape_is_a_view_when_possible_and_a_copy_otherwise(pair, data):
    engine_tensor, torch_tensor = pair
    target = data.draw(target_shapes(torch_tensor.numel()))
    results = check_like_torch(
        lambda: engine_tensor.reshape(target), lambda: torch_tensor.reshape(target), assert_same
    )
    if results is not None:
        result, expected = results
        shares = expected.untyped_storage().data_ptr() == torch_tensor.untyped_storage().data_ptr()
        assert (result._storage is engine_tensor._storage) == shares


@pytest.mark.parametrize(
    "shape, strides",
    [((2, 3), (1, 2)), ((4, 3), (6, 1)), ((2, 2, 2), (8, 1, 2)), ((3, 1, 2), (2, 100, 1))],
)
def test_view_strides_for_fixed_cases(shape, strides):
    base_engine, base_torch = engine.arange(64.0), torch.arange(64.0)
    engine_tensor = base_engine.as_strided(shape, strides)
    torch_tensor = base_torch.as_strided(shape, strides)
    for target in [(-1,), (shape[0], -1), (1, *shape), (*shape, 1), tuple(reversed(shape))]:
        check_like_torch(
            lambda target=target: engine_tensor.view(target),
            lambda target=target: torch_tensor.view(target),
            assert_same,
        )


def test_view_error_message_points_to_reshape():
    with pytest.raises(RuntimeError, match=r"spans across two contiguous subspaces.*reshape"):
        engine.arange(6).reshape(2, 3).t().view(6)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        engine.arange(6).view(-1, -1)
    with pytest.raises(RuntimeError, match=r"shape '\[4, -1\]' is invalid for input of size 6"):
        engine.arange(6).view(4, -1)


@settings(max_examples=80, deadline=None)
@given(tensor_pairs(max_steps=3), st.data())
def test_transpose_permute_and_t(pair, data):
    engine_tensor, torch_tensor = pair
    ndim = torch_tensor.ndim
    first, second = data.draw(st.integers(-ndim - 1, ndim)), data.draw(st.integers(-ndim - 1, ndim))
    check_like_torch(
        lambda: engine_tensor.transpose(first, second),
        lambda: torch_tensor.transpose(first, second),
        assert_same,
    )
    order = data.draw(st.lists(st.integers(-ndim - 1, ndim), min_size=ndim, max_size=ndim + 1))
    if data.draw(st.booleans()):
        order = list(data.draw(st.permutations(range(ndim))))
    check_like_torch(
        lambda: engine_tensor.permute(*order), lambda: torch_tensor.permute(*order), assert_same
    )
    check_like_torch(engine_tensor.t, torch_tensor.t, assert_same)
    check_like_torch(lambda: engine_tensor.mT, lambda: torch_tensor.mT, assert_same)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check_like_torch(lambda: engine_tensor.T, lambda: torch_tensor.T, assert_same)


@settings(max_examples=120, deadline=None)
@given(tensor_pairs(max_steps=3, max_side=3), st.data())
def test_expand_matches_torch_including_errors(pair, data):
    engine_tensor, torch_tensor = pair
    shape = list(torch_tensor.shape)
    leading = data.draw(st.lists(st.integers(-1, 3), max_size=2))
    body = [data.draw(st.sampled_from([size, -1, 0, 1, 2, 3])) for size in shape]
    target = tuple(leading + body)
    if data.draw(st.integers(0, 5)) == 0:
        target = target[1:]
    if torch_tensor.ndim == 0 and -1 in target:
        return  # torch 2.13 returns a size of -1 here instead of raising (a torch bug)
    check_like_torch(
        lambda: engine_tensor.expand(target), lambda: torch_tensor.expand(target), assert_same
    )
    check_like_torch(
        lambda: engine_tensor.expand(*target), lambda: torch_tensor.expand(*target), assert_same
    )


@settings(max_examples=80, deadline=None)
@given(tensor_pairs(max_steps=3, max_side=3), st.data())
def test_squeeze_unsqueeze_flatten(pair, data):
    engine_tensor, torch_tensor = pair
    ndim = torch_tensor.ndim
    dim = data.draw(st.integers(-ndim - 2, ndim + 1))
    check_like_torch(engine_tensor.squeeze, torch_tensor.squeeze, assert_same)
    check_like_torch(
        lambda: engine_tensor.squeeze(dim), lambda: torch_tensor.squeeze(dim), assert_same
    )
    dims = tuple(data.draw(st.lists(st.integers(-ndim, max(ndim - 1, 0)), max_size=2)))
    check_like_torch(
        lambda: engine_tensor.squeeze(dims), lambda: torch_tensor.squeeze(dims), assert_same
    )
    check_like_torch(
        lambda: engine_tensor.unsqueeze(dim), lambda: torch_tensor.unsqueeze(dim), assert_same
    )
    start, end = data.draw(st.integers(-ndim - 1, ndim)), data.draw(st.integers(-ndim - 1, ndim))
    check_like_torch(
        lambda: engine_tensor.flatten(start, end),
        lambda: torch_tensor.flatten(start, end),
        assert_same,
    )
    check_like_torch(engine_tensor.flatten, torch_tensor.flatten, assert_same)


@settings(max_examples=100, deadline=None)
@given(tensor_pairs(max_steps=3, max_side=5), st.data())
def test_narrow_and_unfold(pair, data):
    engine_tensor, torch_tensor = pair
    ndim = torch_tensor.ndim
    dim = data.draw(st.integers(-ndim - 1, ndim))
    start = data.draw(st.integers(-6, 6))
    length = data.draw(st.integers(0, 6))
    check_like_torch(
        lambda: engine_tensor.narrow(dim, start, length),
        lambda: torch_tensor.narrow(dim, start, length),
        assert_same,
    )
    size, step = data.draw(st.integers(0, 6)), data.draw(st.integers(0, 3))
    check_like_torch(
        lambda: engine_tensor.unfold(dim, size, step),
        lambda: torch_tensor.unfold(dim, size, step),
        assert_same,
    )


def test_unfold_windows_overlap_in_memory():
    signal = engine.arange(6.0)
    windows = signal.unfold(0, 3, 1)
    assert windows.shape == (4, 3) and windows.stride() == (1, 1)
    assert windows.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]]
    signal[2] = -1.0
    assert windows[:, 0].tolist() == [0.0, 1.0, -1.0, 3.0]


@settings(max_examples=60, deadline=None)
@given(tensor_pairs(max_steps=2, max_side=3), shapes(max_dims=4, max_side=3))
def test_broadcast_to_and_expand_as(pair, shape):
    engine_tensor, torch_tensor = pair
    check_like_torch(
        lambda: engine.broadcast_to(engine_tensor, shape),
        lambda: torch.broadcast_to(torch_tensor, shape),
        assert_same,
    )
    check_like_torch(
        lambda: engine_tensor.expand_as(engine.zeros(shape)),
        lambda: torch_tensor.expand_as(torch.zeros(shape)),
        assert_same,
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(shapes(max_dims=4, min_side=0, max_side=3), min_size=1, max_size=3))
def test_broadcast_shapes_match_torch(shape_list):
    check_like_torch(
        lambda: engine.broadcast_shapes(*shape_list),
        lambda: torch.broadcast_shapes(*shape_list),
        lambda got, want: got == tuple(want),
    )


def test_broadcast_error_names_sizes_and_dimension():
    message = (
        r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"
    )
    with pytest.raises(RuntimeError, match=message):
        engine.ones(2, 3) + engine.ones(4)
    with pytest.raises(RuntimeError, match=r"\[2, 3\] and \[4\]"):
        engine.broadcast_shapes((2, 3), (4,))


@settings(max_examples=200, deadline=None)
@given(
    shapes(max_dims=4, min_side=0, max_side=4),
    st.lists(st.integers(0, 12), min_size=0, max_size=4),
    st.data(),
)
def test_view_strides_agree_with_a_brute_force_definition(shape, raw_strides, data):
    """A pure check of the computeStride port: when it returns strides, every element of the
    new shape addresses the same memory as the same row-major position in the old one."""
    strides = tuple((raw_strides + [1] * 4)[: len(shape)])
    numel = layout.numel(shape)
    target = data.draw(target_shapes(numel))
    try:
        new_shape = layout.infer_size(target, numel)
    except RuntimeError:
        return
    new_strides = layout.view_strides(shape, strides, new_shape)
    if new_strides is None or numel == 0:
        return

    def addresses(sizes, steps):
        result = [0]
        for size, step in zip(sizes, steps, strict=True):
            result = [base + index * step for base in result for index in range(size)]
        return result

    assert addresses(new_shape, new_strides) == addresses(shape, strides)


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "int16", "uint8", "float64"), max_steps=3, allow_expand=False),
    target=st.sampled_from(["int8", "int16", "int32", "float32", "float64", "bool", "bfloat16"]),
)
def test_view_as_dtype_reads_the_same_bytes_like_torch(pair, target):
    engine_tensor, torch_tensor = pair

    def compare(ours, theirs):
        assert_same_tensor(ours, theirs)
        assert ours.grad_fn is None and not ours.requires_grad

    check_like_torch(
        lambda: engine_tensor.view(getattr(engine, target)),
        lambda: torch_tensor.view(getattr(torch, target)),
        compare,
    )


def test_view_as_dtype_shares_storage_and_names_the_problem():
    tensor = engine.arange(6.0).reshape(2, 3)
    as_ints = tensor.view(engine.int32)
    as_ints[0, 0] = 1065353216  # the bits of 1.0
    assert tensor[0, 0].item() == 1.0
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1"):
        tensor.t().view(engine.int8)
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2"):
        tensor.view(engine.float64)


@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(("float32", "int64", "bool"), max_steps=3), data=st.data())
def test_flip_roll_rot90_movedim_like_torch(pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), max_size=3))
    check_like_torch(lambda: ours.flip(dims), lambda: theirs.flip(dims), assert_same_tensor)
    shifts = data.draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    check_like_torch(
        lambda: engine.roll(ours, shifts, dims),
        lambda: torch.roll(theirs, shifts, dims),
        assert_same_tensor,
    )
    check_like_torch(lambda: ours.roll(3), lambda: theirs.roll(3), assert_same_tensor)
    k = data.draw(st.integers(-5, 5))
    plane = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2))
    check_like_torch(
        lambda: ours.rot90(k, plane), lambda: theirs.rot90(k, plane), assert_same_tensor
    )
    check_like_torch(lambda: engine.fliplr(ours), lambda: torch.fliplr(theirs), assert_same_tensor)
    check_like_torch(lambda: engine.flipud(ours), lambda: torch.flipud(theirs), assert_same_tensor)
    destination = data.draw(
        st.lists(st.integers(-ndim, ndim - 1), min_size=len(dims), max_size=len(dims))
    )
    check_like_torch(
        lambda: engine.movedim(ours, dims, destination),
        lambda: torch.movedim(theirs, dims, destination),
        assert_same_tensor,
    )
    if dims:
        check_like_torch(
            lambda: ours.moveaxis(dims[0], destination[0]),
            lambda: theirs.moveaxis(dims[0], destination[0]),
            assert_same_tensor,
        )


@pytest.mark.filterwarnings("ignore:torch.meshgrid")
@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(("float32", "int64", "bool"), max_steps=3), data=st.data())
def test_triangles_diagonals_repeats_and_splits_like_torch(pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    k = data.draw(st.integers(-3, 3))
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2))
    for name in ("tril", "triu"):
        check_like_torch(
            lambda name=name: getattr(ours, name)(k),
            lambda name=name: getattr(theirs, name)(k),
            assert_same_tensor,
        )
    check_like_torch(
        lambda: ours.diagonal(k, *dims), lambda: theirs.diagonal(k, *dims), assert_same_tensor
    )
    check_like_torch(lambda: ours.diag(k), lambda: theirs.diag(k), assert_same_tensor)
    check_like_torch(lambda: ours.trace(), lambda: theirs.trace())
    embed_dims = data.draw(st.lists(st.integers(-ndim - 1, ndim), min_size=2, max_size=2))
    check_like_torch(
        lambda: engine.diag_embed(ours, k, *embed_dims),
        lambda: torch.diag_embed(theirs, k, *embed_dims),
        assert_same_tensor,
    )
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=max(ours.ndim - 1, 0), max_size=4))
    check_like_torch(lambda: ours.repeat(*sizes), lambda: theirs.repeat(*sizes), assert_same_tensor)
    check_like_torch(lambda: ours.tile(sizes), lambda: theirs.tile(sizes), assert_same_tensor)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    repeats = data.draw(st.integers(0, 3))
    check_like_torch(
        lambda: ours.repeat_interleave(repeats, dim),
        lambda: theirs.repeat_interleave(repeats, dim),
        assert_same_tensor,
    )
    pieces = data.draw(st.integers(-1, 4))
    for name in ("chunk", "tensor_split"):
        check_like_torch(
            lambda name=name: getattr(ours, name)(pieces, dim),
            lambda name=name: getattr(theirs, name)(pieces, dim),
            lambda a, b: [assert_same_tensor(x, y) for x, y in zip(a, b, strict=True)],
        )
    check_like_torch(
        lambda: ours.split(max(pieces, 0), dim),
        lambda: theirs.split(max(pieces, 0), dim),
        lambda a, b: [assert_same_tensor(x, y) for x, y in zip(a, b, strict=True)],
    )
    bounds = data.draw(st.lists(st.integers(-4, 4), max_size=3))
    check_like_torch(
        lambda: ours.tensor_split(bounds, dim),
        lambda: theirs.tensor_split(bounds, dim),
        lambda a, b: [assert_same_tensor(x, y) for x, y in zip(a, b, strict=True)],
    )
    flat, torch_flat = ours.reshape(-1), theirs.reshape(-1)
    for indexing in ("ij", "xy"):
        check_like_torch(
            lambda indexing=indexing: engine.meshgrid(flat, flat[:2], indexing=indexing),
            lambda indexing=indexing: torch.meshgrid(torch_flat, torch_flat[:2], indexing=indexing),
            lambda a, b: [assert_same_tensor(x, y) for x, y in zip(a, b, strict=True)],
        )


def test_split_and_unflatten_errors_like_torch():
    ours, theirs = engine.ones(5, 6), torch.ones(5, 6)
    for engine_call, torch_call in [
        (lambda: ours.split([2, 2]), lambda: theirs.split([2, 2])),
        (lambda: ours.unflatten(1, (4, -1)), lambda: theirs.unflatten(1, (4, -1))),
        (lambda: ours.chunk(0), lambda: theirs.chunk(0)),
        (lambda: ours.repeat(2), lambda: theirs.repeat(2)),
        (lambda: engine.ones(3).tril(), lambda: torch.ones(3).tril()),
        (lambda: engine.ones(3).trace(), lambda: torch.ones(3).trace()),
        (lambda: ours.unflatten(-1, (3, -1)), lambda: theirs.unflatten(-1, (3, -1))),
        (lambda: engine.repeat_interleave(engine.tensor([2, 0, 1])),
         lambda: torch.repeat_interleave(torch.tensor([2, 0, 1]))),
    ]:  # fmt: skip
        check_like_torch(engine_call, torch_call, assert_same_tensor)
