"""The machinery shared by every chapter's checks: a registry, a time limit, verdicts.

A *check* is a function that receives the learner's object (a function or class defined in an
exercise cell), tries it on cases, and raises ``CheckFailed`` naming the first case that went
wrong with what was expected and what came back.  It returns a short summary when every case
passes.  ``grade`` runs a check under a time limit and turns whatever happened (pass, wrong
answer, exception, stub not filled in, endless loop) into a ``Result`` with a readable message.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEFAULT_TIME_LIMIT_S = 10.0


class CheckFailed(AssertionError):
    """A case gave the wrong answer; the message says which case, what was expected, and what
    came back."""


class ExerciseTimeout(Exception):
    """The learner's code ran past the time limit (raised inside it by an alarm signal)."""


@dataclass(frozen=True)
class Exercise:
    name: str
    chapter: str
    check: Callable[[object], str]
    summary: str


@dataclass(frozen=True)
class Result:
    exercise: str
    passed: bool
    message: str

    def verdict(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"[{mark}] {self.exercise}: {self.message}"


EXERCISES: dict[str, Exercise] = {}


def exercise(chapter: str, name: str, summary: str):
    """Register the decorated check function as the grader of exercise ``name``."""

    def register(check: Callable[[object], str]) -> Callable[[object], str]:
        if name in EXERCISES:
            raise ValueError(f"exercise name {name!r} is registered twice; names must be unique")
        EXERCISES[name] = Exercise(name, chapter, check, summary)
        return check

    return register


def exercises_of(chapter: str) -> list[Exercise]:
    return [e for e in EXERCISES.values() if e.chapter == chapter]


# ----------------------------------------------------------------------------- comparisons


def expect_close(case: str, expected: float, got: object, tolerance: float = 1e-9) -> None:
    """Fail unless ``got`` is a number within ``tolerance`` (absolute and relative) of
    ``expected``."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise CheckFailed(
            f"{case}: expected the number {expected!r}, got {got!r} (of type {type(got).__name__})"
        )
    if not math.isclose(got, expected, rel_tol=tolerance, abs_tol=tolerance):
        raise CheckFailed(f"{case}: expected {expected!r}, got {got!r}")


def expect_type(case: str, got: object, expected_type: type) -> None:
    if got is None:
        raise CheckFailed(
            f"{case}: expected a {expected_type.__name__}, got None (a missing return statement?)"
        )
    if not isinstance(got, expected_type):
        raise CheckFailed(
            f"{case}: expected a {expected_type.__name__}, got {type(got).__name__} ({got!r:.80})"
        )


def expect(case: str, condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(f"{case}: {message}")


# ------------------------------------------------------------------------------ time limit


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise ``ExerciseTimeout`` inside the running code after ``seconds``.

    Uses an interval timer, so it works in Jupyter and Colab kernels (which run cells on the
    main thread) and on Linux and macOS.  Where no timer signal exists (Windows, or a thread
    that is not the main one) the code runs without a limit; the shell grader still kills it
    from outside.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise ExerciseTimeout(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ----------------------------------------------------------------------------------- grading


def _where_in_learner_code(error: BaseException) -> str:
    """The innermost line of the traceback that is not in the grading package."""
    frames = [
        f
        for f in traceback.extract_tb(error.__traceback__)
        if "engine/grading" not in f.filename.replace("\\", "/")
    ]
    if not frames:
        return ""
    frame = frames[-1]
    line = f" -> {frame.line}" if frame.line else ""
    return f" (in {frame.name}, line {frame.lineno}{line})"


def grade(name: str, candidate: object, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> Result:
    """Run exercise ``name``'s check on ``candidate`` and return a ``Result``; never raises for
    anything the candidate does."""
    if name not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"no exercise called {name!r}; known exercises: {known}")
    check = EXERCISES[name].check
    try:
        with time_limit(time_limit_s):
            summary = check(candidate)
    except CheckFailed as failure:
        return Result(name, False, str(failure))
    except NotImplementedError:
        return Result(
            name,
            False,
            "not attempted yet: the stub still raises NotImplementedError. "
            "Replace its body with your code and run the cell again.",
        )
    except ExerciseTimeout:
        return Result(
            name,
            False,
            f"stopped after {time_limit_s:g} s: the code did not finish. "
            "Look for a loop that never ends (a missing visited set?).",
        )
    except RecursionError:
        return Result(
            name,
            False,
            "hit Python's recursion limit: use an explicit stack or list "
            "instead of recursion, so that long graphs work.",
        )
    except Exception as error:  # the learner's code raised: report it without crashing
        return Result(
            name,
            False,
            f"your code raised {type(error).__name__}: {error}{_where_in_learner_code(error)}",
        )
    return Result(name, True, summary)


def check(name: str, candidate: object, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
    """Grade ``candidate`` for exercise ``name`` and print the verdict (for check cells)."""
    print(grade(name, candidate, time_limit_s).verdict())
