"""Math ops of issue 12 (unary special functions, rounding, finiteness checks, log-sum-exp,
binary math, norms and products) against torch: values, dtypes, output strides and errors, on
random, non-contiguous and empty inputs of every dtype."""

import functools
import operator
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    ALL_NAMES,
    FLOAT_NAMES,
    assert_same_tensor,
    broadcastable_pairs,
    check_like_torch,
    tensor_pairs,
)

UNARY = [
    "erf", "erfc", "erfinv", "log1p", "expm1", "tan", "asin", "acos", "atan", "sinh", "cosh",
    "asinh", "acosh", "atanh", "floor", "ceil", "trunc", "fix", "frac", "isnan", "isinf",
    "isfinite", "isposinf", "isneginf", "nan_to_num", "arcsin", "arccos", "arctan", "arcsinh",
    "arccosh", "arctanh",
]  # fmt: skip
SPECIAL = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, 1e4, -1e4, np.inf, -np.inf, np.nan]


def same_tensor(ours, theirs):
    assert_same_tensor(ours, theirs)


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3))
def test_unary_math_like_torch(name, pair):
    ours, theirs = pair
    check_like_torch(
        lambda: getattr(engine, name)(ours), lambda: getattr(torch, name)(theirs), same_tensor
    )
    check_like_torch(lambda: getattr(ours, name)(), lambda: getattr(theirs, name)(), same_tensor)


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype_name", FLOAT_NAMES)
def test_unary_math_special_values(name, dtype_name):
    ours = engine.tensor(SPECIAL, dtype=getattr(engine, dtype_name))
    theirs = torch.tensor(SPECIAL, dtype=getattr(torch, dtype_name))
    check_like_torch(lambda: getattr(engine, name)(ours), lambda: getattr(torch, name)(theirs))


def test_erfinv_inverts_erf_in_float64():
    values = np.linspace(-0.999, 0.999, 201)
    ours = engine.erfinv(engine.tensor(values, dtype=engine.float64))
    assert_close(ours, torch.erfinv(torch.tensor(values)), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("nan", "posinf", "neginf"), [(0.0, None, None), (1.5, 7.0, -3.0)])
def test_nan_to_num_replacements(nan, posinf, neginf):
    ours = engine.tensor(SPECIAL, dtype=engine.float16)
    theirs = torch.tensor(SPECIAL, dtype=torch.float16)
    check_like_torch(
        lambda: ours.nan_to_num(nan, posinf=posinf, neginf=neginf),
        lambda: theirs.nan_to_num(nan, posinf=posinf, neginf=neginf),
    )


def test_finiteness_checks_have_no_grad_fn():
    tensor = engine.tensor([1.0, np.nan], requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        assert getattr(tensor, name)().grad_fn is None


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "float64", "int64", "bfloat16"), min_dims=1, max_steps=3),
    data=st.data(),
)
def test_logsumexp_like_torch(pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)  # a 0-d tensor takes dim 0 or -1
    dims = data.draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=2, unique=True))
    dim = dims[0] if len(dims) == 1 else tuple(dims)
    keepdim = data.draw(st.booleans())
    check_like_torch(
        lambda: engine.logsumexp(ours, dim, keepdim),
        lambda: torch.logsumexp(theirs, dim, keepdim),
        same_tensor,
    )
    check_like_torch(
        lambda: ours.logsumexp(dim=dim, keepdim=keepdim),
        lambda: theirs.logsumexp(dim=dim, keepdim=keepdim),
    )


def test_logsumexp_is_stable_and_handles_infinities():
    for values in ([1000.0, 1000.0], [-np.inf, -np.inf], [np.inf, 1.0], [-1000.0, 0.0]):
        check_like_torch(
            lambda values=values: engine.logsumexp(engine.tensor(values), 0),
            lambda values=values: torch.logsumexp(torch.tensor(values), 0),
        )
    check_like_torch(
        lambda: engine.logsumexp(engine.ones(2), 2), lambda: torch.logsumexp(torch.ones(2), 2)
    )


BINARY = ["atan2", "logaddexp", "hypot", "xlogy", "copysign", "fmod", "remainder"]


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=25, deadline=None)
@given(pairs=broadcastable_pairs(ALL_NAMES), second=st.sampled_from(ALL_NAMES))
def test_binary_math_broadcasts_and_promotes_like_torch(name, pairs, second):
    (ours, theirs), (other, torch_other) = pairs
    other, torch_other = other.to(getattr(engine, second)), torch_other.to(getattr(torch, second))
    check_like_torch(
        lambda: getattr(engine, name)(ours, other),
        lambda: getattr(torch, name)(theirs, torch_other),
        same_tensor,
    )
    check_like_torch(lambda: getattr(ours, name)(other), lambda: getattr(theirs, name)(torch_other))


@pytest.mark.parametrize("name", ["xlogy", "copysign", "fmod", "remainder", "atan2", "hypot"])
@pytest.mark.parametrize("number", [2, -1.5, 0, True])
def test_binary_math_with_python_numbers(name, number):
    values = [-2.0, -0.0, 0.0, 0.5, 3.0]
    for dtype in ("float32", "int64"):
        ours = engine.tensor(values, dtype=getattr(engine, dtype))
        theirs = torch.tensor(values, dtype=getattr(torch, dtype))
        check_like_torch(
            lambda ours=ours: getattr(engine, name)(ours, number),
            lambda theirs=theirs: getattr(torch, name)(theirs, number),
        )


def test_xlogy_is_zero_where_x_is_zero_unless_y_is_nan():
    x, y = [0.0, 0.0, 0.0, 1.0, 2.0], [0.0, np.nan, -1.0, 0.0, np.inf]
    check_like_torch(
        lambda: engine.xlogy(engine.tensor(x), engine.tensor(y)),
        lambda: torch.xlogy(torch.tensor(x), torch.tensor(y)),
    )


@pytest.mark.parametrize("rounding_mode", [None, "trunc", "floor"])
@settings(max_examples=25, deadline=None)
@given(pairs=broadcastable_pairs(ALL_NAMES), second=st.sampled_from(ALL_NAMES))
def test_div_rounding_modes_like_torch(rounding_mode, pairs, second):
    (ours, theirs), (other, torch_other) = pairs
    other, torch_other = other.to(getattr(engine, second)), torch_other.to(getattr(torch, second))
    check_like_torch(
        lambda: engine.div(ours, other, rounding_mode=rounding_mode),
        lambda: torch.div(theirs, torch_other, rounding_mode=rounding_mode),
        same_tensor,
    )
    check_like_torch(
        lambda: ours.div(3, rounding_mode=rounding_mode),
        lambda: theirs.div(3, rounding_mode=rounding_mode),
    )


def test_integer_division_by_zero_and_bad_rounding_mode_raise_like_torch():
    ours, theirs = engine.tensor([5, -7, 0]), torch.tensor([5, -7, 0])
    for mode in ("trunc", "floor"):
        check_like_torch(
            lambda mode=mode: engine.div(ours, 0, rounding_mode=mode),
            lambda mode=mode: torch.div(theirs, 0, rounding_mode=mode),
        )
    check_like_torch(lambda: engine.fmod(ours, 0), lambda: torch.fmod(theirs, 0))
    check_like_torch(
        lambda: engine.div(ours.float(), 0.0, rounding_mode="trunc"),
        lambda: torch.div(theirs.float(), 0.0, rounding_mode="trunc"),
    )
    with pytest.raises(RuntimeError, match="rounding_mode to be one of None, 'trunc', or 'floor'"):
        engine.div(ours, 2, rounding_mode="round")
    inplace, torch_inplace = engine.tensor([7, -7]), torch.tensor([7, -7])
    inplace.div_(2, rounding_mode="floor")
    torch_inplace.div_(2, rounding_mode="floor")
    assert inplace.tolist() == torch_inplace.tolist()


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.7, 1.0, "tensor"])
@settings(max_examples=10, deadline=None)
@given(pairs=broadcastable_pairs(("float32", "float64", "float16")))
def test_lerp_like_torch(weight, pairs):
    (ours, theirs), (end, torch_end) = pairs
    end, torch_end = end.to(ours.dtype), torch_end.to(theirs.dtype)
    ours_weight, torch_weight = weight, weight
    if weight == "tensor":
        ours_weight, torch_weight = end.sigmoid(), torch_end.sigmoid()
    check_like_torch(
        lambda: engine.lerp(ours, end, ours_weight),
        lambda: torch.lerp(theirs, torch_end, torch_weight),
        same_tensor,
    )


def test_lerp_and_logaddexp_refuse_what_torch_refuses():
    check_like_torch(
        lambda: engine.lerp(engine.ones(2), engine.ones(2, dtype=engine.float64), 0.5),
        lambda: torch.lerp(torch.ones(2), torch.ones(2, dtype=torch.float64), 0.5),
    )
    check_like_torch(
        lambda: engine.lerp(engine.ones(2, dtype=engine.int64), engine.ones(2).long(), 0.5),
        lambda: torch.lerp(torch.ones(2, dtype=torch.int64), torch.ones(2).long(), 0.5),
    )
    check_like_torch(
        lambda: engine.logaddexp(engine.ones(2).long(), engine.ones(2).long()),
        lambda: torch.logaddexp(torch.ones(2).long(), torch.ones(2).long()),
    )
    check_like_torch(
        lambda: engine.atan2(engine.ones(2), 2.0), lambda: torch.atan2(torch.ones(2), 2.0)
    )


@settings(max_examples=25, deadline=None)
@given(
    pairs=broadcastable_pairs(ALL_NAMES),
    rtol=st.sampled_from([1e-5, 0.0, 0.5]),
    atol=st.sampled_from([1e-8, 0.0, 1.0]),
    equal_nan=st.booleans(),
)
def test_isclose_and_allclose_like_torch(pairs, rtol, atol, equal_nan):
    (ours, theirs), (other, torch_other) = pairs
    other, torch_other = other.to(ours.dtype), torch_other.to(theirs.dtype)
    # Nearby values: the other operand shifted by a little (and by nothing at some elements).
    if ours.dtype.is_floating_point:
        other, torch_other = ours + other * 1e-3, theirs + torch_other * 1e-3
    check_like_torch(
        lambda: engine.isclose(ours, other, rtol, atol, equal_nan),
        lambda: torch.isclose(theirs, torch_other, rtol, atol, equal_nan),
        same_tensor,
    )
    assert engine.allclose(ours, other, rtol, atol, equal_nan) == torch.allclose(
        theirs.broadcast_to(torch.broadcast_shapes(theirs.shape, torch_other.shape)),
        torch_other,
        rtol,
        atol,
        equal_nan,
    )


def test_isclose_special_values_and_errors():
    a = [1.0, np.nan, np.inf, -np.inf, np.inf, 0.0]
    b = [1.0, np.nan, np.inf, np.inf, 1e308, -0.0]
    for equal_nan in (False, True):
        check_like_torch(
            lambda equal_nan=equal_nan: engine.tensor(a).isclose(
                engine.tensor(b), equal_nan=equal_nan
            ),
            lambda equal_nan=equal_nan: torch.tensor(a).isclose(
                torch.tensor(b), equal_nan=equal_nan
            ),
        )
    check_like_torch(
        lambda: engine.isclose(engine.tensor([1, 2]), engine.tensor([1.0, 2.0])),
        lambda: torch.isclose(torch.tensor([1, 2]), torch.tensor([1.0, 2.0])),
    )
    check_like_torch(
        lambda: engine.isclose(engine.ones(2), engine.ones(2), rtol=-1.0),
        lambda: torch.isclose(torch.ones(2), torch.ones(2), rtol=-1.0),
    )


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@settings(max_examples=25, deadline=None)
@given(pairs=broadcastable_pairs(ALL_NAMES))
def test_logical_ops_like_torch(name, pairs):
    (ours, theirs), (other, torch_other) = pairs
    check_like_torch(
        lambda: getattr(engine, name)(ours, other),
        lambda: getattr(torch, name)(theirs, torch_other),
        same_tensor,
    )


BITWISE = {
    "and": operator.and_,
    "or": operator.or_,
    "xor": operator.xor,
    "lshift": operator.lshift,
    "rshift": operator.rshift,
    "gcd": lambda a, b: a.gcd(b),
    "lcm": lambda a, b: a.lcm(b),
}


@pytest.mark.parametrize("name", BITWISE)
@settings(max_examples=25, deadline=None)
@given(
    pairs=broadcastable_pairs(ALL_NAMES),
    second=st.sampled_from(ALL_NAMES),
    number=st.sampled_from([3, -1, 70, True]),
)
def test_bitwise_ops_like_torch(name, pairs, second, number):
    operation = BITWISE[name]
    (ours, theirs), (other, torch_other) = pairs
    other, torch_other = other.to(getattr(engine, second)), torch_other.to(getattr(torch, second))
    check_like_torch(
        lambda: operation(ours, other), lambda: operation(theirs, torch_other), same_tensor
    )
    if name not in ("gcd", "lcm"):  # torch takes tensors only there
        check_like_torch(lambda: operation(ours, number), lambda: operation(theirs, number))
        check_like_torch(lambda: operation(number, ours), lambda: operation(number, theirs))


@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3))
def test_invert_and_bitwise_not_like_torch(pair):
    ours, theirs = pair
    check_like_torch(lambda: ~ours, lambda: ~theirs, same_tensor)
    check_like_torch(
        lambda: engine.bitwise_not(ours), lambda: torch.bitwise_not(theirs), same_tensor
    )
    assert (~engine.tensor([1, 2], dtype=engine.int32)).dtype is engine.int32


def test_shifts_past_the_bit_width_like_torch():
    for dtype in ("int8", "uint8", "int32", "int64"):
        values, shifts = [1, 5, 100, 127], [-1, 7, 8, 70]
        ours = engine.tensor(values, dtype=getattr(engine, dtype))
        theirs = torch.tensor(values, dtype=getattr(torch, dtype))
        amounts, torch_amounts = engine.tensor(shifts), torch.tensor(shifts)
        for operation in (operator.lshift, operator.rshift):
            check_like_torch(
                functools.partial(operation, ours, amounts),
                functools.partial(operation, theirs, torch_amounts),
            )
    check_like_torch(
        lambda: engine.tensor([-128], dtype=engine.int8) >> 9,
        lambda: torch.tensor([-128], dtype=torch.int8) >> 9,
    )


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "float64", "float16", "int64"), max_steps=3),
    decimals=st.integers(-2, 3),
)
def test_round_with_decimals_like_torch(pair, decimals):
    ours, theirs = pair
    ours, theirs = ours * 37, theirs * 37  # values with digits on both sides of the point
    check_like_torch(
        lambda: ours.round(decimals=decimals),
        lambda: theirs.round(decimals=decimals),
        same_tensor,
    )


@settings(max_examples=25, deadline=None)
@given(
    pairs=broadcastable_pairs(("float32", "int64", "float64")),
    data=st.data(),
)
def test_clamp_with_tensor_bounds_like_torch(pairs, data):
    (ours, theirs), (low, torch_low) = pairs
    high, torch_high = low + 0.5, torch_low + 0.5
    which = data.draw(st.sampled_from(["both", "min", "max", "crossed"]))
    if which == "crossed":  # min > max: every element becomes max, as in torch
        low, torch_low, high, torch_high = high, torch_high, low, torch_low
    bounds = {
        "both": ((low, high), (torch_low, torch_high)),
        "crossed": ((low, high), (torch_low, torch_high)),
        "min": ((low, None), (torch_low, None)),
        "max": ((None, high), (None, torch_high)),
    }[which]
    check_like_torch(
        lambda: engine.clamp(ours, *bounds[0]), lambda: torch.clamp(theirs, *bounds[1]), same_tensor
    )


AXIS_CALLS = {
    "sum": lambda x, **k: x.sum(**k),
    "max": lambda x, **k: x.max(**k).values,
    "var": lambda x, **k: x.var(**k),
    "argmax": lambda x, **k: x.argmax(**k),
    "all": lambda x, **k: x.all(**k),
    "sort": lambda x, **k: x.sort(**k).values,
    "median": lambda x, **k: x.median(**k).values,
    "cumsum": lambda x, **k: x.cumsum(**k),
    "cummax": lambda x, **k: x.cummax(**k).values,
    "logsumexp": lambda x, **k: x.logsumexp(**k),
    "softmax": lambda x, **k: x.softmax(**k),
    "squeeze": lambda x, **k: x.squeeze(**k),
    "unsqueeze": lambda x, **k: x.unsqueeze(**k),
    "topk": lambda x, **k: x.topk(1, **k).values,
    "index_select": lambda x, **k: x.index_select(index=x.new_zeros(1).long(), **k),
    "chunk": lambda x, **k: x.chunk(2, **k)[0],
}


@pytest.mark.parametrize("name", AXIS_CALLS)
def test_axis_is_accepted_for_dim_like_torch(name):
    values = np.arange(6.0).reshape(2, 3)
    ours, theirs = engine.tensor(values), torch.tensor(values)
    check_like_torch(
        lambda: AXIS_CALLS[name](ours, axis=0), lambda: AXIS_CALLS[name](theirs, axis=0)
    )
