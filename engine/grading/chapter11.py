"""Checks for chapter 11, Mixed precision (exercises/11_mixed_precision.ipynb).

Expected values come from NumPy's float16 casts, from the engine's ``GradScaler`` run on the
same gradients, and from PyTorch itself: CPU autocast on real tensors, CUDA autocast on fake
tensors (``FakeTensorMode``: a dtype, a shape and a device, no data), so that the CUDA policy
is graded on a machine without a GPU.  Answers that are classes run under :func:`traps` here,
because the grader's automatic traps wrap functions only.
"""

from __future__ import annotations

import copy
import math

import numpy as np

import engine
import engine.nn as nn
import engine.nn.functional as F
from engine.grading.core import CheckFailed, ForbiddenCall, exercise, expect, explain, traps

CHAPTER = "11_mixed_precision"

SCALERS = (
    "engine.amp.GradScaler",
    "torch.amp.GradScaler",
    "torch.amp.grad_scaler.GradScaler",
    "torch.cuda.amp.GradScaler",
)
CASTS = (
    "numpy.float16",
    "numpy.half",
    "engine.Tensor.to",
    "engine.Tensor.half",
    "engine.Tensor.type",
    "torch.Tensor.to",
    "torch.Tensor.half",
    "struct.pack",
    "struct.unpack",
)


def _float16(value: float) -> float:
    """NumPy's float16 rounding of ``value`` (the reference)."""
    with np.errstate(over="ignore"):
        return float(np.float16(value))


# ------------------------------------------------------------------------------ LossScaler
def _scaler_run(make_scaler, case):
    """Train two parameters for ``len(pattern)`` steps with the scaler ``make_scaler()``;
    ``pattern[i]`` is "ok", "inf" (every gradient infinite) or "nan" (only the second
    parameter's). Returns the scale after each step and the final weights."""
    engine.manual_seed(0)
    w1 = nn.Parameter(engine.randn(3))
    w2 = nn.Parameter(engine.randn(2))
    c1, c2 = engine.tensor([0.5, -1.0, 2.0]), engine.tensor([1e-6, 3.0])
    optimizer = engine.optim.SGD([w1, w2], lr=0.1)
    scaler = make_scaler()
    scales, weights = [], []
    for kind in case["pattern"]:
        optimizer.zero_grad()
        loss = (w1 * c1).sum() + (w2 * c2).pow(2).sum()
        if kind == "inf":
            loss = loss * float("inf")
        elif kind == "nan":
            loss = loss + (w2 * float("nan")).sum()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        scales.append(float(scaler.get_scale()))
        weights.append(np.asarray(w1.tolist() + w2.tolist()))
    return scales, weights


_SCALER_CASES = [
    {"name": "5 clean steps, torch's defaults", "options": {}, "pattern": ["ok"] * 5},
    {
        "name": "growth_interval=3: grow, overflow, a NaN in one parameter, grow again",
        "options": {"growth_interval": 3},
        "pattern": ["ok"] * 4 + ["inf", "ok", "ok", "nan"] + ["ok"] * 7,
    },
    {
        "name": "init_scale=8, growth_factor=4, backoff_factor=0.25, growth_interval=2",
        "options": {
            "init_scale": 8.0,
            "growth_factor": 4.0,
            "backoff_factor": 0.25,
            "growth_interval": 2,
        },
        "pattern": ["ok", "inf", "inf", "ok", "ok", "ok", "nan", "ok", "ok"],
    },
]


@exercise(
    CHAPTER,
    "LossScaler",
    "dynamic loss scaling as a class: scale, unscale and skip, back off and grow",
    forbidden=SCALERS,
    hints=(
        "Keep the scale and a count of good steps in a row. scale(loss) is loss times the "
        "scale; step(optimizer) divides every parameter's .grad by the scale (under "
        "engine.no_grad()), and calls optimizer.step() only if all of them are finite.",
        "One infinite or NaN gradient anywhere skips the whole step, not just that "
        "parameter's update.",
        "update(): after a skipped step multiply the scale by backoff_factor and reset the "
        "count; otherwise add one to the count, and when it reaches growth_interval multiply "
        "the scale by growth_factor and reset the count.",
    ),
)
def check_loss_scaler(loss_scaler) -> str:
    expect(
        "LossScaler",
        isinstance(loss_scaler, type),
        f"expected a class, got {loss_scaler!r:.60}",
    )
    for path in SCALERS:
        owner = _owner(path)
        if owner is not None and issubclass(loss_scaler, owner):
            raise ForbiddenCall(
                f"your LossScaler is a subclass of {path}, which is what exercise LossScaler "
                "asks you to write yourself"
            )
    for case in _SCALER_CASES:
        options = case["options"]
        want_scales, want_weights = _scaler_run(
            lambda options=options: engine.amp.GradScaler("cpu", **options), case
        )
        with traps(SCALERS, "LossScaler"):
            got_scales, got_weights = _scaler_run(
                lambda options=options: loss_scaler(**options), case
            )
        for step, (want, got) in enumerate(zip(want_scales, got_scales, strict=True)):
            if want != got:
                raise CheckFailed(
                    f"{case['name']}: after step {step} ({case['pattern'][step]}) the scale "
                    f"should be {want:g}, got {got:g}"
                )
        for step, (want, got) in enumerate(zip(want_weights, got_weights, strict=True)):
            if not np.allclose(want, got, rtol=1e-5, atol=1e-6):
                kind = case["pattern"][step]
                why = (
                    " (a step with an inf or NaN gradient must be skipped entirely)"
                    if kind != "ok"
                    else " (were the gradients divided by the scale before the step?)"
                )
                raise CheckFailed(
                    f"{case['name']}: after step {step} ({kind}) the weights should be "
                    f"{np.round(want, 6).tolist()}, got {np.round(got, 6).tolist()}{why}"
                )
    return f"{len(_SCALER_CASES)} runs: the same scales and weights as engine.amp.GradScaler"


def _owner(path: str):
    """The class at ``path`` if its module is loaded, else None."""
    import sys

    module_name, _, attribute = path.rpartition(".")
    module = sys.modules.get(module_name)
    found = getattr(module, attribute, None) if module is not None else None
    return found if isinstance(found, type) else None


# ------------------------------------------------------------------------ round_to_float16
def _rounding_cases() -> list[float]:
    fixed = [
        0.1,
        1 / 3,
        -2.5,
        1 + 2.0**-11,  # halfway between 1 and the next float16: ties to even, 1
        1 + 3 * 2.0**-11,  # halfway again: ties to even, upwards
        2049.0,  # halfway between 2048 and 2050
        2051.0,
        65504.0,
        65519.0,
        65520.0,  # rounds to 65536: overflows to inf
        -70000.0,
        1e6,
        2.0**-14,  # smallest normal
        2.0**-14 * (1 - 2.0**-11),  # just below it: a subnormal
        6e-5,
        2.0**-24,  # smallest subnormal
        2.0**-25,  # half of it: ties to even, 0
        2.0**-25 * (1 + 2.0**-20),  # just above half: rounds up to 2**-24
        3 * 2.0**-25,  # halfway between 2**-24 and 2**-23: ties to even, 2**-23
        1e-10,
        -1e-9,
        0.0,
        math.inf,
        -math.inf,
    ]
    rng = np.random.default_rng(11)
    randoms = rng.choice([-1, 1], 120) * 2.0 ** rng.uniform(-28, 17, 120)
    return fixed + [float(v) for v in randoms]


@exercise(
    CHAPTER,
    "round_to_float16",
    "round a number to float16 by hand: ties to even, subnormals, overflow to inf",
    forbidden=CASTS,
    hints=(
        "math.frexp(abs(x)) gives m, e with abs(x) = m * 2**e and 0.5 <= m < 1. Near abs(x), "
        "float16's numbers are 2**(e - 11) apart (10 mantissa bits after the leading 1).",
        "Below the smallest normal number 2**-14 the gap stops shrinking: it stays 2**-24 "
        "(the subnormals).",
        "Python's round() rounds halfway cases to even. After rounding, anything above 65504 "
        "is inf; keep the sign with math.copysign.",
    ),
)
def check_round_to_float16(round_to_float16) -> str:
    cases = _rounding_cases()
    for value in cases:
        want = _float16(value)
        got = round_to_float16(value)
        if isinstance(got, bool) or not isinstance(got, (int, float, np.floating)):
            raise CheckFailed(f"round_to_float16({value!r}): expected a number, got {got!r:.60}")
        if float(got) != want:
            raise CheckFailed(f"round_to_float16({value!r}): expected {want!r}, got {got!r}")
    got_nan = round_to_float16(math.nan)
    expect(
        "round_to_float16(nan)",
        isinstance(got_nan, (float, np.floating)) and math.isnan(got_nan),
        f"expected nan, got {got_nan!r}",
    )
    return f"{len(cases) + 1} values, ties, subnormals and overflow as float16 rounds them"


# ------------------------------------------------------------------------ first_underflow
def _underflow_model(case: str):
    engine.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3))
    x = np.linspace(-1, 1, 24).reshape(4, 6)
    with engine.no_grad():
        if case == "tiny inputs":  # the first weight's gradient is tiny in two columns
            x[:, [1, 4]] *= 1e-9
        elif case == "dead units":  # two hidden units ~ 1e-9: the last weight's columns
            model[0].weight[[0, 3]] *= 1e-9
            model[0].bias[[0, 3]] *= 1e-9
            x[:, 2] = 0.0  # and a column of exact zeros, which is not an underflow
        elif case == "zeros only":
            x[:, 0] = 0.0
    return model, engine.tensor(x, dtype=engine.float32), engine.tensor([0, 2, 1, 2])


def _underflow_reference(model, x, y):
    model = copy.deepcopy(model)
    F.cross_entropy(model(x), y).backward()
    for name, parameter in model.named_parameters():
        grad = parameter.grad.numpy()
        with np.errstate(over="ignore"):
            lost = int(((grad != 0) & (grad.astype(np.float16) == 0)).sum())
        if lost:
            return name, lost
    return None


@exercise(
    CHAPTER,
    "first_underflow",
    "find the first parameter whose float32 gradient float16 would round to zero",
    hints=(
        "Run the loss (F.cross_entropy of model(x) and y) backward, then walk "
        "model.named_parameters() in order.",
        "An entry is lost when it is not zero in float32 and rounds to zero in float16: "
        "when its magnitude is at most half of float16's smallest subnormal, 2**-24.",
        "Exact zeros (a pixel that is always 0) were zero already: they are not lost.",
    ),
)
def check_first_underflow(first_underflow) -> str:
    results = []
    for case in ["tiny inputs", "dead units", "zeros only"]:
        model, x, y = _underflow_model(case)
        want = _underflow_reference(model, x, y)
        model.zero_grad()
        got = first_underflow(model, x, y)
        if got != want:
            extra = ""
            if isinstance(got, tuple) and want is not None and got[0] == want[0]:
                extra = " (the right parameter, but not the number of entries it loses)"
            elif want is None and got is not None:
                extra = " (entries that are zero in float32 are not lost)"
            raise CheckFailed(
                f"first_underflow on the model with {case}: expected {want!r}, got "
                f"{got!r:.80}{extra}"
            )
        results.append(want)
    return f"found {results}"


# ------------------------------------------------------------------------ autocast_dtypes
_AUTOCAST_CASES = {
    "h.tanh()": ("float16", "float16"),
    "h.log_softmax(-1)": ("float32", "float16"),
    "h.mean()": ("float16", "float16"),
    "h.norm()": ("float32", "float16"),
    "torch.cat([h, x])": ("float32", "float32"),
    "h @ x": ("float16", "float16"),
    "x.exp()": ("float32", "float32"),
    "F.l1_loss(h, x)": ("float32", "float32"),
}
_AUTOCAST_WHY = {
    "h.tanh()": "tanh is on no list: it runs in its input's dtype, float16, on both devices.",
    "h.log_softmax(-1)": "log_softmax is on CUDA's float32 list (it exponentiates and sums); "
    "the CPU policy leaves it in float16.",
    "h.mean()": "mean is on neither device's float32 list (sum is, on CUDA): it stays float16, "
    "accumulating in float32 inside the kernel.",
    "h.norm()": "norms are on CUDA's float32 list, not on the CPU's.",
    "torch.cat([h, x])": "cat is a 'promote' op: the widest input, float32, wins on both.",
    "h @ x": "matmul is on the lower-precision list: both inputs are cast to float16.",
    "x.exp()": "x is float32. On CUDA exp is on the float32 list; on the CPU it is on no list "
    "and runs in its input's dtype, float32 too.",
    "F.l1_loss(h, x)": "every loss is on the float32 list, on both devices.",
}


def _torch_autocast_dtypes() -> dict[str, tuple[str, str]]:
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    functional = torch.nn.functional
    ops = {
        "h.tanh()": lambda x, h: h.tanh(),
        "h.log_softmax(-1)": lambda x, h: h.log_softmax(-1),
        "h.mean()": lambda x, h: h.mean(),
        "h.norm()": lambda x, h: h.norm(),
        "torch.cat([h, x])": lambda x, h: torch.cat([h, x]),
        "h @ x": lambda x, h: h @ x,
        "x.exp()": lambda x, h: x.exp(),
        "F.l1_loss(h, x)": lambda x, h: functional.l1_loss(h, x),
    }
    result = {}
    with FakeTensorMode():
        x = torch.empty(4, 4, device="cuda")
        enabled, dtype = torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")
        torch.set_autocast_enabled("cuda", True)
        torch.set_autocast_dtype("cuda", torch.float16)
        try:
            h = x @ x
            cuda = {k: str(op(x, h).dtype)[6:] for k, op in ops.items()}
        finally:
            torch.set_autocast_enabled("cuda", enabled)
            torch.set_autocast_dtype("cuda", dtype)
    x = torch.full((4, 4), 0.5)
    with torch.autocast("cpu", dtype=torch.float16):
        h = x @ x
        cpu = {k: str(op(x, h).dtype)[6:] for k, op in ops.items()}
    for key in ops:
        result[key] = (cuda[key], cpu[key])
    return result


def _dtype_name(value) -> object:
    text = str(value)
    for prefix in ("torch.", "engine."):
        text = text.removeprefix(prefix)
    return text if text in ("float16", "float32", "bfloat16") else value


@exercise(
    CHAPTER,
    "autocast_dtypes",
    "predict the dtype autocast gives eight ops on CUDA and on the CPU",
    kind="predict",
    hints=(
        "Three lists: lower precision (the matmul family), float32 (ops that need range or "
        "precision, and every loss), promote (several inputs: the widest wins). Any other op "
        "runs in its inputs' dtype.",
        "The CPU's float32 list is short: the losses and a few ops like prod. CUDA's adds "
        "exp, log, pow, softmax and log_softmax, sum, norms, layer_norm.",
    ),
)
def check_autocast_dtypes(autocast_dtypes) -> str:
    prediction = autocast_dtypes()
    expect(
        "autocast_dtypes()",
        isinstance(prediction, dict) and set(prediction) == set(_AUTOCAST_CASES),
        f"return a dict with the keys {sorted(_AUTOCAST_CASES)}, got {prediction!r:.120}",
    )
    actual = _torch_autocast_dtypes()
    verdicts = []
    for case, (cuda, cpu) in actual.items():
        predicted = prediction[case]
        if isinstance(predicted, tuple | list) and len(predicted) == 2:
            predicted = tuple(_dtype_name(p) for p in predicted)
        verdicts.append(
            explain(
                f"{case} under autocast(float16), (CUDA, CPU)",
                predicted,
                (cuda, cpu),
                _AUTOCAST_WHY[case],
            )
        )
    return " ".join(verdicts)


# ---------------------------------------------------------------------------- fp16_or_bf16
_FORMAT_CASES = [
    (70000.0, "float16"),
    (70000.0, "bfloat16"),
    (1e-8, "float16"),
    (1e-8, "bfloat16"),
    (1 + 2.0**-10, "float16"),
    (1 + 2.0**-10, "bfloat16"),
    (1025.0, "float16"),
    (1025.0, "bfloat16"),
    (65504.0, "bfloat16"),
    (2.0**-24, "float16"),
    (2.0**-130, "float16"),
    (2.0**-130, "bfloat16"),
]
_FORMAT_WHY = {
    "inf": "Beyond the format's largest number: it overflows.",
    "zero": "Below half the format's smallest subnormal: it rounds to zero.",
    "exact": "The format has this number.",
    "rounded": "In range, but the format has too few mantissa bits for it.",
}


def _format_outcome(value: float, name: str) -> str:
    import torch

    stored = torch.tensor(value, dtype=torch.float64).to(getattr(torch, name)).item()
    if math.isinf(stored):
        return "inf"
    if stored == 0:
        return "zero"
    return "exact" if stored == value else "rounded"


@exercise(
    CHAPTER,
    "fp16_or_bf16",
    "predict what float16 and bfloat16 do to twelve values: exact, rounded, inf or zero",
    kind="predict",
    hints=(
        "float16: 5 exponent bits, 10 mantissa bits, largest 65504, smallest subnormal "
        "2**-24. bfloat16: float32's 8 exponent bits (largest about 3.4e38, smallest "
        "subnormal 2**-133) and 7 mantissa bits.",
        "With p mantissa bits, the integers are exact up to 2**(p + 1): 2048 for float16, 256 "
        "for bfloat16.",
    ),
)
def check_fp16_or_bf16(fp16_or_bf16) -> str:
    prediction = fp16_or_bf16()
    expect(
        "fp16_or_bf16()",
        isinstance(prediction, dict) and set(prediction) == set(_FORMAT_CASES),
        "return a dict keyed by the (value, format) pairs of the exercise, got "
        f"{prediction!r:.120}",
    )
    verdicts = []
    for value, name in _FORMAT_CASES:
        actual = _format_outcome(value, name)
        verdicts.append(
            explain(f"{value!r} in {name}", prediction[(value, name)], actual, _FORMAT_WHY[actual])
        )
    return " ".join(verdicts)


# -------------------------------------------------------------------------------- amp_step
def _amp_model():
    engine.manual_seed(2)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))


def _amp_reference(model, x, y, steps):
    model = copy.deepcopy(model)
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1)
    scaler = engine.amp.GradScaler("cpu", init_scale=2.0**12)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
    return [np.asarray(p.tolist()) for p in model.parameters()]


@exercise(
    CHAPTER,
    "amp_step",
    "fix a training step that clips the gradients while they are still scaled",
    kind="debug",
    hints=(
        "What is the gradients' norm when clip_grad_norm_ sees them, and what is it after "
        "the scaler divides them by 4096?",
        "GradScaler has a method that divides the gradients by the scale ahead of step(); "
        "step() then does not divide them again.",
    ),
)
def check_amp_step(amp_step) -> str:
    model = _amp_model()
    x = engine.tensor(np.linspace(-3, 3, 40).reshape(10, 4), dtype=engine.float32)
    y = engine.tensor(np.cos(np.linspace(0, 5, 20)).reshape(10, 2) * 5, dtype=engine.float32)
    steps = 5
    want = _amp_reference(model, x, y, steps)
    start = [np.asarray(p.tolist()) for p in model.parameters()]
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1)
    scaler = engine.amp.GradScaler("cpu", init_scale=2.0**12)
    for _ in range(steps):
        amp_step(model, optimizer, scaler, x, y)
    got = [np.asarray(p.tolist()) for p in model.parameters()]
    moved_want = sum(np.abs(w - s).sum() for w, s in zip(want, start, strict=True))
    moved_got = sum(np.abs(g - s).sum() for g, s in zip(got, start, strict=True))
    case = f"{steps} steps of amp_step with max_norm=1.0 and a scale of 4096"
    if all(np.allclose(g, w, rtol=1e-5, atol=1e-6) for g, w in zip(got, want, strict=True)):
        return f"{case}: the weights move as with unscaled, clipped gradients"
    if moved_got < 0.01 * moved_want:
        raise CheckFailed(
            f"{case}: the weights moved {moved_got:.2e} in total instead of {moved_want:.2e}: "
            "the clipped gradients end up about 4096 times too small"
        )
    raise CheckFailed(
        f"{case}: the weights moved {moved_got:.2e} in total instead of {moved_want:.2e} "
        "(were the gradients divided by the scale twice, or not clipped?)"
    )
