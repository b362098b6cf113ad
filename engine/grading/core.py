"""The machinery shared by every chapter's checks: a registry, a time limit, verdicts.

A *check* is a function that receives the learner's object (a function or class defined in an
exercise cell), tries it on cases, and raises ``CheckFailed`` naming the first case that went
wrong with what was expected and what came back.  It returns a short summary when every case
passes.  ``grade`` runs a check under a time limit and turns whatever happened (pass, wrong
answer, exception, stub not filled in, endless loop) into a ``Result`` with a readable message.

Exercises come in three kinds (``Exercise.kind``):

* ``implement``: write a function or class; the check tries it on cases.
* ``predict``: the learner's function returns a prediction of what given code does (a value, a
  shape, or :func:`raises` ``(SomeError)``); the check runs the code, grades the prediction and
  then explains what happens, right or wrong.
* ``debug``: the cell holds code with a bug; the learner fixes it.  The untouched code fails.

An exercise may declare ``forbidden`` names (``"engine.Tensor.transpose"``): the engine's or
torch's own version of the answer.  While the learner's function runs inside the check, those
attributes are replaced by traps, so an answer that hands the work over fails and says so.
"""

from __future__ import annotations

import contextlib
import io
import math
import signal
import sys
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
    """One registered exercise: its check, its kind, and what its answer may not call."""

    name: str
    chapter: str
    check: Callable[[object], str]
    summary: str
    kind: str = "implement"
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    exercise: str
    passed: bool
    message: str

    def verdict(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"[{mark}] {self.exercise}: {self.message}"


EXERCISES: dict[str, Exercise] = {}
# The registry as the chapter modules left it (see freeze): what grade() uses, so that code in
# a notebook that replaces EXERCISES entries changes nothing.
_FROZEN: dict[str, Exercise] = {}
KINDS = ("implement", "predict", "debug")


def exercise(
    chapter: str,
    name: str,
    summary: str,
    *,
    kind: str = "implement",
    forbidden: tuple[str, ...] = (),
):
    """Register the decorated check function as the grader of exercise ``name``."""
    if kind not in KINDS:
        raise ValueError(f"exercise kind must be one of {KINDS}, got {kind!r}")

    def register(check: Callable[[object], str]) -> Callable[[object], str]:
        if name in EXERCISES:
            raise ValueError(f"exercise name {name!r} is registered twice; names must be unique")
        EXERCISES[name] = Exercise(name, chapter, check, summary, kind, tuple(forbidden))
        return check

    return register


def freeze() -> None:
    """Keep a private copy of the registry (called once the chapter modules are imported)."""
    _FROZEN.update(EXERCISES)


def registered(name: str) -> Exercise:
    """The exercise called ``name``, from the frozen copy when it is there."""
    found = _FROZEN.get(name) or EXERCISES.get(name)
    if found is None:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(f"no exercise called {name!r}; known exercises: {known}")
    return found


# ----------------------------------------------------------------------------- predictions
@dataclass(frozen=True)
class raises:  # noqa: N801 - reads as a prediction: raises(RuntimeError)
    """A prediction that some code raises an exception of type ``error``."""

    error: type

    def __repr__(self) -> str:
        return f"raises({self.error.__name__})"


def outcome(code: Callable[[], object]) -> object:
    """What ``code()`` does, as a prediction would state it: its value, or ``raises(Type)``."""
    try:
        return code()
    except Exception as error:  # the exception is the outcome being predicted
        return raises(type(error))


def explain(case: str, predicted: object, actual: object, why: str) -> str:
    """Grade one prediction: a pass returns the explanation, a miss raises with it."""
    if predicted != actual:
        raise CheckFailed(f"{case}: you predicted {predicted!r}, but it gives {actual!r}. {why}")
    return f"{case} gives {actual!r}. {why}"


# ------------------------------------------------------------------------- forbidden calls
class ForbiddenCall(CheckFailed):
    """The learner's answer called what the exercise asks them to build."""


def _resolve(path: str) -> tuple[object | None, str]:
    """``"engine.Tensor.transpose"`` -> ``(engine.Tensor, "transpose")``."""
    import importlib

    parts = path.split(".")
    if parts[0] not in sys.modules:
        return None, parts[-1]  # a library the learner never imported cannot be called
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:-1]:
            owner = getattr(owner, attribute)
        return owner, parts[-1]
    raise ValueError(f"cannot resolve {path!r}")


_MISSING = object()


@contextlib.contextmanager
def traps(paths: tuple[str, ...], exercise_name: str) -> Iterator[None]:
    """Replace each attribute in ``paths`` by a function that raises :class:`ForbiddenCall`,
    and put the originals back afterwards (even when the body raises)."""
    replaced = []
    try:
        for path in paths:
            owner, attribute = _resolve(path)
            if owner is None:
                continue

            def trap(*args, _path=path, **kwargs):
                raise ForbiddenCall(
                    f"your answer called {_path}, which is what exercise {exercise_name} asks "
                    "you to write yourself"
                )

            replaced.append((owner, attribute, vars(owner).get(attribute, _MISSING)))
            setattr(owner, attribute, trap)
        yield
    finally:
        for owner, attribute, original in reversed(replaced):
            if original is _MISSING:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def _guarded(candidate: object, exercise: Exercise) -> object:
    """The learner's function, run with the exercise's forbidden names trapped."""
    if not exercise.forbidden or not callable(candidate) or isinstance(candidate, type):
        return candidate

    def guarded(*args, **kwargs):
        with traps(exercise.forbidden, exercise.name):
            return candidate(*args, **kwargs)

    return guarded


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
    exercise = registered(name)
    try:
        with time_limit(time_limit_s), contextlib.redirect_stdout(io.StringIO()):
            # The learner's prints during the check are not shown: the verdict comes last.
            summary = exercise.check(_guarded(candidate, exercise))
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
