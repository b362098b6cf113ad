"""Forward mode: every op's JVP against torch's forward AD and against finite differences, and
``engine.autograd.forward_ad``'s semantics and errors against ``torch.autograd.forward_ad``."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
import torch
import torch.autograd.forward_ad as torch_forward_ad

import engine
from engine.autograd import forward_ad
from engine.autograd.function import Function
from engine.ops.table import DERIVATIVES

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for the shared OPS list
from autograd_helpers import assert_grads_match, raises_like_torch  # noqa: E402
from test_autograd_ops import IDS, OPS, _inputs  # noqa: E402

# float32 in the middle: torch and the engine round differently there.
LOOSE = {"to_float32": 1e-6}


def test_every_table_entry_has_a_jvp():
    """Ops added later cannot forget forward mode: an entry with VJP formulas needs a JVP
    formula, and a hand-written Function needs its own ``jvp``."""
    missing = [name for name, entry in DERIVATIVES.items() if entry.formulas and entry.jvp is None]
    hand_written = [
        f"{name} ({function.__name__})"
        for name, entry in DERIVATIVES.items()
        if not entry.formulas
        for function in entry.functions
        if function.jvp is Function.jvp
    ]
    assert not missing and not hand_written, (missing, hand_written)


def _engine_jvp(function, primals, tangents):
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(primals, tangents, strict=True)]
        output = function(*duals)
        return forward_ad.unpack_dual(output)


def _tangents(primals, seed):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(primal.shape)) for primal in primals]


@pytest.mark.parametrize("contiguous", [True, False], ids=["contiguous", "strided"])
@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_jvp_matches_torch(name, function, generators, contiguous):
    pairs = _inputs(generators, len(name) + 5, contiguous)
    ours = [pair[0].detach() for pair in pairs]
    theirs = [pair[1].detach() for pair in pairs]
    tangents = _tangents(ours, 4)
    primal, tangent = _engine_jvp(
        function, ours, [engine.tensor(t, dtype=engine.float64) for t in tangents]
    )
    torch_primal, torch_tangent = torch.func.jvp(
        function, tuple(theirs), tuple(torch.tensor(t, dtype=torch.float64) for t in tangents)
    )
    tolerance = LOOSE.get(name, 1e-10)
    assert_grads_match([primal, tangent], [torch_primal, torch_tangent], tolerance, tolerance)


@pytest.mark.parametrize(("name", "function", "generators"), OPS, ids=IDS)
def test_jvp_matches_finite_differences(name, function, generators):
    if name == "to_float32":
        pytest.skip("float32 in the middle: finite differences are too coarse")
    primals = [pair[0].detach() for pair in _inputs(generators, len(name) + 9, True)]
    directions = _tangents(primals, 6)
    _, tangent = _engine_jvp(
        function, primals, [engine.tensor(d, dtype=engine.float64) for d in directions]
    )
    eps = 1e-6

    def shifted(sign):
        moved = [
            engine.tensor(p.numpy() + sign * eps * d, dtype=engine.float64)
            for p, d in zip(primals, directions, strict=True)
        ]
        return function(*moved).numpy()

    numerical = (shifted(1) - shifted(-1)) / (2 * eps)
    np.testing.assert_allclose(tangent.numpy(), numerical, rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------- forward_ad against torch
def _both(values):
    return (
        engine.tensor(values, dtype=engine.float64),
        torch.tensor(values, dtype=torch.float64),
    )


def test_errors_match_torch():
    (x, tx), (t, tt) = _both([1.0, 2.0, 3.0]), _both([1.0, 0.0, 0.0])
    raises_like_torch(
        lambda: forward_ad.make_dual(x, t),
        lambda: torch_forward_ad.make_dual(tx, tt),
        "no level exists",
    )
    with forward_ad.dual_level(), torch_forward_ad.dual_level():
        raises_like_torch(
            lambda: forward_ad.make_dual(x, t[:2]),
            lambda: torch_forward_ad.make_dual(tx, tt[:2]),
            "Tensor is of size [3] while the given forward gradient is of size [2]",
        )
        raises_like_torch(
            lambda: forward_ad.make_dual(engine.arange(3), t),
            lambda: torch_forward_ad.make_dual(torch.arange(3), tt),
            "Expected primal to be floating point",
        )
        raises_like_torch(
            lambda: forward_ad.enter_dual_level(),
            lambda: torch_forward_ad.enter_dual_level(),
            "Nested forward mode AD is not supported",
        )


def test_level_exit_drops_tangents_and_plain_tensors_have_none():
    x, t = engine.tensor([1.0, 2.0]), engine.tensor([1.0, 1.0])
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, t)
        y = dual.exp()
        assert forward_ad.unpack_dual(x).tangent is None
        assert forward_ad.unpack_dual(y).tangent is not None
        primal = forward_ad.unpack_dual(dual).primal
        assert primal._tangent is None and np.shares_memory(primal._storage, x._storage)
    assert forward_ad.unpack_dual(dual).tangent is None
    assert forward_ad.unpack_dual(y).tangent is None
    # The level closes even when its body raises.
    with pytest.raises(ZeroDivisionError), forward_ad.dual_level():
        raise ZeroDivisionError
    with forward_ad.dual_level():
        pass


def _in_place_program(lib, make_dual, unpack):
    x = lib.tensor([0.5, 1.0, 2.0], dtype=lib.float64)
    dual = make_dual(x, lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
    plain = lib.zeros(3, dtype=lib.float64)
    plain.add_(dual)  # a tensor without a tangent gets one from an in-place op
    plain.mul_(dual)
    buffer = lib.zeros(4, dtype=lib.float64)
    buffer[1:].copy_(dual)  # through a view: the base's tangent changes too
    transposed = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64).t()
    strided = make_dual(transposed, lib.ones(2, 2, dtype=lib.float64))
    return [unpack(t).tangent for t in (plain, buffer, dual[1:], strided.t().exp())]


def test_tangents_flow_through_views_and_in_place_ops_like_torch():
    with forward_ad.dual_level():
        ours = _in_place_program(engine, forward_ad.make_dual, forward_ad.unpack_dual)
    with torch_forward_ad.dual_level():
        theirs = _in_place_program(torch, torch_forward_ad.make_dual, torch_forward_ad.unpack_dual)
    assert_grads_match(ours, theirs, 0, 0)


def test_custom_function_without_jvp_raises_like_torch():
    def make(base):
        class Square(base):
            @staticmethod
            def forward(ctx, x):
                return x * x

            @staticmethod
            def backward(ctx, grad):
                return grad

        return Square

    (x, tx), (t, tt) = _both([1.0, 2.0]), _both([1.0, 1.0])
    with forward_ad.dual_level(), torch_forward_ad.dual_level():
        raises_like_torch(
            lambda: make(engine.autograd.Function).apply(forward_ad.make_dual(x, t)),
            lambda: make(torch.autograd.Function).apply(torch_forward_ad.make_dual(tx, tt)),
            "You must implement the jvp function",
        )


# ----------------------------------------------- hypothesis: strided and broadcast inputs
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from strategies import broadcastable_pairs, tensor_pairs  # noqa: E402

BINARY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1),
    "maximum": lambda a, b: (engine if isinstance(a, engine.Tensor) else torch).maximum(a, b),
    "where": lambda a, b: (engine if isinstance(a, engine.Tensor) else torch).where(a > b, a, b),
}
UNARY = {
    "exp_sum": lambda a: a.exp().sum(-1) if a.ndim else a.exp(),
    "tanh_view": lambda a: a.tanh().reshape(-1),
    "softmax": lambda a: a.softmax(-1) if a.ndim else a.sigmoid(),
    "clone_t": lambda a: (a.t() if a.ndim == 2 else a).clone() * 2,
}


def _jvps(function, ours, theirs, seed):
    tangents = _tangents(ours, seed)
    _, tangent = _engine_jvp(
        function, ours, [engine.tensor(t, dtype=engine.float64) for t in tangents]
    )
    _, torch_tangent = torch.func.jvp(
        function, tuple(theirs), tuple(torch.tensor(t, dtype=torch.float64) for t in tangents)
    )
    assert_grads_match([tangent], [torch_tangent], 1e-10, 1e-10)


@settings(max_examples=25, deadline=None)
@given(pairs=broadcastable_pairs(("float64",)), name=st.sampled_from(sorted(BINARY)))
def test_binary_jvp_on_broadcast_inputs_matches_torch(pairs, name):
    (a, ta), (b, tb) = pairs
    _jvps(BINARY[name], [a, b], [ta, tb], seed=len(name))


@settings(max_examples=25, deadline=None)
# Not expanded: torch refuses a tangent for a primal with overlapping memory (stride 0).
@given(
    pair=tensor_pairs(("float64",), max_dims=3, allow_expand=False),
    name=st.sampled_from(sorted(UNARY)),
)
def test_unary_jvp_on_non_contiguous_inputs_matches_torch(pair, name):
    ours, theirs = pair
    _jvps(UNARY[name], [ours], [theirs], seed=len(name))


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_jvp_at_ties_matches_torch(name):
    (a, ta), (b, tb) = _both([1.0, 3.0, 4.0]), _both([3.0, 3.0, 3.0])

    def function(first, second):
        return getattr(engine if isinstance(first, engine.Tensor) else torch, name)(first, second)

    _jvps(function, [a, b], [ta, tb], seed=3)
