"""Elementwise ops on random, broadcast and non-contiguous inputs of every dtype, compared with
torch: values, dtype, shape, and the exception type when torch refuses."""

import operator
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    ALL_NAMES,
    FLOAT_NAMES,
    broadcastable_pairs,
    check_like_torch,
    tensor_pairs,
)

BINARY_OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}

UNARY_FUNCTIONS = [
    "abs",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "sign",
    "round",
    "neg",
    "logical_not",
]


@pytest.mark.parametrize("op_name", BINARY_OPERATORS)
@settings(max_examples=80, deadline=None)
@given(pairs=broadcastable_pairs(ALL_NAMES), second_dtype=st.sampled_from(ALL_NAMES))
def test_binary_operators_broadcast_and_promote_like_torch(op_name, pairs, second_dtype):
    operation = BINARY_OPERATORS[op_name]
    (engine_a, torch_a), (engine_b, torch_b) = pairs
    engine_b = engine_b.to(getattr(engine, second_dtype))
    torch_b = torch_b.to(getattr(torch, second_dtype))
    check_like_torch(lambda: operation(engine_a, engine_b), lambda: operation(torch_a, torch_b))


@pytest.mark.parametrize("op_name", BINARY_OPERATORS)
@settings(max_examples=30, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3), scalar=st.sampled_from([2, -3, 0.5, True]))
def test_binary_operators_with_python_scalars_both_sides(op_name, pair, scalar):
    operation = BINARY_OPERATORS[op_name]
    engine_tensor, torch_tensor = pair
    check_like_torch(
        lambda: operation(engine_tensor, scalar), lambda: operation(torch_tensor, scalar)
    )
    check_like_torch(
        lambda: operation(scalar, engine_tensor), lambda: operation(scalar, torch_tensor)
    )


@settings(max_examples=40, deadline=None)
@given(broadcastable_pairs(("float32",)), st.data())
def test_mismatched_shapes_raise_like_torch(pairs, data):
    (engine_a, torch_a), _ = pairs
    size = data.draw(st.integers(2, 4))
    shape = (*torch_a.shape[:-1], torch_a.shape[-1] + size) if torch_a.ndim else (size,)
    engine_b, torch_b = engine.ones(shape), torch.ones(shape)
    check_like_torch(lambda: engine_a + engine_b, lambda: torch_a + torch_b)
    check_like_torch(lambda: engine_a < engine_b, lambda: torch_a < torch_b)


@pytest.mark.parametrize("name", UNARY_FUNCTIONS)
@settings(max_examples=40, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3))
def test_unary_functions_like_torch(name, pair):
    engine_tensor, torch_tensor = pair
    check_like_torch(
        lambda: getattr(engine, name)(engine_tensor), lambda: getattr(torch, name)(torch_tensor)
    )
    if name in ("abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "neg"):
        check_like_torch(
            lambda: getattr(engine_tensor, name)(), lambda: getattr(torch_tensor, name)()
        )


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "sign", "round", "relu"])
@pytest.mark.parametrize("dtype_name", FLOAT_NAMES)
def test_unary_special_values(name, dtype_name):
    values = [0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 0.5, 1e4, -1e4, float("inf"), -float("inf")]
    values.append(float("nan"))
    engine_tensor = engine.tensor(values, dtype=getattr(engine, dtype_name))
    torch_tensor = torch.tensor(values, dtype=getattr(torch, dtype_name))
    check_like_torch(
        lambda: getattr(engine, name)(engine_tensor), lambda: getattr(torch, name)(torch_tensor)
    )


@pytest.mark.filterwarnings("ignore:where received a uint8 condition tensor:UserWarning")
@settings(max_examples=100, deadline=None)
@given(broadcastable_pairs(ALL_NAMES), st.data())
def test_where_maximum_minimum(pairs, data):
    (engine_a, torch_a), (engine_b, torch_b) = pairs
    engine_condition, torch_condition = engine_a > 0, torch_a > 0
    check_like_torch(
        lambda: engine.where(engine_condition, engine_a, engine_b),
        lambda: torch.where(torch_condition, torch_a, torch_b),
    )
    scalar = data.draw(st.sampled_from([0, 1.5, True]))
    check_like_torch(
        lambda: engine.where(engine_condition, engine_b, scalar),
        lambda: torch.where(torch_condition, torch_b, scalar),
    )
    check_like_torch(
        lambda: engine.where(engine_a, engine_a, engine_b),
        lambda: torch.where(torch_a, torch_a, torch_b),
    )
    check_like_torch(
        lambda: engine.maximum(engine_a, engine_b), lambda: torch.maximum(torch_a, torch_b)
    )
    check_like_torch(
        lambda: engine.minimum(engine_a, engine_b), lambda: torch.minimum(torch_a, torch_b)
    )


@settings(max_examples=60, deadline=None)
@given(
    tensor_pairs(("float32", "int64", "float16", "uint8"), max_steps=3),
    st.sampled_from([None, -0.5, 0, 2]),
    st.sampled_from([None, 0.5, 1, -1]),
)
def test_clamp_like_torch(pair, low, high):
    engine_tensor, torch_tensor = pair
    check_like_torch(
        lambda: engine.clamp(engine_tensor, low, high), lambda: torch.clamp(torch_tensor, low, high)
    )
    check_like_torch(
        lambda: engine_tensor.clamp(min=low, max=high),
        lambda: torch_tensor.clamp(min=low, max=high),
    )


def test_integer_division_by_zero_raises_like_torch():
    for operation in (operator.floordiv, operator.mod):
        check_like_torch(
            lambda operation=operation: operation(engine.tensor([1, 2]), 0),
            lambda operation=operation: operation(torch.tensor([1, 2]), 0),
        )
    check_like_torch(
        lambda: engine.tensor([1.0, -1.0, 0.0]) // 0.0,
        lambda: torch.tensor([1.0, -1.0, 0.0]) // 0.0,
    )


def test_integer_powers_follow_torch():
    base = engine.tensor([-2, -1, 0, 1, 2, 3])
    torch_base = torch.tensor([-2, -1, 0, 1, 2, 3])
    check_like_torch(lambda: base**-1, lambda: torch_base**-1)
    check_like_torch(
        lambda: base ** engine.tensor([-1, -3, 2, -2, 0, -1]),
        lambda: torch_base ** torch.tensor([-1, -3, 2, -2, 0, -1]),
    )
    check_like_torch(lambda: 2 ** base.abs(), lambda: 2 ** torch_base.abs())
    check_like_torch(lambda: base**0.5, lambda: torch_base**0.5)


def test_bool_arithmetic_errors_like_torch():
    flags, torch_flags = engine.tensor([True, False]), torch.tensor([True, False])
    check_like_torch(lambda: flags - flags, lambda: torch_flags - torch_flags)
    check_like_torch(lambda: -flags, lambda: -torch_flags)
    check_like_torch(lambda: ~flags, lambda: ~torch_flags)
    check_like_torch(lambda: flags + flags, lambda: torch_flags + torch_flags)


def test_in_place_arithmetic_writes_into_the_same_storage():
    tensor = engine.tensor([1.0, 2.0, 3.0])
    storage = tensor._storage
    tensor += 1
    tensor *= engine.tensor([2.0, 2.0, 2.0])
    tensor -= 1
    tensor /= 2
    assert tensor._storage is storage
    expected = torch.tensor([1.0, 2.0, 3.0])
    expected += 1
    expected *= 2
    expected -= 1
    expected /= 2
    assert tensor.tolist() == expected.tolist()
    check_like_torch(
        lambda: engine.ones(3).add_(engine.ones(2, 3)), lambda: torch.ones(3).add_(torch.ones(2, 3))
    )


def test_numpy_scalars_on_the_left_defer_to_the_tensor():
    result = np.float64(2.0) * engine.ones(2)
    assert isinstance(result, engine.Tensor)
    assert result.dtype is engine.float32
