"""Storage, strides, offsets and memory sharing, compared with torch."""

import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close, same_storage

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    ALL_NAMES,
    assert_same_layout,
    assert_same_tensor,
    shapes,
    tensor_pairs,
)


@settings(max_examples=400, deadline=None)
@given(tensor_pairs(ALL_NAMES, max_steps=4))
def test_view_chains_match_torch_layout_and_values(pair):
    engine_tensor, torch_tensor = pair
    assert_same_tensor(engine_tensor, torch_tensor)


@settings(max_examples=60, deadline=None)
@given(tensor_pairs(max_steps=4))
def test_views_share_storage_and_see_writes(pair):
    engine_tensor, _ = pair
    base = engine_tensor._base if engine_tensor._base is not None else engine_tensor
    assert same_storage(engine_tensor, base)
    if engine_tensor.numel() == 0 or 0 in engine_tensor.stride():
        return
    # Write through the view; the storage element at the view's first element changes.
    engine_tensor[(0,) * engine_tensor.ndim] = 123.0
    assert base._storage[engine_tensor.storage_offset()] == 123.0


@settings(max_examples=80, deadline=None)
@given(tensor_pairs(ALL_NAMES, max_steps=4))
def test_contiguous_copies_only_when_needed(pair):
    engine_tensor, torch_tensor = pair
    result, expected = engine_tensor.contiguous(), torch_tensor.contiguous()
    assert_same_tensor(result, expected)
    assert (result is engine_tensor) == (expected is torch_tensor)
    assert (result._storage is engine_tensor._storage) == engine_tensor.is_contiguous()


@settings(max_examples=80, deadline=None)
@given(tensor_pairs(ALL_NAMES, max_steps=4))
def test_clone_and_like_factories_keep_memory_order(pair):
    engine_tensor, torch_tensor = pair
    assert_same_tensor(engine_tensor.clone(), torch_tensor.clone())
    assert not same_storage(engine_tensor.clone(), engine_tensor)
    for engine_factory, torch_factory in [
        (engine.zeros_like, torch.zeros_like),
        (engine.ones_like, torch.ones_like),
    ]:
        result, expected = engine_factory(engine_tensor), torch_factory(torch_tensor)
        assert_same_tensor(result, expected)
    assert_same_layout(engine.empty_like(engine_tensor), torch.empty_like(torch_tensor))
    assert_same_tensor(engine.full_like(engine_tensor, 1), torch.full_like(torch_tensor, 1))


@settings(max_examples=60, deadline=None)
@given(shapes(), st.sampled_from(ALL_NAMES))
def test_metadata_of_fresh_tensors(shape, dtype_name):
    engine_tensor = engine.zeros(shape, dtype=getattr(engine, dtype_name))
    torch_tensor = torch.zeros(shape, dtype=getattr(torch, dtype_name))
    assert_same_tensor(engine_tensor, torch_tensor)
    assert engine_tensor.ndim == engine_tensor.dim() == torch_tensor.ndim
    assert engine_tensor.numel() == torch_tensor.numel()
    assert engine_tensor.element_size() == torch_tensor.element_size()
    assert engine_tensor.size() == tuple(torch_tensor.size())
    for dim in range(-len(shape), len(shape)):
        assert engine_tensor.size(dim) == torch_tensor.size(dim)
        assert engine_tensor.stride(dim) == torch_tensor.stride(dim)


def test_size_prints_like_torch_size():
    size = engine.zeros(2, 3).shape
    assert repr(size) == "engine.Size([2, 3])"
    assert size == (2, 3) and isinstance(size, tuple)
    assert size.numel() == 6
    assert isinstance(size[1:], engine.Size)
    assert engine.zeros(2, 3).device.type == "cpu"


def test_strides_of_a_transpose_are_swapped_and_data_is_shared():
    matrix = engine.arange(6).reshape(2, 3)
    transposed = matrix.t()
    assert transposed.stride() == (1, 3)
    assert not transposed.is_contiguous()
    assert same_storage(matrix, transposed)
    assert transposed.data_ptr() == matrix.data_ptr()
    assert matrix[1].data_ptr() == matrix.data_ptr() + 3 * matrix.element_size()
    transposed[0, 1] = 100
    assert matrix[1, 0].item() == 100
    assert matrix._version == transposed._version == 1


def test_from_numpy_shares_memory_both_ways():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = engine.from_numpy(array)
    array[0, 0] = 10.0
    assert tensor[0, 0].item() == 10.0
    tensor[1, 2] = -1.0
    assert array[1, 2] == -1.0
    assert np.shares_memory(tensor.numpy(), array)
    assert tensor.dtype is engine.float32


@pytest.mark.filterwarnings("ignore:The given NumPy array is not writable:UserWarning")
@pytest.mark.parametrize(
    "make_array",
    [
        lambda: np.arange(12, dtype=np.int64).reshape(3, 4)[:, ::2],
        lambda: np.arange(12, dtype=np.float64).reshape(3, 4).T,
        lambda: np.arange(24, dtype=np.int32).reshape(2, 3, 4)[1:, :, 1:3],
        lambda: np.broadcast_to(np.arange(3.0), (2, 3)),
        lambda: np.zeros((0, 3), dtype=np.uint8),
        lambda: np.array(5.0),
    ],
)
def test_from_numpy_keeps_strides_like_torch(make_array):
    array = make_array()
    result, expected = engine.from_numpy(array), torch.from_numpy(array)
    assert_same_layout(result, expected)
    assert_close(result, expected)


def test_from_numpy_rejects_what_torch_rejects():
    reversed_array = np.arange(6)[::-1]
    with pytest.raises(ValueError):
        torch.from_numpy(reversed_array)
    with pytest.raises(ValueError, match="negative"):
        engine.from_numpy(reversed_array)
    with pytest.raises(TypeError):
        engine.from_numpy([1, 2, 3])


def test_tensor_copies_and_numpy_shares():
    array = np.ones(3, dtype=np.float64)
    copied = engine.tensor(array)
    array[0] = 5.0
    assert copied[0].item() == 1.0
    assert copied.dtype is engine.float64
    view = copied.numpy()
    view[1] = 7.0
    assert copied[1].item() == 7.0


def test_requires_grad_fields_and_errors_like_torch():
    leaf = engine.ones(2, requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf and leaf.grad is None and leaf.grad_fn is None
    assert repr(leaf) == "tensor([1., 1.], requires_grad=True)"
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        engine.ones(2, dtype=engine.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        engine.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        leaf.numpy()
    assert leaf.detach().numpy().tolist() == [1.0, 1.0]
    assert not engine.ones(2).requires_grad
    assert engine.ones(2).requires_grad_().requires_grad


def test_as_strided_matches_torch_inside_the_storage():
    base_engine = engine.arange(12.0)
    base_torch = torch.arange(12.0)
    for size, stride, offset in [((3, 3), (1, 1), 0), ((2, 2), (4, 1), 5), ((4,), (0,), 2)]:
        assert_same_tensor(
            engine.as_strided(base_engine, size, stride, offset),
            torch.as_strided(base_torch, size, stride, offset),
        )
        assert_same_tensor(
            base_engine.as_strided(size, stride), base_torch.as_strided(size, stride)
        )


def test_as_strided_refuses_to_read_past_the_storage():
    base = engine.arange(6)
    with pytest.raises(RuntimeError, match="element 19 .* holds only 6 elements"):
        base.as_strided((20,), (1,))
    with pytest.raises(RuntimeError):
        torch.arange(6).as_strided((20,), (1,))
    with pytest.raises(RuntimeError, match="element 6"):
        base[2:].as_strided((2, 2), (2, 1), 3)


@settings(max_examples=60, deadline=None)
@given(tensor_pairs(max_steps=3), st.data())
def test_as_strided_on_random_views(pair, data):
    engine_tensor, torch_tensor = pair
    storage_size = engine_tensor._storage.shape[0]
    size = data.draw(shapes(max_dims=3, max_side=3))
    stride = tuple(data.draw(st.integers(0, 4)) for _ in size)
    offset = data.draw(st.integers(0, storage_size))
    engine_error = torch_error = None
    try:
        expected = torch_tensor.as_strided(size, stride, offset)
    except RuntimeError as error:
        torch_error = error
    try:
        result = engine_tensor.as_strided(size, stride, offset)
    except RuntimeError as error:
        engine_error = error
    assert (engine_error is None) == (torch_error is None)
    if engine_error is None:
        assert_same_tensor(result, expected)


def test_version_counter_is_shared_by_views_and_bumped_by_writes():
    base = engine.zeros(3)
    view = base[1:]
    assert base._version == 0
    view.add_(1.0)
    assert base._version == view._version == 1
    base.zero_()
    assert view._version == 2
    assert base.tolist() == [0.0, 0.0, 0.0]


def test_writing_into_an_expanded_tensor_is_an_error_like_torch():
    expanded = engine.zeros(3, 1).expand(3, 4)
    with pytest.raises(RuntimeError, match="single memory location"):
        expanded.add_(1.0)
    with pytest.raises(RuntimeError):
        torch.zeros(3, 1).expand(3, 4).add_(1.0)
