"""Checks for chapter 6, Gradients through the non-differentiable
(exercises/06_nondifferentiable.ipynb).

Expected values come from NumPy formulas or from running the expression on the engine after the
learner's prediction is in.  Answers that are classes run under :func:`traps` here, because the
grader's automatic traps wrap functions only.
"""

from __future__ import annotations

import numpy as np

import engine
import engine.nn.functional as F
from engine.grading.core import (
    CheckFailed,
    exercise,
    expect,
    expect_type,
    explain,
    raises,
    traps,
)

CHAPTER = "06_nondifferentiable"

# A prediction must be stated, not computed: running the backward pass is what is predicted.
_BACKWARD = (
    "engine.Tensor.backward",
    "engine.autograd.grad",
    "engine.autograd.backward",
    "torch.Tensor.backward",
    "torch.autograd.grad",
    "torch.autograd.backward",
)


def _float64(values, requires_grad=True):
    return engine.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _numbers(tensor) -> np.ndarray:
    return np.asarray(tensor.detach().tolist(), dtype=np.float64)


def _gradient_outcome(expression, values):
    """x.grad after expression(x).sum().backward(), as a list, or raises(Type)."""
    x = _float64(values)
    try:
        expression(x).sum().backward()
    except Exception as error:  # the error is the outcome being predicted
        return raises(type(error))
    return x.grad.tolist()


def _normalised(prediction):
    """A prediction as explain() compares it: lists of floats, or raises(...)."""
    if isinstance(prediction, (list, tuple)):
        try:
            return [float(v) for v in prediction]
        except (TypeError, ValueError):
            return list(prediction)
    return prediction


def _grade_predictions(name: str, predictions, cases) -> str:
    """``cases``: expression text -> (function of x, x's values, why)."""
    expect_type(f"{name}()", predictions, dict)
    for text in cases:
        expect(
            f"{name}()",
            text in predictions,
            f"the dictionary has no prediction for {text!r} (keep the keys as given)",
        )
    explanations = []
    for text, (expression, values, why) in cases.items():
        actual = _gradient_outcome(expression, values)
        case = f"x = {values}; {text}: x.grad"
        explanations.append(explain(case, _normalised(predictions[text]), actual, why))
    return f"{len(cases)} predictions right. Last one: {explanations[-1]}"


X_VALUES = [-2.0, 0.5, 3.0]

GRADIENT_PATH_CASES = {
    "x[x.argmax()]": (
        lambda x: x[x.argmax()],
        X_VALUES,
        "argmax gives an integer index with no gradient path, but indexing x with it is an "
        "ordinary differentiable op on x: the gradient is 1 at the chosen element (this is how "
        "max passes its gradient).",
    ),
    "x.argmax().float()": (
        lambda x: x.argmax().float(),
        X_VALUES,
        "argmax's int64 result has no grad_fn, and converting it to float does not create "
        "one: backward has nothing to differentiate and raises RuntimeError.",
    ),
    "(x > 0) * x": (
        lambda x: (x > 0) * x,
        X_VALUES,
        "the mask has no gradient path, but the product still depends on x: the gradient is "
        "the mask itself.",
    ),
    "x.sign() * x": (
        lambda x: x.sign() * x,
        X_VALUES,
        "product rule: sign's derivative is 0, so only sign(x) * dx/dx = sign(x) remains, "
        "the derivative of |x|.",
    ),
    "x.round() * x": (
        lambda x: x.round() * x,
        X_VALUES,
        "product rule again: round(x) * 1 + x * 0 = round(x); and round(0.5) is 0 because "
        "rounding goes half to even.",
    ),
    "x.floor() + x.frac()": (
        lambda x: x.floor() + x.frac(),
        X_VALUES,
        "floor contributes 0 and frac (x - trunc(x)) contributes 1: the sum is x itself, "
        "and its gradient is 1 everywhere, negative x included.",
    ),
}


@exercise(
    CHAPTER,
    "gradient_paths",
    "predict x.grad (or an error) through argmax, comparisons, round and sign",
    kind="predict",
    forbidden=_BACKWARD,
    hints=(
        "Two questions per expression: does the result have a grad_fn at all (integer and "
        "bool results never do), and if so, what does the product rule give when one "
        "factor's derivative is 0?",
        "Indexing and multiplying by a mask are differentiable in x even when the index or "
        "the mask came from a non-differentiable op.",
    ),
)
def check_gradient_paths(gradient_paths) -> str:
    return _grade_predictions("gradient_paths", gradient_paths(), GRADIENT_PATH_CASES)


KINK_CASES = {
    "x.max()": (
        lambda x: x.max(),
        [1.0, 3.0, 3.0],
        "the full reduction max splits the gradient evenly between tied maxima.",
    ),
    "x.max(dim=0).values": (
        lambda x: x.max(dim=0).values,
        [1.0, 3.0, 3.0],
        "max over a dim returns an index too, and the gradient goes to that one index only "
        "(the first of the tied maxima here).",
    ),
    "engine.maximum(x, engine.zeros(3))": (
        lambda x: engine.maximum(x, engine.zeros(3, dtype=engine.float64)),
        [-1.0, 0.0, 1.0],
        "where the two arguments of maximum are equal, each gets half the gradient.",
    ),
    "F.hardtanh(x)": (
        lambda x: F.hardtanh(x),
        [-1.0, 0.0, 1.0],
        "hardtanh passes the gradient strictly inside (-1, 1) only: 0 at both corners.",
    ),
    "x.clamp(-1.0, 1.0)": (
        lambda x: x.clamp(-1.0, 1.0),
        [-1.0, 0.0, 1.0],
        "clamp passes the gradient on its boundaries (min <= x <= max): the same function "
        "as hardtanh, a different subgradient at the corners.",
    ),
    "x.norm()": (
        lambda x: x.norm(),
        [0.0, 0.0, 0.0],
        "x / ||x|| is 0/0 at the origin; PyTorch defines the gradient there as 0, a valid "
        "subgradient of the norm.",
    ),
    "x.sqrt()": (
        lambda x: x.sqrt(),
        [0.0, 1.0, 4.0],
        "sqrt's derivative 1 / (2 sqrt(x)) is infinite at 0 and nothing replaces it: a kink "
        "is not the only way to break a gradient.",
    ),
}


@exercise(
    CHAPTER,
    "kink_gradients",
    "predict the gradient PyTorch (and the engine) returns at ties, corners and kinks",
    kind="predict",
    forbidden=_BACKWARD,
    hints=(
        "Where a derivative does not exist, each op picks one value: sometimes 0, sometimes "
        "1, sometimes an even split between tied inputs.",
        "hardtanh and clamp(-1, 1) compute the same values; their backward formulas test "
        "the boundary with different comparisons (< versus <=).",
    ),
)
def check_kink_gradients(kink_gradients) -> str:
    return _grade_predictions("kink_gradients", kink_gradients(), KINK_CASES)


# ------------------------------------------------------------------------------ fake quantize
_FAKE_QUANTIZE = (
    "torch.fake_quantize_per_tensor_affine",
    "torch.fake_quantize_per_channel_affine",
)


def _expect_function_class(name: str, candidate) -> None:
    expect(
        name,
        isinstance(candidate, type) and issubclass(candidate, engine.autograd.Function),
        f"expected a subclass of engine.autograd.Function, got {candidate!r}",
    )
    expect(
        name,
        candidate.apply.__func__ is engine.autograd.Function.apply.__func__,
        "define forward and backward and leave apply alone: apply is overridden",
    )
    for method in ("forward", "backward"):
        expect(
            name,
            getattr(candidate, method) is not getattr(engine.autograd.Function, method),
            f"{name} must define its own static {method}(ctx, ...)",
        )


@exercise(
    CHAPTER,
    "FakeQuantize",
    "a clipped straight-through fake quantizer as a custom Function",
    forbidden=_FAKE_QUANTIZE,
    hints=(
        "forward: q = round(x / scale), clamped to [quant_min, quant_max], times scale. "
        "Save in ctx what backward needs to know where clamping happened.",
        "backward returns one gradient per forward argument: None for scale, quant_min and "
        "quant_max. The gradient for x is grad_output where quant_min <= round(x / scale) "
        "<= quant_max, and 0 elsewhere.",
    ),
)
def check_fake_quantize(fake_quantize) -> str:
    _expect_function_class("FakeQuantize", fake_quantize)
    cases = [
        # in range, half-steps (round half to even), both edges, just past them, far out
        ([-1.3, -0.5, 0.25, 0.75, 1.5, 2.49], 0.5, -8, 7),
        ([-4.0, -4.1, -4.3, 3.5, 3.7, 3.8, 9.0, -20.0], 0.5, -8, 7),
        ([[0.01, 0.3], [0.99, -0.2]], 0.1, 0, 5),
    ]
    rng = np.random.default_rng(6)
    for values, scale, low, high in cases:
        values = np.asarray(values)
        case = f"FakeQuantize.apply(x, {scale}, {low}, {high}) with x = {values.tolist()}"
        x = _float64(values)
        with traps(_FAKE_QUANTIZE, "FakeQuantize"):
            out = fake_quantize.apply(x, scale, low, high)
        expect_type(case, out, engine.Tensor)
        rounded = np.round(values / scale)
        expected = np.clip(rounded, low, high) * scale
        got = _numbers(out)
        if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-12):
            raise CheckFailed(f"{case}, forward: expected {expected.tolist()}, got {got.tolist()}")
        upstream = rng.uniform(0.5, 2.0, values.shape)
        with traps(_FAKE_QUANTIZE, "FakeQuantize"):
            (out * _float64(upstream, requires_grad=False)).sum().backward()
        if x.grad is None:
            raise CheckFailed(f"{case}: x.grad is None; does backward return the gradient?")
        inside = (rounded >= low) & (rounded <= high)
        want = np.where(inside, upstream, 0.0)
        have = _numbers(x.grad)
        if not np.allclose(have, want, atol=1e-12):
            wrong = np.flatnonzero(~np.isclose(have, want, atol=1e-12).ravel())[0]
            value = values.ravel()[wrong]
            hint = ""
            if np.allclose(have, upstream):
                hint = (
                    " (that is the plain STE: a clipped STE blocks the gradient where the "
                    "quantizer clamps)"
                )
            elif inside.ravel()[wrong]:
                hint = (
                    " (this value rounds to a level inside [quant_min, quant_max]: test the "
                    "rounded level, not x / scale, against the range)"
                )
            raise CheckFailed(
                f"{case}, backward at x = {value:g}: expected gradient {want.ravel()[wrong]:.4f}, "
                f"got {have.ravel()[wrong]:.4f}{hint}"
            )
    return f"{len(cases)} cases passed: values clamped, gradient straight through where in range"


# ----------------------------------------------------------------------------- binary concrete
_GUMBEL = ("engine.nn.functional.gumbel_softmax", "torch.nn.functional.gumbel_softmax")


@exercise(
    CHAPTER,
    "binary_concrete",
    "the two-category Gumbel-softmax sample from one uniform, soft and hard",
    forbidden=_GUMBEL,
    hints=(
        "With two categories only the difference of the logits matters, and the difference "
        "of two Gumbel(0, 1) variables is logistic: log(u) - log(1 - u) for one uniform u.",
        "soft = sigmoid((logits + log(u) - log(1 - u)) / tau). For hard, forward the 0/1 "
        "value of soft > 0.5 with soft's gradient: the detach pattern of the chapter.",
    ),
)
def check_binary_concrete(binary_concrete) -> str:
    logit_values = np.array([-2.0, -0.3, 0.0, 0.4, 1.5, 3.0])
    uniform_values = np.array([0.9, 0.6, 0.2, 0.45, 0.1, 0.05])
    weights = np.array([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])
    noise = np.log(uniform_values) - np.log1p(-uniform_values)
    for tau in (1.0, 0.3):
        soft = 1 / (1 + np.exp(-(logit_values + noise) / tau))
        soft_grad = weights * soft * (1 - soft) / tau
        for hard in (False, True):
            case = f"binary_concrete(logits, uniform, tau={tau}, hard={hard})"
            logits = _float64(logit_values)
            sample = binary_concrete(logits, _float64(uniform_values, False), tau, hard)
            expect_type(case, sample, engine.Tensor)
            want = (soft > 0.5).astype(float) if hard else soft
            got = _numbers(sample)
            if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
                hint = ""
                if got.shape == want.shape and np.allclose(got, 1 - want, atol=1e-9):
                    hint = " (the complement: is the logistic noise's sign flipped?)"
                raise CheckFailed(
                    f"{case}: expected {np.round(want, 4).tolist()}, "
                    f"got {np.round(got, 4).tolist()}{hint}"
                )
            expect(
                case,
                sample.grad_fn is not None,
                "the sample has no gradient path to logits (hard samples need the soft "
                "sample's gradient)",
            )
            (sample * _float64(weights, False)).sum().backward()
            have = _numbers(logits.grad)
            if not np.allclose(have, soft_grad, rtol=1e-8, atol=1e-12):
                raise CheckFailed(
                    f"{case}, d sum(w * sample)/d logits: expected "
                    f"{np.round(soft_grad, 4).tolist()}, got {np.round(have, 4).tolist()}"
                )
    return "soft and hard samples at two temperatures, values and gradients"


# --------------------------------------------------------------------- reparameterized normal
_MULTIVARIATE = (
    "torch.distributions.MultivariateNormal.rsample",
    "torch.distributions.MultivariateNormal.sample",
)


@exercise(
    CHAPTER,
    "rsample_mvn",
    "a reparameterized multivariate normal sample, mean + L @ noise",
    forbidden=_MULTIVARIATE,
    hints=(
        "One sample is mean + L @ e for a noise vector e; with a batch of noise vectors as "
        "the rows of noise, write it with one matrix product.",
        "Row i of the result is (L @ noise[i]) + mean, which is noise @ L.T + mean. Keep "
        "everything in engine ops so that the gradient reaches mean and scale_tril.",
    ),
)
def check_rsample_mvn(rsample_mvn) -> str:
    rng = np.random.default_rng(16)
    mean_values = np.array([0.5, -1.0, 2.0])
    lower = np.array([[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-0.3, 0.8, 0.7]])
    for samples in (5, 1):
        noise = rng.standard_normal((samples, 3))
        case = f"rsample_mvn(mean, scale_tril, noise of shape {noise.shape})"
        mean, scale_tril = _float64(mean_values), _float64(lower)
        z = rsample_mvn(mean, scale_tril, _float64(noise, False))
        expect_type(case, z, engine.Tensor)
        want = mean_values + noise @ lower.T
        got = _numbers(z)
        if got.shape != want.shape:
            raise CheckFailed(f"{case}: expected shape {want.shape}, got {got.shape}")
        if not np.allclose(got, want, rtol=1e-10, atol=1e-12):
            hint = ""
            if np.allclose(got, mean_values + noise @ lower):
                hint = " (that is noise @ L: each sample must be L @ e, so noise @ L.T)"
            raise CheckFailed(
                f"{case}: sample 0 expected {np.round(want[0], 4).tolist()}, "
                f"got {np.round(got[0], 4).tolist()}{hint}"
            )
        weights = rng.standard_normal(want.shape)
        expect(
            case,
            z.grad_fn is not None,
            "the sample has no gradient path: build it from mean and scale_tril with engine "
            "ops (no NumPy, no detach)",
        )
        (z * _float64(weights, False)).sum().backward()
        for name, leaf, expected in (
            ("mean", mean, weights.sum(axis=0)),
            ("scale_tril", scale_tril, weights.T @ noise),
        ):
            if leaf.grad is None:
                raise CheckFailed(f"{case}: {name}.grad is None; the sample must depend on it")
            have = _numbers(leaf.grad)
            if name == "scale_tril":  # only the lower triangle is a parameter
                have, expected = np.tril(have), np.tril(expected)
            if not np.allclose(have, expected, rtol=1e-9, atol=1e-12):
                raise CheckFailed(
                    f"{case}, d sum(w * z)/d {name}: expected "
                    f"{np.round(expected, 4).tolist()}, got {np.round(have, 4).tolist()}"
                )
    covariance = lower @ lower.T
    return (
        "values and gradients for 5 samples and 1; the samples have covariance L @ L.T "
        f"(diagonal {np.round(np.diag(covariance), 2).tolist()})"
    )


# ---------------------------------------------------------------------------- REINFORCE (debug)
_NORMAL = ("torch.distributions.Normal.log_prob", "torch.distributions.Normal.rsample")


@exercise(
    CHAPTER,
    "score_function_gradient",
    "fix a REINFORCE estimator whose gradients come out wrong",
    kind="debug",
    forbidden=_NORMAL,
    hints=(
        "Compare with the chapter's surrogate loss: what is detached there, and what does "
        "z - mu become when z is still mu + sigma * noise?",
        "The score function treats the sample as data: the log-density must be evaluated at "
        "a sample with no path back to mu and sigma, and f's values must not carry one "
        "either.",
    ),
)
def check_score_function_gradient(score_function_gradient) -> str:
    rng = np.random.default_rng(60)
    noise = rng.standard_normal(2000)
    mu_value, sigma_value = 0.7, 1.3
    z = mu_value + sigma_value * noise
    functions = (
        ("f(z) = z ** 2", lambda t: t**2, lambda v: v**2, lambda v: 2 * v),
        ("f(z) = z.round()", lambda t: t.round(), np.round, lambda v: 0 * v),
    )
    for text, f, f_numpy, f_slope in functions:
        case = f"score_function_gradient({text}, mu=0.7, sigma=1.3, 2000 samples)"
        mu, sigma = _float64(mu_value), _float64(sigma_value)
        result = score_function_gradient(f, mu, sigma, _float64(noise, False))
        expect(
            case,
            isinstance(result, (tuple, list)) and len(result) == 2,
            f"expected a pair (d/dmu, d/dsigma), got {result!r:.80}",
        )
        got = [float(_numbers(g)) if isinstance(g, engine.Tensor) else g for g in result]
        values = f_numpy(z)
        want = [
            np.mean(values * (z - mu_value) / sigma_value**2),
            np.mean(values * ((z - mu_value) ** 2 / sigma_value**3 - 1 / sigma_value)),
        ]
        for name, have, expected in zip(("mu", "sigma"), got, want):
            if have is None or not np.isclose(have, expected, rtol=1e-8, atol=1e-10):
                hint = ""
                if name == "mu" and have is not None and abs(have) < 1e-9:
                    hint = (
                        " (0: log_prob is evaluated at a sample that still depends on mu, "
                        "so z - mu is sigma * noise and the score with respect to mu "
                        "vanishes)"
                    )
                elif name == "mu" and have is not None:
                    log_prob = -(noise**2) / 2 - np.log(sigma_value)
                    through_f = np.mean(f_slope(z) * log_prob)
                    if np.isclose(have, through_f, rtol=1e-6):
                        hint = (
                            " (the gradient flows through f(z) into the sample: REINFORCE "
                            "treats f's values and the sample as constants)"
                        )
                raise CheckFailed(
                    f"{case}, d/d{name}: expected {expected:.6f}, got {have!r:.40}{hint}"
                )
    return "both gradients match the score-function formula, for z ** 2 and for round"
