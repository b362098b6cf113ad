"""Cumulative ops (cumsum, cumprod, logcumsumexp, cummax, cummin) against torch: values,
dtypes, indices (ties, nan), output strides and errors, on non-contiguous and empty inputs."""

import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import ALL_NAMES, assert_same_tensor, check_like_torch, tensor_pairs  # noqa: E402

SCANS = ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"]


def same(ours, theirs):
    if isinstance(theirs, tuple):
        assert type(ours).__name__ == type(theirs).__name__
        for mine, reference in zip(ours, theirs, strict=True):
            assert_same_tensor(mine, reference)
    else:
        assert_same_tensor(ours, theirs)


@pytest.mark.parametrize("name", SCANS)
@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(ALL_NAMES, max_steps=3), data=st.data())
def test_scans_like_torch(name, pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    dim = data.draw(st.integers(-ndim - 1, ndim))  # out of range at both ends too
    check_like_torch(
        lambda: getattr(engine, name)(ours, dim), lambda: getattr(torch, name)(theirs, dim), same
    )
    check_like_torch(
        lambda: getattr(ours, name)(dim=dim), lambda: getattr(theirs, name)(dim=dim), same
    )


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("dtype", ["float64", "int32", "float16"])
def test_cumsum_cumprod_dtype_and_axis(name, dtype):
    values = np.arange(1, 7).reshape(2, 3)
    ours, theirs = (
        engine.tensor(values, dtype=engine.int16),
        torch.tensor(values, dtype=torch.int16),
    )
    check_like_torch(
        lambda: getattr(ours, name)(1, dtype=getattr(engine, dtype)),
        lambda: getattr(theirs, name)(1, dtype=getattr(torch, dtype)),
        same,
    )
    check_like_torch(
        lambda: getattr(engine, name)(ours, axis=0), lambda: getattr(torch, name)(theirs, axis=0)
    )


def test_cummax_cummin_ties_and_nan_like_torch():
    for values in ([1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 1.0, 1.0, np.nan, 0.0, np.nan], [5, 5, 1, 5]):
        ours, theirs = engine.tensor(values), torch.tensor(values)
        check_like_torch(
            lambda ours=ours: ours.cummax(0), lambda theirs=theirs: theirs.cummax(0), same
        )
        check_like_torch(
            lambda ours=ours: ours.cummin(0), lambda theirs=theirs: theirs.cummin(0), same
        )


def test_logcumsumexp_is_stable():
    values = [1000.0, 1000.0, -np.inf, 0.0, np.inf]
    check_like_torch(
        lambda: engine.tensor(values).logcumsumexp(0), lambda: torch.tensor(values).logcumsumexp(0)
    )


def test_cumprod_gradient_with_zeros_matches_torch():
    for values in ([2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 2.0, 3.0], [1.5, 2.0, 0.0]):
        ours = engine.tensor(values, dtype=engine.float64, requires_grad=True)
        theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
        weights = np.arange(1.0, len(values) + 1)
        ours.cumprod(0).backward(engine.tensor(weights))
        theirs.cumprod(0).backward(torch.tensor(weights))
        assert ours.grad.tolist() == theirs.grad.tolist()


def test_scan_graph_nodes_like_torch():
    ours = engine.ones(3, requires_grad=True)
    theirs = torch.ones(3, requires_grad=True)
    for name in SCANS:
        mine, reference = getattr(ours, name)(0), getattr(theirs, name)(0)
        mine, reference = (
            (mine[0], reference[0]) if name in ("cummax", "cummin") else (mine, reference)
        )
        assert type(mine.grad_fn).__name__ == reference.grad_fn.name()
