"""Gradients of every differentiable op: equal to torch's in float64 (first and second order),
on contiguous and strided inputs, and confirmed by gradcheck and gradgradcheck."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
import torch

import engine
from engine import autograd

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `autograd_helpers`
from autograd_helpers import assert_grads_match, leaf_pair  # noqa: E402


def positive(shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def normal(shape):
    return lambda rng: rng.standard_normal(shape)


def between(low, high, shape):
    return lambda rng: rng.uniform(low, high, shape)


def distinct(shape):
    # Values at least 0.1 apart, so max/min/sorting-like ops have no ties and no kinks nearby.
    return lambda rng: rng.permutation(np.arange(int(np.prod(shape))) * 0.1 - 1.0).reshape(shape)


def lib(tensor):
    return engine if isinstance(tensor, engine.Tensor) else torch


def cdist(a, b, p=2.0):
    # torch.cdist has neither a double backward nor a JVP: compare with the same math.
    if isinstance(a, engine.Tensor):
        return engine.cdist(a, b, p)
    return torch.linalg.vector_norm(a.unsqueeze(-2) - b.unsqueeze(-3), p, -1)


def scatter_prod(a, index, b):
    # torch.func.jvp of scatter_reduce(prod) is zero (a torch bug): compare with the same
    # product as exp of a sum of logs (the inputs are positive).
    if isinstance(a, engine.Tensor):
        return a.scatter_reduce(1, index, b, "prod")
    return a.log().scatter_reduce(1, index, b.log(), "sum").exp()


def set_first_row(a, b):
    c = a * 1.0  # a non-leaf, so it may be written in place
    c[0] = b
    return c


def copy_into(a, b):
    c = a * 1.0
    c.copy_(b)
    return c


# name, function of the inputs (same code for engine and torch), input generators.  Every entry
# of the derivative table must be exercised here (test_every_table_entry_is_exercised).
OPS = [
    ("add", lambda a, b: a + b, [normal((2, 3)), normal((3,))]),
    ("add_alpha", lambda a, b: a.add(b, alpha=2.5), [normal((2, 3)), normal((2, 1))]),
    ("add_scalar", lambda a: 1.5 + a, [normal((3,))]),
    ("sub", lambda a, b: a - b, [normal((2, 1)), normal((1, 3))]),
    ("rsub_scalar", lambda a: 2.0 - a, [normal((3,))]),
    ("mul", lambda a, b: a * b, [normal((2, 3)), normal((2, 1))]),
    ("div", lambda a, b: a / b, [normal((2, 3)), positive((3,))]),
    ("rdiv_scalar", lambda a: 2.0 / a, [positive((3,))]),
    ("neg", lambda a: -a, [normal((2, 2))]),
    ("remainder", lambda a, b: a % b, [positive((2, 3)), positive((3,))]),
    ("pow_scalar", lambda a: a**3, [normal((4,))]),
    ("pow_half", lambda a: a**0.5, [positive((4,))]),
    ("pow_tensor", lambda a, b: a**b, [positive((2, 3)), normal((3,))]),
    ("rpow", lambda a: 2.0**a, [normal((3,))]),
    ("exp", lambda a: a.exp(), [normal((2, 3))]),
    ("log", lambda a: a.log(), [positive((2, 3))]),
    ("sqrt", lambda a: a.sqrt(), [positive((2, 3))]),
    ("sin", lambda a: a.sin(), [normal((3,))]),
    ("cos", lambda a: a.cos(), [normal((3,))]),
    ("tanh", lambda a: a.tanh(), [normal((2, 3))]),
    ("sigmoid", lambda a: a.sigmoid(), [normal((2, 3))]),
    ("relu", lambda a: a.relu(), [distinct((2, 3))]),
    ("abs", lambda a: a.abs(), [distinct((2, 3))]),
    ("sign", lambda a: a.sign() * a, [distinct((2, 3))]),
    ("round", lambda a: (a * 10).round() * a, [distinct((2, 3))]),
    ("clamp", lambda a: a.clamp(-0.45, 0.35), [distinct((3, 4))]),
    ("clamp_min", lambda a: a.clamp(min=0.05), [distinct((3, 4))]),
    ("maximum", lambda a, b: lib(a).maximum(a, b), [distinct((2, 3)), normal((3,))]),
    ("minimum", lambda a, b: lib(a).minimum(a, b), [distinct((2, 3)), normal((2, 1))]),
    ("where", lambda a, b: lib(a).where(a > 0, a, b), [distinct((2, 3)), normal((3,))]),
    ("sum", lambda a: a.sum(), [normal((2, 3))]),
    ("sum_dim", lambda a: a.sum(1), [normal((2, 3, 2))]),
    ("sum_dims_keepdim", lambda a: a.sum((0, 2), keepdim=True), [normal((2, 3, 2))]),
    ("mean", lambda a: a.mean(), [normal((2, 3))]),
    ("mean_dim", lambda a: a.mean(-1), [normal((2, 3))]),
    ("var", lambda a: a.var(), [normal((2, 3))]),
    ("var_dim", lambda a: a.var(1, correction=0, keepdim=True), [normal((2, 3))]),
    ("std", lambda a: a.std(), [normal((2, 3))]),
    ("std_dim", lambda a: a.std(0), [normal((3, 2))]),
    ("prod", lambda a: a.prod(), [normal((2, 3))]),
    ("prod_dim", lambda a: a.prod(1), [normal((2, 3))]),
    ("max", lambda a: a.max(), [distinct((2, 3))]),
    ("max_dim", lambda a: a.max(1)[0], [distinct((2, 3))]),
    ("min", lambda a: a.min(), [distinct((2, 3))]),
    ("min_dim_keepdim", lambda a: a.min(0, keepdim=True)[0], [distinct((2, 3))]),
    ("mm", lambda a, b: a.mm(b), [normal((2, 3)), normal((3, 4))]),
    ("bmm", lambda a, b: a.bmm(b), [normal((2, 2, 3)), normal((2, 3, 2))]),
    ("addmm", lambda c, a, b: c.addmm(a, b), [normal((2, 4)), normal((2, 3)), normal((3, 4))]),
    (
        "addmm_broadcast_scaled",
        lambda c, a, b: lib(a).addmm(c, a, b, beta=0.5, alpha=-2.0),
        [normal((4,)), normal((2, 3)), normal((3, 4))],
    ),
    ("mv", lambda a, b: a.mv(b), [normal((2, 3)), normal((3,))]),
    ("dot", lambda a, b: a.dot(b), [normal((3,)), normal((3,))]),
    ("matmul_vec_mat", lambda a, b: a @ b, [normal((3,)), normal((3, 2))]),
    ("matmul_batched", lambda a, b: a @ b, [normal((2, 1, 2, 3)), normal((3, 3, 2))]),
    ("matmul_fold", lambda a, b: a @ b, [normal((2, 2, 3)), normal((3,))]),
    ("view", lambda a: a.view(3, 2), [normal((2, 3))]),
    ("reshape", lambda a: a.t().reshape(6), [normal((2, 3))]),
    ("transpose", lambda a: a.transpose(0, 2), [normal((2, 3, 2))]),
    ("t", lambda a: a.t(), [normal((2, 3))]),
    ("T", lambda a: a.T, [normal((2, 3))]),
    ("mT", lambda a: a.mT, [normal((2, 2, 3))]),
    ("reshape_view", lambda a: a.reshape(3, 2), [normal((2, 3))]),
    ("broadcast_to", lambda a: a.broadcast_to((2, 3)), [normal((3,))]),
    ("select_method", lambda a: a.select(1, -1), [normal((2, 3))]),
    ("squeeze_dim", lambda a: a.squeeze(1), [normal((2, 1, 3))]),
    ("ellipsis_alias", lambda a: a[...], [normal((2, 3))]),
    ("permute", lambda a: a.permute(2, 0, 1), [normal((2, 3, 2))]),
    ("expand", lambda a: a.expand(2, 3, 4), [normal((3, 1))]),
    ("squeeze", lambda a: a.squeeze(), [normal((2, 1, 3))]),
    ("unsqueeze", lambda a: a.unsqueeze(1), [normal((2, 3))]),
    ("flatten", lambda a: a.flatten(1), [normal((2, 2, 3))]),
    ("narrow", lambda a: a.narrow(1, 1, 2), [normal((2, 4))]),
    ("slice_step", lambda a: a[:, 1::2], [normal((2, 5))]),
    ("select", lambda a: a[1], [normal((3, 2))]),
    ("basic_index", lambda a: a[1:, None, 0], [normal((3, 2))]),
    ("advanced_index", lambda a: a[[0, 2, 0]], [normal((3, 2))]),
    ("mask_index", lambda a: a[a > -0.75], [distinct((3, 2))]),
    ("unfold", lambda a: a.unfold(1, 3, 1), [normal((2, 5))]),
    ("as_strided", lambda a: a.as_strided((2, 2), (1, 2), 1), [normal((2, 3))]),
    ("cat", lambda a, b: lib(a).cat([a, b, a], 1), [normal((2, 1)), normal((2, 3))]),
    ("stack", lambda a, b: lib(a).stack([a, b], 1), [normal((2, 3)), normal((2, 3))]),
    ("to_float32", lambda a: a.to(lib(a).float32) * 2, [normal((3,))]),
    ("contiguous", lambda a: a.t().contiguous(), [normal((2, 3))]),
    ("clone", lambda a: a.clone(), [normal((2, 3))]),
    ("softmax", lambda a: lib(a).softmax(a, 1), [normal((2, 3))]),
    ("softmax_dim0", lambda a: a.softmax(0), [normal((3, 2))]),
    ("log_softmax", lambda a: lib(a).log_softmax(a, -1), [normal((2, 3))]),
    ("erf", lambda a: a.erf(), [normal((2, 3))]),
    ("erfc", lambda a: lib(a).erfc(a), [normal((2, 3))]),
    ("erfinv", lambda a: a.erfinv(), [between(-0.9, 0.9, (2, 3))]),
    ("log1p", lambda a: a.log1p(), [between(-0.5, 2.0, (2, 3))]),
    ("expm1", lambda a: a.expm1(), [normal((2, 3))]),
    ("tan", lambda a: a.tan(), [between(-1.2, 1.2, (2, 3))]),
    ("asin", lambda a: a.asin(), [between(-0.9, 0.9, (2, 3))]),
    ("acos", lambda a: a.acos(), [between(-0.9, 0.9, (2, 3))]),
    ("atan", lambda a: a.atan(), [normal((2, 3))]),
    ("sinh", lambda a: a.sinh(), [normal((2, 3))]),
    ("cosh", lambda a: a.cosh(), [normal((2, 3))]),
    ("asinh", lambda a: a.asinh(), [normal((2, 3))]),
    ("acosh", lambda a: a.acosh(), [between(1.5, 3.0, (2, 3))]),
    ("atanh", lambda a: a.atanh(), [between(-0.9, 0.9, (2, 3))]),
    ("floor", lambda a: (a * 10 + 0.5).floor() * a, [distinct((2, 3))]),
    ("ceil", lambda a: (a * 10 + 0.5).ceil() * a, [distinct((2, 3))]),
    ("trunc", lambda a: (a * 10 + 0.5).trunc() * a, [distinct((2, 3))]),
    ("frac", lambda a: a.frac(), [between(0.1, 0.9, (2, 3))]),
    ("nan_to_num", lambda a: a.nan_to_num(), [normal((2, 3))]),
    ("logsumexp", lambda a: a.logsumexp(1), [normal((2, 3))]),
    ("logsumexp_dims", lambda a: lib(a).logsumexp(a, (0, 2), keepdim=True), [normal((2, 3, 2))]),
    (
        "clamp_tensor_bounds",
        lambda a, b, c: a.clamp(b, c),
        [distinct((2, 3)), between(-0.95, -0.55, (3,)), between(-0.45, 0.05, (2, 1))],
    ),
    ("atan2", lambda a, b: lib(a).atan2(a, b), [normal((2, 3)), normal((3,))]),
    ("logaddexp", lambda a, b: a.logaddexp(b), [normal((2, 3)), normal((2, 1))]),
    ("hypot", lambda a, b: a.hypot(b), [normal((2, 3)), normal((3,))]),
    ("xlogy", lambda a, b: a.xlogy(b), [normal((2, 3)), positive((3,))]),
    ("xlogy_number_other", lambda a: a.xlogy(3.0), [normal((2, 3))]),
    ("xlogy_number_input", lambda a: lib(a).xlogy(2.0, a), [positive((2, 3))]),
    ("lerp", lambda a, b: a.lerp(b, 0.3), [normal((2, 3)), normal((3,))]),
    (
        "lerp_tensor_weight",
        lambda a, b, c: a.lerp(b, c),
        [normal((2, 3)), normal((3,)), between(0.0, 1.0, (2, 1))],
    ),
    ("copysign", lambda a, b: a.copysign(b), [normal((2, 3)), normal((3,))]),
    ("copysign_number", lambda a: a.copysign(-1.0), [normal((2, 3))]),
    ("fmod", lambda a, b: a.fmod(b), [between(0.6, 1.9, (2, 3)), between(0.5, 0.55, (3,))]),
    ("fmod_number", lambda a: lib(a).fmod(a, 0.7), [normal((2, 3))]),
    (
        "div_floor",
        lambda a, b: a.div(b, rounding_mode="floor") * a,
        [between(2.1, 2.9, (2, 3)), between(1.0, 1.05, (3,))],
    ),
    (
        "div_trunc",
        lambda a, b: lib(a).div(a, b, rounding_mode="trunc") * b,
        [between(-2.9, -2.1, (2, 3)), between(1.0, 1.05, (3,))],
    ),
    ("var_mean", lambda a: lib(a).var_mean(a, 1)[0] * lib(a).var_mean(a, 1)[1], [normal((2, 3))]),
    ("std_mean", lambda a: sum(lib(a).std_mean(a, 0, keepdim=True)), [normal((3, 2))]),
    ("vector_norm", lambda a: lib(a).linalg.vector_norm(a), [normal((2, 3))]),
    ("vector_norm_1_dim", lambda a: lib(a).linalg.vector_norm(a, 1, -1), [distinct((2, 3))]),
    ("vector_norm_3", lambda a: lib(a).linalg.vector_norm(a, 3, 0, True), [distinct((2, 3))]),
    ("vector_norm_half", lambda a: lib(a).linalg.vector_norm(a, 0.5, 1), [distinct((2, 3))]),
    (
        "vector_norm_inf",
        lambda a: lib(a).linalg.vector_norm(a, float("inf"), 1),
        [distinct((2, 3))],
    ),
    ("vector_norm_-inf", lambda a: lib(a).linalg.vector_norm(a, -float("inf")), [distinct((2, 3))]),
    ("vector_norm_0", lambda a: lib(a).linalg.vector_norm(a, 0) * a, [distinct((2, 3))]),
    ("norm_method", lambda a: a.norm(dim=(0, 2)), [normal((2, 3, 2))]),
    ("matrix_norm_fro", lambda a: lib(a).linalg.matrix_norm(a), [normal((2, 2, 3))]),
    ("matrix_norm_1", lambda a: lib(a).linalg.matrix_norm(a, 1), [normal((2, 2, 3))]),
    ("matrix_norm_-inf", lambda a: lib(a).linalg.matrix_norm(a, -float("inf")), [normal((3, 3))]),
    ("cross", lambda a, b: lib(a).linalg.cross(a, b), [normal((2, 3)), normal((1, 3))]),
    ("cross_dim", lambda a, b: a.cross(b, dim=0), [normal((3, 2)), normal((3, 2))]),
    ("outer", lambda a, b: a.outer(b), [normal((3,)), normal((2,))]),
    ("kron", lambda a, b: a.kron(b), [normal((2, 3)), normal((2, 1, 2))]),
    ("cdist", lambda a, b: cdist(a, b), [normal((3, 2)), normal((4, 2))]),
    ("cdist_p1_batched", lambda a, b: cdist(a, b, 1.0), [distinct((2, 3, 2)), normal((2, 2))]),
    (
        "einsum_matmul",
        lambda a, b: lib(a).einsum("ij,jk->ik", a, b),
        [normal((2, 3)), normal((3, 2))],
    ),
    (
        "einsum_batch",
        lambda a, b: lib(a).einsum("bij,bkj", a, b),
        [normal((2, 2, 3)), normal((2, 4, 3))],
    ),
    ("einsum_trace_diag", lambda a: lib(a).einsum("iij->j", a), [normal((3, 3, 2))]),
    (
        "einsum_three",
        lambda a, b, c: lib(a).einsum("...i,ij,j->...", a, b, c),
        [normal((2, 3)), normal((3, 2)), normal((2,))],
    ),
    ("cumsum", lambda a: a.cumsum(1), [normal((2, 3))]),
    ("cumsum_axis", lambda a: lib(a).cumsum(a, axis=-2), [normal((3, 2))]),
    ("cumprod", lambda a: a.cumprod(1), [normal((2, 4))]),
    ("cumprod_with_zeros", lambda a: (a * (a > -0.35)).cumprod(0), [distinct((5, 2))]),
    ("logcumsumexp", lambda a: a.logcumsumexp(0), [normal((3, 2))]),
    ("cummax", lambda a: a.cummax(1)[0], [distinct((2, 4))]),
    ("cummin", lambda a: lib(a).cummin(a, 0).values, [distinct((4, 2))]),
    ("flip", lambda a: a.flip(0, 2), [normal((2, 3, 2))]),
    ("fliplr", lambda a: lib(a).fliplr(a), [normal((2, 3))]),
    ("roll", lambda a: a.roll((1, -2), (0, 1)), [normal((2, 3))]),
    ("roll_flat", lambda a: lib(a).roll(a, 2), [normal((2, 3))]),
    ("rot90", lambda a: a.rot90(1, (0, 1)), [normal((2, 3))]),
    ("rot90_3", lambda a: lib(a).rot90(a, 3, (1, 0)), [normal((2, 3))]),
    ("movedim", lambda a: a.movedim((0, 1), (2, 0)), [normal((2, 3, 2))]),
    ("gather", lambda a: a.gather(1, lib(a).tensor([[2, 0], [1, 1]])), [normal((2, 3))]),
    (
        "take_along_dim",
        lambda a: lib(a).take_along_dim(a, lib(a).tensor([[0], [2]]), 1),
        [normal((2, 3))],
    ),
    ("take", lambda a: a.take(lib(a).tensor([[5, 0], [-1, 5]])), [normal((2, 3))]),
    ("index_select", lambda a: a.index_select(1, lib(a).tensor([2, 0, 2])), [normal((2, 3))]),
    ("masked_select", lambda a: a.masked_select(a[0] > 0), [distinct((2, 3))]),
    (
        "scatter",
        lambda a, b: a.scatter(1, lib(a).tensor([[2, 0], [1, 2]]), b),
        [normal((2, 3)), normal((2, 2))],  # torch's backward fails for a larger src
    ),
    ("scatter_value", lambda a: a.scatter(0, lib(a).tensor([[1, 0, 1]]), 2.5), [normal((2, 3))]),
    (
        "scatter_add",
        lambda a, b: a.scatter_add(1, lib(a).tensor([[2, 2], [1, 0]]), b),
        [normal((2, 3)), normal((2, 2))],
    ),
    (
        "index_add",
        lambda a, b: a.index_add(0, lib(a).tensor([1, 1, 0]), b, alpha=2.0),
        [normal((2, 3)), normal((3, 3))],
    ),
    (
        "index_copy",
        lambda a, b: a.index_copy(1, lib(a).tensor([2, 0]), b),
        [normal((2, 3)), normal((2, 2))],
    ),
    (
        "index_fill",
        lambda a, b: a.index_fill(1, lib(a).tensor([1]), b),
        [normal((2, 3)), normal(())],
    ),
    ("masked_fill", lambda a, b: a.masked_fill(a > 0, b), [distinct((2, 3)), normal(())]),
    (
        "masked_scatter",
        lambda a, b: a.masked_scatter(a > 0, b),
        [distinct((2, 3)), normal((2, 4))],
    ),
    (
        "index_put",
        lambda a, b: a.index_put((lib(a).tensor([0, 1]), lib(a).tensor([2, 2])), b),
        [normal((2, 3)), normal((2,))],
    ),
    (
        "index_put_accumulate",
        lambda a, b: a.index_put((lib(a).tensor([0, 0]),), b, accumulate=True),
        [normal((2, 3)), normal((3,))],
    ),
    (
        "scatter_reduce_sum",
        lambda a, b: a.scatter_reduce(1, lib(a).tensor([[2, 2], [0, 1]]), b, "sum"),
        [normal((2, 3)), normal((2, 2))],
    ),
    (
        "scatter_reduce_mean",
        lambda a, b: a.scatter_reduce(0, lib(a).tensor([[1, 1, 0]]), b, "mean", include_self=False),
        [normal((2, 3)), normal((1, 3))],
    ),
    (
        "scatter_reduce_prod",
        lambda a, b: scatter_prod(a, lib(a).tensor([[0, 0], [2, 1]]), b),
        [positive((2, 3)), positive((2, 2))],
    ),
    (
        "scatter_reduce_amax",
        lambda a, b: a.scatter_reduce(1, lib(a).tensor([[0, 0], [2, 1]]), b, "amax"),
        [distinct((2, 3)), between(-1.2, 0.5, (2, 2))],
    ),
    (
        "scatter_reduce_amin",
        lambda a, b: a.scatter_reduce(0, lib(a).tensor([[1, 0, 1]]), b, "amin", include_self=False),
        [distinct((2, 3)), normal((1, 3))],
    ),
    ("masked_fill_", lambda a: (a * 1.0).masked_fill_(a < 0, 0.5), [distinct((2, 3))]),
    ("tril", lambda a: a.tril(), [normal((3, 3))]),
    ("triu", lambda a: lib(a).triu(a, -1), [normal((2, 3, 4))]),
    ("diagonal", lambda a: a.diagonal(1, -1, 0), [normal((3, 2, 4))]),
    ("diag_vector", lambda a: lib(a).diag(a, -1), [normal((3,))]),
    ("diag_matrix", lambda a: a.diag(1), [normal((3, 4))]),
    ("diag_embed", lambda a: lib(a).diag_embed(a, 1, 0, 2), [normal((2, 3))]),
    ("trace", lambda a: a.trace(), [normal((3, 4))]),
    ("repeat", lambda a: a.repeat(2, 1, 3), [normal((2, 3))]),
    ("tile", lambda a: a.tile((2,)), [normal((2, 3))]),
    (
        "repeat_interleave",
        lambda a: a.repeat_interleave(lib(a).tensor([2, 0, 1]), dim=1),
        [normal((2, 3))],
    ),
    ("unflatten", lambda a: a.unflatten(1, (2, -1)), [normal((2, 6))]),
    ("split", lambda a: a.split([1, 3], 1)[1] * a.chunk(2, 1)[0].sum(), [normal((2, 4))]),
    ("tensor_split", lambda a: a.tensor_split([1, 3], 1)[1] * 2, [normal((2, 4))]),
    (
        "meshgrid",
        lambda a, b: sum(lib(a).meshgrid(a, b, indexing="xy")),
        [normal((3,)), normal((2,))],
    ),
    ("sort", lambda a: a.sort(1)[0], [distinct((2, 4))]),
    ("sort_descending", lambda a: lib(a).sort(a, 0, descending=True).values, [distinct((3, 2))]),
    ("topk", lambda a: a.topk(2, 1)[0], [distinct((2, 4))]),
    ("topk_smallest", lambda a: a.topk(2, 0, largest=False).values, [distinct((3, 2))]),
    ("kthvalue", lambda a: a.kthvalue(2, 1, keepdim=True)[0], [distinct((2, 4))]),
    ("median", lambda a: a.median(), [distinct((2, 3))]),
    ("median_dim", lambda a: a.median(0).values, [distinct((3, 2))]),
    ("mode", lambda a: lib(a).mode(a, 1)[0], [distinct((2, 3))]),
    ("setitem", set_first_row, [normal((3, 2)), normal((2,))]),
    ("copy_", copy_into, [normal((2, 3)), normal((3,))]),
]

# Table entries that OPS cannot differentiate, with the test that covers them instead.
NOT_IN_OPS = {
    "floor_divide": "its backward raises, like torch's (test_floor_divide_has_no_derivative)",
}

# Ops whose second derivative torch and the engine compute differently or not at all.
NO_DOUBLE_BACKWARD = {"to_float32"}
# Ops whose output torch computes from a strided input with different float rounding.
IDS = [name for name, _, _ in OPS]


def _inputs(generators, seed: int, contiguous: bool):
    rng = np.random.default_rng(seed)
    return [leaf_pair(generator(rng), contiguous) for generator in generators]


@pytest.mark.parametrize("contiguous", [True, False], ids=["contiguous", "strided"])
@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_gradient_matches_torch(name, function, generators, contiguous):
    pairs = _inputs(generators, len(name), contiguous)
    ours = [pair[0] for pair in pairs]
    theirs = [pair[1] for pair in pairs]
    output, torch_output = function(*ours), function(*theirs)
    rng = np.random.default_rng(1)
    upstream = rng.standard_normal(tuple(torch_output.shape))
    grad_output = engine.tensor(upstream, dtype=output.dtype)
    torch_grad_output = torch.tensor(upstream, dtype=torch_output.dtype)
    rtol = 1e-6 if name == "to_float32" else 1e-10
    assert_grads_match(
        autograd.grad(output, ours, grad_output, allow_unused=True),
        torch.autograd.grad(torch_output, theirs, torch_grad_output, allow_unused=True),
        rtol=rtol,
        atol=rtol * 1e-2,
    )


@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_gradcheck(name, function, generators):
    if name == "to_float32":
        pytest.skip("float32 in the middle: finite differences are too coarse")
    ours = [pair[0] for pair in _inputs(generators, len(name) + 7, True)]
    assert autograd.gradcheck(function, ours, eps=1e-6, atol=1e-6, rtol=1e-4)


# Ops gradgradcheck cannot check, with the reason.
NO_GRADGRADCHECK = {
    "to_float32": "float32 in the middle: finite differences of the first derivative are too "
    "coarse (and the generated grad_output is float32)",
}


# Engine bugs gradgradcheck finds (strict: the test fails once the bug is fixed, so the entry is
# removed then).
GRADGRADCHECK_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_gradgradcheck(name, function, generators, request):
    if name in NO_GRADGRADCHECK:
        pytest.skip(NO_GRADGRADCHECK[name])
    if name in GRADGRADCHECK_BUGS:
        request.applymarker(
            pytest.mark.xfail(reason=GRADGRADCHECK_BUGS[name], raises=RuntimeError, strict=True)
        )
    ours = [pair[0] for pair in _inputs(generators, len(name) + 11, True)]
    assert autograd.gradgradcheck(function, ours, eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_double_backward_matches_torch(name, function, generators):
    if name in NO_DOUBLE_BACKWARD:
        pytest.skip("not differentiable twice in the same way")
    pairs = _inputs(generators, len(name) + 3, True)
    ours = [pair[0] for pair in pairs]
    theirs = [pair[1] for pair in pairs]
    rng = np.random.default_rng(2)
    results = []
    for module, inputs in ((engine, ours), (torch, theirs)):
        output = function(*inputs)
        upstream = module.tensor(
            np.random.default_rng(3).standard_normal(tuple(output.shape)), dtype=output.dtype
        )
        grads = module.autograd.grad(output, inputs, upstream, create_graph=True)
        weights = [module.tensor(rng.standard_normal(tuple(g.shape)), dtype=g.dtype) for g in grads]
        rng = np.random.default_rng(2)
        total = sum(((g * w).sum() for g, w in zip(grads, weights, strict=True)), 0.0)
        if not total.requires_grad:
            # The first derivative does not depend on the inputs (a linear op, or a mask like
            # relu's): the second derivative is zero.
            results.append([None] * len(inputs))
            continue
        results.append(module.autograd.grad(total, inputs, allow_unused=True))
    torch_second = [
        # torch may answer with a lazy ZeroTensor, which cannot be converted to NumPy.
        torch.zeros_like(tensor) if grad is None or grad._is_zerotensor() else grad
        for grad, tensor in zip(results[1], theirs, strict=True)
    ]
    ours_second = [
        engine.zeros_like(tensor) if grad is None else grad
        for grad, tensor in zip(results[0], ours, strict=True)
    ]
    assert_grads_match(ours_second, torch_second, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    ("name", "function", "values"),
    [
        ("max_ties_split_evenly", lambda a: a.max(), [1.0, 3.0, 3.0]),
        ("min_ties_split_evenly", lambda a: a.min(), [2.0, 2.0, 5.0]),
        ("max_dim_ties_to_index", lambda a: a.max(0)[0], [1.0, 3.0, 3.0]),
        ("maximum_ties_halved", lambda a: lib(a).maximum(a, a * 0 + 3.0), [1.0, 3.0, 4.0]),
        ("clamp_bounds_inclusive", lambda a: a.clamp(1.0, 3.0), [1.0, 2.0, 3.0, 4.0]),
        ("relu_at_zero", lambda a: (a - 1).relu(), [0.0, 1.0, 2.0]),
        ("abs_at_zero", lambda a: a.abs(), [-1.0, 0.0, 1.0]),
        ("prod_with_one_zero", lambda a: a.prod(), [0.0, 2.0, 3.0]),
        ("prod_with_two_zeros", lambda a: a.prod(), [0.0, 2.0, 0.0]),
        ("prod_dim_with_zero", lambda a: a.view(2, 2).prod(1), [0.0, 2.0, 3.0, 4.0]),
        ("sqrt_at_zero", lambda a: a.sqrt(), [0.0, 4.0]),
        ("pow_zero_exponent", lambda a: a**0, [0.0, 2.0]),
        ("negative_base_to_tensor_power_is_nan", lambda a: (-2.0) ** a, [1.0, 2.0, 0.5]),
        ("negative_tensor_base_to_tensor_power", lambda a: a ** (a * 0 + 2.0), [-2.0, 3.0]),
    ],
)
def test_gradients_at_ties_and_kinks_match_torch(name, function, values):
    ours, theirs = leaf_pair(np.array(values))
    function(ours).sum().backward()
    function(theirs).sum().backward()
    assert_grads_match([ours.grad], [theirs.grad], rtol=0, atol=0)


def test_every_table_entry_is_exercised():
    """Each op of the derivative table records at least one node in the graphs of OPS, or in
    the graphs of their gradients (create_graph), where gather/scatter-add pairs appear."""
    from engine.autograd.function import BackwardNode
    from engine.ops.table import DERIVATIVES

    recorded = set()
    for name, function, generators in OPS:
        inputs = [pair[0] for pair in _inputs(generators, len(name), True)]
        output = function(*inputs)
        grad_output = engine.ones_like(output, requires_grad=True)
        grads = autograd.grad(output, inputs, grad_output, create_graph=True, allow_unused=True)
        for tensor in (output, *(grad for grad in grads if grad is not None)):
            if tensor.grad_fn is not None:
                recorded.update(
                    node._function
                    for node in autograd.graph.nodes(tensor)
                    if isinstance(node, BackwardNode)
                )
    missing = [
        name
        for name, entry in DERIVATIVES.items()
        if name not in NOT_IN_OPS and not recorded.intersection(entry.functions)
    ]
    assert not missing, f"table entries no test in OPS runs: {missing}"
