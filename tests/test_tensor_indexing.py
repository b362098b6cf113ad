"""Indexing: basic indices give views with torch's layout, advanced indices give torch's values
and shapes, assignment writes through to the storage, and errors have torch's types."""

import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close, same_storage

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    assert_same_tensor,
    check_like_torch,
    make_pair,
    random_values,
    tensor_pairs,
)


@st.composite
def basic_indices(draw, ndim: int):
    """A tuple of ints, slices (positive or sometimes negative steps), None and at most one
    Ellipsis; sometimes longer than ndim, sometimes with out-of-range ints."""
    items = []
    for _ in range(draw(st.integers(0, ndim + 1))):
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis"]))
        if kind == "int":
            items.append(draw(st.integers(-5, 5)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-6, 6))
            stop = draw(st.none() | st.integers(-6, 6))
            step = draw(st.none() | st.integers(1, 3) | st.integers(-2, 0))
            items.append(slice(start, stop, step))
        elif kind == "none":
            items.append(None)
        elif Ellipsis not in items:
            items.append(Ellipsis)
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return tuple(items)


@settings(max_examples=500, deadline=None)
@given(tensor_pairs(max_steps=3, max_side=4), st.data())
def test_basic_indexing_is_a_view_with_torch_layout(pair, data):
    engine_tensor, torch_tensor = pair
    index = data.draw(basic_indices(torch_tensor.ndim))
    results = check_like_torch(
        lambda: engine_tensor[index], lambda: torch_tensor[index], assert_same_tensor
    )
    if results is not None:
        assert same_storage(results[0], engine_tensor)


@settings(max_examples=150, deadline=None)
@given(tensor_pairs(max_steps=2, max_side=4, allow_expand=False), st.data())
def test_basic_assignment_writes_through_like_torch(pair, data):
    engine_view, torch_view = pair
    # Give both sides fresh storage holding the same values in the same layout.
    engine_base, torch_base = engine_view.clone(), torch_view.clone()
    index = data.draw(basic_indices(torch_base.ndim))
    use_tensor = data.draw(st.booleans())
    try:
        target_shape = tuple(torch_base[index].shape)
    except (IndexError, ValueError, TypeError):
        target_shape = ()
    value_shape = target_shape[data.draw(st.integers(0, len(target_shape))) :]
    if data.draw(st.integers(0, 4)) == 0:
        value_shape = (*value_shape[:-1], 7)  # usually not broadcastable
    engine_value, torch_value = make_pair(random_values(value_shape, "float32", 1), "float32")
    if not use_tensor:
        engine_value = torch_value = 2.5

    def assign(base, value):
        base[index] = value
        return base

    check_like_torch(
        lambda: assign(engine_base, engine_value),
        lambda: assign(torch_base, torch_value),
        assert_same_tensor,
    )


@st.composite
def advanced_indices(draw, shape: tuple):
    """Advanced indices for ``shape``: an int tensor/list in one dim, a bool mask, or two int
    tensors that broadcast, possibly around a slice."""
    ndim = len(shape)
    kind = draw(st.sampled_from(["ints", "list", "mask", "mask_prefix", "two_ints", "split"]))

    def int_array(size, index_shape):
        return np.asarray(
            draw(
                st.lists(
                    st.integers(-size - 1, size),
                    min_size=int(np.prod(index_shape)),
                    max_size=int(np.prod(index_shape)),
                )
            ),
            dtype=np.int64,
        ).reshape(index_shape)

    index_shape = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    if kind in ("ints", "list") or ndim < 2 and kind in ("two_ints", "split"):
        dim = draw(st.integers(0, ndim - 1))
        array = int_array(shape[dim], index_shape)
        item = array.tolist() if kind == "list" and array.ndim > 0 else array
        return (slice(None),) * dim + (item,)
    if kind == "mask":
        return (
            np.asarray(
                draw(
                    st.lists(
                        st.booleans(), min_size=int(np.prod(shape)), max_size=int(np.prod(shape))
                    )
                )
            ).reshape(shape),
        )  # noqa: E501
    if kind == "mask_prefix":
        prefix = shape[:1]
        return (np.asarray(draw(st.lists(st.booleans(), min_size=prefix[0], max_size=prefix[0]))),)
    first = int_array(shape[0], index_shape)
    second = int_array(shape[-1], index_shape[-1:] if index_shape else ())
    if kind == "two_ints":
        return (first, Ellipsis, second) if ndim > 2 else (first, second)
    return (first, slice(None), second) if ndim == 3 else (first, Ellipsis, second)


def to_engine_index(index):
    return tuple(engine.tensor(item) if isinstance(item, np.ndarray) else item for item in index)


def to_torch_index(index):
    return tuple(torch.from_numpy(item) if isinstance(item, np.ndarray) else item for item in index)


@settings(max_examples=400, deadline=None)
@given(tensor_pairs(min_dims=1, max_steps=2, max_side=4), st.data())
def test_advanced_indexing_matches_torch_values_and_shape(pair, data):
    engine_tensor, torch_tensor = pair
    assume(torch_tensor.ndim >= 1)
    index = data.draw(advanced_indices(tuple(torch_tensor.shape)))
    try:
        if torch_tensor[to_torch_index(index)].numel() == 0:
            # torch skips the bounds check when nothing is gathered; we always check.
            return
    except (IndexError, RuntimeError, ValueError):
        pass
    result = check_like_torch(
        lambda: engine_tensor[to_engine_index(index)], lambda: torch_tensor[to_torch_index(index)]
    )
    if result is not None:
        # A copy, except where torch makes a view (a 0-d integer tensor index acts as a select).
        torch_shares = (
            result[1].untyped_storage().data_ptr() == torch_tensor.untyped_storage().data_ptr()
        )
        assert same_storage(result[0], engine_tensor) == torch_shares


@settings(max_examples=150, deadline=None)
@given(tensor_pairs(min_dims=1, max_steps=2, max_side=4, allow_expand=False), st.data())
def test_advanced_assignment_matches_torch(pair, data):
    engine_view, torch_view = pair
    engine_base, torch_base = engine_view.clone(), torch_view.clone()
    assume(torch_base.ndim >= 1)
    index = data.draw(advanced_indices(tuple(torch_base.shape)))
    # Repeated indices make the written value depend on the order of writes; avoid them.
    for item in index:
        if isinstance(item, np.ndarray) and item.dtype != bool:
            positive = np.where(item < 0, item + 100, item)
            if len(np.unique(positive)) != positive.size:
                return

    try:
        if torch_base[to_torch_index(index)].numel() == 0:
            return  # torch skips the bounds check when nothing is written; we always check
    except (IndexError, RuntimeError, ValueError):
        pass

    def assign(base, make_index):
        base[make_index(index)] = -7.0
        return base

    check_like_torch(
        lambda: assign(engine_base, to_engine_index), lambda: assign(torch_base, to_torch_index)
    )


def test_index_errors_match_torch_messages():
    tensor = engine.arange(6).reshape(2, 3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        tensor[5]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        tensor[0, 3]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        tensor[0, 0, 0]
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 2"):
        tensor[engine.tensor([0, 5])]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        tensor[::-1]
    with pytest.raises(IndexError, match="only integers, slices"):
        tensor[1.0]
    with pytest.raises(IndexError):
        engine.tensor(3.0)[0]


def test_assignment_through_a_view_is_seen_by_the_base():
    base = engine.zeros(3, 4)
    column = base[:, 1]
    column[:] = engine.tensor([1.0, 2.0, 3.0])
    base[0] = 9.0
    expected = torch.zeros(3, 4)
    expected[:, 1] = torch.tensor([1.0, 2.0, 3.0])
    expected[0] = 9.0
    assert_close(base, expected)
    assert column.tolist() == [9.0, 2.0, 3.0]
    base[base > 2.0] = 0.0
    expected[expected > 2.0] = 0.0
    assert_close(base, expected)


def test_assignment_shape_mismatch_is_a_runtime_error_like_torch():
    with pytest.raises(RuntimeError):
        torch.zeros(3)[:] = torch.ones(2)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        engine.zeros(3)[:] = engine.ones(2)


def test_one_dimensional_int_index_picks_rows():
    tensor = engine.arange(12).reshape(4, 3)
    picked = tensor[engine.tensor([3, 0, 3])]
    assert picked.shape == (3, 3)
    assert picked.tolist() == [[9, 10, 11], [0, 1, 2], [9, 10, 11]]
    assert tensor[[0, 1], [2, 0]].tolist() == [2, 3]
    assert tensor[tensor > 9].tolist() == [10, 11]


@st.composite
def mixed_indices(draw):
    """Index tuples for a (2, 3, 4, 5) tensor that mix plain integers (and 0-d integer tensors)
    with integer lists and masks, the case where PyTorch applies the integers first."""
    items = []
    dims_left = 4
    while dims_left > 0 and len(items) < 5:
        kind = draw(st.sampled_from(["int", "int0d", "list", "slice", "none", "mask"]))
        if kind in ("int", "int0d"):
            value = draw(st.integers(0, 1))
            items.append(value if kind == "int" else ("tensor0d", value))
            dims_left -= 1
        elif kind == "list":
            items.append(draw(st.lists(st.integers(0, 1), min_size=1, max_size=3)))
            dims_left -= 1
        elif kind == "slice":
            items.append(slice(draw(st.none() | st.integers(0, 1)), None))
            dims_left -= 1
        elif kind == "none":
            items.append(None)
        else:
            items.append(("mask", draw(st.integers(0, 2**16))))
            dims_left -= 1
    return items


def materialise(items, module, shape):
    """Turn the drawn description into index items for ``module`` (engine or torch)."""
    result, dim = [], 0
    for item in items:
        if isinstance(item, tuple) and item[0] == "tensor0d":
            result.append(module.tensor(item[1]))
            dim += 1
        elif isinstance(item, tuple) and item[0] == "mask":
            mask = np.random.default_rng(item[1]).random(shape[dim]) > 0.4
            result.append(module.tensor(mask))
            dim += 1
        else:
            result.append(item)
            dim += item is not None
    return tuple(result)


@settings(max_examples=300, deadline=None)
@given(mixed_indices())
def test_integers_mixed_with_advanced_indices_follow_torch(items):
    values = np.arange(120.0).reshape(2, 3, 4, 5)
    engine_index = materialise(items, engine, values.shape)
    torch_index = materialise(items, torch, values.shape)
    assume(any(isinstance(item, list) or hasattr(item, "dtype") for item in engine_index))

    def get(module, index):
        return module.tensor(values)[index]

    results = check_like_torch(lambda: get(engine, engine_index), lambda: get(torch, torch_index))
    if results is None:
        return
    # Assignment through the same index takes a value of torch's result shape.
    engine_target, torch_target = engine.tensor(values), torch.tensor(values)
    replacement = np.arange(float(results[1].numel())).reshape(tuple(results[1].shape))
    engine_target[engine_index] = engine.tensor(replacement)
    torch_target[torch_index] = torch.tensor(replacement)
    assert_close(engine_target, torch_target)
    # And the gradient of a gather lands where torch puts it.
    engine_leaf = engine.tensor(values, requires_grad=True)
    torch_leaf = torch.tensor(values, requires_grad=True)
    (engine_leaf[engine_index] * 2).sum().backward()
    (torch_leaf[torch_index] * 2).sum().backward()
    assert_close(engine_leaf.grad, torch_leaf.grad)


@st.composite
def index_tensor_pair(draw, size: int, index_shape: tuple):
    """An int64 index ``(engine, torch)`` pair of ``index_shape`` with values in ``[0, size)``,
    often non-contiguous: transposed, sliced with a step, or expanded from size-1 dims."""
    layout = draw(st.sampled_from(["contiguous", "transposed", "stepped", "expanded"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if layout == "transposed" and len(index_shape) == 2:
        values = rng.integers(0, size, index_shape[::-1])
        return engine.tensor(values).t(), torch.tensor(values).t()
    if layout == "stepped" and index_shape:
        values = rng.integers(0, size, (*index_shape[:-1], 2 * index_shape[-1]))
        return engine.tensor(values)[..., ::2], torch.tensor(values)[..., ::2]
    if layout == "expanded":
        small = tuple(draw(st.sampled_from([side, 1])) for side in index_shape)
        values = rng.integers(0, size, small)
        return engine.tensor(values).expand(*index_shape), torch.tensor(values).expand(*index_shape)
    values = rng.integers(0, size, index_shape)
    return engine.tensor(values), torch.tensor(values)


@st.composite
def layout_indices(draw, shape: tuple):
    """``(engine_index, torch_index)`` for ``shape``: per dim a slice (maybe stepped), an int, an
    int list, an int tensor (of a shape broadcasting with the others) or a mask (1-d, or 2-d over
    two dims), with None inserted here and there; adjacent or not."""
    common = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    engine_items, torch_items = [], []
    dim = 0
    while dim < len(shape):
        if draw(st.integers(0, 5)) == 0:
            engine_items.append(None)
            torch_items.append(None)
        kind = draw(st.sampled_from(["slice"] * 4 + ["int", "list", "tensor", "tensor", "mask"]))
        size = shape[dim]
        if size == 0 and kind in ("int", "list", "tensor"):
            kind = "slice"
        if kind == "slice":
            item = slice(draw(st.none() | st.integers(0, 2)), None, draw(st.integers(1, 2)))
            engine_item = torch_item = item
        elif kind == "int":
            engine_item = torch_item = draw(st.integers(-size, size - 1))
        elif kind == "list":
            engine_item = torch_item = draw(
                st.lists(st.integers(-size, size - 1), min_size=common[-1], max_size=common[-1])
            )
        elif kind == "tensor":
            index_shape = common[draw(st.integers(0, len(common) - 1)) :]
            engine_item, torch_item = draw(index_tensor_pair(size, index_shape))
        else:
            ndim = draw(st.integers(1, min(2, len(shape) - dim)))
            seed = draw(st.integers(0, 2**16))
            mask = np.random.default_rng(seed).random(shape[dim : dim + ndim]) > 0.4
            engine_item, torch_item = engine.tensor(mask), torch.tensor(mask)
            dim += ndim - 1
        engine_items.append(engine_item)
        torch_items.append(torch_item)
        dim += 1
    assume(any(kind not in (int, slice, type(None)) for kind in map(type, engine_items)))
    return tuple(engine_items), tuple(torch_items)


@st.composite
def non_contiguous_pairs(draw):
    """A float ``(engine, torch)`` source pair that is permuted, sliced with steps, or expanded
    (usually several of these), 1 to 4 dims."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    values = np.arange(float(np.prod(shape))).reshape(shape)
    engine_tensor, torch_tensor = engine.tensor(values), torch.tensor(values)
    steps = tuple(
        draw(st.sampled_from([slice(None), slice(None, None, 2), slice(1, None)])) for _ in shape
    )
    engine_tensor, torch_tensor = engine_tensor[steps], torch_tensor[steps]
    order = draw(st.permutations(range(len(shape))))
    engine_tensor, torch_tensor = engine_tensor.permute(*order), torch_tensor.permute(*order)
    if draw(st.booleans()):
        dim = draw(st.integers(0, len(shape)))
        size = draw(st.integers(2, 3))
        engine_tensor = engine_tensor.unsqueeze(dim)
        torch_tensor = torch_tensor.unsqueeze(dim)
        target = list(torch_tensor.shape)
        target[dim] = size
        engine_tensor, torch_tensor = engine_tensor.expand(*target), torch_tensor.expand(*target)
    return engine_tensor, torch_tensor


@settings(max_examples=400, deadline=None)
@given(non_contiguous_pairs(), st.data())
def test_advanced_indexing_result_has_torch_strides(pair, data):
    """``index`` allocates its result with TensorIterator, so on a non-contiguous source the
    result's strides follow the source's layout: strides, shape and values all equal torch's."""
    engine_tensor, torch_tensor = pair
    engine_index, torch_index = data.draw(layout_indices(tuple(torch_tensor.shape)))
    check_like_torch(
        lambda: engine_tensor[engine_index], lambda: torch_tensor[torch_index], assert_same_tensor
    )


def test_advanced_indexing_on_a_permuted_tensor_keeps_its_layout():
    values = np.arange(24.0).reshape(2, 3, 4)
    source = engine.tensor(values).permute(2, 0, 1)
    assert source[:, engine.tensor([1, 0])].stride() == (1, 4, 8)
    assert source[:, [1, 0]].stride() == (1, 4, 8)


@pytest.mark.parametrize(
    "index",
    [((0, 1), (1, 2)), ((0, 1),), (slice(None), (0, 2)), ((1, 0), slice(None), None), ((0,), 1)],
    ids=str,
)
def test_a_tuple_inside_an_index_is_a_list_like_torch(index):
    values = np.arange(6.0).reshape(2, 3)
    ours, theirs = engine.tensor(values), torch.tensor(values)
    check_like_torch(lambda: ours[index], lambda: theirs[index])
