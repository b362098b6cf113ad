"""engine.nn transposed convolutions, padding modes, unfold/fold, pixel shuffles, max unpooling
and interpolation against torch in float64: values, gradients (hypothesis over the
transposed convolution's hyper-parameters), gradcheck, errors and reprs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import nn
from engine.autograd import gradcheck
from engine.nn import functional as F
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, same_error

tF = torch.nn.functional


def compare(ours_fn, torch_fn, *arrays, seed=0):
    pairs = [(engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
             for a in arrays]  # fmt: skip
    out = ours_fn(*(a for a, _ in pairs))
    expected = torch_fn(*(b for _, b in pairs))
    assert_close(out, expected)
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for a, b in pairs:
        assert_close(a.grad, b.grad)


def compare_module(ours, theirs, *arrays):
    copy_weights(ours, theirs)
    compare(ours, theirs, *arrays)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None, name
        assert_close(p.grad, q.grad)


@settings(max_examples=25, deadline=None)
@given(
    dims=st.sampled_from([1, 2]),
    groups=st.integers(1, 2),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 2),
    padding=st.integers(0, 2),
    extra=st.integers(0, 1),
    size=st.integers(1, 4),
    bias=st.booleans(),
)
def test_conv_transpose_matches_torch(
    dims, groups, kernel, stride, dilation, padding, extra, size, bias
):
    output_padding = extra if extra < max(stride, dilation) else 0
    name = f"ConvTranspose{dims}d"
    options = dict(stride=stride, padding=padding, output_padding=output_padding,
                   groups=groups, bias=bias, dilation=dilation)  # fmt: skip
    out_size = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if out_size <= 0:
        return
    ours = getattr(nn, name)(2 * groups, 3 * groups, kernel, **options)
    theirs = getattr(torch.nn, name)(2 * groups, 3 * groups, kernel, **options)
    x = np.random.default_rng(size).standard_normal((2, 2 * groups, *(size,) * dims))
    compare_module(ours, theirs, x)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("amounts", [(2, 1), (1, 0, 2, 2), (0, 3, 1, 1)])
def test_pad_modes_match_torch(mode, amounts):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    if mode != "constant" and len(amounts) == 2:
        x = x[0]  # torch pads one dim of 2-D or 3-D inputs only (other cases: ERRORS)
    compare(lambda a: F.pad(a, amounts, mode), lambda a: tF.pad(a, amounts, mode), x)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_match_torch(mode):
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 6))
    compare_module(
        nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode),
        torch.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode),
        x,
    )
    compare_module(
        nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode, dilation=2),
        torch.nn.Conv1d(2, 3, 4, padding="same", padding_mode=mode, dilation=2),
        x[:, :, 0],
    )


@pytest.mark.parametrize(
    "options",
    [{"kernel_size": 2}, {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": 2}],
)
def test_unfold_and_fold_match_torch(options):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    compare(nn.Unfold(**options), torch.nn.Unfold(**options), x)
    columns = tF.unfold(torch.tensor(x), **options).numpy()
    compare(nn.Fold((5, 6), **options), torch.nn.Fold((5, 6), **options), columns)
    compare(lambda a: F.unfold(a, **options), lambda a: tF.unfold(a, **options), x[0])


def test_pixel_shuffles_and_unpool_match_torch():
    rng = np.random.default_rng(0)
    compare(nn.PixelShuffle(2), torch.nn.PixelShuffle(2), rng.standard_normal((2, 8, 3, 2)))
    compare(nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2), rng.standard_normal((3, 2, 4, 6)))
    x = rng.standard_normal((2, 3, 5, 6))
    values, indices = tF.max_pool2d(torch.tensor(x), 2, return_indices=True)
    ours_indices = engine.tensor(indices.numpy())
    compare(
        lambda a: nn.MaxUnpool2d(2)(a, ours_indices),
        lambda a: torch.nn.MaxUnpool2d(2)(a, indices),
        values.numpy(),
    )
    compare(
        lambda a: F.max_unpool2d(a, ours_indices, 2, output_size=(5, 6)),
        lambda a: tF.max_unpool2d(a, indices, 2, output_size=(5, 6)),
        values.numpy(),
    )


INTERPOLATIONS = [
    {"scale_factor": 2},
    {"size": (7, 4)},
    {"scale_factor": 1.7},
    {"size": (3, 11), "mode": "bilinear"},
    {"scale_factor": (1.5, 0.6), "mode": "bilinear"},
    {"size": (8, 9), "mode": "bilinear", "align_corners": True},
    {"scale_factor": 2.5, "mode": "bilinear", "recompute_scale_factor": True},
    {"size": (7, 4), "mode": "bicubic"},
    {"scale_factor": (2.5, 0.5), "mode": "bicubic"},
    {"size": (8, 9), "mode": "bicubic", "align_corners": True},
]


@pytest.mark.parametrize("options", INTERPOLATIONS, ids=[str(o) for o in INTERPOLATIONS])
def test_interpolate_matches_torch(options):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6))
    compare(lambda a: F.interpolate(a, **options), lambda a: tF.interpolate(a, **options), x)
    upsample = {k: v for k, v in options.items() if k != "recompute_scale_factor"}
    compare(nn.Upsample(**upsample), torch.nn.Upsample(**upsample), x)
    compare(
        lambda a: F.interpolate(a, size=9, mode="linear"),
        lambda a: tF.interpolate(a, size=9, mode="linear"),
        x[0],
    )


@pytest.mark.parametrize(
    "module",
    ["ZeroPad2d", "ZeroPad1d", "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d",
     "ReplicationPad2d", "CircularPad1d", "CircularPad2d"],
)  # fmt: skip
def test_padding_modules_match_torch(module):
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    if module.endswith("1d"):
        x = x[0]
    amounts = (1, 2) if module.endswith("1d") else (1, 0, 2, 1)
    compare(getattr(nn, module)(amounts), getattr(torch.nn, module)(amounts), x)
    compare(getattr(nn, module)(1), getattr(torch.nn, module)(1), x)
    compare(nn.ConstantPad2d(1, 3.5), torch.nn.ConstantPad2d(1, 3.5), x)


GRADCHECKS = [
    ("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1,
                                                         output_padding=1, groups=2),
     [(1, 4, 2, 3), (4, 1, 3, 2)]),
    ("conv_transpose1d", lambda x, w, b: F.conv_transpose1d(x, w, b, dilation=2),
     [(2, 3), (2, 2, 2), (2,)]),
    ("pad_reflect", lambda x: F.pad(x, (2, 1, 0, 1), mode="reflect"), [(1, 3, 4)]),
    ("pad_circular", lambda x: F.pad(x, (2, 1), mode="circular"), [(2, 3)]),
    ("unfold", lambda x: F.unfold(x, 2, padding=1, stride=2), [(1, 2, 3, 3)]),
    ("fold", lambda x: F.fold(x, (3, 3), 2), [(1, 8, 4)]),
    ("pixel_shuffle", lambda x: F.pixel_shuffle(x, 2), [(1, 4, 2, 2)]),
    ("interpolate_bilinear", lambda x: F.interpolate(x, scale_factor=1.5, mode="bilinear"),
     [(1, 1, 3, 2)]),
    ("interpolate_nearest", lambda x: F.interpolate(x, size=(5, 3)), [(1, 1, 3, 2)]),
    ("interpolate_bicubic", lambda x: F.interpolate(x, size=(4, 5), mode="bicubic"),
     [(1, 1, 3, 2)]),
    ("interpolate_linear_corners", lambda x: F.interpolate(x, size=5, mode="linear",
                                                           align_corners=True), [(1, 2, 3)]),
    ("pixel_unshuffle", lambda x: F.pixel_unshuffle(x, 2), [(1, 1, 4, 2)]),
    ("max_unpool2d", lambda x: F.max_unpool2d(x, engine.tensor([[[[0, 3], [9, 14]]]]), 2),
     [(1, 1, 2, 2)]),
    ("embedding_bag", lambda w, s: F.embedding_bag(engine.tensor([0, 2, 2, 1, 3]), w,
                                                   engine.tensor([0, 2]), mode="sum",
                                                   per_sample_weights=s), [(4, 2), (5,)]),
    ("embedding_bag_max", lambda w: F.embedding_bag(engine.tensor([[0, 2], [1, 3]]), w,
                                                    mode="max"), [(4, 2)]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "function", "shapes"), GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_functional_gradcheck(name, function, shapes):
    rng = np.random.default_rng(0)
    inputs = [engine.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradcheck(function, inputs)


ERRORS = [
    lambda lib: lib.nn.functional.pad(lib.ones(1, 2, 3), (3, 0), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 3), (1, 1, 1, 1), mode="reflect"),
    lambda lib: lib.nn.functional.pad(lib.ones(2, 3, 4, 5), (2, 1), mode="replicate"),
    lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3), scale_factor=2, mode="bilinear"),
    lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3)),
    lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3), size=2, scale_factor=2),
    lambda lib: lib.nn.functional.interpolate(lib.ones(1, 1, 3, 3), size=2, align_corners=True),
    lambda lib: lib.nn.functional.pixel_shuffle(lib.ones(1, 3, 2, 2), 2),
    lambda lib: lib.nn.functional.fold(lib.ones(1, 4, 8), (4, 4), 2),
    lambda lib: lib.nn.functional.conv_transpose2d(lib.ones(1, 2, 3, 3), lib.ones(3, 2, 2, 2)),
    lambda lib: lib.nn.ConvTranspose2d(1, 1, 1, padding_mode="reflect"),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


def test_unknown_conv_padding_mode_is_refused_like_torch():
    # torch's message prints a set, whose order changes from run to run: compare the type.
    same_error(
        lambda: nn.Conv2d(1, 1, 1, padding_mode="mirror"),
        lambda: torch.nn.Conv2d(1, 1, 1, padding_mode="mirror"),
        compare_message=False,
    )


def test_reprs_match_torch():
    def layers(lib):
        n = lib.nn
        return n.Sequential(
            n.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
            n.ConvTranspose1d(2, 3, 2),
            n.Conv2d(3, 8, 3, padding_mode="reflect", padding=1),
            n.Upsample(scale_factor=2),
            n.Upsample(size=(3, 4), mode="bilinear"),
            n.Unfold(2),
            n.Fold((4, 4), 2),
            n.PixelShuffle(2),
            n.PixelUnshuffle(2),
            n.MaxUnpool2d(2),
            n.ZeroPad2d(1),
            n.ReflectionPad2d((1, 0, 2, 1)),
            n.ReplicationPad1d(2),
            n.ConstantPad2d(1, 3.5),
            n.CircularPad2d(1),
        )

    assert repr(layers(engine)) == repr(layers(torch))
    assert list(layers(engine).state_dict()) == list(layers(torch).state_dict())
    weight = nn.ConvTranspose2d(4, 6, 3, groups=2).weight
    assert weight.shape == torch.nn.ConvTranspose2d(4, 6, 3, groups=2).weight.shape
