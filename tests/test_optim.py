"""engine.optim against torch.optim in float64: every optimizer's trajectory over 120 steps
with two parameter groups of different options (and a parameter that never gets a gradient,
which must be skipped), maximize, state_dict structure and a resume through engine.save /
engine.load that continues torch's uninterrupted trajectory; zero_grad; torch's errors."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import engine
import engine.optim as optim
import engine.utils.data as edata
from engine.optim import lr_scheduler as ours_schedulers
from tests.nn_helpers import same_error

STEPS = 100
TOLERANCE = 1e-10

# (name, defaults, options of the second group).  The settings keep the optimization
# non-chaotic: where a trajectory amplifies rounding (Adadelta at lr=0.5 here), differences of
# 1e-16 grow past any tolerance on both sides alike, which tests nothing.
CONFIGS = [
    ("SGD", {"lr": 0.02}, {"lr": 0.05}),
    ("SGD", {"lr": 0.01, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}, {"lr": 0.03}),
    ("SGD", {"lr": 0.01, "momentum": 0.8, "nesterov": True}, {"weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "momentum": 0.5, "maximize": True}, {"momentum": 0.0}),
    ("Adam", {"lr": 0.01}, {"lr": 0.003, "betas": (0.8, 0.99)}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "eps": 1e-12}, {"amsgrad": False}),
    ("Adam", {"lr": 0.01, "maximize": True}, {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01}, {"weight_decay": 0.5, "amsgrad": True}),
    ("AdamW", {"lr": 0.02, "maximize": True, "eps": 1e-6}, {"lr": 0.001}),
    ("RMSprop", {"lr": 0.001}, {"alpha": 0.9}),
    ("RMSprop", {"lr": 0.001, "centered": True, "momentum": 0.9, "weight_decay": 0.1}, {}),
    ("RMSprop", {"lr": 0.002, "momentum": 0.5, "maximize": True}, {"centered": True}),
    ("Adagrad", {"lr": 0.1}, {"lr": 0.05, "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01}, {"maximize": True}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.1}, {"initial_accumulator_value": 1.0}),
    ("Adadelta", {"lr": 1.0}, {"rho": 0.5, "weight_decay": 0.1}),
    ("Adadelta", {"lr": 0.3, "maximize": True, "eps": 1e-5}, {}),
    ("Adamax", {"lr": 0.01}, {"betas": (0.8, 0.99), "weight_decay": 0.1}),
    ("Adamax", {"lr": 0.02, "maximize": True}, {}),
    ("NAdam", {"lr": 0.01}, {"momentum_decay": 0.01, "weight_decay": 0.1}),
    ("NAdam", {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}, {}),
    ("RAdam", {"lr": 0.01}, {"betas": (0.8, 0.9), "weight_decay": 0.1}),
    ("RAdam", {"lr": 0.01, "maximize": True}, {"decoupled_weight_decay": True}),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CONFIGS)]


class Problem:
    """The same parameters in both libraries and a loss whose gradients drive them; the
    third parameter is in the optimizer but never in the loss (its ``.grad`` stays None)."""

    def __init__(self, lib, seed: int = 0, sign: float = 1.0):
        self.sign = sign  # -1 for maximize: then the optimizer climbs -loss, which is bounded
        rng = np.random.default_rng(seed)
        self.lib = lib
        values = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(2)]
        self.params = [lib.nn.Parameter(lib.tensor(v)) for v in values]
        self.inputs = lib.tensor(rng.standard_normal((5, 3)))

    def groups(self, options):
        first, second, unused = self.params
        return [{"params": [first]}, {"params": [second, unused], **options}]

    def closure(self, optimizer):
        def loss():
            optimizer.zero_grad()
            weight, bias, _ = self.params
            value = ((self.inputs @ weight + bias).tanh() ** 2).sum() + 0.05 * (weight**4).sum()
            value = value * self.sign
            value.backward()
            return value

        return loss

    def arrays(self):
        return [p.detach().numpy().copy() for p in self.params]


def relative_difference(ours, theirs) -> float:
    return max(
        float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
        for a, b in zip(ours, theirs, strict=True)
    )


def make(lib, name, defaults, options, seed=0):
    problem = Problem(lib, seed, -1.0 if defaults.get("maximize") else 1.0)
    module = optim if lib is engine else torch.optim
    return problem, getattr(module, name)(problem.groups(options), **defaults)


@pytest.mark.parametrize(("name", "defaults", "options"), CONFIGS, ids=IDS)
def test_trajectory_matches_torch(name, defaults, options):
    ours, our_optimizer = make(engine, name, defaults, options)
    theirs, their_optimizer = make(torch, name, defaults, options)
    initial = ours.arrays()
    worst = 0.0
    for _ in range(STEPS):
        our_loss = our_optimizer.step(ours.closure(our_optimizer))
        their_loss = their_optimizer.step(theirs.closure(their_optimizer))
        assert abs(our_loss.item() - their_loss.item()) <= TOLERANCE * abs(their_loss.item())
        worst = max(worst, relative_difference(ours.arrays(), theirs.arrays()))
    assert worst <= TOLERANCE, worst
    # The parameter without a gradient is skipped: unchanged, and without state (but
    # Adagrad creates its state with the optimizer, as torch does).
    np.testing.assert_array_equal(ours.arrays()[2], initial[2])
    assert (ours.params[2] in our_optimizer.state) == (theirs.params[2] in their_optimizer.state)
    # The parameters really moved (a test of a no-op optimizer would pass otherwise).
    assert relative_difference(ours.arrays()[:2], initial[:2]) > 1e-3


def _state_structure(state_dict):
    groups = [
        {k: (tuple(v) if isinstance(v, list | tuple) else v) for k, v in group.items()}
        for group in state_dict["param_groups"]
    ]
    state = {
        index: {
            key: (tuple(value.shape), str(value.dtype).split(".")[-1]) for key, value in s.items()
        }
        for index, s in state_dict["state"].items()
    }
    return groups, state


@pytest.mark.parametrize(("name", "defaults", "options"), CONFIGS[1::3], ids=IDS[1::3])
def test_state_dict_resume_through_save_and_load(name, defaults, options):
    theirs, their_optimizer = make(torch, name, defaults, options)
    ours, our_optimizer = make(engine, name, defaults, options)
    for _ in range(STEPS // 2):
        our_optimizer.step(ours.closure(our_optimizer))
        their_optimizer.step(theirs.closure(their_optimizer))
    saved = our_optimizer.state_dict()
    assert _state_structure(saved) == _state_structure(their_optimizer.state_dict())
    buffer = io.BytesIO()
    engine.save(saved, buffer)
    buffer.seek(0)
    loaded = engine.load(buffer)
    # A fresh optimizer on the same parameters continues from the checkpoint.
    resumed_problem, resumed = make(engine, name, {**defaults, "lr": 123.0}, {})
    for p, q in zip(resumed_problem.params, ours.params, strict=True):
        with engine.no_grad():
            p.copy_(q)
    resumed.load_state_dict(loaded)
    assert resumed.param_groups[0]["lr"] == defaults["lr"]
    for _ in range(STEPS - STEPS // 2):
        resumed.step(resumed_problem.closure(resumed))
        their_optimizer.step(theirs.closure(their_optimizer))
    assert relative_difference(resumed_problem.arrays(), theirs.arrays()) <= TOLERANCE


def test_state_dict_holds_indices_and_the_optimizers_tensors():
    ours, optimizer = make(engine, "SGD", {"lr": 0.1, "momentum": 0.9}, {})
    optimizer.step(ours.closure(optimizer))
    state_dict = optimizer.state_dict()
    assert state_dict["param_groups"][1]["params"] == [1, 2]
    assert sorted(state_dict["state"]) == [0, 1]
    # As in torch: the state's tensors are the optimizer's own.
    assert (
        state_dict["state"][0]["momentum_buffer"]
        is optimizer.state[ours.params[0]]["momentum_buffer"]
    )


def test_zero_grad_sets_to_none_or_zeros():
    for lib, module in ((engine, optim), (torch, torch.optim)):
        p = lib.nn.Parameter(lib.ones(3, dtype=lib.float64))
        optimizer = module.SGD([p], lr=0.1)
        (p * 2).sum().backward()
        optimizer.zero_grad(set_to_none=False)
        assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
        optimizer.zero_grad()
        assert p.grad is None


def test_add_param_group_fills_defaults_and_rejects_shared_parameters():
    reprs = []
    for lib, module in ((engine, optim), (torch, torch.optim)):
        a = lib.nn.Parameter(lib.ones(2))
        b = lib.nn.Parameter(lib.ones(2))
        optimizer = module.Adam([a], lr=0.1)
        optimizer.add_param_group({"params": b, "eps": 1e-3})
        assert optimizer.param_groups[1]["lr"] == 0.1 and optimizer.param_groups[1]["eps"] == 1e-3
        assert optimizer.param_groups[1]["params"][0] is b
        with pytest.raises(ValueError, match="more than one parameter group"):
            optimizer.add_param_group({"params": [a]})
        reprs.append(repr(optimizer))
    assert reprs[0] == reprs[1]


def _params(lib):
    return [lib.nn.Parameter(lib.ones(2))]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, m: m.SGD(_params(lib), lr=-1.0),
        lambda lib, m: m.SGD(_params(lib), lr=0.1, momentum=-0.5),
        lambda lib, m: m.SGD(_params(lib), lr=0.1, nesterov=True),
        lambda lib, m: m.SGD([], lr=0.1),
        lambda lib, m: m.SGD(lib.ones(2), lr=0.1),
        lambda lib, m: m.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1),
        lambda lib, m: m.SGD([1.0], lr=0.1),
        lambda lib, m: m.SGD([{"params": {*_params(lib)}}], lr=0.1),
        lambda lib, m: m.Adam(_params(lib), betas=(1.0, 0.9)),
        lambda lib, m: m.Adam(_params(lib), betas=(0.9, -0.1)),
        lambda lib, m: m.Adam(_params(lib), eps=-1.0),
        lambda lib, m: m.AdamW(_params(lib), weight_decay=-1.0),
        lambda lib, m: m.RMSprop(_params(lib), alpha=-1.0),
        lambda lib, m: m.Adagrad(_params(lib), lr_decay=-1.0),
        lambda lib, m: m.Adagrad(_params(lib), initial_accumulator_value=-1.0),
        lambda lib, m: m.Adadelta(_params(lib), rho=1.5),
        lambda lib, m: m.Adamax(_params(lib), betas=(0.9, 1.0)),
        lambda lib, m: m.NAdam(_params(lib), momentum_decay=-1.0),
        lambda lib, m: m.RAdam(_params(lib), eps=-1.0),
    ],
)
def test_errors_match_torch(call):
    same_error(lambda: call(engine, optim), lambda: call(torch, torch.optim))


def test_load_state_dict_errors_match_torch():
    def call(lib, module):
        a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
        source = module.SGD([a, b], lr=0.1).state_dict()
        return lambda: module.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(
            source
        )

    same_error(call(engine, optim), call(torch, torch.optim))

    def sizes(lib, module):
        a, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(2))
        source = module.SGD([a, b], lr=0.1).state_dict()
        return lambda: module.SGD([a], lr=0.1).load_state_dict(source)

    same_error(sizes(engine, optim), sizes(torch, torch.optim))


# ------------------------------------------------------------------ gradient clipping
def _with_grads(lib, arrays, dtypes=None):
    params = []
    for i, values in enumerate(arrays):
        dtype = (dtypes or [lib.float64] * len(arrays))[i]
        p = lib.nn.Parameter(lib.tensor(values, dtype=dtype))
        p.grad = lib.tensor(values * 3.0, dtype=dtype)
        params.append(p)
    params.append(lib.nn.Parameter(lib.ones(2, dtype=lib.float64)))  # no gradient: skipped
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, float("inf"), 3.5, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [1.0, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours, theirs = _with_grads(engine, arrays), _with_grads(torch, arrays)
    our_norm = engine.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert our_norm.dtype is engine.float64
    assert abs(our_norm.item() - their_norm.item()) <= 1e-12 * their_norm.item()
    for p, q in zip(ours[:2], theirs[:2], strict=True):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-13, atol=0)
    clipped = [np.abs(p.grad.numpy()).max() for p in ours[:2]]
    assert (max(clipped) < np.abs(arrays[1] * 3).max()) == (max_norm == 1.0)
    assert ours[2].grad is None


def test_clip_grad_norm_mixed_dtypes_single_tensor_and_empty():
    arrays = [np.array([3.0, 0.0]), np.array([0.0, 4.0])]
    dtypes = {"engine": [engine.float32, engine.float64], "torch": [torch.float32, torch.float64]}
    ours = _with_grads(engine, arrays, dtypes["engine"])
    theirs = _with_grads(torch, arrays, dtypes["torch"])
    our_norm = engine.nn.utils.clip_grad_norm_(ours, 1.0)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert our_norm.dtype is engine.float64 and their_norm.dtype is torch.float64
    assert abs(our_norm.item() - their_norm.item()) < 1e-12
    assert ours[0].grad.dtype is engine.float32
    single = _with_grads(engine, arrays[:1])[0]
    assert engine.nn.utils.clip_grad_norm_(single, 1.0).item() == 9.0
    empty = engine.nn.utils.clip_grad_norm_([], 1.0)
    assert empty.item() == 0.0 and empty.dtype is engine.float32
    with pytest.warns(UserWarning, match="empty generator"):
        engine.nn.utils.clip_grad_norm_((p for p in []), 1.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_clip_grad_norm_error_if_nonfinite(bad):
    arrays = [np.array([1.0, bad])]

    def call(lib):
        return lambda: lib.nn.utils.clip_grad_norm_(
            _with_grads(lib, arrays), 1.0, error_if_nonfinite=True
        )

    same_error(call(engine), call(torch))
    ours, theirs = _with_grads(engine, arrays), _with_grads(torch, arrays)
    our_norm = engine.nn.utils.clip_grad_norm_(ours, 1.0)
    their_norm = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_array_equal(our_norm.numpy(), their_norm.numpy())
    np.testing.assert_array_equal(ours[0].grad.numpy(), theirs[0].grad.numpy())


def test_clip_grad_value_matches_torch():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours, theirs = _with_grads(engine, arrays), _with_grads(torch, arrays)
    assert engine.nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours[:2], theirs[:2], strict=True):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert np.abs(ours[0].grad.numpy()).max() == 0.7


def _hook_log(lib, module):
    log = []
    p = lib.nn.Parameter(lib.ones(2, dtype=lib.float64))
    optimizer = module.SGD([p], lr=0.5, momentum=0.9)
    p.grad = lib.ones(2, dtype=lib.float64)
    handles = [
        optimizer.register_step_pre_hook(lambda o, a, k: log.append(("pre", repr(a), k))),
        optimizer.register_step_post_hook(lambda o, a, k: log.append(("post", a[0] is o, k))),
        optimizer.register_state_dict_pre_hook(lambda o: log.append("sd-pre")),
        optimizer.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": len(sd["state"])}),
        optimizer.register_load_state_dict_pre_hook(
            lambda o, sd: log.append(("load-pre", sorted(sd)))
        ),
        optimizer.register_load_state_dict_post_hook(lambda o: log.append("load-post")),
    ]
    optimizer.step()
    state = optimizer.state_dict()
    log.append(state["extra"])
    optimizer.load_state_dict(state)
    for handle in handles:
        handle.remove()
    optimizer.step()
    log.append(p.tolist())
    optimizer.register_step_pre_hook(lambda o, a, k: 1)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        optimizer.step()
    return log


def test_hooks_run_as_torchs():
    assert _hook_log(engine, optim) == _hook_log(torch, torch.optim)


def _train(lib, steps_per_epoch=6, epochs=3):
    """A small classifier trained with the whole library: DataLoader, CrossEntropyLoss,
    SGD with momentum and weight decay, a StepLR schedule and gradient clipping."""
    rng = np.random.default_rng(5)
    features = rng.standard_normal((steps_per_epoch * 8, 4))
    labels = rng.integers(0, 3, steps_per_epoch * 8)
    weights = [rng.standard_normal((8, 4)) * 0.5, rng.standard_normal(8) * 0.1]
    weights += [rng.standard_normal((3, 8)) * 0.5, rng.standard_normal(3) * 0.1]
    data = edata if lib is engine else tdata
    module = optim if lib is engine else torch.optim
    schedulers = ours_schedulers if lib is engine else torch.optim.lr_scheduler
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.Tanh(), lib.nn.Linear(8, 3)).double()
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(lib.tensor(w))
    loader = data.DataLoader(
        data.TensorDataset(lib.tensor(features), lib.tensor(labels)), batch_size=8
    )
    optimizer = module.SGD(model.parameters(), lr=0.3, momentum=0.9, weight_decay=1e-3)
    scheduler = schedulers.StepLR(optimizer, step_size=4, gamma=0.5)
    criterion = lib.nn.CrossEntropyLoss(label_smoothing=0.05)
    losses, norms = [], []
    for _ in range(epochs):
        for x, y in loader:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            norms.append(lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5).item())
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
    return losses, norms, [p.detach().numpy().copy() for p in model.parameters()]


def test_a_whole_training_loop_matches_torch():
    our_losses, our_norms, ours = _train(engine)
    their_losses, their_norms, theirs = _train(torch)
    np.testing.assert_allclose(our_losses, their_losses, rtol=TOLERANCE)
    np.testing.assert_allclose(our_norms, their_norms, rtol=TOLERANCE)
    assert relative_difference(ours, theirs) <= TOLERANCE
    assert our_losses[-1] < our_losses[0] and min(our_norms) < 0.5 < max(our_norms)
