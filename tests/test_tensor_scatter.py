"""Gather/scatter ops against torch: values, dtypes, output strides, graph nodes and errors,
over random shapes, dims (negative too), index sizes and non-contiguous inputs."""

import functools
import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    assert_same_tensor,
    check_like_torch,
    tensor_pairs,
)


def same(ours, theirs):
    if theirs.numel() == 0:  # torch's layout of empty results varies between its kernels
        assert_close(ours, theirs)
    else:
        assert_same_tensor(ours, theirs)


def both(values):
    return engine.tensor(values), torch.tensor(values)


@st.composite
def gather_cases(draw, unique: bool = False):
    """A tensor pair, a dim (maybe negative), and an int64 index pair no larger than the
    tensor outside ``dim``; with ``unique`` the indices along ``dim`` do not repeat."""
    pair = draw(
        tensor_pairs(("float32", "int64", "float64"), min_dims=1, max_steps=2, allow_expand=False)
    )
    ours, _ = pair
    ndim = max(ours.ndim, 1)
    dim = draw(st.integers(-ndim, ndim - 1))
    axis = dim % ndim
    shape = tuple(ours.shape) or (1,)
    index_shape = [draw(st.integers(0, size)) for size in shape]
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    size = shape[axis]
    if size == 0:
        index_shape[axis] = 0
        values = np.zeros(index_shape, dtype=np.int64)
    elif unique:
        index_shape[axis] = draw(st.integers(0, size))
        full = list(index_shape)
        full[axis] = size
        values = np.argsort(rng.random(full), axis=axis).take(range(index_shape[axis]), axis=axis)
    else:
        index_shape[axis] = draw(st.integers(0, 4))
        values = rng.integers(0, size, index_shape)
    if ours.ndim == 0:  # a 0-d tensor takes a 0-d index
        values = np.zeros((), dtype=np.int64)
    return pair, dim, (engine.tensor(values, dtype=engine.int64), torch.tensor(values))


@settings(max_examples=25, deadline=None)
@given(case=gather_cases())
def test_gather_and_take_along_dim_like_torch(case):
    (ours, theirs), dim, (index, torch_index) = case
    check_like_torch(lambda: ours.gather(dim, index), lambda: theirs.gather(dim, torch_index), same)
    check_like_torch(
        lambda: engine.take_along_dim(ours, index, dim),
        lambda: torch.take_along_dim(theirs, torch_index, dim),
        same,
    )


@settings(max_examples=25, deadline=None)
@given(case=gather_cases(unique=True), data=st.data())
def test_scatter_and_scatter_add_like_torch(case, data):
    (ours, theirs), dim, (index, torch_index) = case
    seed = data.draw(st.integers(0, 2**16))
    src = np.random.default_rng(seed).standard_normal(tuple(index.shape)).astype(np.float32)
    source = engine.tensor(src, dtype=ours.dtype)
    torch_source = torch.tensor(src).to(theirs.dtype)
    check_like_torch(
        lambda: ours.scatter(dim, index, source),
        lambda: theirs.scatter(dim, torch_index, torch_source),
        same,
    )
    check_like_torch(
        lambda: ours.scatter(dim, index, 7), lambda: theirs.scatter(dim, torch_index, 7), same
    )
    check_like_torch(
        lambda: ours.scatter_add(dim, index, source),
        lambda: theirs.scatter_add(dim, torch_index, torch_source),
    )


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "int64"), min_dims=1, max_steps=2, allow_expand=False),
    data=st.data(),
)
def test_index_ops_like_torch(pair, data):
    ours, theirs = pair
    assume(ours.ndim > 0)  # 0-d inputs take other paths in torch, with their own errors
    ndim = ours.ndim
    dim = data.draw(st.integers(-ndim, ndim - 1))
    size = (tuple(ours.shape) or (1,))[dim % ndim]
    chosen = data.draw(st.lists(st.integers(-size, size - 1), max_size=4)) if size else []
    unique = list(dict.fromkeys(value % size for value in chosen)) if size else []
    index, torch_index = (
        engine.tensor(chosen, dtype=engine.int64),
        torch.tensor(chosen, dtype=torch.int64),
    )
    check_like_torch(
        lambda: ours.index_select(dim, index), lambda: theirs.index_select(dim, torch_index), same
    )
    if ours.numel() or all(value >= 0 for value in chosen):  # torch crashes on the others
        check_like_torch(
            lambda: ours.index_fill(dim, index, -2),
            lambda: theirs.index_fill(dim, torch_index, -2),
            same,
        )
    source_shape = list(tuple(ours.shape) or (1,))
    source_shape[dim % ndim] = len(chosen)
    source = np.arange(int(np.prod(source_shape))).reshape(source_shape if ours.ndim else ())
    ours_source, torch_source = (
        engine.tensor(source).to(ours.dtype),
        torch.tensor(source).to(theirs.dtype),
    )
    check_like_torch(
        lambda: ours.index_add(dim, index, ours_source, alpha=2),
        lambda: theirs.index_add(dim, torch_index, torch_source, alpha=2),
    )
    if len(unique) == len(chosen) and all(value >= 0 for value in chosen):
        check_like_torch(
            lambda: ours.index_copy(dim, index, ours_source),
            lambda: theirs.index_copy(dim, torch_index, torch_source),
            same,
        )


@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(("float32", "int64", "bool"), max_steps=3), data=st.data())
def test_masked_ops_and_take_like_torch(pair, data):
    ours, theirs = pair
    shape = tuple(ours.shape)
    mask_shape = shape[data.draw(st.integers(0, len(shape))) :]
    flags = np.random.default_rng(data.draw(st.integers(0, 2**16))).random(mask_shape) < 0.5
    mask, torch_mask = engine.tensor(flags), torch.tensor(flags)
    check_like_torch(lambda: ours.masked_fill(mask, 1), lambda: theirs.masked_fill(torch_mask, 1))
    check_like_torch(
        lambda: ours.masked_select(mask), lambda: theirs.masked_select(torch_mask), same
    )
    source = engine.ones(ours.numel(), dtype=ours.dtype)
    check_like_torch(
        lambda: ours.masked_scatter(mask, source),
        lambda: theirs.masked_scatter(torch_mask, torch.ones(theirs.numel(), dtype=theirs.dtype)),
    )
    count = ours.numel()
    positions = data.draw(st.lists(st.integers(-count - 1, count), max_size=5)) if count else []
    index, torch_index = (
        engine.tensor(positions, dtype=engine.int64),
        torch.tensor(positions, dtype=torch.int64),
    )
    check_like_torch(lambda: ours.take(index), lambda: theirs.take(torch_index), same)


def test_index_put_accumulate_and_in_place_variants_like_torch():
    for accumulate in (False, True):
        ours, theirs = both([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        rows, torch_rows = engine.tensor([0, 1, 0]), torch.tensor([0, 1, 0])
        cols, torch_cols = engine.tensor([2, 0, 1]), torch.tensor([2, 0, 1])
        values, torch_values = both([10.0, 20.0, 30.0])
        check_like_torch(
            functools.partial(ours.index_put, (rows, cols), values, accumulate=accumulate),
            functools.partial(
                theirs.index_put, (torch_rows, torch_cols), torch_values, accumulate=accumulate
            ),
        )
        ours.index_put_((rows, rows), values, accumulate)
        theirs.index_put_((torch_rows, torch_rows), torch_values, accumulate)
        assert ours.tolist() == theirs.tolist()
    ours, theirs = both([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    index, torch_index = engine.tensor([[2, 0]]), torch.tensor([[2, 0]])
    ours.scatter_(1, index, engine.tensor([[7.0, 8.0]])).scatter_add_(1, index, engine.ones(1, 2))
    theirs.scatter_(1, torch_index, torch.tensor([[7.0, 8.0]])).scatter_add_(
        1, torch_index, torch.ones(1, 2)
    )
    ours.masked_fill_(ours > 6, 0.0).index_fill_(1, engine.tensor([1]), -1.0)
    theirs.masked_fill_(theirs > 6, 0.0).index_fill_(1, torch.tensor([1]), -1.0)
    ours.index_add_(0, engine.tensor([1]), engine.ones(1, 3)).index_copy_(
        0, engine.tensor([0]), engine.ones(1, 3)
    )
    theirs.index_add_(0, torch.tensor([1]), torch.ones(1, 3)).index_copy_(
        0, torch.tensor([0]), torch.ones(1, 3)
    )
    ours.masked_scatter_(ours > 1, engine.tensor([9.0, 8.0, 7.0]))
    theirs.masked_scatter_(theirs > 1, torch.tensor([9.0, 8.0, 7.0]))
    assert ours.tolist() == theirs.tolist()


def test_gather_scatter_errors_like_torch():
    (ours, theirs), index = both([[1.0, 2.0], [3.0, 4.0]]), [[0, 5]]
    cases = [
        (
            lambda: ours.gather(1, engine.tensor(index)),
            lambda: theirs.gather(1, torch.tensor(index)),
        ),
        (lambda: ours.gather(1, engine.tensor([0])), lambda: theirs.gather(1, torch.tensor([0]))),
        (
            lambda: ours.gather(0, engine.zeros(1, 3).long()),
            lambda: theirs.gather(0, torch.zeros(1, 3).long()),
        ),
        (
            lambda: ours.scatter(1, engine.tensor([[0]]), engine.ones(1, 1).double()),
            lambda: theirs.scatter(1, torch.tensor([[0]]), torch.ones(1, 1).double()),
        ),
        (
            lambda: ours.masked_fill(ours > 1, engine.ones(2)),
            lambda: theirs.masked_fill(theirs > 1, torch.ones(2)),
        ),
        (
            lambda: ours.masked_fill((ours > 1).int(), 1.0),
            lambda: theirs.masked_fill((theirs > 1).int(), 1.0),
        ),
        (
            lambda: ours.masked_scatter(ours > 1, engine.ones(2)),
            lambda: theirs.masked_scatter(theirs > 1, torch.ones(2)),
        ),
        (lambda: ours.take(engine.tensor([7])), lambda: theirs.take(torch.tensor([7]))),
        (
            lambda: ours.index_add(0, engine.tensor([1, 0]), engine.ones(1, 2)),
            lambda: theirs.index_add(0, torch.tensor([1, 0]), torch.ones(1, 2)),
        ),
        (
            lambda: ours.index_select(0, engine.tensor([2])),
            lambda: theirs.index_select(0, torch.tensor([2])),
        ),
    ]
    for engine_call, torch_call in cases:
        check_like_torch(engine_call, torch_call)


@pytest.mark.parametrize(
    "name",
    [
        "gather",
        "scatter",
        "scatter_value",
        "scatter_add",
        "index_select",
        "masked_select",
        "index_add",
        "index_put_accumulate",
        "take",
        "masked_fill",
        "index_fill",
    ],
)
def test_graph_node_names_like_torch(name):
    calls = {
        "gather": lambda x, m: x.gather(0, m.tensor([[1, 0]])),
        "scatter": lambda x, m: x.scatter(0, m.tensor([[1, 0]]), x * 2),
        "scatter_value": lambda x, m: x.scatter(0, m.tensor([[1, 0]]), 2.0),
        "index_select": lambda x, m: x.index_select(0, m.tensor([1])),
        "take": lambda x, m: x.take(m.tensor([1])),
        "masked_fill": lambda x, m: x.masked_fill(x > 0, 1.0),
        "index_fill": lambda x, m: x.index_fill(0, m.tensor([1]), 1.0),
        "scatter_add": lambda x, m: x.scatter_add(0, m.tensor([[1, 0]]), x * 2),
        "masked_select": lambda x, m: x.masked_select(m.tensor([True, False])),
        "index_add": lambda x, m: x.index_add(0, m.tensor([1]), x[:1] * 2),
        "index_put_accumulate": lambda x, m: x.index_put((m.tensor([0, 0]),), x[0], True),
    }
    ours = calls[name](engine.ones(2, 2, requires_grad=True), engine)
    theirs = calls[name](torch.ones(2, 2, requires_grad=True), torch)
    assert type(ours.grad_fn).__name__ == theirs.grad_fn.name()


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@settings(max_examples=25, deadline=None)
@given(case=gather_cases(), include_self=st.booleans(), seed=st.integers(0, 2**16))
def test_scatter_reduce_like_torch(reduce, case, include_self, seed):
    (ours, theirs), dim, (index, torch_index) = case
    src = np.random.default_rng(seed).integers(-3, 4, tuple(index.shape))
    source, torch_source = engine.tensor(src).to(ours.dtype), torch.tensor(src).to(theirs.dtype)
    check_like_torch(
        lambda: ours.scatter_reduce(dim, index, source, reduce, include_self=include_self),
        lambda: theirs.scatter_reduce(
            dim, torch_index, torch_source, reduce, include_self=include_self
        ),
        same,
    )


def test_scatter_reduce_errors_and_ties_like_torch():
    ours, theirs = both([1.0, 5.0, 3.0])
    index, torch_index = engine.tensor([0, 0, 2]), torch.tensor([0, 0, 2])
    check_like_torch(
        lambda: ours.scatter_reduce(0, index, ours, "median"),
        lambda: theirs.scatter_reduce(0, torch_index, theirs, "median"),
    )
    # amax with ties: the gradient is shared evenly among the tied values, as in torch.
    ours = engine.tensor([5.0, 1.0, 5.0], requires_grad=True)
    theirs = torch.tensor([5.0, 1.0, 5.0], requires_grad=True)
    sources = engine.tensor([5.0, 5.0], requires_grad=True)
    torch_sources = torch.tensor([5.0, 5.0], requires_grad=True)
    ours.scatter_reduce(0, engine.tensor([0, 0]), sources, "amax").sum().backward()
    theirs.scatter_reduce(0, torch.tensor([0, 0]), torch_sources, "amax").sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist()
    assert sources.grad.tolist() == torch_sources.grad.tolist()
