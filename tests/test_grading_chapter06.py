"""Chapter 6's checks reject the wrong answers a learner is likely to write, each with a message
that says what went wrong (test_grading.py proves they pass on the solutions and fail on the
stubs)."""

import numpy as np
import pytest

import engine
import engine.nn.functional as F
from engine.grading import grade, raises


def _verdict(name, answer):
    result = grade(name, answer)
    assert not result.passed, result.message
    return result.message


def _fake_quantize(mask_of):
    """A FakeQuantize whose backward passes the gradient where ``mask_of(x, scale, low,
    high)`` is true."""

    class FakeQuantize(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, low, high):
            ctx.save_for_backward(mask_of(x, scale, low, high).to(x.dtype))
            return (x / scale).round().clamp(low, high) * scale

        @staticmethod
        def backward(ctx, grad_output):
            (mask,) = ctx.saved_tensors
            return grad_output * mask, None, None, None

    return FakeQuantize


def test_fake_quantize_rejects_the_plain_and_the_misplaced_straight_through():
    plain = _fake_quantize(lambda x, s, low, high: x == x)
    assert "plain STE" in _verdict("FakeQuantize", plain)
    on_x = _fake_quantize(lambda x, s, low, high: (x / s >= low).logical_and(x / s <= high))
    assert "test the rounded level" in _verdict("FakeQuantize", on_x)


def test_fake_quantize_notices_torch_doing_the_work():
    import torch

    class FakeQuantize(engine.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale, low, high):
            values = torch.tensor(x.tolist(), dtype=torch.float32)
            quantized = torch.fake_quantize_per_tensor_affine(values, scale, 0, low, high)
            return engine.tensor(quantized.tolist(), dtype=x.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output, None, None, None

    assert "torch.fake_quantize_per_tensor_affine" in _verdict("FakeQuantize", FakeQuantize)


def test_binary_concrete_needs_a_gradient_path_and_no_gumbel_softmax():
    def no_path(logits, uniform, tau=1.0, hard=False):
        soft = ((logits + uniform.log() - (1 - uniform).log()) / tau).sigmoid()
        return (soft > 0.5).to(soft.dtype) if hard else soft

    assert "no gradient path" in _verdict("binary_concrete", no_path)

    def borrowed(logits, uniform, tau=1.0, hard=False):
        both = engine.stack([logits, 0 * logits], -1)
        return F.gumbel_softmax(both, tau, hard)[..., 0]

    assert "gumbel_softmax" in _verdict("binary_concrete", borrowed)


def test_rsample_mvn_rejects_the_untransposed_factor_and_numpy():
    assert "noise @ L.T" in _verdict("rsample_mvn", lambda m, L, noise: m + noise @ L)

    def through_numpy(m, L, noise):
        values = np.asarray(noise.tolist()) @ np.asarray(L.tolist()).T
        return m.detach() + engine.tensor(values)

    assert "no gradient path" in _verdict("rsample_mvn", through_numpy)


@pytest.mark.parametrize(
    "detach_value, message",
    [(False, "flows through f(z)"), (True, "score with respect to mu vanishes")],
)
def test_score_function_gradient_names_each_half_fix(detach_value, message):
    """The given code, and the half-fix that detaches f(z) but not the sample."""

    def score_function_gradient(f, mu, sigma, noise):
        z = mu + sigma * noise
        value = f(z).detach() if detach_value else f(z)
        log_prob = -((z - mu) ** 2) / (2 * sigma**2) - sigma.log()
        return engine.autograd.grad((value * log_prob).mean(), [mu, sigma])

    assert message in _verdict("score_function_gradient", score_function_gradient)


def test_a_prediction_may_not_run_the_backward_pass():
    def gradient_paths():
        x = engine.tensor([-2.0, 0.5, 3.0], dtype=engine.float64, requires_grad=True)
        x[x.argmax()].sum().backward()
        return {}

    assert "engine.Tensor.backward" in _verdict("gradient_paths", gradient_paths)


def test_a_wrong_prediction_is_explained():
    def gradient_paths():
        return {
            "x[x.argmax()]": raises(RuntimeError),
            "x.argmax().float()": raises(RuntimeError),
            "(x > 0) * x": [0, 1, 1],
            "x.sign() * x": [-1, 1, 1],
            "x.round() * x": [-2, 0, 3],
            "x.floor() + x.frac()": [1, 1, 1],
        }

    message = _verdict("gradient_paths", gradient_paths)
    assert "you predicted raises(RuntimeError), but it gives [0.0, 0.0, 1.0]" in message
    assert "indexing x with it" in message
