"""Checks for chapter 4, Autograd mechanics (exercises/04_autograd_mechanics.ipynb).

Expected values come from NumPy formulas, from finite differences (``gradcheck``), or from a second
run of the same computation without the learner's code.
"""

from __future__ import annotations

import numpy as np

import engine
from engine.grading.core import CheckFailed, exercise, expect, expect_type, explain


def _float64(values, requires_grad=True):
    return engine.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


CHAPTER = "04_autograd_mechanics"


@exercise(
    CHAPTER,
    "Swish",
    "a custom Function, x * sigmoid(x), that passes gradcheck",
    hints=(
        "In forward, keep x with ctx.save_for_backward(x) and return x * x.sigmoid(); in backward, "
        "get x back from ctx.saved_tensors.",
        "backward returns the gradient for forward's input: grad_output times the derivative "
        "sigmoid(x) + x * sigmoid(x) * (1 - sigmoid(x)).",
        "Define only forward and backward, both static; the check calls Swish.apply(x) and runs "
        "gradcheck on them.",
    ),
)
def check_swish(swish) -> str:
    expect(
        "Swish",
        isinstance(swish, type) and issubclass(swish, engine.autograd.Function),
        f"expected a subclass of engine.autograd.Function, got {swish!r}",
    )
    # The exercise is forward and backward; an apply that computes the answer with autograd
    # ops (so that the engine differentiates it) skips both.
    expect(
        "Swish",
        swish.apply.__func__ is engine.autograd.Function.apply.__func__,
        "define forward and backward and leave apply alone: Swish.apply is overridden",
    )
    for method in ("forward", "backward"):
        expect(
            "Swish",
            getattr(swish, method) is not getattr(engine.autograd.Function, method),
            f"Swish must define its own static {method}(ctx, ...)",
        )
    values = np.linspace(-5, 5, 11)
    x = _float64(values)
    out = swish.apply(x)
    expect_type("Swish.apply(x)", out, engine.Tensor)
    sigmoid = 1 / (1 + np.exp(-values))
    got = np.asarray(out.tolist())
    if not np.allclose(got, values * sigmoid, rtol=1e-12, atol=1e-12):
        raise CheckFailed(
            f"Swish.apply(x) forward: expected {np.round(values * sigmoid, 6)}, "
            f"got {np.round(got, 6)}"
        )
    out.sum().backward()
    expected = sigmoid + values * sigmoid * (1 - sigmoid)
    if x.grad is None:
        raise CheckFailed("Swish backward: x.grad is None; does backward return the gradient?")
    got = np.asarray(x.grad.tolist())
    if not np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        index = int(np.argmax(np.abs(got - expected)))
        raise CheckFailed(
            f"Swish backward at x = {values[index]:g}: expected "
            f"{expected[index]:.6f}, got {got[index]:.6f}"
        )
    try:
        engine.autograd.gradcheck(swish.apply, (_float64(np.linspace(-3, 3, 7)),))
    except RuntimeError as error:
        raise CheckFailed(f"gradcheck failed: {str(error).splitlines()[0]}") from None
    return "forward, backward and gradcheck passed"


def _network(register):
    """A small tanh network; ``register(tensor, name)`` is called on each layer's output."""
    rng = np.random.default_rng(0)
    h = _float64(rng.standard_normal((4, 3)), requires_grad=False)
    weights = [_float64(rng.standard_normal((3, 3))) for _ in range(3)]
    outputs = []
    for number, w in enumerate(weights):
        h = (h @ w).tanh()
        register(h, f"layer{number}")
        outputs.append(h)
    (h * h).sum().backward()
    return weights, outputs


@exercise(
    CHAPTER,
    "gradient_norm_hook",
    "a hook that records a gradient's norm",
    hints=(
        "Define an inner function hook(grad) and return it: it can use norms and name from the "
        "outer function.",
        "The L2 norm is the square root of the sum of the squared entries; store it as a Python "
        "float (float(...)) in norms[name].",
        "The hook must return None: a hook that returns a tensor replaces the gradient.",
    ),
)
def check_gradient_norm_hook(gradient_norm_hook) -> str:
    norms: dict = {}

    def register(tensor, name):
        hook = gradient_norm_hook(norms, name)
        expect(
            f"gradient_norm_hook(norms, {name!r})",
            callable(hook),
            f"expected a function to pass to register_hook, got {hook!r}",
        )
        tensor.register_hook(hook)

    weights, _ = _network(register)
    reference_weights, reference_outputs = _network(lambda tensor, name: tensor.retain_grad())
    for number, reference in enumerate(reference_outputs):
        name = f"layer{number}"
        expect(
            "after backward",
            name in norms,
            f"norms has no entry {name!r}; the hook must store norms[name] = the norm",
        )
        expected = float(np.sqrt((np.asarray(reference.grad.tolist()) ** 2).sum()))
        got = norms[name]
        if not isinstance(got, (int, float)) or not np.isclose(got, expected, rtol=1e-9):
            raise CheckFailed(
                f"norms[{name!r}]: expected the L2 norm {expected:.6f} as a float, got {got!r}"
            )
    for number, (w, reference) in enumerate(zip(weights, reference_weights)):
        if not np.allclose(w.grad.tolist(), reference.grad.tolist(), rtol=1e-12):
            raise CheckFailed(
                f"the gradient of weight {number} changed: a recording hook must "
                "return None (or the gradient unchanged)"
            )
    return "3 layers recorded, gradients unchanged"


def _check_order(case: str, order, loss) -> None:
    expect_type(case, order, list)
    root = loss.grad_fn
    expected = engine.autograd.graph.nodes(loss)
    ids = [id(node) for node in order]
    expect(case, len(ids) == len(set(ids)), "a node appears more than once")
    expect(
        case,
        set(ids) == {id(n) for n in expected},
        f"expected the {len(expected)} nodes reachable from loss.grad_fn "
        f"(including AccumulateGrad), got {len(order)}",
    )
    expect(case, order[0] is root, "loss.grad_fn must come first")
    position = {id(node): i for i, node in enumerate(order)}
    for node in order:
        for next_node, _ in node.next_functions:
            if next_node is not None and position[id(next_node)] < position[id(node)]:
                raise CheckFailed(
                    f"{case}: {next_node.name()} comes before {node.name()}, "
                    "which passes gradients to it"
                )


@exercise(
    CHAPTER,
    "backward_order",
    "a topological order of a tensor graph's grad_fn nodes",
    forbidden=("engine.autograd.graph.nodes",),
    hints=(
        "This is chapter 1's topological_order on grad_fn nodes: a node's inputs are the first "
        "item of each pair in node.next_functions, skipping None.",
        "Use a list as a stack and a set of visited nodes; list a node after every node it feeds "
        "into, then reverse at the end.",
    ),
    timeout_hint=(
        "In this exercise a check that never ends usually means nodes are visited again and again: "
        "keep a set of visited nodes."
    ),
)
def check_backward_order(backward_order) -> str:
    x, w = _float64([[1.0, 2.0]]), _float64([[0.5], [-1.0]])
    hidden = x @ w
    loss = (hidden * hidden + hidden.exp()).sum()
    _check_order(
        "backward_order(loss) for sum(h*h + exp(h)), h = x @ w", backward_order(loss), loss
    )

    # Two paths of different lengths into h: a breadth-first order reaches h's node through
    # the short path before the exp nodes on the long path, which pass gradients to it.
    h = x * 2.0
    loss = (h.exp().exp() + h).sum()
    _check_order(
        "backward_order(loss) for sum(exp(exp(h)) + h), h = x * 2", backward_order(loss), loss
    )

    y = _float64([1.0])
    node = y
    for _ in range(20_000):
        node = node * 1.0
    loss = node.sum()
    _check_order("backward_order of a chain of 20,000 multiplications", backward_order(loss), loss)
    return "3 cases passed"


def _true_gradients(weights: np.ndarray, batches: list[np.ndarray]) -> list[np.ndarray]:
    """d/dw (w . x)^2 = 2 (w . x) x, for each batch on its own."""
    return [2 * float(weights @ x) * x for x in batches]


@exercise(
    CHAPTER,
    "gradients_per_step",
    "fix a loop whose per-step gradients come out wrong",
    kind="debug",
    hints=(
        "Look at [id(g) for g in gradients] and at the values: are these different tensors, and "
        "does each hold one step's gradient?",
        "loss.backward() adds to w.grad, it does not replace it: what must happen to w.grad before "
        "each step?",
        "Once each step starts from zero, make sure the list keeps each step's values, not a "
        "tensor that the next step changes.",
    ),
)
def check_gradients_per_step(gradients_per_step) -> str:
    weights = np.array([0.5, -1.0, 2.0])
    batches = [np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 0.0]), np.array([2.0, 0.0, 1.0])]
    w = _float64(weights)
    got = gradients_per_step(w, [_float64(x, requires_grad=False) for x in batches])
    case = "gradients_per_step(w, three batches)"
    expect(
        case,
        isinstance(got, list) and len(got) == len(batches),
        f"expected a list of {len(batches)} gradients, got {got!r:.80}",
    )
    expected = _true_gradients(weights, batches)
    tensors = [g for g in got if isinstance(g, engine.Tensor)]
    shared = len({id(g._storage) for g in tensors}) < len(tensors)
    values = [np.asarray(g.tolist() if isinstance(g, engine.Tensor) else g) for g in got]
    for step, (want, have) in enumerate(zip(expected, values, strict=True)):
        if have.shape != want.shape or not np.allclose(have, want, rtol=1e-12, atol=1e-12):
            hint = ""
            if shared:
                hint = (
                    " (the list holds the same gradient memory more than once: every entry "
                    "shows what the last steps left in it)"
                )
            elif step and np.allclose(have, sum(expected[: step + 1])):
                hint = " (that is the sum of the gradients so far: .grad accumulates)"
            raise CheckFailed(f"{case}, step {step}: expected {want}, got {have}{hint}")
    return "each step's gradient is that step's alone"


def _outcome_of_backward(snippet) -> str:
    """'ok' when snippet() runs, else the exception type's name."""
    try:
        snippet()
    except Exception as error:  # the error type is the outcome being predicted
        return type(error).__name__
    return "ok"


def _saved_then_modified():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1)
    y.sum().backward()


def _unsaved_then_modified():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2  # multiplying by a number saves nothing
    y.add_(1)
    y.sum().backward()


def _view_of_saved_modified():
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = (y[:2] ** 2).sum()  # pow saves y[:2]
    y[2:].mul_(0)  # writes elements z never read
    z.backward()


def _leaf_modified():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    x.add_(1)


def _second_backward_through_saved():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _second_backward_without_saved():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()


SNIPPETS = {
    "saved_then_modified": _saved_then_modified,
    "unsaved_then_modified": _unsaved_then_modified,
    "view_of_saved_modified": _view_of_saved_modified,
    "leaf_modified": _leaf_modified,
    "second_backward_through_saved": _second_backward_through_saved,
    "second_backward_without_saved": _second_backward_without_saved,
}
WHY = {
    "saved_then_modified": "exp saved its output, and add_ bumped its version.",
    "unsaved_then_modified": "x * 2 saves nothing (its gradient is 2), so nothing is checked.",
    "view_of_saved_modified": "y[:2] and y[2:] share y's version counter: the check is "
    "per tensor and its views, not per element, so it fires although z never read y[2:].",
    "leaf_modified": "an in-place change of a leaf that requires grad is refused at once.",
    "second_backward_through_saved": "the first backward freed what x * x saved.",
    "second_backward_without_saved": "nothing was saved, so there is nothing to free.",
}


@exercise(
    CHAPTER,
    "will_it_raise",
    "predict which of six snippets raise, and which run",
    kind="predict",
    hints=(
        "Only saved tensors are checked for in-place changes, and a version counter is shared by "
        "a tensor and all its views.",
        "A backward frees only what was saved; a graph that saved nothing can be walked again.",
    ),
)
def check_will_it_raise(will_it_raise) -> str:
    prediction = will_it_raise()
    expect(
        "will_it_raise()",
        isinstance(prediction, dict) and set(prediction) == set(SNIPPETS),
        f"return a dict with the keys {sorted(SNIPPETS)}, mapping each to True (raises) or "
        f"False (runs); got {prediction!r:.80}",
    )
    verdicts = []
    for name, snippet in SNIPPETS.items():
        raised = _outcome_of_backward(snippet) != "ok"
        verdicts.append(explain(name, bool(prediction[name]), raised, WHY[name]))
    return " ".join(verdicts)


@exercise(
    CHAPTER,
    "two_losses",
    "fix a function that needs the gradients of two losses sharing one graph",
    kind="debug",
    hints=(
        "Read the error of the second backward: what did the first one free?",
        "Either keep the graph for a second walk, or add the losses and walk once.",
    ),
)
def check_two_losses(two_losses) -> str:
    x = engine.tensor([0.5, -1.0, 2.0], dtype=engine.float64, requires_grad=True)
    got = two_losses(x)
    case = "two_losses(x) for x = [0.5, -1, 2]"
    expect(case, isinstance(got, engine.Tensor), f"expected the tensor x.grad, got {got!r}")
    h = np.tanh(np.array([0.5, -1.0, 2.0]) * 3)
    want = (1 - h**2) * 3 * (2 * h + 1)  # d/dx of sum(h**2) + sum(h)
    got_values = np.asarray(got.tolist())
    if not np.allclose(got_values, want, rtol=1e-12):
        raise CheckFailed(f"{case}: expected {want.round(6).tolist()}, got {got_values.round(6)}")
    return "both losses' gradients, summed, with one shared graph"
