"""Checks for chapter 3, Autograd on tensors (exercises/03_tensor_autograd.ipynb).

The learner's functions work on NumPy arrays: they are the math of a backward pass, free of any
framework.  Expected answers come from central finite differences of the forward function in
float64, so a check never trusts the formula it is checking.
"""

from __future__ import annotations

import numpy as np

from engine.grading.core import CheckFailed, exercise, expect

CHAPTER = "03_tensor_autograd"


def _random(shape, seed) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _expect_array(case: str, expected: np.ndarray, got, tolerance: float = 1e-6) -> None:
    if got is None:
        raise CheckFailed(f"{case}: expected an array, got None (a missing return statement?)")
    if not isinstance(got, np.ndarray):
        raise CheckFailed(f"{case}: expected a NumPy array, got {type(got).__name__}")
    if got.shape != expected.shape:
        raise CheckFailed(f"{case}: expected shape {expected.shape}, got shape {got.shape}")
    if not np.allclose(got, expected, rtol=tolerance, atol=tolerance):
        worst = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise CheckFailed(
            f"{case}: wrong values; at index {tuple(int(i) for i in worst)} "
            f"expected {expected[worst]:.6g}, got {got[worst]:.6g}"
        )


def _numerical_gradient(loss, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """d loss / d x by central differences (loss maps an array like x to a float)."""
    gradient = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        above = loss(x)
        x[index] = saved - eps
        below = loss(x)
        x[index] = saved
        gradient[index] = (above - below) / (2 * eps)
    return gradient


@exercise(
    CHAPTER,
    "sum_to_shape",
    "sum a broadcast gradient back to an input's shape",
    hints=(
        "First sum over the leading dimensions that broadcasting added: grad has grad.ndim - "
        "len(shape) more dimensions than the input.",
        "Then sum, with keepdims=True, over every remaining dimension where shape has size 1 and "
        "grad does not.",
        "The result must have exactly shape, also when shape is () (the input was a scalar).",
    ),
)
def check_sum_to_shape(sum_to_shape) -> str:
    cases = [
        ((4, 3), (3,)),
        ((4, 3), (1, 3)),
        ((4, 3), (4, 1)),
        ((2, 4, 3), (4, 1)),
        ((2, 4, 3), ()),
        ((5,), (5,)),
        ((2, 1, 3), (1, 1, 3)),
        ((3, 2), (1,)),
    ]
    for number, (grad_shape, shape) in enumerate(cases):
        grad = _random(grad_shape, number)
        x = _random(shape, 100 + number)
        # The gradient of sum(broadcast(x) * grad) with respect to x, numerically.
        expected = _numerical_gradient(
            lambda value, grad=grad: float((np.broadcast_to(value, grad.shape) * grad).sum()), x
        )
        case = f"sum_to_shape(gradient of shape {grad_shape}, shape {shape})"
        result = sum_to_shape(grad, shape)
        if isinstance(result, np.generic):  # grad.sum() of everything gives a NumPy scalar
            result = np.asarray(result)
        _expect_array(case, expected, result)
    return f"{len(cases)} cases passed"


# Autograd itself, in the engine and in torch: what these exercises ask you to do by hand.
AUTOGRAD = (
    "engine.autograd.grad",
    "engine.autograd.backward",
    "engine.Tensor.backward",
    "torch.autograd.grad",
    "torch.autograd.backward",
    "torch.Tensor.backward",
)


@exercise(
    CHAPTER,
    "matmul_backward",
    "the gradients of C = A @ B",
    forbidden=AUTOGRAD,
    hints=(
        "Each gradient has the shape of its input: grad_a is (n, k) like A, grad_b is (k, m) like "
        "B, and grad_c is (n, m).",
        "Only one product of grad_c with b or b.T has the shape (n, k), and only one product of a "
        "or a.T with grad_c has the shape (k, m).",
    ),
)
def check_matmul_backward(matmul_backward) -> str:
    for number, (n, k, m) in enumerate([(2, 3, 4), (1, 5, 1), (4, 4, 4), (3, 1, 2)]):
        a, b, grad_c = (
            _random((n, k), number),
            _random((k, m), 10 + number),
            _random((n, m), 20 + number),
        )
        result = matmul_backward(grad_c, a, b)
        case = f"matmul_backward with A {a.shape}, B {b.shape}"
        expect(
            case,
            isinstance(result, tuple) and len(result) == 2,
            f"expected a tuple (grad_a, grad_b), got {type(result).__name__}",
        )
        expected_a = _numerical_gradient(
            lambda value, b=b, g=grad_c: float(((value @ b) * g).sum()), a
        )
        expected_b = _numerical_gradient(
            lambda value, a=a, g=grad_c: float(((a @ value) * g).sum()), b
        )
        _expect_array(f"{case}: grad_a", expected_a, result[0])
        _expect_array(f"{case}: grad_b", expected_b, result[1])
    return "4 cases passed"


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


@exercise(
    CHAPTER,
    "softmax_backward",
    "the gradient through softmax, from its output",
    forbidden=AUTOGRAD,
    hints=(
        "Write out the vector-Jacobian product: dL/dx_k = sum over i of grad_y_i * y_i * (delta_ik "
        "- y_k), and split it into its delta part and the rest.",
        "The sum over i of grad_y_i * y_i is one number per row: compute it with keepdims=True, so "
        "that it broadcasts over the last dimension.",
    ),
)
def check_softmax_backward(softmax_backward) -> str:
    for number, shape in enumerate([(4,), (3, 5), (2, 3, 4), (1, 1)]):
        x = _random(shape, number) * 3
        grad_y = _random(shape, 50 + number)
        y = _softmax(x)
        expected = _numerical_gradient(
            lambda value, g=grad_y: float((_softmax(value) * g).sum()), x
        )
        case = f"softmax_backward for an input of shape {shape} (softmax over the last dim)"
        _expect_array(case, expected, softmax_backward(grad_y, y.copy()))
    return "4 cases passed"
