"""Checks for chapter 9, Training dynamics (exercises/09_training_dynamics.ipynb).

Expected values come from the engine's own layers and functions, run by the check outside the
learner's code (``engine.nn.functional.layer_norm``, ``engine.nn.utils.clip_grad_norm_``, a
reference truncated-BPTT loop), from the engine's allocator counters (``engine.memory``), and,
for the initialization checks, from statistics over many draws.
"""

from __future__ import annotations

import gc
import math

import numpy as np

import engine
import engine.nn as nn
import engine.nn.functional as F
from engine import memory
from engine.grading.core import CheckFailed, exercise, expect, explain

CHAPTER = "09_training_dynamics"


def _array(value: object, case: str) -> np.ndarray:
    if not isinstance(value, engine.Tensor):
        raise CheckFailed(f"{case}: expected an engine Tensor, got {type(value).__name__}")
    return np.asarray(value.detach().tolist(), dtype=np.float64)


def _float64(values) -> engine.Tensor:
    return engine.tensor(np.asarray(values, dtype=np.float64))


# ------------------------------------------------------------------------------ kaiming_normal_
@exercise(
    CHAPTER,
    "kaiming_normal_",
    "fill a weight in place with Kaiming's normal initialization, for linear and conv weights",
    forbidden=(
        "engine.nn.init.kaiming_normal_",
        "engine.nn.init.kaiming_uniform_",
        "engine.nn.init.xavier_normal_",
        "engine.nn.init.calculate_gain",
        "engine.nn.init.calculate_fan_in_and_fan_out",
        "torch.nn.init.kaiming_normal_",
        "torch.nn.init.kaiming_uniform_",
        "torch.nn.init.calculate_gain",
        "torch.nn.init._calculate_fan_in_and_fan_out",
    ),
    hints=(
        "A weight has shape (out, in, *kernel): fan_in is in times the number of kernel "
        "elements, fan_out is out times it.",
        "The standard deviation is gain / sqrt(fan); relu's gain is sqrt(2), tanh's 5/3, "
        "linear's 1.",
        "Filling a parameter that requires grad in place is only allowed under engine.no_grad().",
    ),
)
def check_kaiming_normal(kaiming_normal_) -> str:
    engine.manual_seed(0)
    cases = [
        ((400, 300), {}, math.sqrt(2 / 300), "a (400, 300) weight, defaults"),
        (
            (300, 400),
            {"mode": "fan_out"},
            math.sqrt(2 / 300),
            'a (300, 400) weight, mode="fan_out"',
        ),
        ((64, 8, 5, 5), {}, math.sqrt(2 / 200), "a (64, 8, 5, 5) conv weight (fan_in 8 x 25)"),
        (
            (16, 64, 3, 3),
            {"mode": "fan_out"},
            math.sqrt(2 / 144),
            'a (16, 64, 3, 3) conv weight, mode="fan_out" (16 x 9)',
        ),
        ((500, 250), {"nonlinearity": "tanh"}, (5 / 3) / math.sqrt(250), 'nonlinearity="tanh"'),
        ((500, 250), {"nonlinearity": "linear"}, 1 / math.sqrt(250), 'nonlinearity="linear"'),
    ]
    for shape, kwargs, std, case in cases:
        weight = nn.Parameter(engine.zeros(*shape))
        result = kaiming_normal_(weight, **kwargs)
        expect(
            case,
            result is weight,
            "return the tensor you were given, filled in place (got "
            f"{type(result).__name__ if result is not None else 'None'})",
        )
        expect(
            case,
            weight.requires_grad and weight.grad_fn is None,
            "the parameter must stay a leaf that requires grad",
        )
        values = _array(weight, case).ravel()
        got = values.std()
        if not abs(got - std) < 0.03 * std:
            raise CheckFailed(
                f"kaiming_normal_ on {case}: expected a standard deviation of {std:.4f}, got "
                f"{got:.4f} over {values.size} draws"
            )
        expect(case, abs(values.mean()) < 5 * std / math.sqrt(values.size), "the mean is not 0")
        within = float(np.mean(np.abs(values) < std))
        expect(
            case,
            abs(within - 0.6827) < 0.02,
            f"{within:.1%} of the draws lie within one standard deviation; a normal "
            "distribution puts 68.3% there (a uniform one 57.7%)",
        )
    return f"{len(cases)} shapes, modes and gains: the right standard deviation, normal, in place"


# ------------------------------------------------------------------------------ clip_grad_norm_
def _parameters_with_grads(grads):
    params = []
    for g in grads:
        shape = (3,) if g is None else np.shape(g)
        p = nn.Parameter(engine.zeros(*shape, dtype=engine.float64))
        p.grad = None if g is None else _float64(g)
        params.append(p)
    return params


@exercise(
    CHAPTER,
    "clip_grad_norm_",
    "scale all gradients together so that their total norm is at most max_norm",
    forbidden=(
        "engine.nn.utils.clip_grad_norm_",
        "engine.nn.utils.clip_grads_with_norm_",
        "engine.nn.utils.get_total_norm",
        "engine.nn.utils.clip_grad.clip_grad_norm_",
        "engine.nn.utils.clip_grad.clip_grads_with_norm_",
        "engine.nn.utils.clip_grad.get_total_norm",
        "torch.nn.utils.clip_grad_norm_",
        "torch.nn.utils.clip_grads_with_norm_",
        "torch.nn.utils.get_total_norm",
    ),
    hints=(
        "The norm is over all the gradients together: the square root of the sum of every "
        "element's square, across parameters. Skip parameters whose .grad is None.",
        "Multiply each .grad in place by max_norm / (total_norm + 1e-6), and only when that "
        "factor is below 1. Return total_norm.",
        "parameters may be a generator, which can be read only once: make a list first.",
    ),
)
def check_clip_grad_norm(clip_grad_norm_) -> str:
    rng = np.random.default_rng(0)
    cases = [
        ("three gradients, total norm 13, max_norm 1", [[3.0, 4.0], [[12.0]], None, [0.0]], 1.0),
        (
            "large random gradients, max_norm 0.5",
            [rng.standard_normal((4, 3)) * 10, rng.standard_normal(5) * 100, None],
            0.5,
        ),
        ("gradients already short enough (norm 0.5), max_norm 2", [[0.3, 0.4]], 2.0),
    ]
    for case, grads, max_norm in cases:
        params = _parameters_with_grads(grads)
        originals = [p.grad for p in params]
        before = [None if g is None else np.asarray(g, dtype=np.float64) for g in grads]
        total = math.sqrt(sum(float(np.sum(b**2)) for b in before if b is not None))
        factor = min(1.0, max_norm / (total + 1e-6))
        # a generator, as model.parameters() is
        returned = clip_grad_norm_((p for p in params), max_norm)
        value = float(returned.item() if isinstance(returned, engine.Tensor) else returned)
        if not math.isclose(value, total, rel_tol=1e-9):
            raise CheckFailed(
                f"clip_grad_norm_ with {case}: expected it to return the total norm before "
                f"clipping, {total:.6g}, got {value!r}"
            )
        for i, (p, original, b) in enumerate(zip(params, originals, before, strict=True)):
            if b is None:
                expect(case, p.grad is None, f"parameter {i} had no gradient and must keep None")
                continue
            expect(
                case,
                p.grad is original,
                f"parameter {i}'s .grad was replaced by a new tensor: scale it in place",
            )
            got = np.asarray(p.grad.tolist(), dtype=np.float64)
            if not np.allclose(got, b * factor, rtol=1e-9, atol=1e-12):
                per_tensor = b * min(1.0, max_norm / (np.sqrt(np.sum(b**2)) + 1e-6))
                hint = (
                    " (each gradient was clipped by its own norm; the norm is over all of "
                    "them together)"
                    if np.allclose(got, per_tensor, rtol=1e-9)
                    else ""
                )
                if factor == 1.0:
                    hint = " (the total norm is below max_norm: nothing should change)"
                raise CheckFailed(
                    f"clip_grad_norm_ with {case}: parameter {i}'s gradient should be "
                    f"{np.round(b * factor, 6).tolist()}, got {np.round(got, 6).tolist()}{hint}"
                )
    return "the total norm across parameters, returned; gradients scaled in place only if too long"


# ------------------------------------------------------------------------------ truncated_bptt
def _reference_bptt(cell, inputs, k):
    zeros = engine.zeros(inputs.shape[1], cell.hidden_size, dtype=inputs.dtype)
    h, c = zeros, zeros
    losses = []
    for begin in range(0, inputs.shape[0], k):
        h, c = h.detach(), c.detach()
        loss = 0
        for t in range(begin, min(begin + k, inputs.shape[0])):
            h, c = cell(inputs[t], (h, c))
            loss = loss + h.pow(2).mean()
        loss.backward()
        losses.append(loss.item())
    return losses


def _cell_grads(cell) -> np.ndarray:
    return np.concatenate(
        [
            np.asarray(p.grad.tolist()).ravel() if p.grad is not None else np.zeros(p.numel())
            for p in cell.parameters()
        ]
    )


@exercise(
    CHAPTER,
    "truncated_bptt",
    "backpropagate through an LSTM cell in chunks of k steps, detaching its state",
    forbidden=(
        "engine.nn.LSTM.forward",
        "engine.nn.RNN.forward",
        "torch.nn.LSTM.forward",
        "torch.nn.RNN.forward",
    ),
    hints=(
        "Loop over chunks of k steps (the last chunk may be shorter). In each, run the cell step "
        "by step, add up the chunk's loss, then call backward once.",
        "Before a chunk starts, cut the state from the previous chunk's graph. An LSTM's state "
        "has two tensors, and both lead back into the previous chunk.",
        "Gradients from the chunks add up in .grad: do not zero them in between.",
    ),
)
def check_truncated_bptt(truncated_bptt) -> str:
    for steps, batch, k in [(10, 3, 3), (12, 2, 4), (7, 2, 7), (5, 1, 1)]:
        engine.manual_seed(steps)
        cell = nn.LSTMCell(3, 5).double()
        inputs = _float64(np.random.default_rng(steps).standard_normal((steps, batch, 3)))
        want_losses = _reference_bptt(cell, inputs, k)
        want = _cell_grads(cell)
        cell.zero_grad()
        _reference_bptt(cell, inputs, steps)
        full = _cell_grads(cell)
        cell.zero_grad()
        case = f"truncated_bptt(LSTM cell, inputs of {steps} steps, k={k})"
        try:
            got_losses = truncated_bptt(cell, inputs, k)
        except RuntimeError as error:
            if "backward through the graph a second time" not in str(error):
                raise
            raise CheckFailed(
                f"{case}: backward reached the previous chunk's graph, already freed: part of "
                "the state still leads back into it. (retain_graph=True would silence this, "
                "and keep every chunk's graph alive.)"
            ) from None
        expect(
            case,
            isinstance(got_losses, (list, tuple)) and len(got_losses) == len(want_losses),
            f"expected a list of {len(want_losses)} chunk losses, got {got_losses!r:.80}",
        )
        got_losses = [float(v.item() if isinstance(v, engine.Tensor) else v) for v in got_losses]
        if not np.allclose(got_losses, want_losses, rtol=1e-9):
            raise CheckFailed(
                f"{case}: expected chunk losses {np.round(want_losses, 6).tolist()}, got "
                f"{np.round(got_losses, 6).tolist()}"
            )
        got = _cell_grads(cell)
        if not np.allclose(got, want, rtol=1e-9, atol=1e-12):
            hint = ""
            if k < steps and np.allclose(got, full, rtol=1e-9, atol=1e-12):
                hint = " (these are full BPTT's gradients: the state was not detached)"
            raise CheckFailed(
                f"{case}: the accumulated gradients differ from truncated BPTT's{hint}"
            )
    peaks = []
    engine.manual_seed(1)
    cell = nn.LSTMCell(8, 32).double()
    for steps in (40, 80):
        inputs = _float64(np.random.default_rng(1).standard_normal((steps, 16, 8)))
        gc.collect()
        memory.reset_peak_stats()
        start = memory.allocated()
        truncated_bptt(cell, inputs, 5)
        peaks.append(memory.max_allocated() - start)
    expect(
        "truncated_bptt on 40 and 80 steps with k=5",
        peaks[1] <= 1.2 * peaks[0] + 4096,
        f"the peak memory grew from {peaks[0]} to {peaks[1]} bytes when the sequence doubled: "
        "something keeps every chunk's graph alive",
    )
    return "4 sequences: the truncated gradients; the peak memory does not grow with the sequence"


# -------------------------------------------------------------------------- which_init_explodes
INIT_NAMES = (
    "normal std 1",
    "xavier_normal_",
    "kaiming_normal_ relu",
    "kaiming_uniform_ relu",
    "nn.Linear default",
    "xavier_normal_ gain sqrt 2",
)


def _initialize(name: str, weight) -> None:
    init = nn.init
    if name == "normal std 1":
        init.normal_(weight, 0.0, 1.0)
    elif name == "xavier_normal_":
        init.xavier_normal_(weight)
    elif name == "kaiming_normal_ relu":
        init.kaiming_normal_(weight, nonlinearity="relu")
    elif name == "kaiming_uniform_ relu":
        init.kaiming_uniform_(weight, nonlinearity="relu")
    elif name == "xavier_normal_ gain sqrt 2":
        init.xavier_normal_(weight, gain=math.sqrt(2))
    # "nn.Linear default": leave the layer's own initialization


def _final_std(name: str) -> float:
    engine.manual_seed(0)
    layers = []
    for _ in range(30):
        layer = nn.Linear(128, 128, bias=False).double()
        _initialize(name, layer.weight)
        layers += [layer, nn.ReLU()]
    x = engine.randn(256, 128, dtype=engine.float64)
    with engine.no_grad():
        out = nn.Sequential(*layers)(x)
    return out.std().item()


def _verdict(std: float) -> str:
    return "vanishes" if std < 1e-2 else "explodes" if std > 1e2 else "stable"


_WHY = {
    "normal std 1": "Each layer multiplies the scale by sqrt(128 / 2) = 8.",
    "xavier_normal_": "Variance 1/128 keeps a linear layer's scale, but ReLU halves the second "
    "moment: 1/sqrt(2) a layer, 2^-15 after 30.",
    "kaiming_normal_ relu": "Variance 2/fan_in makes up for the ReLU exactly.",
    "kaiming_uniform_ relu": "Uniform with the same variance 2/fan_in: the shape does not matter.",
    "nn.Linear default": "kaiming_uniform_ with a = sqrt(5) gives variance 1/(3 fan_in): with "
    "the ReLU's halving, sqrt(1/6) a layer.",
    "xavier_normal_ gain sqrt 2": "For a square layer 2 / (fan_in + fan_out) times gain^2 = 2 "
    "is 2 / fan_in, Kaiming's variance.",
}


@exercise(
    CHAPTER,
    "which_init_explodes",
    "predict, for six initializations of a 30-layer ReLU network, whether its output vanishes, "
    "stays stable or explodes",
    kind="predict",
    forbidden=(
        "engine.nn.Linear.forward",
        "engine.nn.functional.linear",
        "engine.matmul",
        "torch.nn.Linear.forward",
        "torch.nn.functional.linear",
        "torch.matmul",
    ),
    hints=(
        "A linear layer multiplies the second moment of its input by fan_in times the weights' "
        "variance; a ReLU halves it. Thirty layers raise that factor to the 30th power.",
        "Work out each initialization's variance for a 128 x 128 weight (nn.Linear's default is "
        "kaiming_uniform_ with a = sqrt(5); a uniform U(-b, b) has variance b^2 / 3).",
    ),
)
def check_which_init_explodes(which_init_explodes) -> str:
    prediction = which_init_explodes()
    expect(
        "which_init_explodes()",
        isinstance(prediction, dict) and set(prediction) == set(INIT_NAMES),
        f"return a dict with the keys {list(INIT_NAMES)}, got {prediction!r:.120}",
    )
    lines = []
    for name in INIT_NAMES:
        std = _final_std(name)
        lines.append(
            explain(
                f"{name}: output std after 30 layers {std:.3g}",
                prediction[name],
                _verdict(std),
                _WHY[name],
            )
        )
    return " ".join(lines)


# ------------------------------------------------------------------------------ residual_block
def _reference_block(x, weight, bias):
    normed = F.layer_norm(x, (x.shape[-1],), eps=1e-5)
    return x + (normed @ weight.T + bias).tanh()


@exercise(
    CHAPTER,
    "residual_block",
    "a pre-norm residual block, x + tanh(layer_norm(x) W^T + b), with the normalization by hand",
    forbidden=(
        "engine.nn.functional.layer_norm",
        "engine.nn.LayerNorm.forward",
        "engine.nn.functional.group_norm",
        "torch.nn.functional.layer_norm",
        "torch.layer_norm",
    ),
    hints=(
        "Normalize over the last dimension only: subtract its mean and divide by "
        "sqrt(variance + 1e-5), where the variance is the biased one (divide by n).",
        "Write it with engine ops (mean, pow or *, sqrt, @, tanh) so that backward works.",
        "The block adds its input back: the identity path is what carries the gradient.",
    ),
)
def check_residual_block(residual_block) -> str:
    rng = np.random.default_rng(0)
    for shape in [(4, 8), (2, 3, 8)]:
        values = rng.standard_normal(shape) * 3 + 1
        w_np, b_np = rng.standard_normal((8, 8)) * 0.5, rng.standard_normal(8)
        leaves = []
        for _ in range(2):
            leaves.append(
                [
                    _float64(values).requires_grad_(),
                    _float64(w_np).requires_grad_(),
                    _float64(b_np).requires_grad_(),
                ]
            )
        case = f"residual_block(x of shape {shape}, weight (8, 8), bias (8,))"
        want = _reference_block(*leaves[0])
        got = residual_block(*leaves[1])
        got_values = _array(got, case)
        want_values = np.asarray(want.tolist())
        if got_values.shape != want_values.shape or not np.allclose(
            got_values, want_values, rtol=1e-9, atol=1e-12
        ):
            hint = ""
            unbiased = values.var(axis=-1, ddof=1, keepdims=True)
            normed = (values - values.mean(axis=-1, keepdims=True)) / np.sqrt(unbiased + 1e-5)
            if got_values.shape == want_values.shape and np.allclose(
                got_values, values + np.tanh(normed @ w_np.T + b_np), rtol=1e-9
            ):
                hint = " (the variance must be the biased one, divided by n)"
            elif got_values.shape == want_values.shape and np.allclose(
                got_values, want_values - values, rtol=1e-9
            ):
                hint = " (the input is not added back)"
            raise CheckFailed(
                f"{case}: the output differs from x + tanh(layer_norm(x) W^T + b){hint}"
            )
        want.sum().backward()
        got.sum().backward()
        for name, mine, theirs in zip(("x", "weight", "bias"), leaves[0], leaves[1], strict=True):
            expect(case, theirs.grad is not None, f"no gradient reached {name}")
            if not np.allclose(
                np.asarray(theirs.grad.tolist()),
                np.asarray(mine.grad.tolist()),
                rtol=1e-8,
                atol=1e-10,
            ):
                raise CheckFailed(f"{case}: the gradient with respect to {name} is wrong")
    return "values and gradients of x, weight and bias match, for 2-D and 3-D inputs"


# -------------------------------------------------------------------------- train_with_clipping
class _Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        engine.manual_seed(4)
        self.rnn = nn.RNN(4, 16)
        self.head = nn.Linear(16, 1)
        with engine.no_grad():
            nn.init.normal_(self.rnn.weight_hh_l0, 0.0, 2.0 / 4)
        self.double()

    def forward(self, x):
        return self.head(self.rnn(x)[1][0])


def _batches(count=25):
    data = np.random.default_rng(5)
    batches = []
    for _ in range(count):
        x = data.standard_normal((20, 16, 4))
        batches.append((_float64(x), _float64(3 * x[:, :, 0].mean(axis=0)[:, None])))
    return batches


def _reference_training(clip):
    model = _Recurrent()
    optimizer = engine.optim.SGD(model.parameters(), lr=0.3)
    losses = []
    for x, target in _batches():
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), target)
        loss.backward()
        if clip == "norm":
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        elif clip == "value":
            nn.utils.clip_grad_value_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return np.array(losses)


@exercise(
    CHAPTER,
    "train_with_clipping",
    "fix a training loop whose gradient clipping never clips",
    kind="debug",
    forbidden=("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_"),
    hints=(
        "Print the value clip_grad_norm_ returns at each step. What gradients does it see?",
        "Which call creates the gradients, and which one uses them?",
    ),
)
def check_train_with_clipping(train_with_clipping) -> str:
    got = train_with_clipping(_Recurrent(), _batches(), lr=0.3, max_norm=1.0)
    case = "train_with_clipping(exploding RNN, 25 batches, lr=0.3, max_norm=1.0)"
    expect(
        case,
        isinstance(got, (list, tuple)) and len(got) == 25,
        f"expected a list of 25 losses, got {got!r:.80}",
    )
    got = np.asarray([float(v) for v in got])
    want = _reference_training("norm")
    if np.allclose(got, want, rtol=1e-9, equal_nan=True):
        return (
            f"the loss stays bounded (largest {want.max():.3g}): the clip now sits between "
            "backward() and step(), where it scales the gradients the step uses"
        )
    unclipped = _reference_training(None)
    if np.allclose(got, unclipped, rtol=1e-6, equal_nan=True):
        raise CheckFailed(
            f"{case}: the losses are those of training without clipping (largest "
            f"{np.nanmax(unclipped):.3g}): the clip runs where it changes nothing, before "
            "backward() creates the gradients or after step() has used them"
        )
    if np.allclose(got, _reference_training("value"), rtol=1e-6, equal_nan=True):
        raise CheckFailed(
            f"{case}: this clips by value, a different algorithm that changes the gradient's "
            "direction; keep clip_grad_norm_ and move it"
        )
    raise CheckFailed(
        f"{case}: expected the losses {np.round(want[:4], 4).tolist()}..., got "
        f"{np.round(got[:4], 4).tolist()}...: keep the learning rate, the loss and max_norm, "
        "and change only where the clip happens"
    )
