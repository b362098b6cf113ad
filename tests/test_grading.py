"""The exercise checks: each passes on the solutions, fails on the untouched stubs, and turns
misbehaving learner code (endless loops, exceptions, wrong types) into a clear verdict."""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.grading import EXERCISES, exercises_of, grade
from engine.grading.notebooks import EXERCISE_TAG, exercise_sources, grade_notebook

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS_WITH_EXERCISES = sorted({e.chapter for e in EXERCISES.values()})


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_every_chapter_with_checks_has_both_notebooks():
    assert CHAPTERS_WITH_EXERCISES, "no exercises are registered"
    for chapter in CHAPTERS_WITH_EXERCISES:
        assert (ROOT / "exercises" / f"{chapter}.ipynb").exists()
        assert (ROOT / "solutions" / f"{chapter}.ipynb").exists()


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES)
def test_exercises_and_solutions_differ_only_in_exercise_cells(chapter):
    stubs = cells(ROOT / "exercises" / f"{chapter}.ipynb")
    answers = cells(ROOT / "solutions" / f"{chapter}.ipynb")
    assert len(stubs) == len(answers)
    for stub, answer in zip(stubs, answers):
        assert stub["cell_type"] == answer["cell_type"]
        tags = stub.get("metadata", {}).get("tags", [])
        assert tags == answer.get("metadata", {}).get("tags", [])
        if EXERCISE_TAG not in tags:
            assert source(stub) == source(answer).replace("solutions/", "exercises/")


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES)
def test_every_exercise_has_a_stub_and_a_check_cell(chapter):
    notebook = ROOT / "exercises" / f"{chapter}.ipynb"
    sources = [source(c) for c in cells(notebook)]
    stubs = "\n".join(exercise_sources(notebook))
    for exercise in exercises_of(chapter):
        assert f'check("{exercise.name}", {exercise.name})' in sources
        assert f"def {exercise.name}(" in stubs or f"class {exercise.name}" in stubs
        if exercise.kind != "debug":  # a debug exercise's cell holds the buggy code instead
            stub = rf'NotImplementedError\(\s*"Exercise {exercise.name}:'
            assert re.search(stub, stubs), f"{exercise.name} has no stub"


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES)
def test_every_check_passes_on_the_solutions_from_the_shell(chapter):
    results = grade_notebook(ROOT / "solutions" / f"{chapter}.ipynb")
    assert len(results) == len(exercises_of(chapter))
    failures = [r.verdict() for r in results if not r.passed]
    assert not failures, failures


@pytest.mark.parametrize("chapter", CHAPTERS_WITH_EXERCISES)
def test_every_check_fails_on_the_untouched_stubs(chapter):
    results = grade_notebook(ROOT / "exercises" / f"{chapter}.ipynb")
    assert len(results) == len(exercises_of(chapter))
    for result in results:
        assert not result.passed
        if EXERCISES[result.exercise].kind != "debug":
            assert "not attempted yet" in result.message


def test_chapters_one_to_four_have_predict_and_debug_exercises():
    kinds = {exercise.kind for exercise in EXERCISES.values()}
    assert {"implement", "predict", "debug"} <= kinds


def test_grading_from_the_shell_never_writes_to_the_notebooks(tmp_path):
    folder = ROOT / "exercises"
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.ipynb")}
    done = subprocess.run(
        [sys.executable, "-m", "engine.grading", str(folder)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Score: 0/" in done.stdout
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.ipynb")}
    assert before == after


def notebook_with(tmp_path: Path, chapter: str, *sources: str) -> Path:
    """A saved exercise notebook for ``chapter`` whose exercise cells hold ``sources``."""
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {"tags": [EXERCISE_TAG]},
                "source": s,
                "outputs": [],
                "execution_count": None,
            }
            for s in sources
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / f"{chapter}.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def test_an_endless_loop_is_stopped_with_a_clear_message():
    def mul(a, b):
        while True:
            pass

    result = grade("mul", mul, time_limit_s=1)
    assert not result.passed and "did not finish" in result.message


def test_an_endless_loop_at_definition_time_is_stopped_in_the_shell(tmp_path):
    path = notebook_with(
        tmp_path,
        "01_backprop_by_hand",
        "from engine.scalar import Value",
        "while True:\n    pass\n",
    )
    results = grade_notebook(path, time_limit_s=1, cells_time_limit_s=1)
    assert results and all(not r.passed for r in results)
    assert all("did not finish within 1 s" in r.message for r in results)


def test_code_that_blocks_the_timer_is_killed_from_outside(tmp_path):
    blocker = (
        "import signal\n"
        "for number in (signal.SIGALRM, signal.SIGPROF, signal.SIGXCPU):\n"
        "    signal.signal(number, signal.SIG_IGN)\n"
        "while True:\n    pass\n"
    )
    path = notebook_with(tmp_path, "01_backprop_by_hand", blocker)
    results = grade_notebook(
        path, time_limit_s=0.5, start_up_margin_s=20, names=["mul"], cells_time_limit_s=0.5
    )
    assert len(results) == 1 and "did not stop when asked" in results[0].message, results


def test_an_exception_in_learner_code_is_reported_with_its_type_and_line():
    def relu(a):
        return a.data / 0

    result = grade("relu", relu)
    assert not result.passed
    assert "ZeroDivisionError" in result.message and "relu" in result.message


def test_a_wrong_return_type_is_named():
    result = grade("mul", lambda a, b: a.data * b.data)
    assert not result.passed and "expected a Value, got float" in result.message
    result = grade("mul", lambda a, b: None)
    assert "missing return" in result.message


def test_assignment_instead_of_accumulation_gets_a_hint():
    from engine.scalar import Value

    def mul(a, b):
        out = Value(a.data * b.data, (a, b), "*")

        def _backward():
            a.grad = out.grad * b.data
            b.grad = out.grad * a.data

        out._backward = _backward
        return out

    result = grade("mul", mul)
    assert not result.passed and "+=" in result.message


def test_recursive_topological_order_fails_on_the_long_chain():
    def topological_order(root):
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for child in node._prev:
                    visit(child)
                order.append(node)

        visit(root)
        return order[::-1]

    result = grade("topological_order", topological_order)
    assert not result.passed and "recursion" in result.message


def test_a_syntax_error_in_a_saved_notebook_is_reported(tmp_path):
    path = notebook_with(tmp_path, "01_backprop_by_hand", "def mul(a, b) return a")
    results = grade_notebook(path)
    assert all(not r.passed for r in results)
    assert "SyntaxError" in results[0].message


def test_a_missing_definition_is_reported(tmp_path):
    path = notebook_with(tmp_path, "01_backprop_by_hand", "x = 1")
    results = grade_notebook(path)
    assert "no definition of 'mul'" in results[0].message


def test_workers_run_at_most_parallel_at_a_time(monkeypatch):
    from engine.grading import notebooks

    live, most = [0], [0]

    class Counted(notebooks._Worker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            live[0] += 1
            most[0] = max(most[0], live[0])

        def result(self, token):
            live[0] -= 1
            return super().result(token)

    monkeypatch.setattr(notebooks, "_Worker", Counted)
    results = grade_notebook(ROOT / "solutions" / "01_backprop_by_hand.ipynb", parallel=2)
    assert all(result.passed for result in results)
    assert len(results) == len(exercises_of("01_backprop_by_hand"))
    assert most[0] == 2
