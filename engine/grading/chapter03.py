"""Checks for chapter 3, Autograd on tensors (exercises/03_tensor_autograd.ipynb).

The learner's functions work on NumPy arrays: they are the math of a backward pass, free of any
framework.  Expected answers come from central finite differences of the forward function in
float64, so a check never trusts the formula it is checking.
"""

from __future__ import annotations

import numpy as np

import engine
from engine.grading.core import CheckFailed, exercise, expect, explain

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


@exercise(
    CHAPTER,
    "batched_matmul_backward",
    "matmul's backward with broadcast batch dimensions",
    forbidden=AUTOGRAD,
    hints=(
        "For one pair of matrices the formulas are chapter 3's: grad_A = grad_C @ B^T, "
        "grad_B = A^T @ grad_C, with B^T the swap of the last two dims.",
        "With batch dims, those products come out with C's batch shape; the forward broadcast "
        "A and B to it, so sum each gradient back to its input's shape (your sum_to_shape).",
    ),
)
def check_batched_matmul_backward(batched_matmul_backward) -> str:
    cases = [((2, 1, 3, 4), (5, 4, 2)), ((3, 2), (4, 2, 5)), ((6, 1, 2, 3), (1, 3, 3, 2))]
    for number, (a_shape, b_shape) in enumerate(cases):
        a, b = _random(a_shape, 10 + number), _random(b_shape, 20 + number)
        grad_c = _random(np.matmul(a, b).shape, 30 + number)
        case = f"batched_matmul_backward for A {a_shape} @ B {b_shape}"
        got = batched_matmul_backward(grad_c, a, b)
        expect(case, isinstance(got, tuple) and len(got) == 2, "return (grad_a, grad_b)")
        want_a = _numerical_gradient(lambda x, b=b, g=grad_c: float((np.matmul(x, b) * g).sum()), a)
        want_b = _numerical_gradient(lambda x, a=a, g=grad_c: float((np.matmul(a, x) * g).sum()), b)
        _expect_array(f"{case}: grad_a", want_a, got[0])
        _expect_array(f"{case}: grad_b", want_b, got[1])
    return f"{len(cases)} shapes with broadcast batch dims, both gradients"


@exercise(
    CHAPTER,
    "logsumexp_backward",
    "the backward of logsumexp over the last dim, finite on extreme inputs",
    forbidden=AUTOGRAD,
    hints=(
        "d logsumexp(x) / dx_i = exp(x_i) / sum_j exp(x_j): the softmax of x.",
        "Compute that softmax stably (subtract the row's maximum), and multiply it by the "
        "incoming gradient, one number per row, broadcast along the last dim.",
    ),
)
def check_logsumexp_backward(logsumexp_backward) -> str:
    for number, shape in enumerate([(4,), (3, 5), (2, 2, 3)]):
        x = _random(shape, 40 + number)
        grad = _random(shape[:-1], 50 + number)
        case = f"logsumexp_backward(grad of shape {grad.shape}, x of shape {shape})"
        want = _numerical_gradient(
            lambda v, g=grad: float((np.log(np.exp(v).sum(axis=-1)) * g).sum()), x
        )
        _expect_array(case, want, logsumexp_backward(grad, x))
    x = np.array([[1000.0, 999.0, -1000.0]])
    got = logsumexp_backward(np.array([1.0]), x)
    case = "logsumexp_backward([1.0], [[1000, 999, -1000]])"
    if not isinstance(got, np.ndarray) or not np.isfinite(got).all():
        raise CheckFailed(f"{case}: got {got!r}: exp(1000) overflows; subtract the maximum first")
    _expect_array(case, _softmax(x), got, 1e-12)
    return "three shapes, and finite on logits of 1000"


EXPAND_TRAPS = (
    "engine.ops.reduction.sum_to_shape",
    "engine.Tensor.sum_to_size",
    "engine.autograd.grad",
    "torch.Tensor.expand",
)


@exercise(
    CHAPTER,
    "ExpandFunction",
    "a Function for expand whose backward sums the gradient back",
    forbidden=EXPAND_TRAPS,
    hints=(
        "forward(ctx, x, shape): remember x's shape on ctx and return x.expand(shape), a view.",
        "backward(ctx, grad): every element of x was read by many outputs, so its gradient is "
        "the sum of theirs: sum over the leading dims that expand added, and with keepdim over "
        "the dims where x had size 1.",
        "Return one gradient per forward argument: the summed gradient, and None for shape.",
    ),
)
def check_expand_function(expand_function) -> str:
    expect(
        "ExpandFunction",
        isinstance(expand_function, type) and issubclass(expand_function, engine.autograd.Function),
        f"expected a subclass of engine.autograd.Function, got {expand_function!r}",
    )
    cases = [((3, 1), (2, 3, 4)), ((4,), (3, 4)), ((1, 1, 4), (2, 5, 4)), ((2, 3), (2, 3))]
    for number, (shape, target) in enumerate(cases):
        values = _random(shape, 60 + number)
        x = engine.tensor(values, requires_grad=True)
        case = f"ExpandFunction.apply(x of shape {shape}, {target})"
        out = expand_function.apply(x, target)
        expect(case, tuple(out.shape) == target, f"expected shape {target}, got {tuple(out.shape)}")
        upstream = _random(target, 70 + number)
        (out * engine.tensor(upstream)).sum().backward()
        expect(case, x.grad is not None, "x got no gradient")
        want = _numerical_gradient(
            lambda v, t=target, u=upstream: float((np.broadcast_to(v, t) * u).sum()), values
        )
        _expect_array(f"{case}: x.grad", want, np.asarray(x.grad.tolist()))
    return f"{len(cases)} expansions: new leading dims and size-1 dims summed back"


@exercise(
    CHAPTER,
    "node_names",
    "predict the chain of backward nodes of an expression",
    kind="predict",
    hints=(
        "Each op that records a node names it <Op>Backward0; a leaf that requires grad is "
        "reached through AccumulateGrad.",
        "Start at y.grad_fn (the last op) and follow the first of next_functions each time.",
    ),
)
def check_node_names(node_names) -> str:
    x = engine.tensor([0.5, -1.0], requires_grad=True)
    y = (x * 2 + 1).exp().sum()
    chain, node = [], y.grad_fn
    while node is not None:
        chain.append(type(node).__name__ if not hasattr(node, "name") else node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    prediction = node_names()
    return explain(
        "the nodes from y.grad_fn for y = (x * 2 + 1).exp().sum()",
        list(prediction) if isinstance(prediction, list | tuple) else prediction,
        chain,
        "Backward runs from the last op to the first: the sum, the exp, the addition of 1, the "
        "multiplication by 2, and AccumulateGrad, which writes x.grad. Constants get no node.",
    )


@exercise(
    CHAPTER,
    "Clamp01",
    "fix a custom clamp whose gradient is wrong outside [0, 1]",
    kind="debug",
    hints=(
        "Where the input is below 0 or above 1 the output is constant: what is its derivative "
        "there?",
        "Save what backward needs in forward, and pass the gradient only where 0 <= x <= 1 "
        "(torch's clamp passes it at both boundaries).",
    ),
)
def check_clamp01(clamp01) -> str:
    values = np.array([-2.0, 0.0, 0.3, 1.0, 1.5])
    x = engine.tensor(values, requires_grad=True)
    out = clamp01.apply(x)
    case = "Clamp01.apply(x) for x = [-2, 0, 0.3, 1, 1.5]"
    _expect_array(f"{case}: values", np.clip(values, 0, 1), np.asarray(out.tolist()), 1e-12)
    out.sum().backward()
    want = ((values >= 0) & (values <= 1)).astype(float)
    got = np.asarray(x.grad.tolist())
    if np.array_equal(got, np.ones(5)):
        raise CheckFailed(f"{case}: x.grad is all ones: the clamped elements must get 0")
    if np.array_equal(got, ((values > 0) & (values < 1)).astype(float)):
        raise CheckFailed(
            f"{case}: x.grad is {got.tolist()}: torch's clamp passes the gradient at the "
            "boundaries too (x >= min and x <= max)"
        )
    _expect_array(f"{case}: x.grad", want, got, 1e-12)
    return "values clamped, gradient 1 inside [0, 1] (boundaries included) and 0 outside"
