"""engine.optim.lr_scheduler against torch.optim.lr_scheduler: the learning rate of every
group (and OneCycleLR's momentum / beta1) at each of 120 steps, with two parameter groups of
different rates; resuming from state dicts written with engine.save continues torch's
uninterrupted schedule; torch's errors and its step-order warning."""

from __future__ import annotations

import io
import math
import warnings

import pytest
import torch
import torch.optim.lr_scheduler as theirs

import engine
import engine.optim as optim
from engine.optim import lr_scheduler as ours
from tests.nn_helpers import same_error

STEPS = 120
TOLERANCE = 1e-10


def optimizer(lib, kind="SGD"):
    module = optim if lib is engine else torch.optim
    a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
    options = {"momentum": 0.9} if kind == "SGD" else {}
    return getattr(module, kind)([{"params": [a]}, {"params": [b], "lr": 0.3}], lr=0.1, **options)


def _warmup(step):
    return min(1.0, (step + 1) / 10) * 0.97**step


# (name, keyword arguments, optimizer); a callable builds the scheduler from (module, opt).
CASES = [
    ("StepLR", {"step_size": 7, "gamma": 0.5}, "SGD"),
    ("MultiStepLR", {"milestones": [10, 30, 30, 80], "gamma": 0.3}, "SGD"),
    ("ExponentialLR", {"gamma": 0.97}, "SGD"),
    ("LambdaLR", {"lr_lambda": _warmup}, "SGD"),
    ("LambdaLR", {"lr_lambda": [_warmup, lambda step: 1 / (1 + step)]}, "SGD"),
    ("LinearLR", {"start_factor": 0.1, "end_factor": 0.9, "total_iters": 40}, "SGD"),
    ("LinearLR", {}, "Adam"),
    ("CosineAnnealingLR", {"T_max": 30, "eta_min": 0.001}, "SGD"),
    ("CosineAnnealingLR", {"T_max": 17}, "Adam"),
    ("OneCycleLR", {"max_lr": 1.0, "total_steps": STEPS + 1}, "SGD"),
    ("OneCycleLR", {"max_lr": [0.5, 2.0], "epochs": 11, "steps_per_epoch": 11}, "Adam"),
    (
        "OneCycleLR",
        {"max_lr": 1.0, "total_steps": 130, "anneal_strategy": "linear", "three_phase": True},
        "SGD",
    ),
    ("ConstantLR", {"factor": 0.5, "total_iters": 9}, "SGD"),
    ("MultiplicativeLR", {"lr_lambda": lambda step: 0.95 if step % 3 else 1.01}, "SGD"),
    ("PolynomialLR", {"total_iters": 90, "power": 2.0}, "Adam"),
    ("CosineAnnealingWarmRestarts", {"T_0": 10, "T_mult": 2, "eta_min": 0.01}, "SGD"),
    ("CosineAnnealingWarmRestarts", {"T_0": 7}, "Adam"),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 7}, "SGD"),
    (
        "CyclicLR",
        {
            "base_lr": [0.01, 0.02],
            "max_lr": 0.5,
            "step_size_up": 5,
            "step_size_down": 9,
            "mode": "triangular2",
        },
        "Adam",
    ),
    (
        "CyclicLR",
        {
            "base_lr": 0.01,
            "max_lr": 0.1,
            "step_size_up": 6,
            "mode": "exp_range",
            "gamma": 0.99,
            "cycle_momentum": False,
        },
        "SGD",
    ),
    (
        "ChainedScheduler",
        lambda m, o: m.ChainedScheduler(
            [m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, gamma=0.98)]
        ),
        "SGD",
    ),
    (
        "SequentialLR",
        lambda m, o: m.SequentialLR(
            o,
            [
                m.LinearLR(o, start_factor=0.01, total_iters=20),
                m.CosineAnnealingLR(o, T_max=50, eta_min=1e-4),
                m.ExponentialLR(o, gamma=0.95),
            ],
            milestones=[20, 70],
        ),
        "SGD",
    ),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def build(module, opt, name, arguments):
    if callable(arguments):
        return arguments(module, opt)
    return getattr(module, name)(opt, **arguments)


def close(a, b):
    # The same formulas in the same order give the same floats: asserted exactly (stricter
    # than the 1e-10, and it tells torch's recursive cosine from the closed form).
    return a == b and abs(a - b) <= TOLERANCE * abs(b)


def snapshot(opt):
    values = []
    for group in opt.param_groups:
        values.append(group["lr"])
        values.extend([group["momentum"]] if "momentum" in group else group["betas"])
    return values


def run(opt, scheduler, steps):
    history = []
    for _ in range(steps):
        opt.step()
        scheduler.step()
        history.append((list(scheduler.get_last_lr()), snapshot(opt)))
    return history


def assert_same_history(ours_history, theirs_history):
    for step, ((our_lr, our_state), (their_lr, their_state)) in enumerate(
        zip(ours_history, theirs_history, strict=True)
    ):
        assert all(map(close, our_lr, their_lr)), (step, our_lr, their_lr)
        assert all(map(close, our_state, their_state)), (step, our_state, their_state)


@pytest.mark.parametrize(("name", "arguments", "kind"), CASES, ids=IDS)
def test_schedule_matches_torch_at_every_step(name, arguments, kind):
    our_opt, their_opt = optimizer(engine, kind), optimizer(torch, kind)
    our_scheduler = build(ours, our_opt, name, arguments)
    their_scheduler = build(theirs, their_opt, name, arguments)
    assert all(map(close, our_scheduler.get_last_lr(), their_scheduler.get_last_lr()))
    ours_history = run(our_opt, our_scheduler, STEPS)
    theirs_history = run(their_opt, their_scheduler, STEPS)
    assert_same_history(ours_history, theirs_history)
    # The schedule really changes the rate (a scheduler that does nothing would fail).
    assert len({round(lr, 12) for lr, _ in ours_history for lr in lr}) > 3
    assert sorted(our_scheduler.state_dict()) == sorted(their_scheduler.state_dict())


@pytest.mark.parametrize(("name", "arguments", "kind"), CASES[1::2], ids=IDS[1::2])
def test_resume_from_saved_state_dicts_continues_torchs_schedule(name, arguments, kind):
    their_opt = optimizer(torch, kind)
    their_scheduler = build(theirs, their_opt, name, arguments)
    theirs_history = run(their_opt, their_scheduler, STEPS)
    our_opt = optimizer(engine, kind)
    our_scheduler = build(ours, our_opt, name, arguments)
    first = run(our_opt, our_scheduler, STEPS // 2)
    buffer = io.BytesIO()
    engine.save(
        {"optimizer": our_opt.state_dict(), "scheduler": our_scheduler.state_dict()}, buffer
    )
    buffer.seek(0)
    checkpoint = engine.load(buffer)
    resumed_opt = optimizer(engine, kind)
    resumed_scheduler = build(ours, resumed_opt, name, arguments)  # before the optimizer's load
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    resumed_scheduler.load_state_dict(checkpoint["scheduler"])
    second = run(resumed_opt, resumed_scheduler, STEPS - STEPS // 2)
    assert_same_history(first + second, theirs_history)


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"mode": "max", "factor": 0.5, "patience": 3, "cooldown": 2},
        {"threshold_mode": "abs", "threshold": 0.05, "patience": 2, "min_lr": [0.02, 0.001]},
        {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": 0.01, "eps": 1e-3},
    ],
)
def test_reduce_on_plateau_matches_torch(arguments):
    metrics = [math.sin(step / 3) + 2.0 / (1 + step) for step in range(STEPS)]
    histories = []
    for lib, module in ((engine, ours), (torch, theirs)):
        opt = optimizer(lib)
        scheduler = module.ReduceLROnPlateau(opt, **arguments)
        history = []
        for step, metric in enumerate(metrics):
            opt.step()
            scheduler.step(lib.tensor(metric) if step % 2 else metric)
            history.append((list(scheduler.get_last_lr()), snapshot(opt)))
        histories.append(history)
        state = scheduler.state_dict()
    assert_same_history(*histories)
    assert len({tuple(lr) for lr, _ in histories[0]}) > 1
    buffer = io.BytesIO()
    engine.save(state, buffer)  # torch's state dict holds only plain values
    buffer.seek(0)
    assert engine.load(buffer)["num_bad_epochs"] == state["num_bad_epochs"]


def test_stepping_the_scheduler_first_warns_as_torch():
    for lib, module in ((engine, ours), (torch, theirs)):
        scheduler = module.StepLR(optimizer(lib), step_size=2)
        with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
            scheduler.step()
        with pytest.warns(UserWarning, match="use `get_last_lr\\(\\)`"):
            scheduler.get_lr()
    scheduler = ours.StepLR(optimizer(engine), step_size=2)
    scheduler.optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


@pytest.mark.parametrize(
    "call",
    [
        lambda m, o: m.StepLR(object(), step_size=2),
        lambda m, o: m.LinearLR(o, start_factor=0.0),
        lambda m, o: m.LinearLR(o, end_factor=1.5),
        lambda m, o: m.LambdaLR(o, [lambda s: 1.0]),
        lambda m, o: m.OneCycleLR(o, max_lr=1.0),
        lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=0),
        lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
        lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="exp"),
        lambda m, o: m.OneCycleLR(o, max_lr=[1.0], total_steps=10),
        lambda m, o: m.ReduceLROnPlateau(o, factor=1.0),
        lambda m, o: m.ReduceLROnPlateau(o, mode="best"),
        lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]),
        lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]),
        lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]),
        lambda m, o: m.StepLR(o, step_size=2, last_epoch=4),
        lambda m, o: m.ConstantLR(o, factor=1.5),
        lambda m, o: m.MultiplicativeLR(o, lr_lambda=0.5),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0),
        lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0),
        lambda m, o: m.ChainedScheduler([]),
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sine"),
        lambda m, o: m.CyclicLR(o, [0.01], 0.1),
        lambda m, o: m.ChainedScheduler([m.ReduceLROnPlateau(o)]),
    ],
)
def test_errors_match_torch(call):
    same_error(lambda: call(ours, optimizer(engine)), lambda: call(theirs, optimizer(torch)))


def test_one_cycle_refuses_steps_past_the_total():
    for lib, module in ((engine, ours), (torch, theirs)):
        opt = optimizer(lib)
        scheduler = module.OneCycleLR(opt, max_lr=1.0, total_steps=3)
        run(opt, scheduler, 2)
        with pytest.raises(ValueError, match="Tried to step 4 times"):
            run(opt, scheduler, 2)
