"""Grade saved exercise notebooks from the shell, without ever writing to them.

**One verdict.**  A check cell (``check("NAME", NAME)``) in a notebook run top to bottom grades
what the cells above it defined.  The shell grader does the same: for exercise ``NAME`` it runs
every code cell that comes before that exercise's check cell (all of them, tagged or not,
except other check cells), in order, in one namespace, with ``display`` available and their
output discarded.  Each cell runs on its own: a cell that raises or does not parse costs only
the exercises that needed what it defines, as it would in Jupyter.

**One process per exercise**, started fresh, so that code which loops forever, exhausts memory
or crashes the interpreter costs one exercise, not the whole report; it is killed after a hard
time limit.

**What the learner's code cannot forge** (the threat model the README states): the worker takes
its copy of the check before any notebook code runs, puts back every grading module as it was
before grading (so a notebook that replaces the registry or a helper changes nothing), and
sends the verdict to the parent through a pipe of its own, tagged with a token the parent
passed on standard input; it then ends with ``os._exit``, so exit hooks never run.  Output the
notebook prints, and what ``atexit`` or ``sys.exit`` would do, cannot reach the report.  Code
written to read the grader's memory on purpose could still forge a verdict: grading a class is
not an exam proctor.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
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
# A check cell: one call check("name", name), nothing else but comments.
CHECK_CELL = re.compile(r"""^check\(\s*["'](\w+)["']\s*,\s*(\w+)\s*\)$""")


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def checked_name(source: str) -> str | None:
    """The exercise a check cell grades, or None for any other cell."""
    lines = [line.strip() for line in source.splitlines()]
    code = [line for line in lines if line and not line.startswith("#")]
    if len(code) != 1:
        return None
    match = CHECK_CELL.match(code[0])
    return match.group(1) if match else None


def program_cells(notebook: Path, name: str | None = None) -> list[str]:
    """The code cells a check of exercise ``name`` sees when the notebook runs top to bottom:
    every code cell before that exercise's check cell, check cells excluded (all code cells
    when ``name`` is None or has no check cell).  IPython magics and shell escapes (lines
    starting with % or !) are removed."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    sources = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = _source(cell)
        checked = checked_name(source)
        if checked is not None:
            if checked == name:
                break
            continue
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        sources.append("\n".join(lines))
    return sources


def exercise_sources(notebook: Path) -> list[str]:
    """The source of every code cell tagged ``exercise``, in order."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return [
        _source(cell)
        for cell in cells
        if cell.get("cell_type") == "code"
        and EXERCISE_TAG in cell.get("metadata", {}).get("tags", [])
    ]


def _display(*objects, **kwargs) -> None:
    """``display`` for the shell grader: output is discarded, as everything the cells print."""


def run_cells(sources: list[str]) -> tuple[dict, list[str]]:
    """Execute the cells in one namespace, each on its own, as a kernel would; returns the
    namespace and a note for each cell that failed."""
    namespace: dict = {"__name__": "__main__", "display": _display}
    problems = []
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for number, source in enumerate(sources, start=1):
            try:
                exec(compile(source, f"<cell {number}>", "exec"), namespace)
            except ExerciseTimeout:
                raise
            except NotImplementedError:
                pass  # a stub that raises when it is defined or tried out
            except (Exception, SystemExit, KeyboardInterrupt) as error:
                first_line = source.strip().splitlines()[0] if source.strip() else ""
                problems.append(
                    f"code cell {number} ({first_line[:40]!r}) raised {type(error).__name__}: "
                    f"{error}"
                )
    return namespace, problems


def _grading_modules() -> dict[str, dict]:
    """A copy of every grading module's globals (and of the dicts among them: the registry)."""
    return {
        name: {
            key: dict(value) if type(value) is dict else value
            for key, value in vars(module).items()
        }
        for name, module in sys.modules.items()
        if name == "engine.grading" or name.startswith("engine.grading.")
    }


def _restore(snapshot: dict[str, dict]) -> None:
    """Put every grading module's globals back as they were before the notebook's cells ran,
    undoing any replacement they made, before the check runs."""
    for name, namespace in snapshot.items():
        module = sys.modules.get(name)
        if module is not None:
            current = vars(module)
            current.clear()
            current.update(namespace)


def worker(notebook: str, name: str, time_limit_s: float) -> Result:
    """Grade exercise ``name`` of ``notebook`` in this process (the worker side)."""
    snapshot = _grading_modules()
    try:
        with time_limit(time_limit_s):
            namespace, problems = run_cells(program_cells(Path(notebook), name))
    except ExerciseTimeout:
        return Result(
            name,
            False,
            f"the notebook's cells did not finish within {time_limit_s:g} s: "
            "look for a loop that runs when a cell is executed",
        )
    finally:
        _restore(snapshot)
    if name not in namespace:
        detail = f" ({'; '.join(problems)})" if problems else ""
        return Result(
            name,
            False,
            f"no definition of {name!r} found in the cells above its check cell{detail}; keep "
            "the function's name as given",
        )
    return grade(name, namespace[name], time_limit_s)


def worker_main(notebook: str, name: str, time_limit_s: float, result_fd: int) -> None:
    """The worker process: read the parent's token, grade, send ``token + verdict`` through
    ``result_fd``, and leave at once (no exit hooks, no flushing of the notebook's output)."""
    token = sys.stdin.readline().strip()
    result = worker(notebook, name, time_limit_s)
    message = f"{token} {json.dumps(vars(result))}\n".encode()
    os.write(result_fd, message)
    os.close(result_fd)
    os._exit(0)


def grade_notebook(
    notebook: Path,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    start_up_margin_s: float = START_UP_MARGIN_S,
    parallel: int | None = None,
) -> list[Result]:
    """Grade every exercise of the chapter that ``notebook`` belongs to (by its file name).

    One worker process per exercise, at most ``parallel`` at a time (default: one per CPU, so
    that a correct answer is not slowed past its time limit by its own siblings).  The
    learner's cells and the check each get ``time_limit_s``; a worker still alive
    ``start_up_margin_s`` after that (code that blocks the alarm signal) is killed.
    """
    notebook = Path(notebook)
    token = secrets.token_hex(16)
    limit = max(1, parallel or os.cpu_count() or 1)
    pending = [ex.name for ex in exercises_of(notebook.stem)]
    running: dict[str, _Worker] = {}
    results: dict[str, Result] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                name = pending.pop(0)
                running[name] = _Worker(notebook, name, time_limit_s, start_up_margin_s, token)
            for name, worker in list(running.items()):
                if worker.done():
                    results[name] = worker.result(token)
                    del running[name]
            time.sleep(0.01)
    finally:  # whatever went wrong here, no worker outlives the grading
        for worker in running.values():
            worker.stop()
    return [results[ex.name] for ex in exercises_of(notebook.stem)]


class _Worker:
    """One worker process grading one exercise: its verdict pipe, its stderr file, its
    deadline."""

    def __init__(self, notebook: Path, name: str, limit: float, margin: float, token: str):
        self.name = name
        self.deadline = time.monotonic() + 2 * limit + margin
        read_end, write_end = os.pipe()
        self.read_end = read_end
        # stderr goes to a file, not a pipe: a chatty worker must never block on a full pipe.
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.grading",
                "--worker",
                str(notebook),
                name,
                "--time-limit",
                str(limit),
                "--result-fd",
                str(write_end),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            pass_fds=(write_end,),
        )
        os.close(write_end)
        self.process.stdin.write(token.encode() + b"\n")
        self.process.stdin.close()
        self.killed = False

    def done(self) -> bool:
        """Finished, or past its deadline (then killed)."""
        if self.process.poll() is not None:
            return True
        if time.monotonic() > self.deadline:
            self.stop()
            self.killed = True
            return True
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def result(self, token: str) -> Result:
        """The verdict the worker sent with ``token``, or what went wrong."""
        with os.fdopen(self.read_end, "rb") as pipe:
            received = pipe.read().decode(errors="replace")
        self.stderr.seek(0)
        stderr = self.stderr.read().decode(errors="replace")
        self.stderr.close()
        if self.killed:
            return Result(
                self.name,
                False,
                "killed: the code ran past the time limit and ignored the request to stop",
            )
        for line in received.splitlines():
            if line.startswith(token + " "):
                try:
                    return Result(**json.loads(line[len(token) + 1 :]))
                except (json.JSONDecodeError, TypeError):
                    break
        detail = (stderr.strip().splitlines() or ["no verdict came back"])[-1]
        return Result(self.name, False, f"the grader process crashed: {detail}")


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
