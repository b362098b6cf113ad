"""engine.autograd.gradgradcheck: second derivatives (the backward of backward) against finite
differences of the first derivatives, with torch.autograd.gradgradcheck's semantics.  (Every
op of the engine goes through it in tests/test_autograd_ops.py::test_gradgradcheck.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine import autograd
from engine.autograd.gradcheck import _random_grad_output
from engine.ops import creation


def _leaves(*arrays, module=engine):
    return [module.tensor(array, dtype=module.float64, requires_grad=True) for array in arrays]


X, Y = [0.3, -1.2, 2.0], [1.3, 0.2, -0.5]


def sin_times(x, y):
    return x.sin() * y


# ---------------------------------------------------------------------- (a) correct functions
def test_passes_on_sin_times_y():
    assert autograd.gradgradcheck(sin_times, _leaves(X, Y))


def test_passes_with_non_contiguous_and_explicit_grad_outputs():
    x, y = _leaves(X, Y)
    assert autograd.gradgradcheck(sin_times, [x, y], gen_non_contig_grad_outputs=True)
    grad_output = engine.tensor([0.5, -1.0, 2.0], dtype=engine.float64, requires_grad=True)
    assert autograd.gradgradcheck(sin_times, [x, y], grad_output)
    # A grad_output that does not require grad is not differentiated (as in torch).
    assert autograd.gradgradcheck(sin_times, [x, y], [grad_output.detach()])


def test_generated_grad_outputs_are_deterministic_and_as_asked():
    output = engine.zeros(2, 3, dtype=engine.float64)
    first = _random_grad_output(creation, np.random.default_rng(0), output, False)
    again = _random_grad_output(creation, np.random.default_rng(0), output, False)
    strided = _random_grad_output(creation, np.random.default_rng(0), output, True)
    assert first.tolist() == again.tolist() == strided.tolist()
    assert first.is_contiguous() and not strided.is_contiguous()
    for grad_output in (first, strided):
        assert grad_output.requires_grad and grad_output.is_leaf
        assert grad_output.dtype is engine.float64 and tuple(grad_output.shape) == (2, 3)
        assert np.all(np.abs(grad_output.detach().numpy()) <= 1.0)
    # Integer outputs get float64 grad_outputs (torch's rule).
    integer = _random_grad_output(creation, np.random.default_rng(0), engine.zeros(2).long(), False)
    assert integer.dtype is engine.float64


def test_unused_input_and_several_outputs():
    # b does not reach the first output and its first derivative is None: filtered out.
    x, b = _leaves(X, Y)
    assert autograd.gradgradcheck(lambda x, b: (x * x, x.exp() + b), [x, b])
    assert autograd.gradgradcheck(lambda x, b: x.tanh() * 2, [x, b])


# ------------------------------------------------------------- (b) wrong double backwards
def _wrong_double_backwards(library):
    """Two Functions with a right first derivative and a wrong second one, for the engine or
    torch (``library``): gradcheck passes on both, gradgradcheck must not."""

    class RawSquare(library.autograd.Function):
        """The first derivative computed in NumPy and wrapped in a new tensor: no graph, so
        the second derivative comes out as zero."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return library.tensor(2 * x.detach().numpy() * grad_output.detach().numpy())

    class HalfSecondOrderCube(library.autograd.Function):
        """3 x^2 g with one x detached: d/dx of it is 3 x g, not 6 x g."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x.detach() * x

    return RawSquare, HalfSecondOrderCube


RawSquare, HalfSecondOrderCube = _wrong_double_backwards(engine)
TorchRawSquare, TorchHalfSecondOrderCube = _wrong_double_backwards(torch)


@pytest.mark.parametrize("function", [RawSquare, HalfSecondOrderCube])
def test_detects_wrong_double_backward(function):
    (x,) = _leaves(X)
    # The first derivative is right, so gradcheck cannot see the bug ...
    assert autograd.gradcheck(function.apply, [x])
    # ... gradgradcheck does, and says which second derivative is wrong.
    with pytest.raises(autograd.GradcheckError) as error:
        autograd.gradgradcheck(function.apply, [x])
    message = str(error.value)
    assert "gradgradcheck" in message and "Jacobian mismatch" in message
    assert "with respect to input 0" in message  # d(dy/dx)/dx, not d(dy/dx)/d(grad_output)
    assert autograd.gradgradcheck(function.apply, [x], raise_exception=False) is False


# ------------------------------------------------------------------- (c) agreement with torch
def tanh_of_product(a, b):
    return (a * b).tanh()


def two_outputs(a, b):
    return a * b, a.exp()


AGREEMENT_CASES = [
    ("sin_times", sin_times, sin_times, (X, Y), True),
    ("tanh_of_product", tanh_of_product, tanh_of_product, (X, Y), True),
    ("two_outputs", two_outputs, two_outputs, (X, Y), True),
    ("raw_square", RawSquare.apply, TorchRawSquare.apply, (X,), False),
    (
        "half_second_order_cube",
        HalfSecondOrderCube.apply,
        TorchHalfSecondOrderCube.apply,
        (X,),
        False,
    ),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "arrays", "expected"),
    [case[1:] for case in AGREEMENT_CASES],
    ids=[case[0] for case in AGREEMENT_CASES],
)
def test_agrees_with_torch(ours, theirs, arrays, expected):
    engine_result = autograd.gradgradcheck(ours, _leaves(*arrays), raise_exception=False)
    torch_result = torch.autograd.gradgradcheck(
        theirs, _leaves(*arrays, module=torch), raise_exception=False
    )
    assert engine_result is torch_result is expected


# ------------------------------------------------------------------- (d) argument errors
def test_rejects_non_float64_inputs():
    x = engine.tensor(X, dtype=engine.float32, requires_grad=True)
    with pytest.raises(autograd.GradcheckError, match=r"input 0 has dtype .*float32.*float64"):
        autograd.gradgradcheck(lambda t: t.sin(), [x])
    (y,) = _leaves(X)
    grad_output = engine.tensor(Y, dtype=engine.float32, requires_grad=True)
    with pytest.raises(autograd.GradcheckError, match=r"grad_outputs\[0\] has dtype .*float32"):
        autograd.gradgradcheck(lambda t: t.sin(), [y], [grad_output])


def test_rejects_wrong_number_of_grad_outputs_and_no_differentiable_input():
    x, y = _leaves(X, Y)
    with pytest.raises(ValueError, match="2 outputs that require grad but 1 grad_outputs"):
        autograd.gradgradcheck(lambda a, b: (a * b, a.exp()), [x, y], [y.detach()])
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        autograd.gradgradcheck(lambda t: t.sin(), [x.detach()])


def test_gradcheck_handles_an_empty_input():
    # gradgradcheck meets these: the grad_output of an empty output (a[a > 0] selecting nothing).
    empty = engine.zeros(0, dtype=engine.float64, requires_grad=True)
    (x,) = _leaves(X)
    assert autograd.gradcheck(lambda e, t: t * 2 + e.sum(), [empty, x])
    assert autograd.gradgradcheck(lambda t: t[t > 5.0], [x])
