"""Checks for chapter 1, Backpropagation by hand (exercises/01_backprop_by_hand.ipynb).

Expected numbers come from hand-derived formulas (d(ab)/da = b, ...) or, for whole graphs, from
the engine's own ``Value.backward`` on an identical copy of the graph.
"""

from __future__ import annotations

import math

from engine.grading.core import (
    CheckFailed,
    exercise,
    expect,
    expect_close,
    expect_type,
    explain,
)
from engine.scalar import Value

CHAPTER = "01_backprop_by_hand"


def _run_local_backward(out: Value, seed: float) -> None:
    """Set the output's gradient and run only its own ``_backward`` closure."""
    out.grad = seed
    out._backward()


def _check_unary(candidate, name: str, forward, derivative, points: list[float]) -> str:
    """Shared cases for a one-input operation: output, inputs, local backward, accumulation."""
    for x in points:
        case = f"{name}(Value({x}))"
        a = Value(x)
        out = candidate(a)
        expect_type(case, out, Value)
        expect_close(f"{case}.data", forward(x), out.data, 1e-12)
        expect(case, out._prev == {a}, f"the output's _prev should be {{a}}, got {out._prev!r}")
        _run_local_backward(out, 1.5)
        expect_close(f"{case} with out.grad = 1.5: a.grad", 1.5 * derivative(x), a.grad, 1e-12)

    case = f"{name} on an input whose .grad is already 2.0"
    a = Value(points[-1])
    a.grad = 2.0
    _run_local_backward(candidate(a), 1.0)
    expected = 2.0 + derivative(points[-1])
    if math.isclose(a.grad, derivative(points[-1]), abs_tol=1e-12):
        raise CheckFailed(
            f"{case}: a.grad was overwritten ({a.grad!r}); gradients must accumulate "
            f"with +=, expected {expected!r}"
        )
    expect_close(case, expected, a.grad, 1e-12)
    return f"{len(points) + 1} cases passed"


@exercise(
    CHAPTER,
    "mul",
    "a * b with its backward pass",
    hints=(
        "The output is a new Value holding a.data * b.data, with (a, b) as its children and '*' as "
        "its op; its _backward is a function of no arguments, defined inside mul and attached to "
        "the output.",
        "Inside _backward, out.grad is the gradient arriving from above. The chain rule multiplies "
        "it by each input's local derivative: b.data for a, and a.data for b.",
        "Add to a.grad and b.grad with +=, never =: in mul(x, x) both updates land on the same "
        "Value, and both must count.",
    ),
)
def check_mul(mul) -> str:
    a, b = Value(2.0), Value(-3.0)
    out = mul(a, b)
    expect_type("mul(Value(2.0), Value(-3.0))", out, Value)
    expect_close("mul(Value(2.0), Value(-3.0)).data", -6.0, out.data)
    expect("mul(a, b)", out._prev == {a, b}, f"_prev should be {{a, b}}, got {out._prev!r}")

    _run_local_backward(out, 1.5)
    expect_close(
        "mul(Value(2.0), Value(-3.0)) with out.grad = 1.5: a.grad = out.grad * b", -4.5, a.grad
    )
    expect_close("... and b.grad = out.grad * a", 3.0, b.grad)

    x = Value(3.0)
    square = mul(x, x)
    _run_local_backward(square, 1.0)
    if x.grad == 3.0:
        raise CheckFailed(
            "mul(x, x) with x = 3: x.grad is 3.0, expected 6.0. x is both inputs, "
            "so both contributions must be added: use += instead of ="
        )
    expect_close("mul(x, x) with x = 3: d(x*x)/dx = 2x", 6.0, x.grad)

    x, y = Value(2.0), Value(3.0)
    f = mul(x + y, x)
    f.backward()
    expect_close("f = (x + y) * x at x=2, y=3, after f.backward(): x.grad", 7.0, x.grad)
    expect_close("... y.grad", 2.0, y.grad)
    return "4 cases passed"


@exercise(
    CHAPTER,
    "relu",
    "ReLU and its derivative, 0 at the kink as in PyTorch",
    hints=(
        "The output holds max(a.data, 0). Its local derivative is 1 where a.data > 0 and 0 "
        "everywhere else, exactly 0 included.",
        "In _backward, add out.grad times that local derivative to a.grad, with += (gradients "
        "accumulate).",
    ),
)
def check_relu(relu) -> str:
    return _check_unary(
        relu, "relu", lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0, [-2.0, 0.0, 0.5, 3.0]
    )


@exercise(
    CHAPTER,
    "tanh",
    "tanh and its derivative 1 - tanh(x)**2",
    hints=(
        "Compute t = math.tanh(a.data) once, when you build the output.",
        "The local derivative is 1 - t**2, and t is the output's own value: inside _backward read "
        "out.data rather than calling math.tanh again.",
        "Then add out.grad * (1 - t**2) to a.grad, with +=.",
    ),
)
def check_tanh(tanh) -> str:
    return _check_unary(
        tanh, "tanh", math.tanh, lambda x: 1.0 - math.tanh(x) ** 2, [-1.0, 0.0, 0.5, 3.0]
    )


def _diamond() -> tuple[Value, list[Value]]:
    """x, y -> a = x*y -> b = a + x -> c = a*b: a is used twice, x is used twice."""
    x, y = Value(2.0, label="x"), Value(-1.5, label="y")
    a = x * y
    b = a + x
    c = a * b
    return c, [x, y, a, b, c]


def _check_order(case: str, order, nodes: list[Value]) -> None:
    expect_type(case, order, list)
    ids = [id(node) for node in order]
    expect(case, len(ids) == len(set(ids)), "a node appears more than once")
    expect(
        case,
        set(ids) == {id(n) for n in nodes},
        f"expected the {len(nodes)} nodes of the graph, got {len(order)} nodes",
    )
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for child in node._prev:
            if position[id(child)] < position[id(node)]:
                raise CheckFailed(
                    f"{case}: {child!r} comes before {node!r}, which uses it; "
                    "every node must come before its inputs"
                )


@exercise(
    CHAPTER,
    "topological_order",
    "every node before its inputs, without recursion",
    hints=(
        "Keep a set of the nodes already visited: in c = (x*y) * (x*y + x) the walk reaches x*y "
        "and x twice, and each must be listed once.",
        "Replace recursion by a list used as a stack of (node, children_done) pairs: when you pop "
        "a node whose children are not done, push it back marked done, then push its children.",
        "Appending a node when it is popped the second time puts it after all of its inputs: "
        "reverse that list at the end, so that the root comes first.",
    ),
    timeout_hint=(
        "In this exercise a check that never ends usually means nodes are visited again and again: "
        "keep a set of visited nodes, so that each is pushed once."
    ),
)
def check_topological_order(topological_order) -> str:
    leaf = Value(1.0)
    _check_order("topological_order of a single leaf", topological_order(leaf), [leaf])

    root, nodes = _diamond()
    order = topological_order(root)
    _check_order("topological_order of c = (x*y) * (x*y + x)", order, nodes)
    expect("topological_order(c)", order[0] is root, "the root must come first")

    node = Value(1.0)
    chain = [node]
    for _ in range(100_000):
        one = Value(1.0)
        node = node + one
        chain += [one, node]
    order = topological_order(node)
    _check_order("topological_order of a chain of 100,000 additions", order, chain)
    return "3 cases passed"


@exercise(
    CHAPTER,
    "backward",
    "seed the output with 1 and run each _backward in order",
    hints=(
        "Your topological_order from the exercise above gives the order to run in: every node "
        "before its inputs, so each node's grad is complete when its _backward runs.",
        "Set root.grad = 1.0 first, then call node._backward() once for each node in that order.",
        "Return nothing. If some gradients come out too small, a node ran before all of its users "
        "had added to its grad: the root must come first.",
    ),
    timeout_hint=(
        "In this exercise a slow answer usually computes the order more than once (inside a loop) "
        "or visits nodes again and again: compute the order once, with a set of visited nodes."
    ),
)
def check_backward(backward) -> str:
    x, y = Value(2.0), Value(3.0)
    f = (x + y) * x
    result = backward(f)
    expect("backward(f)", result is None, f"backward should return None, got {result!r}")
    expect_close("f = (x + y) * x: the output's own grad", 1.0, f.grad)
    expect_close("f = (x + y) * x at x=2, y=3: x.grad", 7.0, x.grad)
    expect_close("... y.grad", 2.0, y.grad)

    root, nodes = _diamond()
    reference_root, reference_nodes = _diamond()
    backward(root)
    reference_root.backward()
    for node, reference, name in zip(nodes, reference_nodes, ["x", "y", "a", "b", "c"]):
        case = f"c = a * b with a = x*y, b = a + x, at x=2, y=-1.5: {name}.grad"
        if not math.isclose(node.grad, reference.grad, rel_tol=1e-9, abs_tol=1e-9):
            raise CheckFailed(
                f"{case}: expected {reference.grad!r}, got {node.grad!r}. If only "
                "part of the gradient arrived, some node ran its _backward before "
                "all of its users had added to its grad: process the nodes in "
                "topological order, output first"
            )

    x = Value(1.0)
    node = x
    for _ in range(100_000):
        node = node * 1.0
    backward(node)
    expect_close("a chain of 100,000 multiplications by 1: x.grad", 1.0, x.grad)
    return "3 cases passed"


POWER_AND_DIVISION = (
    "engine.scalar.Value.__pow__",
    "engine.scalar.Value.__truediv__",
    "engine.scalar.Value.__rtruediv__",
)


@exercise(
    CHAPTER,
    "power",
    "a ** k for a constant k, with its backward pass",
    forbidden=POWER_AND_DIVISION,
    hints=(
        "The output holds a.data ** k; its only child is a (k is a plain number, not a Value).",
        "d(a**k)/da = k * a**(k - 1): add out.grad times that to a.grad, with +=.",
    ),
)
def check_power(power) -> str:
    cases = [(3.0, 2.0), (-2.0, 3.0), (4.0, 0.5), (2.0, -1.0), (5.0, 0.0)]
    for x, k in cases:
        case = f"power(Value({x}), {k})"
        a = Value(x)
        out = power(a, k)
        expect_type(case, out, Value)
        expect_close(f"{case}.data", x**k, out.data, 1e-12)
        expect(case, out._prev == {a}, f"the output's _prev should be {{a}}, got {out._prev!r}")
        _run_local_backward(out, 2.0)
        expect_close(f"{case} with out.grad = 2.0: a.grad", 2.0 * k * x ** (k - 1), a.grad, 1e-12)
    x = Value(3.0)
    f = power(x, 2.0) + x * 4.0  # x used twice
    f.backward()
    expect_close("f = power(x, 2) + 4x at x = 3, after f.backward(): x.grad", 10.0, x.grad, 1e-12)
    return f"{len(cases) + 1} cases passed"


@exercise(
    CHAPTER,
    "div",
    "a / b built from multiplication and power, with no backward of its own",
    forbidden=POWER_AND_DIVISION,
    hints=(
        "a / b = a * b**-1. Build it from Value's multiplication and your power function: the "
        "graph then holds two nodes, and each has its own _backward.",
        "Nothing to differentiate by hand: backward() walks through the two nodes.",
    ),
)
def check_div(div) -> str:
    cases = [(6.0, 3.0), (-1.0, 4.0), (2.5, -0.5)]
    for x, y in cases:
        case = f"div(Value({x}), Value({y}))"
        a, b = Value(x), Value(y)
        out = div(a, b)
        expect_type(case, out, Value)
        expect_close(f"{case}.data", x / y, out.data, 1e-12)
        out.backward()
        expect_close(f"{case}, after backward(): a.grad = 1/b", 1 / y, a.grad, 1e-12)
        expect_close("... b.grad = -a/b**2", -x / y**2, b.grad, 1e-12)
    a = Value(1.7)
    same = div(a, a)
    same.backward()
    expect_close("div(a, a) is constant: a.grad", 0.0, a.grad, 1e-12)
    return f"{len(cases) + 1} cases passed, a / a included"


@exercise(
    CHAPTER,
    "grad_after_two_backwards",
    "predict x.grad after one and after two backward calls",
    kind="predict",
    hints=(
        "y = x * x: what is dy/dx at x = 3? That is what one backward adds to x.grad.",
        "A leaf's .grad is never reset by backward: each call adds again.",
    ),
)
def check_grad_after_two_backwards(grad_after_two_backwards) -> str:
    prediction = grad_after_two_backwards()
    expect(
        "grad_after_two_backwards()",
        isinstance(prediction, tuple) and len(prediction) == 2,
        f"return a tuple (after one call, after two calls), got {prediction!r}",
    )
    x = Value(3.0)
    y = x * x
    y.backward()
    once = x.grad
    y.backward()
    twice = x.grad
    numbers = tuple(float(p) if isinstance(p, int | float) else p for p in prediction)
    return " ".join(
        [
            explain("x.grad after y.backward()", numbers[0], once, "dy/dx = 2x = 6."),
            explain(
                "x.grad after a second y.backward()",
                numbers[1],
                twice,
                "Leaves accumulate: the second call adds 6 again, as PyTorch does (with "
                "retain_graph=True). Training loops zero the gradients between steps for this.",
            ),
        ]
    )


@exercise(
    CHAPTER,
    "sigmoid",
    "fix a sigmoid whose gradient is right in some graphs and wrong in others",
    kind="debug",
    hints=(
        "Try f = sigmoid(a) * a: a feeds two operations. What must a.grad become?",
        "Compare how its _backward updates a.grad with how Value.__mul__'s does.",
    ),
)
def check_sigmoid(sigmoid) -> str:
    def s(x):
        return 1 / (1 + math.exp(-x))

    a = Value(0.5)
    out = sigmoid(a)
    expect_type("sigmoid(Value(0.5))", out, Value)
    expect_close("sigmoid(Value(0.5)).data", s(0.5), out.data, 1e-12)
    out.backward()
    expect_close("sigmoid(a).backward(): a.grad", s(0.5) * (1 - s(0.5)), a.grad, 1e-12)
    a = Value(0.5)
    f = sigmoid(a) * a
    f.backward()
    want = s(0.5) + 0.5 * s(0.5) * (1 - s(0.5))
    if math.isclose(a.grad, s(0.5) * (1 - s(0.5)) * 0.5, abs_tol=1e-12) or math.isclose(
        a.grad, s(0.5), abs_tol=1e-12
    ):
        raise CheckFailed(
            f"f = sigmoid(a) * a at a = 0.5: a.grad is {a.grad!r}, expected {want!r}. a is used "
            "twice; one contribution overwrote the other (= instead of +=)"
        )
    expect_close("f = sigmoid(a) * a at a = 0.5: a.grad", want, a.grad, 1e-12)
    return "right alone and when its input is used twice"
