"""``engine.func`` and ``engine.autograd.functional`` against ``torch.func`` and
``torch.autograd.functional``: values, shapes (``out.shape + in.shape``), argnums, tuples of
inputs and outputs, nesting, and errors."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import func

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from autograd_helpers import assert_grads_match, raises_like_torch  # noqa: E402


def lib(tensor):
    return engine if isinstance(tensor, engine.Tensor) else torch


def pair(values):
    values = np.asarray(values, dtype=np.float64)
    return engine.tensor(values, dtype=engine.float64), torch.tensor(values)


def both(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    pairs = [pair(rng.standard_normal(shape)) for shape in shapes]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def scalar_program(x, y):
    return ((x.sin() * y).sum() * x.exp().sum()) / (1 + (y * y).sum())


def vector_program(x, y):
    return (lib(x).tanh(x) * y.sum(0)).exp() + x * x


def flat(result):
    """A (possibly nested) tuple of tensors as a flat list."""
    if isinstance(result, tuple):
        return [tensor for item in result for tensor in flat(item)]
    return [result]


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_grad_and_grad_and_value_match_torch(argnums):
    ours, theirs = both((3,), (2, 3))
    assert_grads_match(
        flat(func.grad(scalar_program, argnums)(*ours)),
        flat(torch.func.grad(scalar_program, argnums)(*theirs)),
    )
    grads, value = func.grad_and_value(scalar_program, argnums)(*ours)
    torch_grads, torch_value = torch.func.grad_and_value(scalar_program, argnums)(*theirs)
    assert_grads_match(flat(grads) + [value], flat(torch_grads) + [torch_value])
    assert value.grad_fn is None and all(grad.grad_fn is None for grad in flat(grads))


def test_grad_has_aux_and_nested_grad():
    ours, theirs = both((4,))
    grad, aux = func.grad(lambda x: ((x**3).sum(), x * 2), has_aux=True)(ours[0])
    torch_grad, torch_aux = torch.func.grad(lambda x: ((x**3).sum(), x * 2), has_aux=True)(
        theirs[0]
    )
    assert_grads_match([grad, aux], [torch_grad, torch_aux])
    # grad of grad: d/dx sum(d/dx sum(x^3)) = d/dx sum(3 x^2) = 6 x.
    second = func.grad(lambda x: func.grad(lambda y: (y**3).sum())(x).sum())(ours[0])
    assert_grads_match([second], [6 * theirs[0]])


def test_vjp_and_jvp_match_torch():
    ours, theirs = both((3,), (2, 3), (3,), seed=1)
    output, vjp_fn = func.vjp(vector_program, ours[0], ours[1])
    torch_output, torch_vjp_fn = torch.func.vjp(vector_program, theirs[0], theirs[1])
    cotangent = engine.tensor(theirs[2].numpy(), dtype=engine.float64)
    assert_grads_match([output, *vjp_fn(cotangent)], [torch_output, *torch_vjp_fn(theirs[2])])
    assert_grads_match(vjp_fn(cotangent), torch_vjp_fn(theirs[2]))  # callable again
    tangents = both((3,), (2, 3), seed=2)
    output, tangent = func.jvp(vector_program, tuple(ours[:2]), tuple(tangents[0]))
    torch_output, torch_tangent = torch.func.jvp(
        vector_program, tuple(theirs[:2]), tuple(tangents[1])
    )
    assert_grads_match([output, tangent], [torch_output, torch_tangent])


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch(transform, argnums):
    ours, theirs = both((3,), (2, 3), seed=3)
    result = getattr(func, transform)(vector_program, argnums)(*ours)
    expected = getattr(torch.func, transform)(vector_program, argnums)(*theirs)
    assert [tuple(r.shape) for r in flat(result)] == [tuple(e.shape) for e in flat(expected)]
    assert_grads_match(flat(result), flat(expected))


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
def test_jacobians_of_several_outputs_match_torch(transform):
    def program(x, y):
        return x.exp() * y, (x * y).sum()

    ours, theirs = both((2, 2), (2, 2), seed=4)
    result = getattr(func, transform)(program, (0, 1))(*ours)
    expected = getattr(torch.func, transform)(program, (0, 1))(*theirs)
    assert_grads_match(flat(result), flat(expected))


def test_hessian_matches_torch():
    ours, theirs = both((3,), (2, 3), seed=5)
    for argnums in (0, 1):
        assert_grads_match(
            flat(func.hessian(scalar_program, argnums)(*ours)),
            flat(torch.func.hessian(scalar_program, argnums)(*theirs)),
            rtol=1e-9,
            atol=1e-11,
        )


PROGRAMS = [
    lambda x: (x * x).sin().sum(0),
    lambda x: x.softmax(0) * x.exp(),
    lambda x: (x @ x.t()).tanh().flatten(),
    lambda x: x.clamp(-0.5, 0.5).log_softmax(1).max(1)[0],
    lambda x: lib(x).cat([x, x * 2], 0).prod(1),
]


@settings(max_examples=15, deadline=None)
@given(program=st.sampled_from(range(len(PROGRAMS))), seed=st.integers(0, 1000))
def test_jacrev_equals_jacfwd_on_random_programs(program, seed):
    (x,), _ = both((2, 3), seed=seed)
    assert_grads_match(
        [func.jacrev(PROGRAMS[program])(x)], [func.jacfwd(PROGRAMS[program])(x)], 1e-9, 1e-11
    )


@pytest.mark.parametrize("name", ["hvp", "vhp"])
def test_hessian_vector_products_match_torch(name):
    ours, theirs = both((3,), (2, 3), (3,), (2, 3), seed=6)
    output, product = getattr(engine.autograd.functional, name)(
        scalar_program, tuple(ours[:2]), tuple(ours[2:])
    )
    torch_output, torch_product = getattr(torch.autograd.functional, name)(
        scalar_program, tuple(theirs[:2]), tuple(theirs[2:])
    )
    assert_grads_match([output, *product], [torch_output, *torch_product], 1e-9, 1e-11)


def test_errors_match_torch():
    ours, theirs = both((3,))
    raises_like_torch(
        lambda: func.grad(lambda x: x * 2)(ours[0]),
        lambda: torch.func.grad(lambda x: x * 2)(theirs[0]),
        "Expected f(*args) to return a scalar Tensor",
    )
    raises_like_torch(
        lambda: func.jvp(lambda x: x, ours[0], ours[0]),
        lambda: torch.func.jvp(lambda x: x, theirs[0], theirs[0]),
        "Expected primals to be a tuple",
    )
    raises_like_torch(
        lambda: func.grad(lambda x: x.sum(), argnums=2)(ours[0]),
        lambda: torch.func.grad(lambda x: x.sum(), argnums=2)(theirs[0]),
        "Got argnum=2, but only 1 positional inputs",
    )
    raises_like_torch(
        lambda: engine.autograd.functional.hvp(lambda x: x * 2, ours[0], ours[0]),
        lambda: torch.autograd.functional.hvp(lambda x: x * 2, theirs[0], theirs[0]),
        "should contain a single element",
    )


def test_gumbel_softmax_samples_and_straight_through_gradient():
    logits = engine.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True)
    weights = engine.tensor([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]])
    engine.manual_seed(7)
    soft = engine.nn.functional.gumbel_softmax(logits, tau=0.5)
    (soft * weights).sum().backward()
    soft_grad = logits.grad.clone()
    logits.grad = None
    engine.manual_seed(7)
    hard = engine.nn.functional.gumbel_softmax(logits, tau=0.5, hard=True)
    (hard * weights).sum().backward()
    assert hard.tolist() == engine.one_hot(soft.argmax(1), 3).float().tolist()
    assert_grads_match([logits.grad], [torch.tensor(soft_grad.numpy())], 1e-6, 1e-7)
    assert np.allclose(soft.sum(1).detach().numpy(), 1.0)
    # Along another dim, one one-hot per column.
    columns = engine.nn.functional.gumbel_softmax(engine.randn(3, 4), hard=True, dim=0)
    assert columns.sum(0).tolist() == [1.0] * 4
