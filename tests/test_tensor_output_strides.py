"""Output strides of elementwise ops and reductions, compared with torch.

torch lays out a new elementwise result with TensorIterator: its dims follow the memory order
of the inputs (``x.t() + 1`` is transposed too), with tie-breaking rules for broadcast, size-1
and zero-stride dims.  Reductions allocate contiguous results.  Every test builds the same
strided input in the engine and in torch (with ``as_strided`` over a random storage, or a
random chain of views) and compares shape, strides, dtype and values.
"""

import operator
import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import layout
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    ENGINE_DTYPES,
    TORCH_DTYPES,
    check_like_torch,
    make_pair,
    random_values,
    shapes,
    tensor_pairs,
)

LAYOUT_DTYPES = ("float32", "float64", "int64", "bool", "float16")

# var/std over fewer elements than the correction, and means of empty tensors, warn in both.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*degrees of freedom:UserWarning", "ignore:Mean of empty slice:RuntimeWarning"
)


def same_result(engine_result, torch_result) -> None:
    """Shape, strides, dtype and values all equal torch's."""
    assert_close(engine_result, torch_result, check_stride=True)


@st.composite
def strided_pairs(draw, shape, dtype_names=LAYOUT_DTYPES):
    """``(engine_tensor, torch_tensor)`` of ``shape`` over one random storage, with random
    strides: the dims in a random memory order, some with gaps, some broadcast (stride 0),
    size-1 dims with arbitrary strides, and a storage offset."""
    strides = [0] * len(shape)
    running = 1
    for dim in draw(st.permutations(range(len(shape)))):
        kind = draw(st.sampled_from(["dense", "dense", "dense", "gap", "zero", "free"]))
        if kind == "free" or shape[dim] == 1:
            strides[dim] = draw(st.integers(0, 2 * running + 2))
            continue
        strides[dim] = {"dense": running, "gap": 2 * running, "zero": 0}[kind]
        running = max(running, strides[dim] * max(shape[dim], 1))
    offset = draw(st.integers(0, 2))
    extent = offset + 1 + sum(max(size - 1, 0) * stride for size, stride in zip(shape, strides))
    dtype_name = draw(st.sampled_from(dtype_names))
    values = random_values((extent,), dtype_name, draw(st.integers(0, 2**32 - 1)))
    engine_base, torch_base = make_pair(values, dtype_name)
    return (
        engine_base.as_strided(shape, strides, offset),
        torch.as_strided(torch_base, shape, strides, offset),
    )


@st.composite
def layouts(draw, dtype_names=LAYOUT_DTYPES, max_dims=4):
    """A strided pair of a random shape, or a random chain of views (permute, slice, expand,
    select, unsqueeze ...) of a contiguous tensor."""
    if draw(st.booleans()):
        shape = draw(shapes(max_dims=max_dims, max_side=3))
        return draw(strided_pairs(shape, dtype_names))
    return draw(tensor_pairs(dtype_names, max_dims=max_dims, max_side=3, max_steps=4))


@st.composite
def broadcast_layouts(draw, count=2, dtype_names=LAYOUT_DTYPES):
    """``count`` strided pairs whose shapes broadcast together (size-1 dims, fewer dims, 0-d and
    empty operands included), each with its own random layout."""
    shape = draw(shapes(max_dims=4, max_side=3))
    operands = []
    for _ in range(count):
        own = tuple(draw(st.sampled_from([size, 1])) for size in shape)
        own = own[draw(st.integers(0, len(own))) :]
        operands.append(draw(strided_pairs(own, dtype_names)))
    return operands


def _operand(draw, pair):
    """The pair itself, or (rarely) a Python number in its place."""
    if draw(st.integers(0, 5)) == 0:
        number = draw(st.sampled_from([2, -1.5, True]))
        return number, number
    return pair


# ------------------------------------------------------------------------------- unary ops
def _dtype_of(tensor, name: str):
    """The dtype called ``name`` in the library ``tensor`` comes from."""
    return ENGINE_DTYPES[name] if isinstance(tensor, engine.Tensor) else TORCH_DTYPES[name]


UNARY = {
    "neg": lambda x: -x,
    "abs": lambda x: x.abs(),
    "exp": lambda x: x.exp(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "sign": lambda x: x.sign(),
    "round": lambda x: x.round(),
    "logical_not": lambda x: x.logical_not(),
    "clamp_numbers": lambda x: x.clamp(0, 1),
    "pow_number": lambda x: x**2,
    "rpow_number": lambda x: 2**x,
    "rtruediv_number": lambda x: 3 / x,
    "rsub_number": lambda x: 1 - x,
    "mul_number": lambda x: x * 2,
    "gt_number": lambda x: x > 0,
    "float": lambda x: x.float(),
    "double": lambda x: x.double(),
    "to_int32": lambda x: x.to(_dtype_of(x, "int32")),
    "to_bool": lambda x: x.bool(),
}


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=40, deadline=None)
@given(pair=layouts())
def test_unary_and_conversion_strides(name, pair):
    engine_input, torch_input = pair
    function = UNARY[name]
    check_like_torch(lambda: function(engine_input), lambda: function(torch_input), same_result)


# ------------------------------------------------------------------------------ binary ops
BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
    "eq": operator.eq,
    "lt": operator.lt,
    "maximum": lambda x, y: x.maximum(y),
    "add_alpha": lambda x, y: x.add(y, alpha=2),
}


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_binary_strides(name, data):
    first, second = data.draw(broadcast_layouts(dtype_names=("float32", "float64", "int64")))
    if name != "maximum":
        first, second = _operand(data.draw, first), _operand(data.draw, second)
    if not isinstance(first[0], engine.Tensor) and not isinstance(second[0], engine.Tensor):
        return
    function = BINARY[name]
    check_like_torch(
        lambda: function(first[0], second[0]), lambda: function(first[1], second[1]), same_result
    )


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_where_strides(data):
    condition, first, second = data.draw(broadcast_layouts(count=3))
    condition = (condition[0] != 0, condition[1] != 0)
    first, second = _operand(data.draw, first), _operand(data.draw, second)
    check_like_torch(
        lambda: engine.where(condition[0], first[0], second[0]),
        lambda: torch.where(condition[1], first[1], second[1]),
        same_result,
    )


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_clamp_with_tensor_bounds_strides(data):
    tensors = data.draw(broadcast_layouts(count=3, dtype_names=("float32", "int64")))
    (engine_input, torch_input), (engine_low, torch_low), (engine_high, torch_high) = tensors
    check_like_torch(
        lambda: engine.clamp(engine_input, engine_low, engine_high),
        lambda: torch.clamp(torch_input, torch_low, torch_high),
        same_result,
    )


# ------------------------------------------------------------------------------ reductions
REDUCTIONS = ["sum", "mean", "prod", "var", "std", "all", "any", "argmax", "argmin", "max", "min"]


@pytest.mark.parametrize("name", REDUCTIONS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_reduction_strides(name, data):
    engine_input, torch_input = data.draw(layouts(dtype_names=("float32", "float64")))
    ndim = engine_input.ndim
    keepdim = data.draw(st.booleans())
    single = st.integers(-max(ndim, 1), max(ndim, 1) - 1)
    if name in ("argmax", "argmin", "max", "min", "prod"):
        dim = data.draw(single)
    else:
        dim = data.draw(single | st.lists(single, max_size=ndim, unique=True).map(tuple))

    def call(tensor):
        result = getattr(tensor, name)(dim, keepdim=keepdim)
        return tuple(result) if name in ("max", "min") else result

    def compare(engine_result, torch_result):
        if name in ("max", "min"):
            for engine_part, torch_part in zip(engine_result, torch_result, strict=True):
                same_result(engine_part, torch_part)
        else:
            same_result(engine_result, torch_result)

    check_like_torch(lambda: call(engine_input), lambda: call(torch_input), compare)


# -------------------------------------------------------------------------- worked examples
def test_examples_from_the_chapter():
    data = np.arange(24, dtype=np.float32)
    engine_x, torch_x = make_pair(data[:12].reshape(3, 4), "float32")
    same_result(engine_x.t() + 1, torch_x.t() + 1)
    assert (engine_x.t() + 1).stride() == (1, 4)
    engine_y, torch_y = make_pair(data.reshape(2, 3, 4), "float32")
    same_result(engine_y.permute(2, 0, 1).exp(), torch_y.permute(2, 0, 1).exp())
    # Mixed layouts: the first operand decides where the operands disagree.
    same_result(engine_x.t() + engine_x.t().contiguous(), torch_x.t() + torch_x.t().contiguous())
    same_result(engine_x.t().contiguous() + engine_x.t(), torch_x.t().contiguous() + torch_x.t())
    # Reductions are contiguous whatever the input's layout.
    same_result(engine_y.permute(2, 0, 1).sum(1), torch_y.permute(2, 0, 1).sum(1))


def test_iterator_permutation_breaks_ties_like_aten():
    # Equal strides: the larger size goes later; zero strides leave the order to other operands.
    assert layout.iterator_permutation((3, 2), [(1, 1)]) == [1, 0]
    assert layout.iterator_permutation((2, 3), [(1, 1)]) == [0, 1]
    assert layout.iterator_permutation((2, 3), [(0, 1), (1, 2)]) == [0, 1]
    # An empty output keeps ATen's running products without max(size, 1).
    assert layout.iterator_output_strides([((3, 2, 0), (1, 3, 3)), ((), ())]) == (1, 0, 3)


def test_to_dtype_keeps_dense_strides_of_size_one_dims():
    engine_base, torch_base = make_pair(np.arange(20, dtype=np.float32), "float32")
    engine_x = engine_base.as_strided((3, 1), (1, 7))
    torch_x = torch_base.as_strided((3, 1), (1, 7))
    same_result(engine_x.double(), torch_x.double())  # (1, 7): `_to_copy` keeps dense strides
    same_result(engine_x.exp(), torch_x.exp())  # (1, 1): the iterator's contiguous fast path
    same_result(engine_x * 2, torch_x * 2)  # (1, 3): the number is an operand, no fast path


def test_channels_last_operands_give_a_channels_last_result():
    # Both NHWC-dense with different strides on the size-1 W dim: the iterator's channels-last
    # fast path, not the "same strides" one, so the result has canonical NHWC strides.
    engine_base, torch_base = make_pair(np.arange(40, dtype=np.float32), "float32")
    shape = (2, 3, 4, 1)
    pairs = [
        (engine_base.as_strided(shape, strides), torch_base.as_strided(shape, strides))
        for strides in [(12, 1, 3, 5), (12, 1, 3, 1)]
    ]
    (engine_a, torch_a), (engine_b, torch_b) = pairs
    same_result(engine_a + engine_b, torch_a + torch_b)
    same_result(engine_a.sigmoid(), torch_a.sigmoid())
    same_result(engine_a.int(), torch_a.int())


def test_uint8_condition_of_where_is_converted_first():
    engine_base, torch_base = make_pair(np.arange(12, dtype=np.uint8) % 2, "uint8")
    engine_mask = engine_base.as_strided((3, 1, 2), (1, 9, 3))
    torch_mask = torch_base.as_strided((3, 1, 2), (1, 9, 3))
    with warnings.catch_warnings():  # deprecated uint8 masks warn (torch only once)
        warnings.simplefilter("ignore", UserWarning)
        engine_result = engine.where(engine_mask, 1.0, 0.0)
        torch_result = torch.where(torch_mask, 1.0, 0.0)
    same_result(engine_result, torch_result)
