"""Checks for chapter 5, Forward mode, Jacobians and Hessians (exercises/05_forward_mode.ipynb).

Expected values come from NumPy formulas, from the engine's own Jacobians computed without the
learner's code, and from sweep counts taken by an identity ``Function`` that counts how often
its backward and its JVP run.
"""

from __future__ import annotations

import numpy as np

import engine
import engine.func
from engine.grading.core import CheckFailed, exercise, expect, explain, outcome

CHAPTER = "05_forward_mode"

FORWARD_MODE = (
    "engine.func.jvp",
    "engine.func.jacfwd",
    "engine.autograd.forward_ad.make_dual",
    "torch.func.jvp",
    "torch.func.jacfwd",
    "torch.autograd.forward_ad.make_dual",
)
JACOBIANS = (
    "engine.func.jacrev",
    "engine.func.jacfwd",
    "engine.func.hessian",
    "engine.func.vjp",
    "engine.autograd.grad",
    "engine.Tensor.backward",
    "torch.func.jacrev",
    "torch.func.jacfwd",
    "torch.autograd.functional.jacobian",
)
HESSIANS = (
    "engine.func.hessian",
    "engine.func.jacfwd",
    "engine.func.jacrev",
    "engine.autograd.functional.hvp",
    "engine.autograd.functional.vhp",
    "torch.func.hessian",
    "torch.autograd.functional.hessian",
    "torch.autograd.functional.hvp",
    "torch.autograd.functional.vhp",
)


def _float64(values, requires_grad=False):
    return engine.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _values(result, case: str) -> np.ndarray:
    expect(
        case,
        isinstance(result, engine.Tensor),
        f"expected an engine Tensor, got {type(result).__name__}",
    )
    return np.asarray(result.detach().tolist(), dtype=np.float64)


def _compare(case: str, got: np.ndarray, want: np.ndarray, tolerance: float = 1e-10) -> None:
    if got.shape != want.shape:
        raise CheckFailed(f"{case}: expected shape {want.shape}, got {got.shape}")
    if not np.allclose(got, want, rtol=tolerance, atol=tolerance):
        worst = np.abs(got - want).max()
        raise CheckFailed(
            f"{case}: expected {np.round(want, 6)}, got {np.round(got, 6)}"
            f" (largest difference {worst:.1e})"
        )


@exercise(
    CHAPTER,
    "div_jvp",
    "the forward-mode rule of division, x / y, for tangents on both inputs",
    forbidden=FORWARD_MODE,
    hints=(
        "Perturb x by t * x_t and y by t * y_t and differentiate x / y with respect to t at 0: "
        "the quotient rule.",
        "Both tangents contribute: x_t moves the numerator, y_t the denominator. Check the sign "
        "of the second term.",
        "Write it with engine operations on whole tensors; broadcasting then gives the output's "
        "shape by itself.",
    ),
)
def check_div_jvp(div_jvp) -> str:
    rng = np.random.default_rng(5)
    cases = [
        ((3,), (3,)),
        ((2, 3), (2, 3)),
        ((4, 2), (2,)),  # y broadcast along the rows
    ]
    for x_shape, y_shape in cases:
        x, x_t = rng.standard_normal(x_shape), rng.standard_normal(x_shape)
        y = rng.uniform(0.5, 2.0, y_shape) * rng.choice([-1.0, 1.0], y_shape)
        y_t = rng.standard_normal(y_shape)
        case = f"div_jvp for x of shape {x_shape}, y of shape {y_shape}"
        got = _values(div_jvp(*(_float64(a) for a in (x, y, x_t, y_t))), case)
        want = x_t / y - x * y_t / y**2
        if got.shape == want.shape and np.allclose(got, x_t / y):
            raise CheckFailed(f"{case}: your tangent ignores y_t (the denominator moves too)")
        if got.shape == want.shape and np.allclose(got, x_t / y + x * y_t / y**2):
            raise CheckFailed(f"{case}: the y_t term has the wrong sign (d(1/y) = -dy / y**2)")
        _compare(case, got, want)
    return f"{len(cases)} cases match the quotient rule, broadcasting included"


def _jacobian(f, x: np.ndarray) -> np.ndarray:
    """The exact Jacobian by the engine's reverse mode (the learner's code is not involved)."""
    return np.asarray(engine.func.jacrev(f)(_float64(x)).tolist(), dtype=np.float64)


@exercise(
    CHAPTER,
    "jacobian_by_columns",
    "a full Jacobian from forward-mode JVPs, one column per input",
    forbidden=JACOBIANS,
    hints=(
        "engine.func.jvp(f, (x,), (v,)) returns (f(x), J v). Which v makes J v a column of J?",
        "Use the standard basis vectors: v = e_j (zeros with a 1 at position j) gives column j. "
        "There is one per input element.",
        "Collect the n columns and put them side by side: engine.stack(columns, dim=1) gives "
        "shape (m, n).",
    ),
)
def check_jacobian_by_columns(jacobian_by_columns) -> str:
    weights = _float64([[1.0, -2.0, 0.5, 0.0], [0.3, 0.8, -1.0, 2.0], [0.0, 1.5, 0.2, -0.7]])
    functions = {
        "x.sin() * x.sum()": (lambda x: x.sin() * x.sum(), 3),
        "(W @ x).tanh()  (W is 3x4)": (lambda x: (weights @ x).tanh(), 4),
        "x[0] * x  (5 inputs)": (lambda x: x[0] * x, 5),
    }
    rng = np.random.default_rng(3)
    for name, (f, n) in functions.items():
        x = rng.standard_normal(n)
        case = f"jacobian_by_columns(f, x) for f(x) = {name}"
        got = _values(jacobian_by_columns(f, _float64(x)), case)
        want = _jacobian(f, x)
        if got.shape == want.shape and 1e-12 < np.abs(got - want).max() < 1e-4:
            raise CheckFailed(
                f"{case}: close but not exact (largest difference "
                f"{np.abs(got - want).max():.1e}): finite differences? A JVP is exact"
            )
        if got.shape == want.T.shape and got.shape != want.shape:
            raise CheckFailed(
                f"{case}: got shape {got.shape}, the transpose: J is (outputs, inputs)"
            )
        _compare(case, got, want, tolerance=1e-12)
    return "three Jacobians exact to 1e-12 (finite differences would not be)"


@exercise(
    CHAPTER,
    "hvp",
    "a Hessian-vector product without forming the Hessian",
    forbidden=HESSIANS,
    hints=(
        "H v is the directional derivative of the gradient along v: differentiate grad f "
        "in direction v.",
        "engine.func.grad(f) is a function of x; a JVP of it with tangent v is H v "
        "(forward-over-reverse). Double backward works too.",
        "One evaluation of f is enough: building H column by column calls f once per input.",
    ),
)
def check_hvp(hvp) -> str:
    rng = np.random.default_rng(7)
    n = 40
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    calls = []

    def f(w):
        calls.append(1)
        return (w.tanh() ** 2).sum() * (w * w).sum() + (w[:-1] * w[1:]).sum()

    case = f"hvp(f, x, v) for a function of {n} inputs"
    got = _values(hvp(f, _float64(x), _float64(v)), case)
    hessian = np.asarray(engine.func.hessian(f)(_float64(x)).tolist())
    _compare(case, got, hessian @ v)
    calls.clear()
    hvp(f, _float64(x), _float64(v))
    expect(
        case,
        len(calls) <= 2,
        f"your hvp called f {len(calls)} times: it builds the Hessian (or a large part of it) "
        "instead of one product",
    )
    return f"H v exact, with {len(calls)} evaluation(s) of f for {n} inputs"


class _Probe(engine.autograd.Function):
    """The identity, counting the backward and the forward-mode sweeps through it."""

    backward_sweeps = 0
    jvp_sweeps = 0

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        _Probe.backward_sweeps += 1
        return grad

    @staticmethod
    def jvp(ctx, x_t):
        _Probe.jvp_sweeps += 1
        return x_t


def _sweeps(n_inputs: int, n_outputs: int) -> dict[str, int]:
    """Sweeps that the engine's jacrev and jacfwd make for a function R^n -> R^m."""
    rng = np.random.default_rng(0)
    weights = _float64(rng.standard_normal((n_outputs, n_inputs)))

    def f(x):
        return weights @ _Probe.apply(x)

    x = _float64(rng.standard_normal(n_inputs))
    _Probe.backward_sweeps = _Probe.jvp_sweeps = 0
    engine.func.jacrev(f)(x)
    reverse = _Probe.backward_sweeps
    engine.func.jacfwd(f)(x)
    return {"reverse": reverse, "forward": _Probe.jvp_sweeps}


@exercise(
    CHAPTER,
    "cheaper_mode",
    "predict which mode builds a full Jacobian in fewer sweeps, and how many",
    kind="predict",
    hints=(
        "A reverse sweep (one VJP) gives one row of J; a forward sweep (one JVP) gives one column.",
        "J of f: R^n -> R^m has m rows and n columns.",
    ),
)
def check_cheaper_mode(cheaper_mode) -> str:
    prediction = cheaper_mode()
    case = "cheaper_mode()"
    shapes = {"loss": (1000, 1), "decoder": (3, 500)}
    expect(
        case,
        isinstance(prediction, dict) and set(prediction) == set(shapes),
        f"return a dict with keys {sorted(shapes)}, got {prediction!r:.80}",
    )
    verdicts = []
    for name, (n, m) in shapes.items():
        predicted = prediction[name]
        predicted = tuple(predicted) if isinstance(predicted, list) else predicted
        counted = _sweeps(n, m)
        mode = min(counted, key=counted.get)
        verdicts.append(
            explain(
                f"{name}: R^{n} -> R^{m}",
                predicted,
                (mode, counted[mode]),
                f"reverse mode makes one sweep per output ({counted['reverse']}), forward mode "
                f"one per input ({counted['forward']}): counted by a Function that sees each "
                "sweep.",
            )
        )
    return " ".join(verdicts)


def _conv_density(length: int, width: int) -> tuple[float, float]:
    rng = np.random.default_rng(1)
    x, w = _float64(rng.standard_normal(length)), _float64(rng.standard_normal(width))

    def conv(x, w):
        return x.unfold(0, width, 1) @ w

    by_input = np.asarray(engine.func.jacrev(conv, 0)(x, w).tolist())
    by_weight = np.asarray(engine.func.jacrev(conv, 1)(x, w).tolist())
    return float((by_input != 0).mean()), float((by_weight != 0).mean())


@exercise(
    CHAPTER,
    "conv_jacobian_density",
    "predict how much of a convolution's Jacobian is non-zero, by input and by weight",
    kind="predict",
    hints=(
        "Output i of a valid 1-D convolution reads inputs i .. i + k - 1 and all k weights.",
        "Count the non-zero entries of each row, then divide by the row's length.",
    ),
)
def check_conv_jacobian_density(conv_jacobian_density) -> str:
    prediction = conv_jacobian_density()
    case = "conv_jacobian_density()"
    expect(
        case,
        isinstance(prediction, tuple) and len(prediction) == 2,
        f"return a tuple (fraction for the input, fraction for the weights), got {prediction!r}",
    )
    by_input, by_weight = _conv_density(12, 3)
    rounded = tuple(round(float(p), 4) if isinstance(p, int | float) else p for p in prediction)
    first = explain(
        "non-zero share of dy/dx (x of length 12, kernel of 3)",
        rounded[0],
        round(by_input, 4),
        "each output reads 3 of the 12 inputs: a band 3 wide, 3/12 of every row.",
    )
    second = explain(
        "non-zero share of dy/dw",
        rounded[1],
        round(by_weight, 4),
        "every output uses every weight: dense. Convolutions are cheap because the weights are "
        "shared and J is never formed, not because J is sparse in the weights.",
    )
    return f"{first} {second}"


@exercise(
    CHAPTER,
    "normalize_jvp",
    "fix the forward-mode rule of x / ||x||",
    kind="debug",
    forbidden=FORWARD_MODE,
    hints=(
        "Try a tangent that only stretches x (x_t = x): the direction does not change, so the "
        "tangent of x / ||x|| must be 0. Is it?",
        "||x|| moves too: its tangent is (x . x_t) / ||x||. Apply the quotient rule.",
    ),
)
def check_normalize_jvp(normalize_jvp) -> str:
    rng = np.random.default_rng(11)
    for n in (2, 5):
        x, x_t = rng.standard_normal(n), rng.standard_normal(n)
        norm = np.sqrt(x @ x)
        want = x_t / norm - x * (x @ x_t) / norm**3
        case = f"normalize_jvp(x, x_t) for {n} elements"
        got = _values(normalize_jvp(_float64(x), _float64(x_t)), case)
        if got.shape == want.shape and np.allclose(got, x_t / norm):
            raise CheckFailed(
                f"{case}: x_t / ||x|| is the tangent only when x_t is orthogonal to x; the norm "
                "changes along x_t too"
            )
        _compare(case, got, want)
    stretched = outcome(lambda: normalize_jvp(_float64(x), _float64(2 * x)))
    if isinstance(stretched, engine.Tensor):
        _compare(
            "normalize_jvp(x, 2 * x), a pure stretch", _values(stretched, "stretch"), np.zeros(n)
        )
    return "the tangent matches d(x / ||x||), and a pure stretch gives 0"
