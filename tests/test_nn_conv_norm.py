"""engine.nn convolution, pooling and normalization against torch in float64: values and
gradients with copied weights (hypothesis over shapes and hyper-parameters), gradcheck of the
functional forms, BatchNorm's running statistics and modes, errors and reprs."""

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
from tests.nn_helpers import copy_weights, same_error

SETTINGS = settings(max_examples=25, deadline=None)


def pair(values):
    values = np.asarray(values, dtype=np.float64)
    return engine.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)


def compare(ours_fn, torch_fn, *arrays, seed=0):
    """Same values and same gradients of every input for the same upstream gradient."""
    inputs = [pair(a) for a in arrays]
    out = ours_fn(*(a for a, _ in inputs))
    expected = torch_fn(*(b for _, b in inputs))
    assert_close(out, expected)
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for a, b in inputs:
        assert_close(a.grad, b.grad)


def compare_module(ours, theirs, x, seed=0):
    """Module outputs and gradients (input and parameters) with torch's weights."""
    copy_weights(ours, theirs)
    compare(ours, theirs, x, seed=seed)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None, name
        assert_close(p.grad, q.grad)


@st.composite
def conv_cases(draw, dims):
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    same = draw(st.booleans()) and draw(st.booleans())
    stride = (1,) * dims if same else tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = "same" if same else tuple(draw(st.integers(0, 2)) for _ in range(dims))
    spatial = tuple(
        draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 4))
        for k, d in zip(kernel, dilation, strict=True)
    )
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return in_channels, out_channels, kernel, options, (*batch, in_channels, *spatial)


@SETTINGS
@given(case=conv_cases(2), bias=st.booleans())
def test_conv2d_matches_torch(case, bias):
    in_channels, out_channels, kernel, options, shape = case
    x = np.random.default_rng(len(shape)).standard_normal(shape)
    ours = nn.Conv2d(in_channels, out_channels, kernel, bias=bias, **options)
    theirs = torch.nn.Conv2d(in_channels, out_channels, kernel, bias=bias, **options)
    compare_module(ours, theirs, x)


@SETTINGS
@given(case=conv_cases(1))
def test_conv1d_matches_torch(case):
    in_channels, out_channels, kernel, options, shape = case
    x = np.random.default_rng(1).standard_normal(shape)
    ours = nn.Conv1d(in_channels, out_channels, kernel, **options)
    theirs = torch.nn.Conv1d(in_channels, out_channels, kernel, **options)
    compare_module(ours, theirs, x)


CONV_ERRORS = [
    lambda lib: lib.nn.functional.conv2d(lib.ones(1, 2, 5, 5), lib.ones(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv2d(lib.ones(1, 4, 5, 5), lib.ones(3, 2, 3, 3), groups=2),
    lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 2, 2), lib.ones(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv2d(
        lib.ones(1, 3, 5, 5), lib.ones(4, 3, 3, 3), padding="same", stride=2
    ),
    lambda lib: lib.nn.functional.conv2d(lib.ones(1, 3, 5, 5), lib.ones(4, 3, 3, 3), padding="x"),
    lambda lib: lib.nn.functional.conv2d(lib.ones(3, 5), lib.ones(4, 3, 3, 3)),
    lambda lib: lib.nn.functional.conv1d(lib.ones(1, 3, 5), lib.ones(4, 3, 3), stride=0),
    lambda lib: lib.nn.Conv2d(3, 4, 3, groups=2),
    lambda lib: lib.nn.Conv2d(4, 3, 3, groups=2),
    lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 5, 5), 3, padding=2),
    lambda lib: lib.nn.functional.max_pool2d(lib.ones(1, 1, 2, 2), 3),
    lambda lib: lib.nn.functional.avg_pool2d(lib.ones(1, 1, 5, 5), 3, padding=2),
    lambda lib: lib.nn.functional.adaptive_avg_pool2d(lib.ones(1, 1, 5, 5), (2, 2, 2)),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 2), (1,)),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 2), (1, 1, 1, 1, 1, 1)),
    lambda lib: lib.nn.functional.batch_norm(
        lib.ones(1, 3), lib.zeros(3), lib.ones(3), training=True
    ),
    lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 5)),
    lambda lib: lib.nn.functional.layer_norm(lib.ones(2, 4), [3]),
    lambda lib: lib.nn.functional.group_norm(lib.ones(2, 3, 4), 2),
    lambda lib: lib.nn.GroupNorm(2, 3),
]


@pytest.mark.parametrize("call", CONV_ERRORS)
def test_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


@st.composite
def pool_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = draw(st.sampled_from([None, 1, 2, (2, 1)]))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    spatial = tuple(draw(st.integers(k + 2, k + 5)) for k in kernel)
    batch = draw(st.sampled_from([(1, 2), (2, 1), (3,)]))
    return kernel, stride, padding, ceil_mode, (*batch, *spatial)


@SETTINGS
@given(case=pool_cases(), dilation=st.integers(1, 2), count_include_pad=st.booleans())
def test_pooling_matches_torch(case, dilation, count_include_pad):
    kernel, stride, padding, ceil_mode, shape = case
    x = np.random.default_rng(sum(shape)).standard_normal(shape)
    compare(
        lambda a: F.max_pool2d(a, kernel, stride, padding, dilation, ceil_mode),
        lambda a: torch.nn.functional.max_pool2d(a, kernel, stride, padding, dilation, ceil_mode),
        x,
    )
    options = dict(ceil_mode=ceil_mode, count_include_pad=count_include_pad)
    compare(
        lambda a: F.avg_pool2d(a, kernel, stride, padding, **options),
        lambda a: torch.nn.functional.avg_pool2d(a, kernel, stride, padding, **options),
        x,
    )


def test_pooling_modules_indices_ties_and_divisor_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    values, indices = nn.MaxPool2d(3, 2, 1, return_indices=True)(engine.tensor(x))
    expected_values, expected_indices = torch.nn.MaxPool2d(3, 2, 1, return_indices=True)(
        torch.tensor(x)
    )
    assert_close(values, expected_values)
    assert_close(indices, expected_indices)
    # Ties: the gradient goes to the first maximum of each window, as torch's.
    compare(nn.MaxPool2d(2, 1), torch.nn.MaxPool2d(2, 1), np.ones((1, 1, 4, 4)))
    compare(nn.AvgPool2d(2, divisor_override=3), torch.nn.AvgPool2d(2, divisor_override=3), x)
    compare(nn.AvgPool2d(3, 2, 1), torch.nn.AvgPool2d(3, 2, 1), x[0])  # unbatched


@pytest.mark.parametrize("size", [(3, 4), 2, (None, 4), (7, 6), (1, 1), (5, 4)])
def test_adaptive_avg_pool_matches_torch(size):
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6))
    compare(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size), x)


def test_pad_matches_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    for amounts in [(1, 2), (0, 0, 2, 1), (1, -2, -1, 3), (1, 1, 1, 1, 1, 1)]:
        compare(
            lambda a, p=amounts: F.pad(a, p, value=1.5),
            lambda a, p=amounts: torch.nn.functional.pad(a, p, value=1.5),
            x,
        )


def bn_pair(kind, *args, **kwargs):
    return getattr(nn, kind)(*args, **kwargs), getattr(torch.nn, kind)(*args, **kwargs)


@pytest.mark.parametrize(
    ("kind", "shape", "kwargs"),
    [
        ("BatchNorm1d", (6, 3), {}),
        ("BatchNorm1d", (4, 3, 5), {"momentum": 0.3}),
        ("BatchNorm2d", (2, 3, 4, 5), {}),
        ("BatchNorm2d", (2, 3, 2, 2), {"momentum": None}),
        ("BatchNorm2d", (2, 3, 2, 2), {"affine": False}),
        ("BatchNorm1d", (5, 3), {"bias": False}),
        ("BatchNorm1d", (5, 3), {"track_running_stats": False}),
    ],
)
def test_batch_norm_training_and_eval_match_torch(kind, shape, kwargs):
    ours, theirs = bn_pair(kind, 3, **kwargs)
    with torch.no_grad():  # non-trivial affine parameters and running statistics
        for parameter in theirs.parameters():
            parameter.uniform_(0.5, 1.5)
    copy_weights(ours, theirs)
    rng = np.random.default_rng(0)
    for step in range(3):  # training steps move the running statistics
        compare_module(ours, theirs, rng.standard_normal(shape) * 2 + 1, seed=step)
        for (name, buffer), (_, expected) in zip(
            ours.named_buffers(), theirs.named_buffers(), strict=True
        ):
            assert buffer is not None, name
            assert_close(buffer, expected)
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, rng.standard_normal(shape))
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_batch_norm_running_variance_is_unbiased_and_eval_keeps_statistics():
    layer = nn.BatchNorm1d(1, momentum=1.0)
    layer(engine.tensor([[1.0], [2.0], [3.0], [6.0]]))
    assert layer.running_mean.tolist() == [3.0]
    assert layer.running_var.tolist() == pytest.approx([14.0 / 3])  # sum of squares / (n - 1)
    assert layer.num_batches_tracked.item() == 1
    layer.eval()
    before = layer.running_mean.tolist()
    out = layer(engine.tensor([[3.0], [3.0 + math.sqrt(14.0 / 3)]]))
    assert out.reshape(-1).tolist() == pytest.approx([0.0, 1.0], abs=1e-5)
    assert layer.running_mean.tolist() == before and layer.num_batches_tracked.item() == 1


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple), data=st.data())
def test_layer_norm_matches_torch(shape, data):
    normalized = shape[data.draw(st.integers(1, len(shape) - 1)) :]
    affine, bias = data.draw(st.booleans()), data.draw(st.booleans())
    ours = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.uniform_(0.5, 1.5)
    compare_module(ours, theirs, np.random.default_rng(len(shape)).standard_normal(shape))


@pytest.mark.parametrize(
    ("groups", "shape", "affine"),
    [(2, (2, 4, 3), True), (1, (3, 6), True), (3, (2, 6, 2, 2), False)],
)
def test_group_norm_matches_torch(groups, shape, affine):
    ours, theirs = (
        nn.GroupNorm(groups, shape[1], affine=affine),
        torch.nn.GroupNorm(groups, shape[1], affine=affine),
    )
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.uniform_(0.5, 1.5)
    compare_module(ours, theirs, np.random.default_rng(0).standard_normal(shape))


def inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [
        engine.tensor(rng.standard_normal(s), dtype=engine.float64, requires_grad=True)
        for s in shapes
    ]


GRADCHECKS = [
    (
        "conv1d",
        lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1),
        [(1, 2, 5), (3, 2, 2), (3,)],
    ),
    (
        "conv2d",
        lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, dilation=(1, 2), groups=2),
        [(1, 4, 4, 5), (2, 2, 2, 2)],
    ),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, 1, 1), [(1, 2, 3, 3)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True), [(1, 2, 4, 4)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), [(1, 2, 3, 4)]),
    (
        "batch_norm",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(3, 2, 2), (2,), (2,)],
    ),
    (
        "batch_norm_eval",
        lambda x: F.batch_norm(
            x,
            engine.tensor([0.5, -1.0], dtype=engine.float64),
            engine.tensor([2.0, 0.5], dtype=engine.float64),
        ),
        [(3, 2)],
    ),  # fmt: skip
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (3,), w, b), [(2, 3), (3,), (3,)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 2), (4,), (4,)]),
    ("pad", lambda x: F.pad(x, (1, -1, 2, 0), value=3.0), [(2, 3)]),
]


@pytest.mark.parametrize(("name", "function", "shapes"), GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_functional_gradcheck(name, function, shapes):
    assert gradcheck(function, inputs(*shapes))


def test_conv_default_init_is_torchs_uniform():
    engine.manual_seed(0)
    layer = nn.Conv2d(8, 64, 3)
    bound = 1 / math.sqrt(8 * 9)
    weight = layer.weight.detach().numpy().ravel()
    assert np.abs(weight).max() <= bound
    assert scipy.stats.kstest(weight, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    assert scipy.stats.kstest(weight, "uniform", args=(-bound / 2, bound)).pvalue < 1e-3
    assert layer.weight.shape == (64, 8, 3, 3) and layer.bias.abs().max().item() <= bound


def test_reprs_match_torch():
    def layers(lib):
        n = lib.nn
        return n.Sequential(
            n.Conv2d(3, 8, 3),
            n.Conv2d(4, 8, (3, 5), stride=2, padding=1, dilation=2, groups=2, bias=False),
            n.Conv1d(3, 8, 3, padding="same"),
            n.MaxPool2d(2),
            n.MaxPool2d((2, 3), stride=1, padding=1, dilation=2, ceil_mode=True),
            n.AvgPool2d(2),
            n.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            n.AdaptiveAvgPool2d((2, None)),
            n.AdaptiveAvgPool2d(3),
            n.BatchNorm2d(8),
            n.BatchNorm1d(3, momentum=None, affine=False, track_running_stats=False),
            n.LayerNorm(4),
            n.LayerNorm([2, 3], elementwise_affine=False, bias=False),
            n.GroupNorm(2, 4),
            n.GroupNorm(2, 4, affine=False),
        )

    assert repr(layers(engine)) == repr(layers(torch))
    assert list(layers(engine).state_dict()) == list(layers(torch).state_dict())


def test_a_small_convnet_trains_like_torch():
    def make(lib):
        n = lib.nn
        return n.Sequential(
            n.Conv2d(1, 4, 3, padding=1),
            n.BatchNorm2d(4),
            n.ReLU(),
            n.MaxPool2d(2),
            n.Conv2d(4, 4, 3, groups=2),
            n.GroupNorm(2, 4),
            n.AdaptiveAvgPool2d(1),
            n.Flatten(),
            n.Linear(4, 3),
        )

    ours, theirs = make(engine), make(torch)
    copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((4, 1, 8, 8))
    compare_module(ours, theirs, x)
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, x, seed=1)


def test_normalization_layers_start_like_torch():
    for make in (
        lambda lib: lib.nn.BatchNorm2d(3),
        lambda lib: lib.nn.LayerNorm((2, 3)),
        lambda lib: lib.nn.GroupNorm(2, 4),
    ):
        ours, theirs = make(engine).state_dict(), make(torch).state_dict()
        assert list(ours) == list(theirs)
        for key in ours:
            assert_close(ours[key], theirs[key])


ONE_D_POOLS = [
    ("MaxPool1d", (3,), {"stride": 2, "padding": 1}),
    ("MaxPool1d", (2,), {"dilation": 2, "ceil_mode": True}),
    ("AvgPool1d", (3, 2, 1), {}),
    ("AvgPool1d", (3, 2, 1), {"count_include_pad": False, "ceil_mode": True}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool1d", (4,), {}),
    ("AdaptiveMaxPool2d", ((2, 3),), {}),
    ("AdaptiveMaxPool2d", ((None, 2),), {}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), ONE_D_POOLS, ids=[p[0] for p in ONE_D_POOLS])
def test_more_pooling_modules_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    shape = (2, 3, 5, 7) if name.endswith("2d") else (2, 3, 10)
    compare(ours, theirs, np.random.default_rng(0).standard_normal(shape))


@pytest.mark.parametrize(
    "call",
    [lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, (2, 3), return_indices=True),
     lambda lib, x: lib.nn.functional.adaptive_max_pool1d(x.flatten(-2), 4, return_indices=True),
     lambda lib, x: lib.nn.functional.max_pool1d(x.flatten(-2), 3, 2, 1, return_indices=True)],
)  # fmt: skip
def test_pooling_indices_match_torch(call):
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 7))
    ours, theirs = call(engine, engine.tensor(x)), call(torch, torch.tensor(x))
    assert_close(ours[0], theirs[0])
    assert_close(ours[1], theirs[1])


@pytest.mark.parametrize(
    "options",
    [{"size": 8, "mode": "nearest-exact"}, {"scale_factor": 1.7, "mode": "nearest-exact"},
     {"size": 3, "mode": "area"}, {"size": 4, "mode": "area"}],
)  # fmt: skip
def test_interpolate_nearest_exact_and_area_match_torch(options):
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    compare(
        lambda a: F.interpolate(a, **options),
        lambda a: torch.nn.functional.interpolate(a, **options),
        x,
    )
    size = options.get("size")
    options_2d = dict(options, size=(size, size + 1)) if size else options
    compare(
        lambda a: F.interpolate(a, **options_2d),
        lambda a: torch.nn.functional.interpolate(a, **options_2d),
        np.random.default_rng(1).standard_normal((1, 2, 5, 6)),
    )


def test_adaptive_max_pool_gradcheck():
    x = engine.tensor(np.random.default_rng(2).standard_normal((1, 2, 5, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (x,))
    assert gradcheck(lambda t: F.max_pool1d(t.flatten(-2), 3, 2, 1), (x,))


@pytest.mark.parametrize(
    ("kind", "options"),
    [("Conv3d", {"stride": (1, 2, 1), "padding": 1, "groups": 2}),
     ("Conv3d", {"padding": "same", "dilation": 2, "padding_mode": "reflect"}),
     ("ConvTranspose3d", {"stride": 2, "output_padding": 1, "groups": 2})],
)  # fmt: skip
def test_3d_convolutions_match_torch(kind, options):
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 4, 5))
    compare_module(
        getattr(nn, kind)(4, 6, 2, **options), getattr(torch.nn, kind)(4, 6, 2, **options), x
    )


@pytest.mark.parametrize(
    ("kind", "shape", "kwargs"),
    [
        ("InstanceNorm1d", (2, 3, 5), {}),
        ("InstanceNorm1d", (3, 5), {"affine": True}),  # unbatched
        ("InstanceNorm2d", (2, 3, 4, 5), {"affine": True, "track_running_stats": True}),
        ("InstanceNorm3d", (2, 3, 2, 3, 2), {"track_running_stats": True, "momentum": 0.3}),
        ("BatchNorm3d", (2, 3, 2, 3, 2), {}),
    ],
)
def test_instance_norm_and_batch_norm_3d_match_torch(kind, shape, kwargs):
    ours, theirs = bn_pair(kind, 3, **kwargs)
    assert repr(ours) == repr(theirs)
    with torch.no_grad():
        for parameter in theirs.parameters():
            parameter.uniform_(0.5, 1.5)
    copy_weights(ours, theirs)
    rng = np.random.default_rng(0)
    for step in range(2):
        compare_module(ours, theirs, rng.standard_normal(shape) * 2 + 1, seed=step)
        for (_, buffer), (_, expected) in zip(
            ours.named_buffers(), theirs.named_buffers(), strict=True
        ):
            assert_close(buffer, expected)
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, rng.standard_normal(shape))


INSTANCE_ERRORS = [
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 4, 5)),
    lambda lib: lib.nn.InstanceNorm1d(3)(lib.ones(2, 3, 1)),
    lambda lib: lib.nn.InstanceNorm1d(4, affine=True)(lib.ones(2, 3, 5)),
    lambda lib: lib.nn.BatchNorm3d(3)(lib.ones(2, 3, 4)),
]


@pytest.mark.parametrize("call", INSTANCE_ERRORS)
def test_instance_norm_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


def test_instance_norm_warns_like_torch_on_a_channel_mismatch():
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(engine.randn(2, 3, 5))
    x = engine.tensor(np.random.default_rng(0).standard_normal((2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.instance_norm(t), (x,))


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    [("MaxPool3d", (2,), {"stride": 1, "padding": 1}),
     ("MaxPool3d", ((2, 3, 2),), {"ceil_mode": True, "dilation": (1, 1, 2)}),
     ("AvgPool3d", (3, 2, 1), {"count_include_pad": False}),
     ("AvgPool3d", (2,), {"ceil_mode": True, "divisor_override": 3})],
)  # fmt: skip
def test_3d_pooling_matches_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 5, 5))
    compare(ours, theirs, x)
    compare(ours, theirs, x[0])  # unbatched
    values, indices = F.max_pool3d(engine.tensor(x), 2, 1, 1, return_indices=True)
    expected_values, expected_indices = torch.nn.functional.max_pool3d(
        torch.tensor(x), 2, 1, 1, return_indices=True
    )
    assert_close(values, expected_values)
    assert_close(indices, expected_indices)
