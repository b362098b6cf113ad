"""Reductions over random dims of random (non-contiguous, broadcast) tensors, compared with
torch: values, dtypes, shapes with and without keepdim, namedtuple results, errors."""

import pathlib
import sys
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import ALL_NAMES, check_like_torch, tensor_pairs  # noqa: E402


@st.composite
def dims_for(draw, ndim: int, allow_tuple: bool = True):
    """None, an int (sometimes out of range) or a tuple of distinct-or-not dims."""
    choice = draw(st.sampled_from(["none", "int", "tuple"] if allow_tuple else ["none", "int"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim - 1, max(ndim, 1)))
    return tuple(draw(st.lists(st.integers(-ndim, max(ndim - 1, 0)), max_size=3)))


def compare_results(result, expected):
    if isinstance(expected, tuple):
        assert type(result).__name__ == type(expected).__name__
        assert_close(result.values, expected.values)
        assert_close(result.indices, expected.indices)
    else:
        assert_close(result, expected, rtol=1e-2 if result.dtype.itemsize == 2 else None)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "all", "any"])
@settings(max_examples=80, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3), data=st.data())
def test_sum_mean_prod(name, pair, data):
    engine_tensor, torch_tensor = pair
    dim = data.draw(dims_for(torch_tensor.ndim))
    keepdim = data.draw(st.booleans())
    if dim is None:
        check_like_torch(
            lambda: getattr(engine_tensor, name)(),
            lambda: getattr(torch_tensor, name)(),
            compare_results,
        )
    elif name == "prod" and isinstance(dim, tuple):
        return  # torch.prod takes a single dim
    else:
        check_like_torch(
            lambda: getattr(engine, name)(engine_tensor, dim, keepdim),
            lambda: getattr(torch, name)(torch_tensor, dim, keepdim),
            compare_results,
        )


@pytest.mark.parametrize("name", ["var", "std"])
@settings(max_examples=80, deadline=None)
@given(
    pair=tensor_pairs(("float32", "float64", "int64", "float16"), max_steps=3),
    data=st.data(),
)
def test_var_and_std(name, pair, data):
    engine_tensor, torch_tensor = pair
    dim = data.draw(dims_for(torch_tensor.ndim))
    keepdim = data.draw(st.booleans())
    correction = data.draw(st.sampled_from([0, 1, 2]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when N - correction <= 0
        check_like_torch(
            lambda: getattr(engine_tensor, name)(dim, keepdim=keepdim, correction=correction),
            lambda: getattr(torch_tensor, name)(dim, keepdim=keepdim, correction=correction),
            compare_results,
        )
        unbiased = data.draw(st.booleans())
        check_like_torch(
            lambda: getattr(engine_tensor, name)(unbiased=unbiased),
            lambda: getattr(torch_tensor, name)(unbiased=unbiased),
            compare_results,
        )


@pytest.mark.parametrize("name", ["max", "min", "argmax", "argmin"])
@settings(max_examples=80, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3), data=st.data())
def test_max_min_and_their_indices(name, pair, data):
    engine_tensor, torch_tensor = pair
    dim = data.draw(dims_for(torch_tensor.ndim, allow_tuple=False))
    keepdim = data.draw(st.booleans())
    if torch_tensor.dtype is not torch.float32 and dim is not None and torch_tensor.numel():
        # With ties torch may pick any index; compare on distinct float values only.
        return
    if dim is None and name in ("max", "min"):
        check_like_torch(
            lambda: getattr(engine_tensor, name)(),
            lambda: getattr(torch_tensor, name)(),
            compare_results,
        )
    else:
        check_like_torch(
            lambda: getattr(engine, name)(engine_tensor, dim, keepdim),
            lambda: getattr(torch, name)(torch_tensor, dim, keepdim),
            compare_results,
        )


def test_max_with_dim_returns_a_namedtuple():
    tensor = engine.tensor([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]])
    result = tensor.max(dim=1)
    values, indices = result
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert result.values is values and result.indices is indices
    assert indices.dtype is engine.int64
    assert repr(result).startswith("engine.return_types.max(\nvalues=tensor([5., 7.]),")
    assert engine.min(tensor, 0, keepdim=True).values.shape == (1, 3)
    assert engine.max(tensor, engine.zeros(3) + 4).tolist() == [[4, 5, 4], [7, 4, 4]]


def test_integer_sums_are_int64_and_means_need_floats():
    assert engine.ones(3, dtype=engine.int32).sum().dtype is engine.int64
    assert engine.tensor([True, True, False]).sum().item() == 2
    assert engine.ones(3, dtype=engine.uint8).prod().dtype is engine.int64
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        engine.tensor([1, 2]).mean()
    assert engine.tensor([1, 2]).mean(dtype=engine.float64).item() == 1.5
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        engine.tensor([1, 2]).var()


def test_reduction_errors_like_torch():
    empty_engine, empty_torch = engine.zeros(0, 3), torch.zeros(0, 3)
    check_like_torch(lambda: empty_engine.max(), lambda: empty_torch.max())
    check_like_torch(lambda: empty_engine.max(0), lambda: empty_torch.max(0), compare_results)
    check_like_torch(lambda: empty_engine.max(1), lambda: empty_torch.max(1), compare_results)
    check_like_torch(lambda: empty_engine.argmax(), lambda: empty_torch.argmax())
    check_like_torch(lambda: empty_engine.sum((0, 0)), lambda: empty_torch.sum((0, 0)))
    check_like_torch(lambda: empty_engine.sum(2), lambda: empty_torch.sum(2))
    check_like_torch(lambda: empty_engine.mean(), lambda: empty_torch.mean())


def test_float32_sum_uses_pairwise_summation():
    # 2**24 + 1 is not representable in float32: naive left-to-right summation of 2**24 + 2
    # ones stalls at 2**24, pairwise summation gets the exact answer.
    ones = engine.ones(2**24 + 2)
    assert ones.sum().item() == 2**24 + 2
