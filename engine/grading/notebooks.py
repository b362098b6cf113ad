"""Grade saved exercise notebooks from the shell, without ever writing to them.

**One verdict.**  A check cell (``check("NAME", NAME)``) in a notebook run top to bottom grades
what the cells above it defined.  The shell grader does the same: for exercise ``NAME`` it runs
every code cell that comes before that exercise's check cell (all of them, tagged or not,
except other check cells), in order, in one namespace, with ``display`` available and their
output discarded.  Each cell runs on its own: a cell that raises or does not parse costs only
the exercises that needed what it defines, as it would in Jupyter.

**One process per exercise**, started fresh, so that code which loops forever, exhausts memory
or crashes the interpreter costs one exercise, not the whole report.  At most one runs per CPU,
each with one thread per numerical library.  Each limits itself before any notebook code runs
(``limits.py``): processor time for the cells (:data:`CELLS_TIME_LIMIT_S`) and then for the
check, enforced by the kernel (``RLIMIT_CPU``), and address space; the parent kills a worker
that is still alive, and no longer computing, at its wall-clock deadline.  How a worker ended
(a signal, an exit status, the deadline) becomes a verdict that says so.

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

from engine.grading import limits
from engine.grading.core import (
    DEFAULT_TIME_LIMIT_S,
    EXERCISES,
    ExerciseTimeout,
    Result,
    ending_message,
    exercises_of,
    grade,
    registered,
    time_limit,
)

EXERCISE_TAG = "exercise"
# Seconds of wall-clock time a worker process may take beyond its wall-clock allowance for the
# cells and the check (see limits.wall_clock_deadline): Python's start-up and a slow first
# import (of torch, from a cold disk or on a busy machine).  Past that it is killed.
START_UP_MARGIN_S = 30
# Seconds of processor time the cells above a check cell may use: room for a first import of
# torch (about 1 s on an idle laptop) on a slow machine, and for what the cells compute.
CELLS_TIME_LIMIT_S = 30.0
# Environment of a worker: one thread per numerical library, so that workers running side by
# side (at most one per CPU) do not compete for the same cores, and processor time measures the
# answer.
SINGLE_THREADED = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
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


def numbered_program_cells(notebook: Path, name: str | None = None) -> list[tuple[int, str]]:
    """:func:`program_cells`, each with its number among the notebook's code cells (from 1, as
    a learner counts them, check cells included)."""
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    numbered = []
    code_cells = [cell for cell in cells if cell.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, start=1):
        source = _source(cell)
        checked = checked_name(source)
        if checked is not None:
            if checked == name:
                break
            continue
        lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        numbered.append((number, "\n".join(lines)))
    return numbered


def program_cells(notebook: Path, name: str | None = None) -> list[str]:
    """The code cells a check of exercise ``name`` sees when the notebook runs top to bottom:
    every code cell before that exercise's check cell, check cells excluded (all code cells
    when ``name`` is None or has no check cell).  IPython magics and shell escapes (lines
    starting with % or !) are removed."""
    return [source for _, source in numbered_program_cells(notebook, name)]


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


def cell_problem(number: int, source: str, error: BaseException) -> str:
    """What went wrong in code cell ``number``, as the verdict states it."""
    if isinstance(error, SyntaxError):
        text = (error.text or "").strip()
        shown = f": {text[:60]!r}" if text else ""
        return (
            f"code cell {number} does not run: SyntaxError on line {error.lineno} ({error.msg})"
            f"{shown}; fix it and run the cell again"
        )
    first_line = source.strip().splitlines()[0] if source.strip() else ""
    if isinstance(error, SystemExit):
        return f"code cell {number} ({first_line[:40]!r}) called sys.exit() or exit()"
    return f"code cell {number} ({first_line[:40]!r}) raised {type(error).__name__}: {error}"


def run_cells(sources: list[str], numbers: list[int] | None = None) -> tuple[dict, list[str]]:
    """Execute the cells in one namespace, each on its own, as a kernel would; returns the
    namespace and a note for each cell that failed (``numbers``: each cell's number in the
    notebook, for those notes; 1, 2, ... by default)."""
    namespace: dict = {"__name__": "__main__", "display": _display}
    problems = []
    numbers = list(numbers) if numbers is not None else list(range(1, len(sources) + 1))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for number, source in zip(numbers, sources):
            try:
                exec(compile(source, f"<cell {number}>", "exec"), namespace)
            except ExerciseTimeout:
                raise
            except NotImplementedError:
                pass  # a stub that raises when it is defined or tried out
            except (Exception, SystemExit, KeyboardInterrupt) as error:
                problems.append(cell_problem(number, source, error))
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


def cells_time_limit(time_limit_s: float, cells_time_limit_s: float | None) -> float:
    """The processor time the cells above a check cell may use."""
    if cells_time_limit_s is not None:
        return cells_time_limit_s
    return max(CELLS_TIME_LIMIT_S, time_limit_s)


def worker(
    notebook: str, name: str, time_limit_s: float, cells_time_limit_s: float | None = None
) -> Result:
    """Grade exercise ``name`` of ``notebook`` in this process (the worker side): the cells
    above its check cell get ``cells_time_limit_s`` seconds of processor time (by default
    :data:`CELLS_TIME_LIMIT_S`, or ``time_limit_s`` if that is more), the check
    ``time_limit_s``."""
    cells_limit = cells_time_limit(time_limit_s, cells_time_limit_s)
    snapshot = _grading_modules()
    cells = numbered_program_cells(Path(notebook), name)
    try:
        with time_limit(cells_limit):
            namespace, problems = run_cells(
                [source for _, source in cells], [number for number, _ in cells]
            )
    except ExerciseTimeout:
        return Result(
            name,
            False,
            f"the notebook's cells did not finish within {cells_limit:g} s: "
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
    limits.limit_cpu(time_limit_s)  # from here on, the check's own limit holds
    return grade(name, namespace[name], time_limit_s)


def worker_main(
    notebook: str,
    name: str,
    time_limit_s: float,
    result_fd: int,
    cells_time_limit_s: float | None = None,
) -> None:
    """The worker process: read the parent's token, limit itself (processor time for the
    cells and the check, memory: see ``limits.py``), grade, send ``token + verdict`` through
    ``result_fd``, and leave at once (no exit hooks, no flushing of the notebook's output)."""
    token = sys.stdin.readline().strip()
    cells_limit = cells_time_limit(time_limit_s, cells_time_limit_s)
    limits.set_limits(cells_limit + time_limit_s)
    result = worker(notebook, name, time_limit_s, cells_limit)
    message = f"{token} {json.dumps(vars(result))}\n".encode()
    view = memoryview(message)
    while view:
        view = view[os.write(result_fd, view) :]
    os.close(result_fd)
    os._exit(0)


def grade_notebook(
    notebook: Path,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    start_up_margin_s: float = START_UP_MARGIN_S,
    parallel: int | None = None,
    chapter: str | None = None,
    names: list[str] | None = None,
    cells_time_limit_s: float | None = None,
) -> list[Result]:
    """Grade every exercise of the chapter that ``notebook`` belongs to (``chapter``, or the
    one its file name matches: see :func:`match_chapter`).

    One worker process per exercise, at most ``parallel`` at a time (default: one per CPU, so
    that a correct answer is not slowed past its time limit by its own siblings).  The
    check gets ``time_limit_s`` seconds of processor time and the learner's cells above it
    ``cells_time_limit_s`` (default: :data:`CELLS_TIME_LIMIT_S`, room for a first import of
    torch on a slow machine, or ``time_limit_s`` if that is more); a
    worker still alive at its wall-clock deadline (code that waits, or a very busy machine;
    ``start_up_margin_s`` is allowed for Python's start-up and imports) is killed.  ``names``:
    grade only these exercises of the chapter.
    """
    notebook = Path(notebook)
    chapter = chapter or match_chapter(notebook.stem)
    if chapter is None:
        raise ValueError(unmatched_hint(notebook))
    token = secrets.token_hex(16)
    limit = max(1, parallel or os.cpu_count() or 1)
    graded = [ex.name for ex in exercises_of(chapter) if names is None or ex.name in names]
    pending = list(graded)
    running: dict[str, _Worker] = {}
    results: dict[str, Result] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                name = pending.pop(0)
                running[name] = _Worker(
                    notebook, name, time_limit_s, start_up_margin_s, token, cells_time_limit_s
                )
            for name, worker in list(running.items()):
                if worker.done():
                    results[name] = worker.result(token)
                    del running[name]
            time.sleep(0.01)
    finally:  # whatever went wrong here, no worker outlives the grading
        for worker in running.values():
            worker.stop()
    return [results[name] for name in graded]


# Decorations that copying a notebook adds to its name: Jupyter's "Duplicate" (-Copy1), a file
# manager's "Copy of" and " copy", a browser's download counter " (1)".
_COPY_DECORATIONS = (
    re.compile(r"^copy of ", re.IGNORECASE),
    re.compile(r"-copy\d*$", re.IGNORECASE),
    re.compile(r"[ _]copy(?: \d+)?$", re.IGNORECASE),
    re.compile(r" ?\(\d+\)$"),
)


def match_chapter(stem: str, chapters: set[str] | None = None) -> str | None:
    """The chapter a notebook named ``stem`` (without ``.ipynb``) belongs to: the chapter of
    that name, or of that name once copy decorations are removed (``-Copy1``, ``Copy of ``,
    `` (1)``), or the one chapter whose name it contains; None if there is none."""
    chapters = chapters if chapters is not None else {e.chapter for e in EXERCISES.values()}
    name = stem.strip()
    if name in chapters:
        return name
    changed = True
    while changed:
        changed = False
        for decoration in _COPY_DECORATIONS:
            shorter = decoration.sub("", name).strip()
            if shorter != name:
                name, changed = shorter, True
    if name in chapters:
        return name
    contained = [chapter for chapter in chapters if chapter in stem]
    return contained[0] if len(contained) == 1 else None


def unmatched_hint(notebook: Path) -> str:
    """Why ``notebook`` was not graded, and what to do."""
    chapters = sorted({e.chapter for e in EXERCISES.values()})
    return (
        f"{notebook}: its name matches no chapter with exercises, so it was not graded. Name it "
        f"after its chapter ({', '.join(c + '.ipynb' for c in chapters)}); copies such as "
        f"{chapters[0]}-Copy1.ipynb are matched too."
    )


class _Worker:
    """One worker process grading one exercise: its verdict pipe, its stderr file, its
    deadline."""

    def __init__(
        self,
        notebook: Path,
        name: str,
        limit: float,
        margin: float,
        token: str,
        cells_limit: float | None = None,
    ):
        self.name = name
        self.limit = limit
        self.started = time.monotonic()
        self.wall = limits.wall_clock_deadline(2 * limit) + margin
        read_end, write_end = os.pipe()
        self.read_end = read_end
        os.set_blocking(read_end, False)
        self.received = bytearray()
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
                "--cells-time-limit",
                str(cells_time_limit(limit, cells_limit)),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
            pass_fds=(write_end,),
            env={**os.environ, **SINGLE_THREADED},
        )
        os.close(write_end)
        self.deadline = limits.Deadline(self.process.pid, self.wall)
        self.process.stdin.write(token.encode() + b"\n")
        self.process.stdin.close()
        self.killed = False
        self.cpu = 0.0

    def _drain(self) -> None:
        """Read what the worker has written so far, so that it never waits on a full pipe."""
        with contextlib.suppress(BlockingIOError, OSError):
            while chunk := os.read(self.read_end, 65536):
                self.received += chunk

    def _reap(self) -> bool:
        """Whether the worker has ended; if so, note its exit code and processor time."""
        if self.process.returncode is not None:
            return True
        try:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        except ChildProcessError:  # reaped elsewhere
            return self.process.poll() is not None
        if not pid:
            return False
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.cpu = usage.ru_utime + usage.ru_stime
        return True

    def done(self) -> bool:
        """Finished, or past its deadline (then killed)."""
        self._drain()
        if self._reap():
            return True
        if self.deadline.left() <= 0:
            self.stop()
            self.killed = True
            return True
        return False

    def stop(self) -> None:
        """Kill the worker if it is still running, and wait for it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def result(self, token: str) -> Result:
        """The verdict the worker sent with ``token``, or what went wrong."""
        self._drain()
        os.close(self.read_end)
        received = self.received.decode(errors="replace")
        self.stderr.seek(0)
        stderr = self.stderr.read().decode(errors="replace")
        self.stderr.close()
        waited = time.monotonic() - self.started
        exercise = registered(self.name)
        if self.killed:
            ending = limits.Ending("deadline", 0, waited, 0.0)
            return Result(self.name, False, ending_message(exercise, ending, self.limit))
        for line in received.splitlines():
            if line.startswith(token + " "):
                try:
                    return Result(**json.loads(line[len(token) + 1 :]))
                except (json.JSONDecodeError, TypeError):
                    break
        code = self.process.returncode
        if code is not None and code < 0:
            ending = limits.Ending("signal", -code, waited, self.cpu)
            return Result(self.name, False, ending_message(exercise, ending, self.limit))
        lines = stderr.strip().splitlines()
        if lines and "Traceback" in stderr:  # the grader itself failed: show why
            return Result(self.name, False, f"the grader process crashed: {lines[-1]}")
        ending = limits.Ending("exit", code or 0, waited, self.cpu)
        return Result(self.name, False, ending_message(exercise, ending, self.limit))


def _chapter_totals(
    reports: dict[Path, list[Result]], chapters: dict[Path, str] | None
) -> dict[str, tuple[int, int, Path, int]]:
    """For each chapter: (passed, total) of its best notebook, that notebook, and how many
    notebooks were graded for it."""
    totals: dict[str, tuple[int, int, Path, int]] = {}
    for notebook, results in reports.items():
        chapter = (chapters or {}).get(notebook) or match_chapter(notebook.stem) or notebook.stem
        passed = sum(r.passed for r in results)
        best = totals.get(chapter)
        count = best[3] + 1 if best else 1
        if best is None or passed > best[0]:
            totals[chapter] = (passed, len(results), notebook, count)
        else:
            totals[chapter] = (*best[:3], count)
    return totals


def format_report(
    reports: dict[Path, list[Result]], chapters: dict[Path, str] | None = None
) -> str:
    """A score table per notebook, a total per chapter (its best notebook, when a chapter has
    several: copies), and the score over all chapters.  ``chapters`` maps each notebook to its
    chapter (by default, the one its name matches)."""
    lines = []
    for notebook, results in reports.items():
        passed = sum(r.passed for r in results)
        lines.append(f"{notebook}  ({passed}/{len(results)} passed)")
        width = max((len(r.exercise) for r in results), default=8)
        for r in results:
            lines.append(f"  {r.exercise:<{width}}  {'PASS' if r.passed else 'FAIL'}  {r.message}")
        lines.append("")
    totals = _chapter_totals(reports, chapters)
    total_passed = total = 0
    for chapter, (passed, count, notebook, graded) in sorted(totals.items()):
        total_passed += passed
        total += count
        best = f"  (best of {graded} notebooks: {notebook.name})" if graded > 1 else ""
        lines.append(f"Chapter {chapter}: {passed}/{count} passed{best}")
    lines.append(f"Score: {total_passed}/{total} exercises passed")
    return "\n".join(lines)


def report_as_json(
    reports: dict[Path, list[Result]], chapters: dict[Path, str] | None = None
) -> dict:
    """The report as data (for ``--json``): each notebook with its chapter and each exercise's
    name, passed and verdict; a total per chapter (its best notebook); and the totals."""
    totals = _chapter_totals(reports, chapters)
    notebooks = []
    for notebook, results in reports.items():
        chapter = (chapters or {}).get(notebook) or match_chapter(notebook.stem)
        notebooks.append(
            {
                "path": str(notebook),
                "chapter": chapter,
                "passed": sum(r.passed for r in results),
                "total": len(results),
                "exercises": [
                    {"name": r.exercise, "passed": r.passed, "verdict": r.message} for r in results
                ],
            }
        )
    return {
        "notebooks": notebooks,
        "chapters": {
            chapter: {"passed": passed, "total": count, "best_notebook": str(notebook)}
            for chapter, (passed, count, notebook, _) in sorted(totals.items())
        },
        "passed": sum(t[0] for t in totals.values()),
        "total": sum(t[1] for t in totals.values()),
    }
