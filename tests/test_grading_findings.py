"""Each way a check could be fooled, found by trying it as a learner would, now fails with a
message that says why: wrong answers the old cases missed, and shortcuts that hand the work to
the engine or torch."""

from __future__ import annotations

import numpy as np

import engine
from engine.grading import grade


def broadcast_shapes_last_dim_only(*shapes):
    """Validates only the last dim (every old error case differed there)."""
    ndim = max(len(shape) for shape in shapes)
    padded = [(1,) * (ndim - len(shape)) + tuple(shape) for shape in shapes]
    lasts = {shape[-1] for shape in padded if shape and shape[-1] != 1}
    if len(lasts) > 1:
        raise RuntimeError("shapes do not broadcast")
    result = []
    for sizes in zip(*padded):
        others = [size for size in sizes if size != 1]
        result.append(others[0] if others else 1)
    return tuple(result)


def test_broadcast_shapes_checking_only_the_last_dim_fails():
    result = grade("broadcast_shapes", broadcast_shapes_last_dim_only)
    assert not result.passed and "(2, 3), (4, 3)" in result.message


def test_sliding_windows_with_a_wrong_window_count_fails():
    def sliding_windows(tensor, size, step):
        # Right for overlapping windows; "n // step" for the others is one short at 11, 3, 4.
        n = tensor.shape[0]
        count = n // step if step >= size else (n - size) // step + 1
        return tensor.as_strided(
            (count, size), (tensor.stride()[0] * step, tensor.stride()[0]), tensor.storage_offset()
        )

    result = grade("sliding_windows", sliding_windows)
    assert not result.passed and "size=3, step=4" in result.message


def test_breadth_first_backward_order_fails():
    def backward_order(loss):
        order, seen, queue = [], set(), [loss.grad_fn]
        while queue:
            node = queue.pop(0)
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            order.append(node)
            queue.extend(child for child, _ in node.next_functions)
        return order

    result = grade("backward_order", backward_order)
    assert not result.passed and "exp(exp(h)) + h" in result.message


def test_answers_that_call_the_engine_or_torch_fail_and_say_so():
    import torch

    transposed = grade("transpose", lambda tensor, dim0, dim1: tensor.transpose(dim0, dim1))
    unfolded = grade("sliding_windows", lambda tensor, size, step: tensor.unfold(0, size, step))
    order = grade("backward_order", lambda loss: engine.autograd.graph.nodes(loss))

    def matmul_backward(grad_c, a, b):
        ta = torch.tensor(a, requires_grad=True)
        tb = torch.tensor(b, requires_grad=True)
        (ta @ tb).backward(torch.tensor(grad_c))
        return ta.grad.numpy(), tb.grad.numpy()

    by_torch = grade("matmul_backward", matmul_backward)
    for result, name in [
        (transposed, "engine.Tensor.transpose"),
        (unfolded, "engine.Tensor.unfold"),
        (order, "engine.autograd.graph.nodes"),
        (by_torch, "torch.Tensor.backward"),
    ]:
        assert not result.passed
        assert f"your answer called {name}" in result.message, result.message
    # The traps are gone afterwards.
    assert engine.ones(2, 3).transpose(0, 1).shape == (3, 2)
    assert np.allclose(engine.arange(4.0).unfold(0, 2, 2).tolist(), [[0, 1], [2, 3]])


def test_a_swish_that_overrides_apply_fails():
    class Swish(engine.autograd.Function):
        @classmethod
        def apply(cls, x):
            return x * x.sigmoid()

    result = grade("Swish", Swish)
    assert not result.passed and "apply is overridden" in result.message


def test_prints_inside_the_learners_code_do_not_reach_the_verdict(capsys):
    from engine.grading import check

    def mul(a, b):
        print("debugging output", end="")
        return grade  # wrong type on purpose

    check("mul", mul)
    printed = capsys.readouterr().out
    assert printed.startswith("[FAIL] mul:") and "debugging output" not in printed


def _loop(fix: str):
    """The debug exercise's loop with one of the fixes a learner might try."""

    def gradients_per_step(w, batches):
        gradients = []
        for x in batches:
            if fix == "zero_" and w.grad is not None:
                w.grad.zero_()
            loss = (w * x).sum() ** 2
            loss.backward()
            gradients.append(w.grad.clone() if fix == "clone" else w.grad)
        return gradients

    return gradients_per_step


def test_the_debug_exercise_catches_each_half_fix_and_says_why():
    untouched = grade("gradients_per_step", _loop("none"))
    zeroed = grade("gradients_per_step", _loop("zero_"))
    cloned = grade("gradients_per_step", _loop("clone"))
    assert not untouched.passed and "same gradient memory" in untouched.message
    assert not zeroed.passed and "same gradient memory" in zeroed.message
    assert not cloned.passed and ".grad accumulates" in cloned.message


def test_a_prediction_is_graded_and_explained():
    from engine.grading import raises

    right = grade("permute_then_view", lambda: ((1, 12, 4), raises(RuntimeError)))
    wrong = grade("permute_then_view", lambda: ((1, 12, 4), (24,)))
    assert right.passed and "permute moves no data" in right.message
    assert not wrong.passed and "you predicted (24,), but it gives raises(RuntimeError)" in (
        wrong.message
    )
