"""Math ops of issue 12 (unary special functions, rounding, finiteness checks, log-sum-exp,
binary math, norms and products) against torch: values, dtypes, output strides and errors, on
random, non-contiguous and empty inputs of every dtype."""

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
