"""The scalar engine against torch float64: random expression trees, edge cases, long chains."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.scalar import MLP, Value, topological_order

# Operations whose torch float64 result is one correctly rounded IEEE operation (or the same
# few, in the same order): the engine must match torch bit for bit on these.
EXACT_BINARY = ["+", "-", "*", "/"]
EXACT_UNARY = [
    "neg",
    "relu",
    "**2",
    "**3",
    "**-1",
    "**-2",
    "rsub",
    "rdiv",
    "reciprocal",
    "radd",
    "rmul",
]
# exp/log/tanh/sigmoid: torch's vectorised kernels and the C library may differ in the last bit.
TRANSCENDENTAL = ["tanh", "exp", "sigmoid", "log"]


def apply_unary(op, value, module):
    """Apply a unary op named ``op`` to a Value (module=None) or a torch tensor (module=torch)."""
    if op == "neg":
        return -value
    if op.startswith("**"):
        return value ** float(op[2:])
    if op == "rsub":
        return 1.5 - value
    if op == "rdiv":
        return 3.0 / value
    if op == "radd":
        return 0.25 + value
    if op == "rmul":
        return 3.0 * value
    if op == "log":  # keep log's argument positive so both engines stay finite
        return (value * value + 1.0).log()
    if module is None:
        return getattr(value, op)()
    return getattr(torch, op)(value)


def apply_binary(op, a, b):
    if op == "/":
        return a / (b * b + 0.5)  # a denominator bounded away from zero
    return {"+": a + b, "-": a - b, "*": a * b}[op]


@st.composite
def programs(draw, unary_ops):
    """A random straight-line program over 3 inputs: a list of (op, argument indices).

    Later instructions may reuse any earlier result, so nodes get several consumers, which is
    exactly the case where the order of gradient accumulation matters.
    """
    n_inputs = 3
    inputs = draw(st.lists(st.floats(-3, 3, allow_nan=False), min_size=n_inputs, max_size=n_inputs))
    steps = []
    for i in range(draw(st.integers(1, 12))):
        available = n_inputs + i
        if draw(st.booleans()):
            op = draw(st.sampled_from(EXACT_BINARY))
            steps.append(
                (op, draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1)))
            )
        else:
            steps.append(
                (draw(st.sampled_from(unary_ops)), draw(st.integers(0, available - 1)), None)
            )
    return inputs, steps


def run_program(inputs, steps, module):
    if module is None:
        values = [Value(x) for x in inputs]
    else:
        values = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    leaves = list(values)
    for op, i, j in steps:
        values.append(
            apply_unary(op, values[i], module)
            if j is None
            else apply_binary(op, values[i], values[j])
        )
    # Sum every result so that every node, not only the last one, feeds the output.
    out = values[0]
    for v in values[1:]:
        out = out + v
    return leaves, out


def engine_and_torch(inputs, steps):
    """Run a program on both engines; None when Python refuses (1 / 0.0, exp overflow)."""
    try:
        engine_leaves, engine_out = run_program(inputs, steps, None)
        engine_out.backward()
    except (ZeroDivisionError, OverflowError):
        return None  # torch returns inf or nan here; plain Python floats raise instead
    torch_leaves, torch_out = run_program(inputs, steps, torch)
    torch_out.backward()
    torch_grads = [0.0 if t.grad is None else t.grad.item() for t in torch_leaves]
    return engine_out.data, torch_out.item(), [v.grad for v in engine_leaves], torch_grads


def finite(*numbers):
    return all(math.isfinite(x) for x in numbers)


@settings(max_examples=400, deadline=None)
@given(programs(EXACT_UNARY))
def test_arithmetic_programs_match_torch_float64_bit_for_bit(program):
    result = engine_and_torch(*program)
    if result is None:
        return
    value, expected, grads, expected_grads = result
    if not finite(expected, *expected_grads):
        return  # overflow: inf - inf etc.; nan == nan is not a meaningful comparison
    assert value == expected
    assert grads == expected_grads


@settings(max_examples=300, deadline=None)
@given(programs(EXACT_UNARY + TRANSCENDENTAL))
def test_programs_with_transcendentals_match_torch_float64(program):
    result = engine_and_torch(*program)
    if result is None:
        return
    value, expected, grads, expected_grads = result
    if not finite(expected, *expected_grads):
        return
    assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert grads == pytest.approx(expected_grads, rel=1e-10, abs=1e-10)


def test_worked_example_from_the_chapter():
    x, y = Value(2.0), Value(3.0)
    f = (x + y) * x  # df/dx = (x + y) + x = 7, df/dy = x = 2
    f.backward()
    assert (f.data, x.grad, y.grad) == (10.0, 7.0, 2.0)


def test_reused_node_gets_the_sum_of_its_gradients():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0


def test_second_backward_adds_to_leaves_like_torch():
    x, y = Value(2.0), Value(-1.5)
    out = (x * y).tanh() * x
    out.backward()
    first = (x.grad, y.grad)
    out.backward()

    tx = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(-1.5, dtype=torch.float64, requires_grad=True)
    tout = (tx * ty).tanh() * tx
    tout.backward(retain_graph=True)
    tout.backward()
    assert (x.grad, y.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-15)
    assert (x.grad, y.grad) == pytest.approx((tx.grad.item(), ty.grad.item()), rel=1e-14)


@pytest.mark.parametrize("x, expected", [(-1.0, 0.0), (0.0, 0.0), (2.0, 1.0)])
def test_relu_derivative_including_the_kink_matches_torch(x, expected):
    v = Value(x)
    v.relu().backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    torch.relu(t).backward()
    assert v.grad == t.grad.item() == expected


def test_chain_of_100_000_operations_backpropagates_without_recursion():
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0  # two ops per step: 200,000 intermediate nodes
    y.backward()
    assert x.grad == 1.0


def test_topological_order_puts_every_node_before_its_inputs():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    position = {id(node): i for i, node in enumerate(order)}
    assert order[0] is e and len(order) == 5
    for node in order:
        for child in node._prev:
            assert position[id(child)] > position[id(node)]


def test_micrograd_attributes_exist():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    assert c._prev == {a, b} and c._op == "*" and a._prev == set() and a._op == ""


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: Value("3"), TypeError),
        (lambda: Value(1.0) ** Value(2.0), TypeError),
        (lambda: Value(1.0) + "a", TypeError),
        (lambda: Value(0.0).log(), ValueError),
    ],
)
def test_misuse_raises_a_clear_error(make, error):
    with pytest.raises(error):
        make()


def test_mlp_parameters_and_zero_grad():
    model = MLP(2, [4, 4, 1], seed=1)
    assert len(model.parameters()) == (2 * 4 + 4) + (4 * 4 + 4) + (4 * 1 + 1)
    out = model([0.5, -1.0])
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    # Same seed, same weights.
    assert [p.data for p in MLP(2, [4, 4, 1], seed=1).parameters()] == [
        p.data for p in model.parameters()
    ]


def test_value_accepts_numpy_numbers():
    import numpy as np

    for number in (np.float32(1.5), np.float64(-2.0), np.int64(3), np.int8(-4)):
        value = Value(number)
        assert isinstance(value.data, float) and value.data == float(number)
    with pytest.raises(TypeError):
        Value("1.0")
