"""Sorting and selection against torch: values, indices (tie-free inputs, plus the ties torch
documents: stable sort), dtypes, strides, errors; the index-only ops record no graph."""

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
from strategies import assert_same_tensor, check_like_torch, make_pair, tensor_pairs  # noqa: E402


def same(ours, theirs):
    if isinstance(theirs, tuple):
        assert type(ours).__name__ == type(theirs).__name__
        for mine, reference in zip(ours, theirs, strict=True):
            same(mine, reference)
    elif theirs.numel() == 0:
        assert_close(ours, theirs)
    else:
        assert_same_tensor(ours, theirs)


@st.composite
def distinct_pairs(draw, dtype_names=("float32", "float64", "int64", "int16")):
    """Tensors without repeated values (so every selection is unambiguous), often strided."""
    pair = draw(tensor_pairs(("float64",), max_steps=3, allow_expand=False))
    shape = tuple(pair[0].shape)
    count = int(np.prod(shape)) if shape else 1
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    values = rng.permutation(count).reshape(shape) - count // 2
    dtype = draw(st.sampled_from(dtype_names))
    ours, theirs = make_pair(values, dtype)
    if draw(st.booleans()) and ours.ndim >= 2:
        ours, theirs = ours.transpose(0, -1), theirs.transpose(0, -1)
    return ours, theirs


@settings(max_examples=25, deadline=None)
@given(pair=distinct_pairs(), data=st.data())
def test_selection_ops_like_torch(pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    descending, keepdim = data.draw(st.booleans()), data.draw(st.booleans())
    check_like_torch(lambda: ours.sort(dim, descending), lambda: theirs.sort(dim, descending), same)
    check_like_torch(
        lambda: ours.argsort(dim, descending), lambda: theirs.argsort(dim, descending), same
    )
    size = (tuple(ours.shape) or (1,))[dim % ndim]
    k = data.draw(st.integers(0, size + 1))
    check_like_torch(
        lambda: ours.topk(k, dim, descending), lambda: theirs.topk(k, dim, descending), same
    )
    check_like_torch(
        lambda: ours.kthvalue(k, dim, keepdim), lambda: theirs.kthvalue(k, dim, keepdim), same
    )
    check_like_torch(lambda: ours.median(dim, keepdim), lambda: theirs.median(dim, keepdim), same)
    if ours.numel() or ours.dtype.is_floating_point:  # torch leaves an empty int's unset
        check_like_torch(lambda: ours.median(), lambda: theirs.median(), same)
    check_like_torch(lambda: ours.mode(dim, keepdim), lambda: theirs.mode(dim, keepdim), same)


def test_stable_sort_keeps_the_order_of_ties_like_torch():
    values = [2.0, float("nan"), 1.0, 2.0, 1.0, float("nan"), 2.0]
    ours, theirs = engine.tensor(values), torch.tensor(values)
    for descending in (False, True):
        check_like_torch(
            lambda descending=descending: ours.sort(descending=descending, stable=True),
            lambda descending=descending: theirs.sort(descending=descending, stable=True),
            same,
        )
    ties = [[3, 1, 3, 1, 2], [5, 5, 5, 4, 4]]
    check_like_torch(
        lambda: engine.tensor(ties).sort(dim=1, stable=True),
        lambda: torch.tensor(ties).sort(dim=1, stable=True),
        same,
    )
    check_like_torch(lambda: engine.tensor(ties).mode(1), lambda: torch.tensor(ties).mode(1), same)


@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(("int64", "bool", "float32"), max_steps=3), data=st.data())
def test_unique_and_nonzero_like_torch(pair, data):
    ours, theirs = pair
    if ours.dtype is engine.float32:  # repeated values, so unique has something to merge
        ours, theirs = (ours * 2).round(), (theirs * 2).round()
    inverse, counts = data.draw(st.booleans()), data.draw(st.booleans())
    check_like_torch(
        lambda: engine.unique(ours, return_inverse=inverse, return_counts=counts),
        lambda: torch.unique(theirs, return_inverse=inverse, return_counts=counts),
        lambda a, b: same(tuple(a), tuple(b)) if isinstance(b, tuple) else same(a, b),
    )
    if ours.ndim:
        dim = data.draw(st.integers(-ours.ndim, ours.ndim - 1))
        check_like_torch(
            lambda: engine.unique(ours, dim=dim, return_inverse=True),
            lambda: torch.unique(theirs, dim=dim, return_inverse=True),
            # values and inverse; torch's strides of size-1 dims vary here
            lambda a, b: [assert_close(x, y) for x, y in zip(a, b, strict=True)],
        )
    check_like_torch(lambda: ours.nonzero(), lambda: theirs.nonzero(), same)
    check_like_torch(
        lambda: ours.nonzero(as_tuple=True),
        lambda: theirs.nonzero(as_tuple=True),
        lambda a, b: same(tuple(a), tuple(b)),
    )


@settings(max_examples=25, deadline=None)
@given(
    rows=st.integers(0, 3),
    size=st.integers(0, 5),
    right=st.booleans(),
    out_int32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_searchsorted_like_torch(rows, size, right, out_int32, seed):
    rng = np.random.default_rng(seed)
    shape = (rows, size) if rows else (size,)
    boundaries = np.sort(rng.integers(-3, 4, shape), axis=-1).astype(np.float64)
    values = rng.integers(-4, 5, (rows, 3) if rows else (2, 3)).astype(np.float64)
    options = {"right": right, "out_int32": out_int32}
    check_like_torch(
        lambda: engine.searchsorted(engine.tensor(boundaries), engine.tensor(values), **options),
        lambda: torch.searchsorted(torch.tensor(boundaries), torch.tensor(values), **options),
    )
    if not rows:
        check_like_torch(
            lambda: engine.bucketize(engine.tensor(values), engine.tensor(boundaries), right=right),
            lambda: torch.bucketize(torch.tensor(values), torch.tensor(boundaries), right=right),
        )
        check_like_torch(
            lambda: engine.searchsorted(engine.tensor(boundaries), 1.0, side="right"),
            lambda: torch.searchsorted(torch.tensor(boundaries), 1.0, side="right"),
        )


def test_index_only_ops_have_no_graph_and_errors_match_torch():
    ours = engine.tensor([3.0, 1.0, 2.0], requires_grad=True)
    assert ours.sort().values.grad_fn is not None
    for result in (ours.argsort(), ours.unique(), ours.nonzero(), engine.searchsorted(ours, ours)):
        assert result.grad_fn is None and not result.requires_grad
    theirs = torch.tensor([3.0, 1.0, 2.0])
    for engine_call, torch_call in [
        (lambda: ours.topk(4), lambda: theirs.topk(4)),
        (lambda: ours.kthvalue(0), lambda: theirs.kthvalue(0)),
        (lambda: ours.sort(1), lambda: theirs.sort(1)),
        (lambda: engine.ones(2, 0).median(1), lambda: torch.ones(2, 0).median(1)),
        (lambda: engine.searchsorted(ours, ours, side="middle"),
         lambda: torch.searchsorted(theirs, theirs, side="middle")),
        (lambda: engine.searchsorted(engine.ones(2, 3), engine.ones(3, 1)),
         lambda: torch.searchsorted(torch.ones(2, 3), torch.ones(3, 1))),
    ]:  # fmt: skip
        check_like_torch(engine_call, torch_call)


@pytest.mark.parametrize("name", ["sort", "topk", "kthvalue", "median", "mode"])
def test_node_names_like_torch(name):
    calls = {
        "sort": lambda x: x.sort()[0],
        "topk": lambda x: x.topk(1)[0],
        "kthvalue": lambda x: x.kthvalue(1)[0],
        "median": lambda x: x.median(0)[0],
        "mode": lambda x: x.mode()[0],
    }
    ours = calls[name](engine.tensor([3.0, 1.0], requires_grad=True))
    theirs = calls[name](torch.tensor([3.0, 1.0], requires_grad=True))
    assert type(ours.grad_fn).__name__ == theirs.grad_fn.name()
