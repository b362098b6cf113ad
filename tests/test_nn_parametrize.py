"""engine.nn.utils.parametrize and parametrizations (weight_norm, spectral_norm) against torch:
names, state_dict keys, reprs, values and gradients in training and eval (power iteration
buffers included), removal, custom parametrizations and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.nn.utils import parametrizations, parametrize
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, same_error

CASES = {
    "weight_norm": (lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4)),
                    (2, 3)),
    "weight_norm_conv_all_dims": (
        lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Conv2d(2, 3, 2), dim=None),
        (1, 2, 3, 3),
    ),
    "weight_norm_dim1": (
        lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4), dim=1), (2, 3)
    ),
    "spectral_norm": (lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4)),
                      (2, 3)),
    "spectral_norm_conv_transpose": (
        lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.ConvTranspose2d(2, 3, 2)),
        (1, 2, 3, 3),
    ),
    "spectral_norm_3_iterations": (
        lambda lib: lib.nn.utils.parametrizations.spectral_norm(
            lib.nn.Conv1d(2, 3, 2), n_power_iterations=3
        ),
        (2, 2, 4),
    ),
}  # fmt: skip


@pytest.mark.parametrize(("make", "shape"), CASES.values(), ids=CASES.keys())
def test_parametrizations_match_torch(make, shape):
    ours, theirs = make(engine), make(torch)
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == type(theirs).__name__
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    copy_weights(ours, theirs)  # originals and the power-iteration buffers
    x = np.random.default_rng(0).standard_normal(shape)
    for mode in ("train", "eval", "train"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        ours_x = engine.tensor(x, requires_grad=True)
        torch_x = torch.tensor(x, requires_grad=True)
        out, expected = ours(ours_x), theirs(torch_x)
        assert_close(out, expected)
        (out * out).sum().backward()
        (expected * expected).sum().backward()
        assert_close(ours_x.grad, torch_x.grad)
        for (name, p), (_, q) in zip(
            ours.named_parameters(), theirs.named_parameters(), strict=True
        ):
            assert p.grad is not None, name
            assert_close(p.grad, q.grad)
            p.grad, q.grad = None, None
        for (_, buffer), (_, expected_buffer) in zip(
            ours.named_buffers(), theirs.named_buffers(), strict=True
        ):
            assert_close(buffer, expected_buffer)
    parametrize.remove_parametrizations(ours, "weight")
    torch.nn.utils.parametrize.remove_parametrizations(theirs, "weight")
    assert repr(ours) == repr(theirs) and type(ours) is getattr(nn, type(theirs).__name__)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert_close(ours.weight, theirs.weight)


def test_spectral_norm_makes_the_largest_singular_value_one():
    engine.manual_seed(0)
    layer = parametrizations.spectral_norm(nn.Linear(6, 5), n_power_iterations=1)
    for _ in range(30):  # each forward in training refines u and v
        layer(engine.ones(1, 6))
    singular_values = np.linalg.svd(layer.weight.detach().numpy(), compute_uv=False)
    assert abs(singular_values[0] - 1.0) < 1e-6


def test_weight_norm_splits_length_and_direction():
    layer = nn.Linear(3, 2)
    weight = layer.weight.detach().numpy().copy()
    parametrizations.weight_norm(layer)
    g = layer.parametrizations.weight.original0
    v = layer.parametrizations.weight.original1
    assert g.shape == (2, 1) and v.shape == (2, 3)
    np.testing.assert_allclose(g.detach().numpy()[:, 0], np.linalg.norm(weight, axis=1), 1e-6)
    assert_close(layer.weight, engine.tensor(weight))
    assert parametrize.is_parametrized(layer) and parametrize.is_parametrized(layer, "weight")
    assert not parametrize.is_parametrized(layer, "bias")


def test_custom_parametrization_chain_and_setter_like_torch():
    def run(lib):
        class Double(lib.nn.Module):
            def forward(self, x):
                return x * 2

            def right_inverse(self, x):
                return x / 2

        class Shift(lib.nn.Module):
            def forward(self, x):
                return x + 1

            def right_inverse(self, x):
                return x - 1

        class NoInverse(lib.nn.Module):
            def forward(self, x):
                return x

        layer = lib.nn.Linear(2, 2)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
        original = layer.weight
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", Double())
        same_object = layer.parametrizations.weight.original is original
        lib.nn.utils.parametrize.register_parametrization(layer, "weight", Shift())
        values = [layer.weight.tolist(), layer.parametrizations.weight.original.tolist()]
        layer.weight = lib.tensor([[2.0, 2.0], [2.0, 2.0]])  # through right_inverse
        values.append(layer.parametrizations.weight.original.tolist())
        layer(lib.ones(1, 2)).sum().backward()
        values.append(layer.parametrizations.weight.original.grad.tolist())
        lib.nn.utils.parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
        values.append(layer.weight.tolist())
        lib.nn.utils.parametrize.register_parametrization(layer, "bias", NoInverse())
        try:
            layer.bias = lib.zeros(2)
        except RuntimeError as error:
            values.append(str(error))
        return same_object, values, repr(layer)

    assert run(engine) == run(torch)


ERRORS = [
    lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4), name="nothing"),
    lambda lib: lib.nn.utils.parametrize.remove_parametrizations(lib.nn.Linear(3, 4), "weight"),
    lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4), name="nothing"),
    lambda lib: lib.nn.utils.parametrize.remove_parametrizations(
        lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(3, 4)),
        "weight",
        leave_parametrized=False,
    ),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))
