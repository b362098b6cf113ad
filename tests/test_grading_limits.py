"""Limits that hold and verdicts that say what happened, in the notebook (``check`` and
``grade(..., isolated=True)``: the check runs in a forked copy of the process) and in the shell
(``grade_notebook``: one worker process per exercise); each case on a machine left as it is and
with one more core kept busy by a spinning process.  Then the instructor's side: notebooks
matched to their chapter, ``--chapter``, ``--json``, per-chapter totals, and hints."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from engine.grading import EXERCISES, check, exercises_of, grade, hint, limits
from engine.grading.core import name_error_verdict
from engine.grading.notebooks import grade_notebook, match_chapter

ROOT = Path(__file__).resolve().parent.parent
CHAPTER_1 = "01_backprop_by_hand"
needs_fork = pytest.mark.skipif(not limits.CAN_FORK, reason="the limits need os.fork")


@pytest.fixture(params=["as is", "core busy"])
def load(request):
    """Run the test as the machine is, and again with one more core kept busy."""
    if request.param == "as is":
        yield request.param
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        yield request.param
    finally:
        spinner.kill()
        spinner.wait()


def _reference_mul(a, b):
    from engine.scalar import Value

    out = Value(a.data * b.data, (a, b), "*")

    def _backward():
        a.grad += out.grad * b.data
        b.grad += out.grad * a.data

    out._backward = _backward
    return out


# ------------------------------------------------------ misbehaving answers, in the notebook
def _swallows_every_exception(a, b):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass


def _sleeps(a, b):
    time.sleep(60)


def _interrupts(a, b):
    raise KeyboardInterrupt


def _crashes(a, b):
    os.kill(os.getpid(), signal.SIGSEGV)


MISBEHAVING = {
    # answer, what the verdict must say, the most seconds it may take
    # On a busy machine the processor time comes slowly; the parent waits while it is used.
    "loop catching BaseException": (_swallows_every_exception, "stopped after 0.5 s", 45),
    "long call into C": (
        lambda a, b: sum(range(1_500_000_000)),
        "stopped after 0.5 s: the code did not finish, and did not stop when asked",
        45,
    ),
    "40 GB allocation": (lambda a, b: bytearray(40 * 10**9), "ran out of memory", 5),
    # Allowed by the system (it is lazily mapped), refused by the limit.
    "4 GB allocation": (lambda a, b: bytearray(4 * 2**30), "ran out of memory", 5),
    "sys.exit": (lambda a, b: sys.exit(2), "called sys.exit() or exit() (SystemExit: 2)", 5),
    "exit()": (lambda a, b: exit(), "called sys.exit() or exit() (SystemExit: None)", 5),
    "os._exit": (lambda a, b: os._exit(3), "ended with exit status 3", 5),
    "KeyboardInterrupt": (_interrupts, "interrupted (KeyboardInterrupt)", 5),
    "segfault": (_crashes, "crashed with SIGSEGV", 5),
}


@needs_fork
@pytest.mark.parametrize("case", sorted(MISBEHAVING))
def test_a_misbehaving_answer_gets_a_verdict_that_names_it(case, load):
    answer, expected, most_seconds = MISBEHAVING[case]
    started = time.monotonic()
    result = grade("mul", answer, time_limit_s=0.5, isolated=True)
    took = time.monotonic() - started
    assert not result.passed
    assert expected in result.message, result.message
    assert took < most_seconds, f"{case} took {took:.1f} s"
    assert "visited set" not in result.message  # not chapter 1's graph hint for mul


@needs_fork
def test_an_answer_that_waits_is_killed_at_the_deadline():
    started = time.monotonic()
    result = grade("mul", _sleeps, time_limit_s=0.5, isolated=True)
    assert "stopped after 4 s of waiting: the code neither finished nor used up its 0.5 s" in (
        result.message
    )
    assert time.monotonic() - started < 7


@needs_fork
def test_interrupting_the_kernel_ends_the_check_with_a_verdict():
    """Jupyter's stop button sends SIGINT to the kernel: the check's child is ended and the
    verdict says so, instead of a traceback or a child left running."""
    import threading

    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        result = grade("mul", _sleeps, time_limit_s=1, isolated=True)
    finally:
        timer.cancel()
    assert result.message.startswith("interrupted (KeyboardInterrupt)"), result.message
    assert time.monotonic() - started < 4


@needs_fork
def test_check_prints_the_verdict_and_the_process_survives(capsys, load):
    check("mul", lambda a, b: os._exit(0), time_limit_s=1)
    check("mul", _reference_mul, time_limit_s=1)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("[FAIL] mul: the check's process ended with exit status 0")
    assert printed[1] == "[PASS] mul: 4 cases passed"


@needs_fork
def test_a_correct_answer_passes_in_the_forked_check(load):
    result = grade("mul", _reference_mul, isolated=True)
    assert result.passed, result.message


@needs_fork
def test_forking_is_safe_after_torch_has_used_its_threads():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    big = torch.randn(600, 600)
    (big @ big).sum()  # the parent's OpenMP pool is now started

    def mul(a, b):
        product = torch.randn(600, 600) @ torch.randn(600, 600)  # hangs if OpenMP is broken
        assert product.shape == (600, 600)
        return _reference_mul(a, b)

    result = grade("mul", mul, time_limit_s=5, isolated=True)
    assert result.passed, result.message
    assert torch.get_num_threads() == before  # the parent's setting is left alone


@needs_fork
def test_the_memory_allowance_fits_a_first_import_of_torch():
    program = textwrap.dedent(
        """
        import sys
        from engine.grading import grade
        assert "torch" not in sys.modules

        def mul(a, b):
            import torch
            x = torch.ones(3, requires_grad=True)
            (x * x).sum().backward()
            from engine.scalar import Value
            out = Value(a.data * b.data, (a, b), "*")
            def _backward():
                a.grad += out.grad * b.data
                b.grad += out.grad * a.data
            out._backward = _backward
            return out

        print(grade("mul", mul, isolated=True).verdict())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.startswith("[PASS] mul"), done.stdout + done.stderr


@needs_fork
def test_a_timeout_gives_the_exercises_own_hint():
    def topological_order(root):
        while True:
            pass

    result = grade("topological_order", topological_order, time_limit_s=0.5, isolated=True)
    assert "stopped after 0.5 s" in result.message
    assert "Check your loops" in result.message
    assert EXERCISES["topological_order"].timeout_hint in result.message

    def mul(a, b):
        while True:
            pass

    plain = grade("mul", mul, time_limit_s=0.5)  # in-process, as on Windows
    assert plain.message.startswith("stopped after 0.5 s: the code did not finish. Check your")
    assert "visited" not in plain.message


@needs_fork
def test_the_check_runs_in_a_child_unless_told_otherwise(monkeypatch):
    seen = []

    def mul(a, b):
        seen.append(os.getpid())
        return _reference_mul(a, b)

    assert grade("mul", mul, isolated=True).passed
    assert seen == []  # appended in the child's copy of the list
    monkeypatch.setenv("ENGINE_GRADING_IN_PROCESS", "1")
    assert grade("mul", mul, isolated=True).passed
    assert seen and set(seen) == {os.getpid()}


@needs_fork
def test_a_kernel_that_has_initialized_cuda_checks_in_process(monkeypatch):
    """A forked child cannot use CUDA once its parent has initialized it."""
    torch = pytest.importorskip("torch")
    assert limits.use_fork()
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    assert not limits.use_fork()


def test_the_in_process_grade_names_exit_interrupt_and_memory():
    """Windows' path (no fork): the same verdicts, from inside."""
    assert "SystemExit: 5" in grade("mul", lambda a, b: sys.exit(5)).message
    assert "KeyboardInterrupt" in grade("mul", _interrupts).message

    def too_big(a, b):
        raise MemoryError

    assert "ran out of memory" in grade("mul", too_big).message


# ---------------------------------------------------------- misbehaving answers, in the shell
def notebook(tmp_path: Path, name: str, *sources: str) -> Path:
    """A saved notebook called ``name`` whose code cells hold ``sources``."""
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in sources
    ]
    path = tmp_path / name
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    )
    return path


SHELL_CASES = (
    "from engine.scalar import Value",
    "def mul(a, b):\n"
    "    out = Value(a.data * b.data, (a, b), '*')\n"
    "    def _backward():\n"
    "        a.grad += out.grad * b.data\n"
    "        b.grad += out.grad * a.data\n"
    "    out._backward = _backward\n"
    "    return out",
    "def relu(a):\n    import sys\n    sys.exit('stop')",
    "def tanh(a):\n    import os\n    os._exit(3)",
    "def topological_order(root):\n    return sum(range(1_500_000_000))",
    "def backward(root):\n    return bytearray(4 * 2**30)",
)
SHELL_VERDICTS = {
    "mul": "4 cases passed",
    "relu": "called sys.exit() or exit() (SystemExit: 'stop')",
    "tanh": "ended with exit status 3",
    "topological_order": "did not stop when asked",
    "backward": "ran out of memory",
}


@needs_fork
def test_the_shell_names_what_each_answer_did(tmp_path, load):
    path = notebook(tmp_path, f"{CHAPTER_1}.ipynb", *SHELL_CASES)
    started = time.monotonic()
    results = {r.exercise: r for r in grade_notebook(path, time_limit_s=0.5)}
    assert time.monotonic() - started < 45
    assert results["mul"].passed, results["mul"].message
    for name, expected in SHELL_VERDICTS.items():
        assert expected in results[name].message, (name, results[name].message)


def test_a_first_import_of_torch_fits_the_shell_limits(tmp_path):
    """The cells' time and the worker's memory allow for importing torch, even with a check
    limit of 1 s."""
    path = notebook(
        tmp_path,
        f"{CHAPTER_1}.ipynb",
        "import torch\nfrom engine.scalar import Value",
        "def relu(a):\n"
        "    out = Value(float(torch.relu(torch.tensor(a.data))), (a,), 'relu')\n"
        "    def _backward():\n"
        "        a.grad += out.grad * (a.data > 0)\n"
        "    out._backward = _backward\n"
        "    return out",
    )
    (result,) = grade_notebook(path, time_limit_s=1, names=["relu"])
    assert result.passed, result.message


def test_the_shell_names_a_syntax_error_an_interrupt_and_a_missing_function(tmp_path, load):
    path = notebook(
        tmp_path,
        "02_tensors.ipynb",
        "import engine",
        "def contiguous_strides(shape)\n    return ()",
        "def storage_index(index, strides, offset):\n    raise KeyboardInterrupt",
    )
    names = ["contiguous_strides", "storage_index", "broadcast_shapes"]
    results = {r.exercise: r.message for r in grade_notebook(path, names=names)}
    assert (
        "code cell 2 does not run: SyntaxError on line 1 (expected ':')"
        in (results["contiguous_strides"])
    )
    assert "interrupted (KeyboardInterrupt)" in results["storage_index"]
    assert "no definition of 'broadcast_shapes'" in results["broadcast_shapes"]


def test_correct_answers_pass_in_the_shell_with_a_core_busy():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        results = grade_notebook(ROOT / "solutions" / f"{CHAPTER_1}.ipynb")
    finally:
        spinner.kill()
        spinner.wait()
    assert [r.message for r in results if not r.passed] == []


def test_a_chatty_worker_does_not_block_on_its_pipe(tmp_path):
    """A verdict longer than a pipe holds (64 KiB) still arrives: the parent reads as the
    worker writes, and long messages are cut short."""
    path = notebook(
        tmp_path,
        f"{CHAPTER_1}.ipynb",
        "def mul(a, b):\n    raise ValueError('x' * 200_000)",
    )
    (result,) = grade_notebook(path, names=["mul"], start_up_margin_s=20)
    assert "your code raised ValueError: xxx" in result.message
    assert result.message.endswith("(cut short)") and len(result.message) < 5000


# ------------------------------------------------------------------------ a check run too early
def test_a_check_cell_for_an_undefined_function_prints_a_verdict():
    error = NameError("name 'mul' is not defined")
    error.name = "mul"
    verdict = name_error_verdict(error, 'check("mul", mul)')
    assert verdict.startswith("[FAIL] mul: mul is not defined: run the exercise cell above")
    assert name_error_verdict(error, "mul(1, 2)") is None  # not a check cell
    other = NameError("name 'Value' is not defined")
    other.name = "Value"
    assert name_error_verdict(other, 'check("mul", mul)') is None


def test_the_name_error_hook_works_in_an_ipython_shell(load):
    program = textwrap.dedent(
        """
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_cell("from engine.grading import check")
        shell.run_cell('check("mul", mul)')
        shell.run_cell("not_a_name + 1")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    output = done.stdout + done.stderr
    assert "[FAIL] mul: mul is not defined" in output, output
    assert "NameError" in output and "not_a_name" in output  # other errors keep their traceback


# ------------------------------------------------------------------------- instructor's side
@pytest.mark.parametrize(
    ("stem", "chapter"),
    [
        (CHAPTER_1, CHAPTER_1),
        (f"{CHAPTER_1}-Copy1", CHAPTER_1),
        (f"{CHAPTER_1}-Copy2", CHAPTER_1),
        (f"Copy of {CHAPTER_1}", CHAPTER_1),
        (f"{CHAPTER_1} (1)", CHAPTER_1),
        (f"{CHAPTER_1} copy", CHAPTER_1),
        (f"Copy of {CHAPTER_1}-Copy1 (2)", CHAPTER_1),
        (f"{CHAPTER_1}_alice", CHAPTER_1),
        ("02_tensors-Copy1", "02_tensors"),
        ("scratch", None),
        ("01_backprop", None),
    ],
)
def test_a_notebook_is_matched_to_its_chapter(stem, chapter):
    assert match_chapter(stem) == chapter


def _fake_grading(monkeypatch) -> list:
    """Replace the workers by a stub: the command line's logic, without grading."""
    import engine.grading.__main__ as cli
    from engine.grading import Result, exercises_of

    graded = []

    def fake(notebook, time_limit_s, chapter=None):
        graded.append((Path(notebook).name, chapter))
        exercises = exercises_of(chapter)
        passed = 2 if "Copy" in Path(notebook).name else 1
        return [Result(e.name, i < passed, "why") for i, e in enumerate(exercises)]

    monkeypatch.setattr(cli, "grade_notebook", fake)
    return graded


def test_copies_are_graded_with_a_total_per_chapter(tmp_path, monkeypatch, capsys):
    from engine.grading.__main__ import main

    source = ROOT / "exercises" / f"{CHAPTER_1}.ipynb"
    for name in [f"{CHAPTER_1}.ipynb", f"{CHAPTER_1}-Copy1.ipynb", "02_tensors (1).ipynb"]:
        shutil.copy(source, tmp_path / name)
    graded = _fake_grading(monkeypatch)
    assert main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert sorted(graded) == [
        (f"{CHAPTER_1}-Copy1.ipynb", CHAPTER_1),
        (f"{CHAPTER_1}.ipynb", CHAPTER_1),
        ("02_tensors (1).ipynb", "02_tensors"),
    ]
    first, second = len(exercises_of(CHAPTER_1)), len(exercises_of("02_tensors"))
    assert f"Chapter 02_tensors: 1/{second} passed" in out
    best = f"(best of 2 notebooks: {CHAPTER_1}-Copy1.ipynb)"
    assert f"Chapter {CHAPTER_1}: 2/{first} passed  {best}" in out
    assert out.rstrip().endswith(f"Score: 3/{first + second} exercises passed")


def test_a_notebook_that_matches_no_chapter_is_reported(tmp_path, monkeypatch, capsys):
    from engine.grading.__main__ import main

    shutil.copy(ROOT / "exercises" / f"{CHAPTER_1}.ipynb", tmp_path / "homework.ipynb")
    shutil.copy(ROOT / "exercises" / f"{CHAPTER_1}.ipynb", tmp_path / f"{CHAPTER_1}.ipynb")
    _fake_grading(monkeypatch)
    assert main([str(tmp_path / "homework.ipynb")]) == 2  # given alone: nothing to grade
    assert main([str(tmp_path)]) == 2  # in a folder: the others are graded, status says so
    captured = capsys.readouterr()
    assert "homework.ipynb: its name matches no chapter with exercises" in captured.err
    assert f"Name it after its chapter ({CHAPTER_1}.ipynb" in captured.err
    assert f"Score: 1/{len(exercises_of(CHAPTER_1))}" in captured.out


def test_one_chapter_only(tmp_path, monkeypatch, capsys):
    from engine.grading.__main__ import main

    for name in [f"{CHAPTER_1}.ipynb", "02_tensors.ipynb"]:
        shutil.copy(ROOT / "exercises" / name, tmp_path / name)
    graded = _fake_grading(monkeypatch)
    assert main([str(tmp_path), "--chapter", "2"]) == 0
    assert graded == [("02_tensors.ipynb", "02_tensors")]
    assert main([str(tmp_path), "--chapter", "99"]) == 2
    assert "no exercises for chapter 99; chapters with exercises: 01_" in capsys.readouterr().err


def test_make_grade_passes_the_chapter_on():
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make")
    dry = subprocess.run(
        [make, "-n", "grade", "CHAPTER=05"], capture_output=True, text=True, cwd=ROOT
    )
    assert "-m engine.grading exercises --chapter 05" in dry.stdout, dry.stdout + dry.stderr
    dry = subprocess.run([make, "-n", "grade"], capture_output=True, text=True, cwd=ROOT)
    assert "-m engine.grading exercises" in dry.stdout and "--chapter" not in dry.stdout


def test_json_report_of_a_duplicated_notebook(tmp_path, monkeypatch, capsys):
    from engine.grading.__main__ import main

    shutil.copy(ROOT / "exercises" / f"{CHAPTER_1}.ipynb", tmp_path / f"{CHAPTER_1}-Copy1.ipynb")
    (tmp_path / "notes.ipynb").write_text((ROOT / "exercises" / "02_tensors.ipynb").read_text())
    _fake_grading(monkeypatch)
    assert main([str(tmp_path), "--json"]) == 2  # notes.ipynb matches no chapter
    report = json.loads(capsys.readouterr().out)
    (graded,) = report["notebooks"]
    assert graded["chapter"] == CHAPTER_1 and graded["path"].endswith("-Copy1.ipynb")
    total = len(exercises_of(CHAPTER_1))
    assert (graded["passed"], graded["total"]) == (2, total)
    assert graded["exercises"][0] == {"name": "mul", "passed": True, "verdict": "why"}
    names = [e["name"] for e in graded["exercises"]]
    assert names == [e.name for e in exercises_of(CHAPTER_1)]
    assert report["chapters"][CHAPTER_1] == {
        "passed": 2,
        "total": total,
        "best_notebook": graded["path"],
    }
    assert (report["passed"], report["total"]) == (2, total)
    assert report["not_graded"][0]["path"].endswith("notes.ipynb")
    assert "matches no chapter" in report["not_graded"][0]["why"]


# ---------------------------------------------------------------------------------- hints
def test_every_exercise_has_one_to_three_hints():
    assert len(EXERCISES) >= 6 * len({e.chapter for e in EXERCISES.values()})
    for exercise in EXERCISES.values():
        assert 1 <= len(exercise.hints) <= 3, exercise.name
        for text in exercise.hints:
            assert 30 <= len(text) <= 300 and text.endswith((".", "?")), (exercise.name, text)


def test_hint_gives_the_next_hint_each_call(capsys):
    from engine.grading import core

    core._HINTS_SHOWN.pop("mul", None)
    hints = EXERCISES["mul"].hints
    hint("mul")
    hint("mul")
    hint("mul", 1)
    hint("mul")
    for _ in hints:
        hint("mul")
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f'Hint 1 of 3 for mul (hint("mul") again for hint 2): {hints[0]}'
    assert lines[1].startswith("Hint 2 of 3") and lines[1].endswith(hints[1])
    assert lines[2].startswith("Hint 1 of 3") and lines[3].startswith("Hint 2 of 3")
    assert lines[-1] == f"Hint 3 of 3 for mul: {hints[2]}"  # the last one again
    with pytest.raises(ValueError, match="hints 1 to 3"):
        hint("mul", 4)
    with pytest.raises(KeyError, match="no exercise called"):
        hint("mull")
