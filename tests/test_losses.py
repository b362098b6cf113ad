"""Losses of engine.nn.functional and their modules against torch in float64: values and
gradients for every reduction and option (class weights, ignore_index, label smoothing,
probability targets, N-d inputs, pos_weight, log_target, margins, swap, Stirling's term,
clamped variances), extreme logits
(finite and exact where the naive formula overflows), gradcheck, and torch's errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.autograd import gradcheck
from engine.nn import functional as F
from tests.nn_helpers import same_error

REDUCTIONS = ["mean", "sum", "none"]
RNG = np.random.default_rng(0)


def arr(*shape, low=None, high=None, seed=None):
    rng = np.random.default_rng(seed) if seed is not None else RNG
    if low is not None:
        return rng.uniform(low, high, shape)
    return rng.standard_normal(shape)


def convert(value, lib, grad):
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "iu":
            return lib.tensor(value)
        return lib.tensor(value, requires_grad=grad, dtype=lib.float64)
    return value


def compare(name, arrays, grads=None, rtol=1e-12, module=None, module_options=None, **options):
    """The function (and, with ``module``, the module) on both libraries: same value, same
    gradient of every float input in ``grads``."""
    grads = range(len(arrays)) if grads is None else grads
    results = []
    for lib, functional in ((engine, F), (torch, torch.nn.functional)):
        inputs = [convert(a, lib, i in grads) for i, a in enumerate(arrays)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if module is None:
                kwargs = {k: convert(v, lib, False) for k, v in options.items()}
                out = getattr(functional, name)(*inputs, **kwargs)
            else:
                namespace = nn if lib is engine else torch.nn
                opts = {k: convert(v, lib, False) for k, v in (module_options or {}).items()}
                out = getattr(namespace, module)(**opts)(*inputs)
        upstream = np.random.default_rng(1).standard_normal(tuple(out.shape))
        if out.requires_grad:
            (out * lib.tensor(upstream)).sum().backward()
        results.append((out, inputs))
    (ours, our_inputs), (theirs, their_inputs) = results
    assert ours.dtype is engine.float64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-14
    )
    for i in grads:
        a, b = our_inputs[i], their_inputs[i]
        if isinstance(b, torch.Tensor) and b.requires_grad:
            assert a.grad is not None, i
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=1e-14)
    return ours, theirs


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_regression_losses(name, reduction):
    x, y = arr(4, 5), arr(4, 5)
    y[0, :3] = x[0, :3] + np.array([0.0, 1.0, -1.0])  # the kinks of l1, smooth l1 and huber
    compare(name, [x, y], reduction=reduction)
    options = {"smooth_l1_loss": {"beta": 0.5}, "huber_loss": {"delta": 2.5}}.get(name, {})
    compare(name, [x, y], reduction=reduction, **options)
    if name in ("mse_loss", "l1_loss", "huber_loss"):
        compare(name, [x, y], reduction=reduction, weight=np.abs(arr(4, 5)) + 0.1)
    if name == "smooth_l1_loss":
        compare(name, [x, y], reduction=reduction, beta=0.0)
    compare(name, [x, arr(5)], reduction=reduction)  # broadcast target (torch warns)


def test_regression_legacy_arguments_and_broadcast_warning():
    x, y = arr(3, 2), arr(3, 2)
    for size_average, reduce in [(False, None), (None, False), (True, True)]:
        compare("mse_loss", [x, y], size_average=size_average, reduce=reduce)
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(engine.tensor(x), engine.tensor(arr(2)))
    with pytest.warns(UserWarning, match="reduction='sum'"):
        F.l1_loss(engine.tensor(x), engine.tensor(y), size_average=False)


def _targets(shape, classes, seed, ignore=None):
    target = np.random.default_rng(seed).integers(0, classes, shape)
    if ignore is not None:
        target.flat[::3] = ignore
    return target


CE_CASES = [
    ("2d", (6, 5), (6,)),
    ("1d", (5,), ()),
    ("3d", (3, 5, 4), (3, 4)),
    ("4d", (2, 5, 3, 2), (2, 3, 2)),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("kind", "input_shape", "target_shape"), CE_CASES, ids=[c[0] for c in CE_CASES]
)
def test_cross_entropy_and_nll_with_class_indices(kind, input_shape, target_shape, reduction):
    x = arr(*input_shape) * 3
    classes = input_shape[0 if len(input_shape) == 1 else 1]
    weight = np.abs(arr(classes)) + 0.2
    plain = _targets(target_shape, classes, 1)
    ignoring = _targets(target_shape, classes, 2, ignore=2)
    for target, options in [
        (plain, {}),
        (plain, {"weight": weight}),
        (ignoring, {"ignore_index": 2}),
        (ignoring, {"ignore_index": 2, "weight": weight}),
        (plain, {"label_smoothing": 0.2}),
        (ignoring, {"label_smoothing": 0.3, "weight": weight, "ignore_index": 2}),
        (ignoring, {"label_smoothing": 0.1, "ignore_index": 2}),
    ]:
        if kind == "1d" and "ignore_index" in options:
            continue
        compare("cross_entropy", [x, target, *([] if "weight" not in options else [])],
                grads=[0], reduction=reduction, **options)  # fmt: skip
        if "label_smoothing" not in options:
            log_probabilities = torch.log_softmax(torch.tensor(x), 0 if kind == "1d" else 1)
            compare("nll_loss", [log_probabilities.numpy(), target], grads=[0],
                    reduction=reduction, **options)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities(reduction):
    for shape in [(6, 5), (5,), (3, 5, 4)]:
        x = arr(*shape)
        class_dim = 0 if len(shape) == 1 else 1
        probabilities = torch.softmax(torch.tensor(arr(*shape)), class_dim).numpy()
        weight = np.abs(arr(5)) + 0.2
        compare("cross_entropy", [x, probabilities], reduction=reduction)
        compare("cross_entropy", [x, probabilities], reduction=reduction, weight=weight)
        compare("cross_entropy", [x, probabilities], reduction=reduction, label_smoothing=0.25)


def test_cross_entropy_all_ignored_and_empty_give_nan_as_torch():
    ours, theirs = compare("cross_entropy", [arr(3, 4), np.array([-100, -100, -100])], grads=[0])
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    ours, theirs = compare("cross_entropy", [arr(0, 4), np.zeros(0, dtype=np.int64)], grads=[])
    assert np.isnan(ours.item())


def test_cross_entropy_is_finite_and_exact_on_extreme_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [-800.0, 800.0, 0.0], [1e4, 1e4, -1e4]])
    target = np.array([2, 0, 1])
    ours, theirs = compare("cross_entropy", [x, target], grads=[0], reduction="none")
    assert np.isfinite(ours.detach().numpy()).all()
    np.testing.assert_array_equal(ours.detach().numpy(), [2000.0, 1600.0, np.log(2)])
    naive = -engine.log(engine.softmax(engine.tensor(x), 1)).numpy()[[0, 1], [2, 0]]
    assert np.isinf(naive).all()  # what the composition of softmax and log gives
    compare("cross_entropy", [x, np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    p, t = arr(4, 3, low=0.01, high=0.99), arr(4, 3, low=0.0, high=1.0)
    compare("binary_cross_entropy", [p, t], reduction=reduction)
    compare("binary_cross_entropy", [p, t], reduction=reduction, weight=np.abs(arr(3)))
    # At 0 and 1 the logs are clamped at -100, as torch.
    edges = np.array([0.0, 1.0, 0.0, 1.0])
    compare("binary_cross_entropy", [edges, np.array([1.0, 0.0, 0.0, 1.0])], grads=[],
            reduction=reduction)  # fmt: skip


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    x, t = arr(4, 3) * 4, arr(4, 3, low=0.0, high=1.0)
    compare("binary_cross_entropy_with_logits", [x, t], reduction=reduction)
    compare("binary_cross_entropy_with_logits", [x, t], reduction=reduction,
            weight=np.abs(arr(3)), pos_weight=np.abs(arr(3)) + 0.5)  # fmt: skip
    compare("binary_cross_entropy_with_logits", [x, t], grads=[0], reduction=reduction,
            pos_weight=np.abs(arr(4, 3)) + 0.5)  # fmt: skip


def test_binary_cross_entropy_with_logits_on_extreme_logits():
    x = np.array([1000.0, -1000.0, 800.0, -800.0, 40.0, -40.0, 0.0])
    t = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.7, 0.5])
    ours, theirs = compare("binary_cross_entropy_with_logits", [x, t], reduction="none")
    assert np.isfinite(ours.detach().numpy()).all()
    np.testing.assert_allclose(ours.detach().numpy()[:4], [1000.0, 1000.0, 0.0, 0.0], atol=0)
    sigmoid = engine.sigmoid(engine.tensor(x))
    naive = F.binary_cross_entropy(sigmoid, engine.tensor(t), reduction="none").numpy()
    assert naive[0] == 100.0  # the probability form saturates at torch's clamp of -100


@pytest.mark.parametrize("reduction", [*REDUCTIONS, "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    x = torch.log_softmax(torch.tensor(arr(4, 5)), 1).numpy()
    target = torch.softmax(torch.tensor(arr(4, 5)), 1).numpy()
    target[0, 1] = 0.0  # 0 * log 0 = 0
    if log_target:
        target = np.log(target + 1e-3)
    compare("kl_div", [x, target], reduction=reduction, log_target=log_target)


def test_cosine_similarity_and_pairwise_distance():
    compare("cosine_similarity", [arr(4, 5), arr(4, 5)])
    compare("cosine_similarity", [arr(4, 5), arr(5)], dim=-1)
    compare("cosine_similarity", [arr(3, 4, 2), arr(3, 1, 2)], dim=1, eps=1e-3)
    compare("cosine_similarity", [np.zeros((2, 3)), arr(2, 3)])  # the clamped norm
    compare("pairwise_distance", [arr(4, 5), arr(4, 5)])
    compare("pairwise_distance", [arr(4, 5), arr(5)], p=1.0, keepdim=True)
    compare("pairwise_distance", [arr(4, 5), arr(4, 5)], p=float("inf"))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_losses(reduction):
    x1, x2 = arr(6, 4), arr(6, 4)
    signs = np.array([1.0, -1.0, 1.0, -1.0, -1.0, 1.0])
    compare("cosine_embedding_loss", [x1, x2, signs], grads=[0, 1], reduction=reduction)
    compare("cosine_embedding_loss", [x1, x2, signs], grads=[0, 1], reduction=reduction,
            margin=-0.2)  # fmt: skip
    compare("cosine_embedding_loss", [x1[0], x2[0], np.array(-1.0)], grads=[0, 1],
            reduction=reduction, margin=-0.5)  # fmt: skip
    compare("margin_ranking_loss", [arr(6), arr(6), signs], grads=[0, 1], reduction=reduction,
            margin=0.3)  # fmt: skip
    a, p, n = arr(6, 4), arr(6, 4), arr(6, 4)
    compare("triplet_margin_loss", [a, p, n], reduction=reduction, margin=2.0)
    compare("triplet_margin_loss", [a, p, n], reduction=reduction, p=1.0, swap=True, margin=2.0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_more_losses(reduction):
    x, signs = arr(4, 5), np.where(arr(4, 5) > 0, 1.0, -1.0)
    compare("soft_margin_loss", [x, signs], grads=[0], reduction=reduction)
    x[0, :2] = [1.0, 0.0]  # at the margin and at zero
    signs[0, :2] = -1.0
    compare("hinge_embedding_loss", [x, signs], grads=[0], reduction=reduction, margin=1.0)
    counts = np.floor(arr(4, 5, low=0, high=5))
    compare("poisson_nll_loss", [x, counts], grads=[0], reduction=reduction)
    compare("poisson_nll_loss", [np.exp(x), counts], grads=[0], reduction=reduction,
            log_input=False, full=True)  # fmt: skip
    var = np.abs(arr(4, 5)) + 0.1
    var[0, 0] = 1e-9  # clamped at eps, the gradient still reaches var as torch's
    compare("gaussian_nll_loss", [x, arr(4, 5), var], reduction=reduction)
    compare("gaussian_nll_loss", [x, arr(4, 5), var[:, :1]], reduction=reduction, full=True)
    compare("gaussian_nll_loss", [x, arr(4, 5), var[:, 0]], grads=[0, 1], reduction=reduction)
    labels = (arr(4, 5) > 0).astype(np.float64)
    compare("multilabel_soft_margin_loss", [x, labels], grads=[0], reduction=reduction)
    compare("multilabel_soft_margin_loss", [x, labels], grads=[0], reduction=reduction,
            weight=np.abs(arr(5)))  # fmt: skip
    target = np.array([0, 4, 2, 2])
    compare("multi_margin_loss", [x, target], grads=[0], reduction=reduction)
    compare("multi_margin_loss", [x, target], grads=[0], reduction=reduction, p=2, margin=0.5,
            weight=np.abs(arr(5)) + 0.1)  # fmt: skip
    compare("multi_margin_loss", [x[0], np.array(3)], grads=[0], reduction=reduction)


MODULE_CASES = [
    ("MSELoss", {"reduction": "sum"}, [arr(3, 2), arr(3, 2)]),
    ("L1Loss", {}, [arr(3, 2), arr(3, 2)]),
    ("SmoothL1Loss", {"beta": 0.3}, [arr(3, 2), arr(3, 2)]),
    ("HuberLoss", {"delta": 0.3, "reduction": "none"}, [arr(3, 2), arr(3, 2)]),
    ("CrossEntropyLoss", {"weight": np.abs(arr(4)) + 0.1, "ignore_index": 1,
                          "label_smoothing": 0.1}, [arr(5, 4), np.array([0, 1, 2, 3, 1])]),
    ("NLLLoss", {"weight": np.abs(arr(4)) + 0.1}, [arr(5, 4), np.array([0, 1, 2, 3, 1])]),
    ("BCELoss", {"weight": np.abs(arr(2))},
     [arr(3, 2, low=0.1, high=0.9), arr(3, 2, low=0, high=1)]),
    ("BCEWithLogitsLoss", {"pos_weight": np.abs(arr(2)) + 0.5},
     [arr(3, 2), arr(3, 2, low=0, high=1)]),
    ("KLDivLoss", {"reduction": "batchmean", "log_target": True}, [arr(3, 2), arr(3, 2)]),
    ("CosineEmbeddingLoss", {"margin": 0.1}, [arr(3, 2), arr(3, 2), np.array([1.0, -1.0, -1.0])]),
    ("MarginRankingLoss", {"margin": 0.5}, [arr(4), arr(4), np.array([1.0, -1.0, -1.0, 1.0])]),
    ("TripletMarginLoss", {"margin": 0.5, "p": 3.0}, [arr(3, 2), arr(3, 2), arr(3, 2)]),
    ("CosineSimilarity", {"dim": 0}, [arr(3, 2), arr(3, 2)]),
    ("PairwiseDistance", {"keepdim": True}, [arr(3, 2), arr(3, 2)]),
    ("SoftMarginLoss", {}, [arr(3, 2), np.array([[1.0, -1.0]] * 3)]),
    ("HingeEmbeddingLoss", {"margin": 0.5}, [arr(3, 2), np.array([[1.0, -1.0]] * 3)]),
    ("PoissonNLLLoss", {"full": True}, [arr(3, 2), np.array([[0.0, 3.0]] * 3)]),
    ("GaussianNLLLoss", {"full": True}, [arr(3, 2), arr(3, 2), np.abs(arr(3, 2))]),
    ("MultiLabelSoftMarginLoss", {"weight": np.abs(arr(2))},
     [arr(3, 2), np.array([[1.0, 0.0]] * 3)]),
    ("MultiMarginLoss", {"p": 2, "weight": np.abs(arr(4))}, [arr(3, 4), np.array([0, 3, 1])]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "options", "arrays"), MODULE_CASES, ids=[c[0] for c in MODULE_CASES]
)
def test_loss_modules_match_torch(name, options, arrays):
    grads = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"][:2]
    if name in ("SoftMarginLoss", "HingeEmbeddingLoss", "PoissonNLLLoss"):
        grads = [0]  # torch refuses (or gives NaN) a gradient for these targets
    compare(None, arrays, grads=grads, module=name, module_options=options)
    ours = getattr(nn, name)(**{k: convert(v, engine, False) for k, v in options.items()})
    theirs = getattr(torch.nn, name)(**{k: convert(v, torch, False) for k, v in options.items()})
    assert repr(ours) == repr(theirs)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


GRADCHECKS = [
    lambda x, y: F.mse_loss(x, y),
    lambda x, y: F.smooth_l1_loss(x, y, beta=0.7, reduction="sum"),
    lambda x, y: F.huber_loss(x, y, delta=0.4, reduction="none"),
    lambda x, y: F.cross_entropy(x, y.softmax(1), label_smoothing=0.2),
    lambda x, y: F.cross_entropy(
        x, engine.tensor([0, 2, 1]), weight=y[0].abs() + 0.1, label_smoothing=0.1
    ),  # fmt: skip
    lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
    lambda x, y: F.binary_cross_entropy_with_logits(x, y.sigmoid(), pos_weight=y[0].abs()),
    lambda x, y: F.kl_div(x.log_softmax(1), y.softmax(1), reduction="batchmean"),
    lambda x, y: F.cosine_similarity(x, y),
    lambda x, y: F.cosine_embedding_loss(x, y, engine.tensor([1.0, -1.0, -1.0]), margin=-0.9),
    lambda x, y: F.triplet_margin_loss(x, y, y * 0.5 + 1, swap=True),
    lambda x, y: F.soft_margin_loss(x, y),
    lambda x, y: F.poisson_nll_loss(x, y.abs(), full=True),
    lambda x, y: F.gaussian_nll_loss(x, y, y.abs() + 0.1, full=True),
    lambda x, y: F.multilabel_soft_margin_loss(x, y.sigmoid()),
    lambda x, y: F.multi_margin_loss(x + y, engine.tensor([0, 2, 1]), p=2),
]


@pytest.mark.parametrize("index", range(len(GRADCHECKS)))
def test_gradcheck(index):
    x = engine.tensor(arr(3, 3, seed=index + 10), requires_grad=True)
    y = engine.tensor(arr(3, 3, seed=index + 20), requires_grad=True)
    assert gradcheck(GRADCHECKS[index], (x, y))


def _x(lib, *shape):
    return lib.tensor(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape) / 10)


ERRORS = [
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0.0, 3.0, 1.0])),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, 4, 1])),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, -1, 1])),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, 1])),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, 1, 2]), weight=lib.ones(3)),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), _x(lib, 3, 4), weight=lib.ones(3)),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, 1, 2]), label_smoothing=1.5),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), _x(lib, 3, 4), label_smoothing=1.5),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), _x(lib, 3, 4), ignore_index=1),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.ones(3, 4, dtype=lib.int64)),
    lambda lib, F: F.cross_entropy(_x(lib, 3, 4), lib.tensor([0, 1, 2]), reduction="bad"),
    lambda lib, F: F.nll_loss(lib.tensor(1.0), lib.tensor(0)),
    lambda lib, F: F.nll_loss(_x(lib, 3, 4), lib.zeros(3, 2, dtype=lib.int64)),
    lambda lib, F: F.nll_loss(_x(lib, 2, 3, 4, 5), lib.zeros(2, 4, 4, dtype=lib.int64)),
    lambda lib, F: F.nll_loss(_x(lib, 2, 3, 4), lib.zeros(2, 5, dtype=lib.int64)),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([1.5]), lib.tensor([1.0])),
    lambda lib, F: F.binary_cross_entropy(lib.tensor([0.5]), lib.tensor([1.0, 0.0])),
    lambda lib, F: F.binary_cross_entropy_with_logits(lib.tensor([0.5]), lib.tensor([1.0, 0.0])),
    lambda lib, F: F.smooth_l1_loss(_x(lib, 2), _x(lib, 2), beta=-1.0),
    lambda lib, F: F.huber_loss(_x(lib, 2), _x(lib, 2), delta=0.0),
    lambda lib, F: F.mse_loss(_x(lib, 3, 4), _x(lib, 3, 4), weight=lib.ones(4)),
    lambda lib, F: F.mse_loss(_x(lib, 3, 4), _x(lib, 3, 4), reduction="avg"),
    lambda lib, F: F.cosine_embedding_loss(_x(lib, 3, 4), _x(lib, 3, 4), lib.ones(3, 1)),
    lambda lib, F: F.cosine_embedding_loss(_x(lib, 4), _x(lib, 4), lib.ones(3)),
    lambda lib, F: F.cosine_embedding_loss(_x(lib, 3, 4), _x(lib, 3, 4), lib.tensor(1.0)),
    lambda lib, F: F.margin_ranking_loss(_x(lib, 3, 4), _x(lib, 4), _x(lib, 3, 4)),
    lambda lib, F: F.triplet_margin_loss(_x(lib, 3, 4), _x(lib, 3, 4), _x(lib, 3, 4), margin=0),
    lambda lib, F: F.triplet_margin_loss(_x(lib, 3, 4), _x(lib, 3, 4), _x(lib, 4)),
    lambda lib, F: F.kl_div(_x(lib, 2), _x(lib, 2), reduction="bad"),
    lambda lib, F: (lib.nn if lib is torch else nn).TripletMarginLoss(margin=-1.0),
    lambda lib, F: F.multi_margin_loss(_x(lib, 3, 4), lib.tensor([0, 1, 5])),
    lambda lib, F: F.multi_margin_loss(_x(lib, 3, 4), lib.tensor([0, 1])),
    lambda lib, F: F.multi_margin_loss(_x(lib, 3, 4), lib.tensor([[0], [1], [2]])),
    lambda lib, F: F.multi_margin_loss(_x(lib, 3, 4), lib.tensor([0, 1, 2]), p=3),
    lambda lib, F: F.poisson_nll_loss(_x(lib, 2), _x(lib, 2), reduction="bad"),
    lambda lib, F: F.gaussian_nll_loss(_x(lib, 3, 4), _x(lib, 3, 4), lib.ones(2)),
    lambda lib, F: F.gaussian_nll_loss(_x(lib, 3, 4), _x(lib, 3, 4), -1.0),
    lambda lib, F: F.multilabel_soft_margin_loss(_x(lib, 3, 4), _x(lib, 3, 4), reduction="x"),
    lambda lib, F: (lib.nn if lib is torch else nn).MultiMarginLoss(p=3),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    call = ERRORS[index]
    same_error(lambda: call(engine, F), lambda: call(torch, torch.nn.functional))
