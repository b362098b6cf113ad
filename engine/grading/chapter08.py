"""Checks for chapter 8, Training (exercises/08_training.ipynb).

Expected values come from the engine's own optimizers and losses run without the learner's code
(which chapter 8 shows equal to torch's), and from running the code a prediction is about.
"""

from __future__ import annotations

import numpy as np

import engine
import engine.nn as nn
import engine.nn.functional as F
import engine.optim as optim
from engine.grading.core import CheckFailed, exercise, expect, explain

CHAPTER = "08_training"


def _params(seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [nn.Parameter(engine.tensor(rng.standard_normal(shape))) for shape in [(3, 2), (2,)]]


def _loss(params, step: int):
    rng = np.random.default_rng(100 + step)
    x = engine.tensor(rng.standard_normal((4, 3)))
    return ((x @ params[0] + params[1]).tanh() ** 2).sum()


def _trajectory(update, steps: int = 20) -> list[np.ndarray]:
    params = _params()
    for step in range(steps):
        for p in params:
            p.grad = None
        _loss(params, step).backward()
        update(params, step)
    return [np.asarray(p.tolist()) for p in params]


def _compare_params(case: str, got, want) -> None:
    for number, (a, b) in enumerate(zip(got, want, strict=True)):
        if a.shape != b.shape or not np.allclose(a, b, rtol=1e-10, atol=1e-12):
            raise CheckFailed(
                f"{case}: parameter {number} is {np.round(a, 6).tolist()}, "
                f"expected {np.round(b, 6).tolist()}"
            )


@exercise(
    CHAPTER,
    "sgd_momentum_step",
    "one step of SGD with momentum and weight decay, as torch.optim.SGD",
    forbidden=("engine.optim.SGD.step", "torch.optim.SGD.step"),
    hints=(
        "For each parameter: g = p.grad + weight_decay * p; then the velocity: on the first "
        "step it is g itself (a copy), afterwards momentum * v + g; then p -= lr * v.",
        "Change the parameters in place under engine.no_grad(), and return the list of "
        "velocities for the next call.",
    ),
)
def check_sgd_momentum_step(sgd_momentum_step) -> str:
    velocities = [None]

    def learner(params, step):
        velocities[0] = sgd_momentum_step(params, velocities[0], 0.05, 0.9, 0.01)

    reference_params = _params()
    reference = optim.SGD(reference_params, lr=0.05, momentum=0.9, weight_decay=0.01)

    def engine_sgd(params, step):
        for mine, theirs in zip(reference_params, params, strict=True):
            mine.grad = theirs.grad
        reference.step()
        with engine.no_grad():
            for mine, theirs in zip(reference_params, params, strict=True):
                theirs.copy_(mine)

    want = _trajectory(engine_sgd)
    got = _trajectory(learner)
    _compare_params(
        "20 steps of sgd_momentum_step(lr=0.05, momentum=0.9, weight_decay=0.01)", got, want
    )
    return "20 steps equal torch.optim.SGD's trajectory"


@exercise(
    CHAPTER,
    "adam_step",
    "one step of Adam, as torch.optim.Adam",
    forbidden=(
        "engine.optim.Adam.step",
        "engine.optim.AdamW.step",
        "torch.optim.Adam.step",
        "torch.optim.AdamW.step",
    ),
    hints=(
        "Keep per parameter m and v (zeros at first): m = b1 * m + (1 - b1) * g, "
        "v = b2 * v + (1 - b2) * g * g.",
        "Correct the bias with the step count t (from 1): m_hat = m / (1 - b1**t), "
        "v_hat = v / (1 - b2**t); then p -= lr * m_hat / (sqrt(v_hat) + eps).",
    ),
)
def check_adam_step(adam_step) -> str:
    state: dict = {}

    def learner(params, step):
        adam_step(params, state, step + 1, 0.01, (0.9, 0.999), 1e-8)

    reference_params = _params()
    reference = optim.Adam(reference_params, lr=0.01)

    def engine_adam(params, step):
        for mine, theirs in zip(reference_params, params, strict=True):
            mine.grad = theirs.grad
        reference.step()
        with engine.no_grad():
            for mine, theirs in zip(reference_params, params, strict=True):
                theirs.copy_(mine)

    want = _trajectory(engine_adam)
    got = _trajectory(learner)
    _compare_params("20 steps of adam_step(lr=0.01)", got, want)
    return "20 steps equal torch.optim.Adam's trajectory, to 1e-10"


@exercise(
    CHAPTER,
    "stable_cross_entropy",
    "mean cross-entropy from logits that stays finite on extreme values",
    forbidden=(
        "engine.nn.functional.cross_entropy",
        "engine.nn.functional.log_softmax",
        "engine.nn.functional.nll_loss",
        "engine.log_softmax",
        "engine.logsumexp",
        "engine.Tensor.log_softmax",
        "engine.Tensor.logsumexp",
        "torch.nn.functional.cross_entropy",
        "torch.nn.functional.log_softmax",
        "torch.logsumexp",
    ),
    hints=(
        "log(sum(exp(z))) = m + log(sum(exp(z - m))) for any m; with m = the row's maximum, "
        "nothing exponentiated is positive.",
        "The loss of a row is logsumexp(z) - z[target]; pick z[target] with gather or with a "
        "one-hot mask, then average over the rows.",
    ),
)
def check_stable_cross_entropy(stable_cross_entropy) -> str:
    cases = [
        ([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]], [0, 2]),
        ([[1000.0, 0.0], [0.0, -1000.0]], [1, 1]),
        ([[-500.0, -501.0, -499.0]], [2]),
    ]
    for logits, targets in cases:
        z = engine.tensor(logits, dtype=engine.float64, requires_grad=True)
        case = f"stable_cross_entropy({logits}, {targets})"
        got = stable_cross_entropy(z, engine.tensor(targets))
        expect(case, isinstance(got, engine.Tensor) and got.numel() == 1, f"got {got!r:.60}")
        reference_z = engine.tensor(logits, dtype=engine.float64, requires_grad=True)
        want = F.cross_entropy(reference_z, engine.tensor(targets))
        value = got.item()
        if not np.isfinite(value):
            raise CheckFailed(f"{case}: got {value}: subtract each row's maximum first")
        if abs(value - want.item()) > 1e-9 * max(1.0, abs(want.item())):
            raise CheckFailed(f"{case}: expected {want.item():.9g}, got {value:.9g}")
        got.backward()
        want.backward()
        if not np.allclose(z.grad.tolist(), reference_z.grad.tolist(), atol=1e-12):
            raise CheckFailed(f"{case}: the gradient differs from cross_entropy's")
    return "finite and exact (values and gradients) on ordinary and extreme logits"


def _data(rows: int = 24):
    rng = np.random.default_rng(4)
    x = engine.tensor(rng.standard_normal((rows, 5)))
    return x, engine.tensor(rng.integers(0, 3, rows))


def _model():
    engine.manual_seed(2)
    return nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 3)).double()


@exercise(
    CHAPTER,
    "accumulate_gradients",
    "fill .grad with the whole batch's gradient from several micro-batches",
    hints=(
        "Call backward once per micro-batch: gradients add up in .grad.",
        "Each micro-batch's loss is a mean over its rows; divide it by the number of parts so "
        "the sum is the mean over the whole batch. Start from zeroed gradients.",
    ),
)
def check_accumulate_gradients(accumulate_gradients) -> str:
    x, y = _data()
    reference = _model()
    F.cross_entropy(reference(x), y).backward()
    for parts in (2, 4, 3):
        model = _model()
        model(x).sum().backward()  # stale gradients the learner's code must clear
        accumulate_gradients(model, x, y, parts)
        for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
            got = np.asarray(p.grad.tolist())
            want = np.asarray(q.grad.tolist())
            if not np.allclose(got, want, rtol=1e-12, atol=1e-14):
                ratio = np.median(got / np.where(want == 0, 1, want))
                hint = (
                    f" (about {ratio:.2g} times too large: divide each loss by parts)"
                    if abs(ratio - parts) < 0.5
                    else ""
                )
                raise CheckFailed(
                    f"accumulate_gradients(model, x, y, parts={parts}): {name}.grad differs "
                    f"from the whole batch's{hint}"
                )
    return "2, 3 and 4 micro-batches give the whole batch's gradient exactly"


@exercise(
    CHAPTER,
    "grad_after_calls",
    "predict .grad after backward calls and two kinds of zero_grad",
    kind="predict",
    hints=(
        "backward adds to .grad. zero_grad(set_to_none=False) writes zeros into it; "
        "zero_grad() with its default sets it to None.",
    ),
)
def check_grad_after_calls(grad_after_calls) -> str:
    prediction = grad_after_calls()
    expect(
        "grad_after_calls()",
        isinstance(prediction, tuple) and len(prediction) == 3,
        f"return a tuple of three predictions, got {prediction!r}",
    )
    p = nn.Parameter(engine.tensor(2.0))
    opt = optim.SGD([p], lr=0.1)
    (p * 3).backward()
    (p * p).backward()
    first = p.grad.item()
    opt.zero_grad(set_to_none=False)
    (p * 5).backward()
    second = p.grad.item()
    opt.zero_grad()
    third = p.grad
    as_numbers = tuple(
        float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for v in prediction
    )
    return " ".join(
        [
            explain(
                "p.grad after (p*3).backward() and (p*p).backward()",
                as_numbers[0],
                first,
                "Gradients add: 3 + 2p = 3 + 4.",
            ),
            explain(
                "p.grad after zero_grad(set_to_none=False) and (p*5).backward()",
                as_numbers[1],
                second,
                "The zeros are overwritten by adding 5.",
            ),
            explain(
                "p.grad after zero_grad()",
                as_numbers[2],
                third,
                "The default set_to_none=True leaves None, and the optimizer skips p.",
            ),
        ]
    )


@exercise(
    CHAPTER,
    "train_epoch",
    "fix a training loop whose loss goes wrong and whose memory grows",
    kind="debug",
    hints=(
        "Compare the weights after one epoch with a loop you trust. Where does each step's "
        "gradient come from?",
        "The function returns the summed loss: what type is it, and what does it keep alive?",
    ),
)
def check_train_epoch(train_epoch) -> str:
    x, y = _data(40)
    batches = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 40, 8)]
    reference = _model()
    ref_opt = optim.SGD(reference.parameters(), lr=0.5, momentum=0.9)
    ref_total = 0.0
    for bx, by in batches:
        ref_opt.zero_grad()
        loss = F.cross_entropy(reference(bx), by)
        loss.backward()
        ref_opt.step()
        ref_total += loss.item()
    model = _model()
    total = train_epoch(model, optim.SGD(model.parameters(), lr=0.5, momentum=0.9), batches)
    case = "train_epoch(model, SGD(lr=0.5, momentum=0.9), 5 batches)"
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        if not np.allclose(p.tolist(), q.tolist(), rtol=1e-12, atol=1e-14):
            raise CheckFailed(f"{case}: {name} differs from a correct loop after one epoch")
    expect(
        case,
        isinstance(total, float),
        f"the total loss is a {type(total).__name__}: a tensor keeps every batch's graph alive",
    )
    expect(case, abs(total - ref_total) < 1e-9, f"total loss {total}, expected {ref_total}")
    return "the weights match a correct loop, and the total is a plain float"
