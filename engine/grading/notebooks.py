"""Grade saved exercise notebooks from the shell, without ever writing to them.

For every notebook, the code cells tagged ``exercise`` (the learner's cells, and the cell of
imports they rely on) are run in a fresh Python process, once per exercise, and that exercise's
check is applied to the object the cells defined.  A separate process per exercise means that
code which loops forever, exhausts memory or crashes the interpreter costs one exercise, not
the whole report; it is killed after a hard time limit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from engine.grading.core import (
    DEFAULT_TIME_LIMIT_S,
    ExerciseTimeout,
    Result,
    exercises_of,
    grade,
    time_limit,
)

EXERCISE_TAG = "exercise"
# Seconds a worker process may live beyond the check's own time limit (Python start-up,
# imports, the learner's cells); past that it is killed from outside.
START_UP_MARGIN_S = 30


def exercise_sources(notebook: Path) -> list[str]:
    """The source of every code cell tagged ``exercise``, in order, with IPython magics and
    shell escapes (lines starting with % or !) removed."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        if EXERCISE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        sources.append("\n".join(lines))
    return sources


def _run_cells(sources: list[str]) -> dict:
    """Execute the exercise cells in one namespace, as a kernel would, hiding their output."""
    namespace: dict = {"__name__": "__main__"}
    with open(os.devnull, "w") as devnull:
        stdout = sys.stdout
        sys.stdout = devnull
        try:
            for number, source in enumerate(sources, start=1):
                try:
                    exec(compile(source, f"<exercise cell {number}>", "exec"), namespace)
                except NotImplementedError:
                    pass  # a stub that raises when defined must not stop the others
        finally:
            sys.stdout = stdout
    return namespace


def worker(notebook: str, name: str, time_limit_s: float) -> Result:
    """Grade exercise ``name`` of ``notebook`` in this process (the worker side)."""
    try:
        with time_limit(time_limit_s):
            namespace = _run_cells(exercise_sources(Path(notebook)))
    except ExerciseTimeout:
        return Result(
            name,
            False,
            f"the exercise cells did not finish within {time_limit_s:g} s: "
            "look for a loop that runs when a cell is executed",
        )
    except Exception as error:
        return Result(
            name, False, f"the exercise cells could not run: {type(error).__name__}: {error}"
        )
    if name not in namespace:
        return Result(
            name,
            False,
            f"no definition of {name!r} found in the cells tagged "
            f"'{EXERCISE_TAG}'; keep the function's name as given",
        )
    return grade(name, namespace[name], time_limit_s)


def grade_notebook(
    notebook: Path,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    start_up_margin_s: float = START_UP_MARGIN_S,
) -> list[Result]:
    """Grade every exercise of the chapter that ``notebook`` belongs to (by its file name).

    One worker process per exercise, all started at once.  The learner's cells and the check
    each get ``time_limit_s``; a worker still alive ``start_up_margin_s`` after that (code that
    blocks the alarm signal) is killed.
    """
    notebook = Path(notebook)
    deadline = time.monotonic() + 2 * time_limit_s + start_up_margin_s
    workers = {
        ex.name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.grading",
                "--worker",
                str(notebook),
                ex.name,
                "--time-limit",
                str(time_limit_s),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for ex in exercises_of(notebook.stem)
    }
    return [_collect(name, worker, deadline) for name, worker in workers.items()]


def _collect(name: str, worker: subprocess.Popen, deadline: float) -> Result:
    """Wait for one worker until ``deadline`` and turn its output into a Result."""
    try:
        stdout, stderr = worker.communicate(timeout=max(deadline - time.monotonic(), 0.1))
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        return Result(
            name, False, "killed: the code ran past the time limit and ignored the request to stop"
        )
    last_line = stdout.strip().splitlines()[-1:] or [""]
    try:
        return Result(**json.loads(last_line[0]))
    except (json.JSONDecodeError, TypeError):
        detail = (stderr.strip().splitlines() or ["no output"])[-1]
        return Result(name, False, f"the grader process crashed: {detail}")


def format_report(reports: dict[Path, list[Result]]) -> str:
    """A score table per chapter, and the total."""
    lines = []
    total_passed = total = 0
    for notebook, results in reports.items():
        passed = sum(r.passed for r in results)
        total_passed += passed
        total += len(results)
        lines.append(f"{notebook}  ({passed}/{len(results)} passed)")
        width = max((len(r.exercise) for r in results), default=8)
        for r in results:
            lines.append(f"  {r.exercise:<{width}}  {'PASS' if r.passed else 'FAIL'}  {r.message}")
        lines.append("")
    lines.append(f"Score: {total_passed}/{total} exercises passed")
    return "\n".join(lines)
