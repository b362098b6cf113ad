"""The check API's kinds and guards, called directly: predictions are graded and explained,
the debug exercise names each half-fix, the learner's prints stay out of the verdict, and the
traps for forbidden calls are gone afterwards.  (Wrong answers and shortcuts, run as notebooks
on both grading paths, are in test_grading_verdicts.py.)"""

from __future__ import annotations

import numpy as np

import engine
from engine.grading import grade


def test_traps_are_removed_after_the_check():
    grade("transpose", lambda tensor, dim0, dim1: tensor.transpose(dim0, dim1))
    grade("sliding_windows", lambda tensor, size, step: tensor.unfold(0, size, step))
    assert engine.ones(2, 3).transpose(0, 1).shape == (3, 2)
    assert np.allclose(engine.arange(4.0).unfold(0, 2, 2).tolist(), [[0, 1], [2, 3]])


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
