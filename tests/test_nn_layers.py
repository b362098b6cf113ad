"""engine.nn layers and engine.nn.functional against torch in float64: values and gradients
with weights copied from torch, gradcheck of every functional op, Dropout's statistics, and
the default initializations' distributions (the engine's generator is not torch's, so those
are compared as distributions, with KS tests on many draws)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import nn
from engine.autograd import gradcheck
from engine.nn import functional as F
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, same_error, to_engine

SETTINGS = settings(max_examples=25, deadline=None)


def pair(values, requires_grad=True):
    values = np.asarray(values, dtype=np.float64)
    return (
        engine.tensor(values, requires_grad=requires_grad),
        torch.tensor(values, requires_grad=requires_grad),
    )


def check_module(ours, theirs, *arrays, upstream_seed=0):
    """Same output and same gradients (inputs and parameters) for the same weights."""
    copy_weights(ours, theirs)
    inputs = [pair(a) for a in arrays]
    out = ours(*(a for a, _ in inputs))
    expected = theirs(*(b for _, b in inputs))
    assert_close(out, expected)
    upstream = np.random.default_rng(upstream_seed).standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for a, b in inputs:
        assert_close(a.grad, b.grad)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None, name
        assert_close(p.grad, q.grad)


batch_shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


@SETTINGS
@given(batch=batch_shapes, features=st.integers(1, 4), out=st.integers(1, 4), bias=st.booleans())
def test_linear_matches_torch(batch, features, out, bias):
    x = np.random.default_rng(features).standard_normal((*batch, features))
    check_module(nn.Linear(features, out, bias), torch.nn.Linear(features, out, bias), x)


@SETTINGS
@given(batch=batch_shapes, in1=st.integers(1, 3), in2=st.integers(1, 3), out=st.integers(1, 3))
def test_bilinear_matches_torch(batch, in1, in2, out):
    rng = np.random.default_rng(in1 * 10 + in2)
    x1, x2 = rng.standard_normal((*batch, in1)), rng.standard_normal((*batch, in2))
    check_module(nn.Bilinear(in1, in2, out), torch.nn.Bilinear(in1, in2, out), x1, x2)


def test_linear_and_bilinear_errors_match_torch():
    same_error(
        lambda: nn.Linear(2, 3)(engine.ones(4, 5)), lambda: torch.nn.Linear(2, 3)(torch.ones(4, 5))
    )
    for first, second in (((5, 3), (5, 3)), ((5, 2), (5, 2))):
        same_error(
            lambda a=first, b=second: nn.Bilinear(2, 3, 4)(engine.ones(*a), engine.ones(*b)),
            lambda a=first, b=second: torch.nn.Bilinear(2, 3, 4)(torch.ones(*a), torch.ones(*b)),
        )


@SETTINGS
@given(
    index_shape=st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple),
    padding_idx=st.sampled_from([None, 0, 2, -1]),
    seed=st.integers(0, 100),
)
def test_embedding_matches_torch(index_shape, padding_idx, seed):
    rng = np.random.default_rng(seed)
    ours = nn.Embedding(5, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    copy_weights(ours, theirs)
    indices = rng.integers(0, 5, size=index_shape)
    out = ours(engine.tensor(indices))
    expected = theirs(torch.tensor(indices))
    assert_close(out, expected)
    upstream = rng.standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad)
    assert ours.padding_idx == theirs.padding_idx


def test_embedding_padding_row_starts_at_zero_and_max_norm_renormalizes_like_torch():
    assert nn.Embedding(4, 3, padding_idx=1).weight[1].tolist() == [0.0, 0.0, 0.0]
    ours, theirs = nn.Embedding(6, 4, max_norm=1.0), torch.nn.Embedding(6, 4, max_norm=1.0)
    copy_weights(ours, theirs)
    indices = [[0, 2, 2], [5, 0, 1]]
    assert_close(ours(engine.tensor(indices)), theirs(torch.tensor(indices)))
    assert_close(ours.weight, theirs.weight)  # rows 0, 1, 2, 5 rescaled in place; 3, 4 not
    pretrained = nn.Embedding.from_pretrained(engine.ones(3, 2))
    assert not pretrained.weight.requires_grad and pretrained.weight.shape == (3, 2)


def test_embedding_errors_match_torch():
    same_error(
        lambda: nn.Embedding(4, 3)(engine.ones(2)), lambda: torch.nn.Embedding(4, 3)(torch.ones(2))
    )
    same_error(
        lambda: nn.Embedding(4, 3)(engine.tensor([7])),
        lambda: torch.nn.Embedding(4, 3)(torch.tensor([7])),
    )
    same_error(
        lambda: nn.Embedding(4, 3, padding_idx=5), lambda: torch.nn.Embedding(4, 3, padding_idx=5)
    )


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=2, max_size=4).map(tuple), data=st.data())
def test_flatten_unflatten_identity_match_torch(shape, data):
    start = data.draw(st.integers(-len(shape), len(shape) - 1))
    end = data.draw(st.integers(start % len(shape), len(shape) - 1))
    x = np.arange(math.prod(shape), dtype=np.float64).reshape(shape)
    ours, theirs = engine.tensor(x), torch.tensor(x)
    assert_close(nn.Flatten(start, end)(ours), torch.nn.Flatten(start, end)(theirs))
    assert nn.Identity(3, key=1)(ours) is ours
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    sizes = (1, size, 1) if data.draw(st.booleans()) else (-1, 1)
    result = nn.Unflatten(dim, sizes)(ours)
    assert_close(result, torch.nn.Unflatten(dim, sizes)(theirs))
    assert result.data_ptr() == ours.data_ptr()  # a view


# Points at every kink of the piecewise activations (0, +-1, +-3, 6), then random values.
KINKS = [-3.0, -1.0, 0.0, 1.0, 3.0, 6.0, -6.5, 7.0, 2.5, -0.5]
ACTIVATIONS = [
    ("ReLU", (), {}),
    ("ReLU6", (), {}),
    ("LeakyReLU", (0.2,), {}),
    ("Hardtanh", (-1.0, 3.0), {}),
    ("ELU", (0.7,), {}),
    ("CELU", (1.5,), {}),
    ("SELU", (), {}),
    ("SiLU", (), {}),
    ("Sigmoid", (), {}),
    ("Tanh", (), {}),
    ("Hardsigmoid", (), {}),
    ("Hardswish", (), {}),
    ("Softsign", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("GELU", (), {}),
    ("Softplus", (), {}),
    ("Softplus", (2.0, 6.0), {}),  # linear where 2x > 6: a kink at x = 3
    ("LogSigmoid", (), {}),
    ("Mish", (), {}),
    ("Tanhshrink", (), {}),
    ("Threshold", (1.0, -2.0), {}),
    ("Softshrink", (1.0,), {}),
    ("Hardshrink", (1.0,), {}),
    ("GLU", (0,), {}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": 0}),
    ("Softmin", (), {"dim": 1}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"), ACTIVATIONS, ids=[f"{a[0]}{a[1]}{a[2]}" for a in ACTIVATIONS]
)
def test_activation_modules_match_torch(name, args, kwargs):
    values = np.concatenate([KINKS, np.random.default_rng(0).standard_normal(10) * 4])
    values = values.reshape(4, 5)
    ours, theirs = pair(values)
    out = getattr(nn, name)(*args, **kwargs)(ours)
    expected = getattr(torch.nn, name)(*args, **kwargs)(theirs)
    assert_close(out, expected)
    upstream = np.random.default_rng(1).standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    assert_close(ours.grad, theirs.grad)


INPLACE = ["relu", "relu6", "leaky_relu", "hardtanh", "elu", "selu", "celu", "silu"]
INPLACE += ["hardsigmoid", "hardswish", "mish"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_activations_write_their_input_like_torch(name):
    values = np.array(KINKS)
    ours, theirs = pair(values)
    ours_view, theirs_view = ours * 1, theirs * 1  # non-leaves, which may be written in place
    result = getattr(F, name)(ours_view, inplace=True)
    expected = getattr(torch.nn.functional, name)(theirs_view, inplace=True)
    assert result is ours_view
    assert_close(ours_view, theirs_view)
    result.sum().backward()
    expected.sum().backward()
    assert_close(ours.grad, theirs.grad)


def gradcheck_inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    # Values away from kinks: finite differences across a kink are meaningless.
    return [
        engine.tensor(rng.uniform(0.1, 2.5, size=s) * rng.choice([-1, 1], size=s),
                      dtype=engine.float64, requires_grad=True)
        for s in shapes
    ]  # fmt: skip


FUNCTIONAL_GRADCHECKS = [
    ("linear", lambda x, w, b: F.linear(x, w, b), [(3, 4), (2, 4), (2,)]),
    ("linear_no_bias", lambda x, w: F.linear(x, w), [(2, 3, 4), (5, 4)]),
    ("bilinear", lambda a, b, w, c: F.bilinear(a, b, w, c), [(3, 2), (3, 4), (5, 2, 4), (5,)]),
    (
        "embedding",
        lambda w: F.embedding(engine.tensor([[0, 2], [2, 3]]), w),
        [(4, 3)],
    ),
    ("relu", F.relu, [(3, 4)]),
    ("relu6", F.relu6, [(3, 4)]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.3), [(3, 4)]),
    ("hardtanh", lambda x: F.hardtanh(x, -1.5, 2.0), [(3, 4)]),
    ("elu", lambda x: F.elu(x, 0.5), [(3, 4)]),
    ("celu", lambda x: F.celu(x, 2.0), [(3, 4)]),
    ("selu", F.selu, [(3, 4)]),
    ("silu", F.silu, [(3, 4)]),
    ("hardsigmoid", F.hardsigmoid, [(3, 4)]),
    ("hardswish", F.hardswish, [(3, 4)]),
    ("softsign", F.softsign, [(3, 4)]),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [(3, 4)]),
    ("softmin", lambda x: F.softmin(x, 1), [(3, 4)]),
    ("dropout", lambda x: (engine.manual_seed(3), F.dropout(x, 0.4))[1], [(3, 4)]),
    ("gelu", F.gelu, [(3, 4)]),
    ("softplus", lambda x: F.softplus(x, 1.5, 2.0), [(3, 4)]),
    ("logsigmoid", F.logsigmoid, [(3, 4)]),
    ("mish", F.mish, [(3, 4)]),
    ("tanhshrink", F.tanhshrink, [(3, 4)]),
    ("threshold", lambda x: F.threshold(x, 0.05, -3.0), [(3, 4)]),
    ("softshrink", lambda x: F.softshrink(x, 0.05), [(3, 4)]),
    ("hardshrink", lambda x: F.hardshrink(x, 0.05), [(3, 4)]),
    ("prelu", F.prelu, [(2, 3, 4), (3,)]),
    ("prelu_shared", F.prelu, [(2, 3), (1,)]),
    ("glu", lambda x: F.glu(x, 0), [(4, 3)]),
    ("normalize", lambda x: F.normalize(x, 3.0, 0), [(4, 3)]),
]


@pytest.mark.parametrize(
    ("name", "function", "shapes"), FUNCTIONAL_GRADCHECKS, ids=[c[0] for c in FUNCTIONAL_GRADCHECKS]
)
def test_functional_gradcheck(name, function, shapes):
    assert gradcheck(function, gradcheck_inputs(*shapes))


def test_prelu_module_matches_torch():
    x = np.concatenate([KINKS, np.random.default_rng(2).standard_normal(14)]).reshape(2, 3, 4)
    check_module(nn.PReLU(3, init=0.1), torch.nn.PReLU(3, init=0.1), x)
    check_module(nn.PReLU(), torch.nn.PReLU(), x)
    same_error(lambda: nn.PReLU(2)(engine.ones(2, 3)), lambda: torch.nn.PReLU(2)(torch.ones(2, 3)))


@pytest.mark.parametrize("name", ["elu", "celu", "selu", "softplus", "mish", "gelu", "silu"])
def test_activation_gradients_stay_finite_for_large_inputs_like_torch(name):
    ours, theirs = pair([-800.0, -40.0, 40.0, 800.0])
    getattr(F, name)(ours).sum().backward()
    getattr(torch.nn.functional, name)(theirs).sum().backward()
    assert_close(ours.grad, theirs.grad)


def test_normalize_matches_torch():
    values = np.random.default_rng(3).standard_normal((3, 4))
    values[1] = 0.0  # a zero vector stays zero
    ours, theirs = pair(values)
    out, expected = F.normalize(ours, dim=1), torch.nn.functional.normalize(theirs, dim=1)
    assert_close(out, expected)
    (out * engine.tensor(values + 1)).sum().backward()
    (expected * torch.tensor(values + 1)).sum().backward()
    assert_close(ours.grad, theirs.grad)


def test_activation_errors_match_torch():
    same_error(lambda: F.glu(engine.ones(3, 3)), lambda: torch.nn.functional.glu(torch.ones(3, 3)))
    same_error(
        lambda: F.hardtanh(engine.ones(2), 2.0, 1.0),
        lambda: torch.nn.functional.hardtanh(torch.ones(2), 2.0, 1.0),
    )
    same_error(lambda: nn.Hardtanh(2.0, 1.0), lambda: torch.nn.Hardtanh(2.0, 1.0))
    same_error(
        lambda: F.gelu(engine.ones(2), approximate="x"),
        lambda: torch.nn.functional.gelu(torch.ones(2), approximate="x"),
    )
    same_error(
        lambda: F.celu(engine.ones(2), 0.0), lambda: torch.nn.functional.celu(torch.ones(2), 0.0)
    )


def test_softmax_without_dim_picks_torchs_legacy_dim():
    for shape in ((3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        x = np.random.default_rng(0).standard_normal(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            ours = nn.Softmax()(engine.tensor(x))
        with pytest.warns(UserWarning, match="Implicit dimension choice"):
            expected = torch.nn.Softmax()(torch.tensor(x))
        assert_close(ours, expected)


def test_one_hot_is_torchs():
    indices = [[0, 2], [1, 1]]
    assert_close(F.one_hot(engine.tensor(indices), 4), torch.nn.functional.one_hot(
        torch.tensor(indices), 4))  # fmt: skip


# ----------------------------------------------------------------------------------- dropout
def test_dropout_zeroes_with_probability_p_and_scales_the_rest():
    engine.manual_seed(0)
    x = engine.ones(200, 100, dtype=engine.float64, requires_grad=True)
    y = F.dropout(x, p=0.3)
    values = y.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1 / 0.7}
    zeros = int((values == 0).sum())
    # Binomial(20000, 0.3): a 5-sigma band.
    assert abs(zeros - 6000) < 5 * math.sqrt(20000 * 0.3 * 0.7)
    y.sum().backward()
    assert_close(x.grad, engine.tensor(values))  # the gradient is the scaled mask
    assert abs(float(y.mean()) - 1.0) < 0.05  # expectation preserved


def test_dropout_modes_and_edge_probabilities_like_torch():
    x = engine.ones(4, 5, requires_grad=True)
    layer = nn.Dropout(0.5)
    assert layer.eval()(x) is x  # identity after eval()
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout(x, 1.0).abs().sum().item() == 0.0
    engine.manual_seed(1)
    first = F.dropout(x, 0.5)
    engine.manual_seed(1)
    assert first.tolist() == F.dropout(x, 0.5).tolist()  # the mask comes from the generator
    y = engine.ones(1000)
    engine.manual_seed(2)
    assert F.dropout(y, 0.5, inplace=True) is y and 0 < y.sum().item() < 2000
    for p in (-0.1, 1.1):
        same_error(lambda p=p: nn.Dropout(p), lambda p=p: torch.nn.Dropout(p))
        same_error(
            lambda p=p: F.dropout(engine.ones(2), p),
            lambda p=p: torch.nn.functional.dropout(torch.ones(2), p),
        )


# -------------------------------------------------------------------- default initializations
def ks_pvalue(values, distribution, *args):
    return scipy.stats.kstest(np.asarray(values, dtype=np.float64).ravel(), distribution, args=args)


def test_linear_default_init_is_torchs_uniform():
    engine.manual_seed(0)
    layer = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)
    for values in (layer.weight.detach().numpy(), layer.bias.detach().numpy()):
        assert np.abs(values).max() <= bound
        assert ks_pvalue(values, "uniform", -bound, 2 * bound).pvalue > 1e-3
    # The engine's draws are not torch's, so compare torch's law with a wrong one too.
    assert ks_pvalue(layer.weight.detach().numpy(), "uniform", -bound / 2, bound).pvalue < 1e-3


def test_bilinear_and_embedding_default_inits():
    engine.manual_seed(0)
    layer = nn.Bilinear(25, 4, 50)
    bound = 1 / math.sqrt(25)
    assert ks_pvalue(layer.weight.detach().numpy(), "uniform", -bound, 2 * bound).pvalue > 1e-3
    embedding = nn.Embedding(1000, 8)
    assert ks_pvalue(embedding.weight.detach().numpy(), "norm", 0.0, 1.0).pvalue > 1e-3
    assert ks_pvalue(embedding.weight.detach().numpy(), "norm", 0.0, 1.2).pvalue < 1e-3


def test_to_engine_helper_keeps_dtype():
    assert to_engine(torch.ones(2, dtype=torch.float64)).dtype is engine.float64


# ----------------------------------------------------------------------------- EmbeddingBag
BAG_CASES = [
    ({"mode": "sum"}, [[0, 2, 2, 5], [1, 0, 3, 3]], None, False),
    ({"mode": "mean"}, [[0, 2, 2, 5], [1, 0, 3, 3]], None, False),
    ({"mode": "max"}, [[0, 2, 2, 5], [1, 0, 3, 3]], None, False),
    ({"mode": "mean", "padding_idx": 2}, [[0, 2, 2, 5], [2, 2, 2, 2]], None, False),
    ({"mode": "max", "padding_idx": 0}, [0, 2, 2, 5, 1, 4], [0, 2, 2, 5], False),
    ({"mode": "sum", "include_last_offset": True}, [0, 2, 2, 5, 1, 4], [0, 2, 2, 5, 6], False),
    ({"mode": "mean", "max_norm": 0.5}, [[0, 2, 2, 5], [1, 0, 3, 3]], None, False),
    ({"mode": "sum"}, [[0, 2, 2, 5], [1, 0, 3, 3]], None, True),
    ({"mode": "sum"}, [0, 2, 2, 5, 1, 4], [0, 3], True),
]


@pytest.mark.parametrize(("options", "indices", "offsets", "weighted"), BAG_CASES)
def test_embedding_bag_matches_torch(options, indices, offsets, weighted):
    ours, theirs = nn.EmbeddingBag(6, 3, **options), torch.nn.EmbeddingBag(6, 3, **options)
    assert repr(ours) == repr(theirs)
    copy_weights(ours, theirs)
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(np.shape(indices)) if weighted else None
    ours_weights = None if weights is None else engine.tensor(weights, requires_grad=True)
    torch_weights = None if weights is None else torch.tensor(weights, requires_grad=True)
    out = ours(engine.tensor(indices), None if offsets is None else engine.tensor(offsets),
               ours_weights)  # fmt: skip
    expected = theirs(torch.tensor(indices), None if offsets is None else torch.tensor(offsets),
                      torch_weights)  # fmt: skip
    assert_close(out, expected)
    upstream = rng.standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad)
    if weighted:
        assert_close(ours_weights.grad, torch_weights.grad)


def test_scale_grad_by_freq_divides_by_the_batch_frequency():
    for padding_idx in (None, 0):
        ours = nn.Embedding(5, 2, scale_grad_by_freq=True, padding_idx=padding_idx)
        theirs = torch.nn.Embedding(5, 2, scale_grad_by_freq=True, padding_idx=padding_idx)
        copy_weights(ours, theirs)
        indices = [[0, 0, 1], [0, 2, 2]]
        out, expected = ours(engine.tensor(indices)), theirs(torch.tensor(indices))
        assert_close(out, expected)
        upstream = np.random.default_rng(0).standard_normal((2, 3, 2))
        (out * engine.tensor(upstream)).sum().backward()
        (expected * torch.tensor(upstream)).sum().backward()
        assert_close(ours.weight.grad, theirs.weight.grad)
    # EmbeddingBag: the documented rule (torch's CPU kernel scales by misaligned counts).
    bag = nn.EmbeddingBag(6, 1, mode="sum", scale_grad_by_freq=True)
    bag(engine.tensor([[0, 2, 2, 5], [1, 0, 3, 3]])).sum().backward()
    assert bag.weight.grad.reshape(-1).tolist() == [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]


BAG_ERRORS = [
    lambda lib: lib.nn.functional.embedding_bag(
        lib.tensor([[0, 1]]), lib.ones(3, 2), mode="mean",
        per_sample_weights=lib.ones(1, 2)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[0, 1]]), lib.ones(3, 2),
                                                lib.tensor([0])),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([0, 1]), lib.ones(3, 2)),
    lambda lib: lib.nn.functional.embedding_bag(lib.tensor([[0, 1]]), lib.ones(3, 2),
                                                mode="max", scale_grad_by_freq=True),
]  # fmt: skip


@pytest.mark.parametrize("call", BAG_ERRORS)
def test_embedding_bag_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))
