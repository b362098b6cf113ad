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
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from engine.grading import limits
from engine.grading.limits import ExerciseTimeout, time_limit

# Seconds of processor time a check may use (see engine/grading/limits.py).
DEFAULT_TIME_LIMIT_S = 10.0


class CheckFailed(AssertionError):
    """A case gave the wrong answer; the message says which case, what was expected, and what
    came back."""


@dataclass(frozen=True)
class Exercise:
    """One registered exercise: its check, its kind, what its answer may not call, the hints a
    learner can ask for (:func:`hint`), and what to suggest when an answer runs out of time."""

    name: str
    chapter: str
    check: Callable[[object], str]
    summary: str
    kind: str = "implement"
    forbidden: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    timeout_hint: str = ""


@dataclass(frozen=True)
class Result:
    """The verdict on one exercise: passed or not, and the message that says why."""

    exercise: str
    passed: bool
    message: str

    def verdict(self) -> str:
        """The line a check cell prints: ``[PASS] name: message`` or ``[FAIL] ...``."""
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
    hints: tuple[str, ...] = (),
    timeout_hint: str = "",
) -> Callable[[Callable[[object], str]], Callable[[object], str]]:
    """Register the decorated check function as the grader of exercise ``name``.

    ``hints`` are what :func:`hint` shows a learner who asks, one at a time, from a nudge to
    the idea (never the answer); ``timeout_hint`` is added to the verdict when an answer runs
    out of time (say what usually makes *this* exercise's answers slow or endless).
    """
    if kind not in KINDS:
        raise ValueError(f"exercise kind must be one of {KINDS}, got {kind!r}")
    if isinstance(hints, str):
        raise TypeError("hints must be a tuple of strings, not one string")

    def register(check: Callable[[object], str]) -> Callable[[object], str]:
        if name in EXERCISES:
            raise ValueError(f"exercise name {name!r} is registered twice; names must be unique")
        EXERCISES[name] = Exercise(
            name, chapter, check, summary, kind, tuple(forbidden), tuple(hints), timeout_hint
        )
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
    """The exercises of ``chapter`` (a notebook's name without ``.ipynb``), in order."""
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


# ---------------------------------------------------------------------------- verdict texts
LOOPS_AND_RECURSION = (
    "Check your loops (does each one reach its end?) and your recursion (does each call get "
    "closer to the case that stops it?)."
)


def _with_hint(message: str, exercise: Exercise | None) -> str:
    if exercise is not None and exercise.timeout_hint:
        return f"{message} {exercise.timeout_hint}"
    return message


def timeout_message(
    exercise: Exercise | None, limit_s: float, *, ignored_stop: bool = False
) -> str:
    """The verdict for an answer that used up its ``limit_s`` seconds of processor time;
    ``ignored_stop`` when it had to be killed because it did not stop when asked."""
    if ignored_stop:
        message = (
            f"stopped after {limit_s:g} s: the code did not finish, and did not stop when asked, "
            "so its process was killed. That happens with a loop that catches Exception or "
            "BaseException (the request to stop is an exception) and with one very long call "
            f"into C (sum(range(10**10)), a huge array). {LOOPS_AND_RECURSION}"
        )
    else:
        message = f"stopped after {limit_s:g} s: the code did not finish. {LOOPS_AND_RECURSION}"
    return _with_hint(message, exercise)


def memory_message(allowance: int = limits.MEMORY_ALLOWANCE_BYTES) -> str:
    """The verdict for an answer that ran out of memory (``MemoryError``)."""
    return (
        f"ran out of memory (MemoryError): the check allows about {allowance / 1024**3:g} GB "
        "more than the notebook already uses. Look for a list or tensor that grows in a loop "
        "without end, or a size computed far too large (a product where a sum was meant?)."
    )


def exit_message(code: object) -> str:
    """The verdict for an answer that called ``sys.exit`` or ``exit()``."""
    return (
        f"your code called sys.exit() or exit() (SystemExit: {code!r}), which ends the program "
        "instead of returning. Remove that call: an answer returns its result."
    )


INTERRUPTED = (
    "interrupted (KeyboardInterrupt) before the check finished: by the stop button, or by your "
    "code raising KeyboardInterrupt. Run the check cell again and let it finish; if it never "
    "does, look for a loop that never ends."
)


def ending_message(exercise: Exercise | None, ending: limits.Ending, limit_s: float) -> str:
    """The verdict for a check process that ended without giving one (see
    :class:`limits.Ending`)."""
    if ending.how == "interrupt":
        return INTERRUPTED
    if ending.how == "deadline":
        return _with_hint(
            f"stopped after {ending.waited:.0f} s of waiting: the code neither finished nor "
            f"used up its {limit_s:g} s of computing; it may be waiting for something "
            "(time.sleep, input()) or the machine may be very busy. Remove any waiting, "
            f"then run the check again. {LOOPS_AND_RECURSION}",
            exercise,
        )
    if ending.how == "signal":
        if ending.number == getattr(limits.signal, "SIGXCPU", None) or (
            ending.number == limits.signal.SIGKILL and ending.cpu >= limit_s
        ):
            return timeout_message(exercise, limit_s, ignored_stop=True)
        if ending.number == limits.signal.SIGKILL:
            return (
                "the check's process was killed (SIGKILL) before it gave a verdict: usually "
                "because the machine ran out of memory. Look for a list or tensor that grows "
                "without end, or a size computed far too large."
            )
        return (
            f"the check's process crashed with {limits.describe_signal(ending.number)} before "
            "it gave a verdict. That usually comes from a call into C given bad arguments (an "
            "as_strided view reaching outside its storage, say): look at the last such call "
            "your code makes."
        )
    return (
        f"the check's process ended with exit status {ending.number} before it gave a "
        "verdict: your code called os._exit(), or something else ended the process. Remove "
        "that call: an answer returns its result."
    )


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


def _short(message: str) -> str:
    if len(message) <= limits.MAX_MESSAGE_CHARS:
        return message
    return message[: limits.MAX_MESSAGE_CHARS - 20] + " ... (cut short)"


def grade(
    name: str,
    candidate: object,
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    *,
    isolated: bool = False,
) -> Result:
    """Run exercise ``name``'s check on ``candidate`` and return a ``Result``; never raises for
    anything the candidate does.

    ``isolated``: run the check in a forked copy of this process, under limits the candidate
    cannot lift (processor time, wall-clock time, memory: see ``engine/grading/limits.py``),
    so that nothing it does can hang or end this one.  Where ``os.fork`` does not exist
    (Windows), or ``ENGINE_GRADING_IN_PROCESS`` is set, the check runs here, under the timer
    alone.
    """
    exercise = registered(name)
    if isolated and limits.use_fork():

        def job() -> dict:
            return vars(grade(name, candidate, time_limit_s))

        def on_ending(ending: limits.Ending) -> dict:
            return vars(Result(name, False, ending_message(exercise, ending, time_limit_s)))

        return Result(**limits.run_in_child(job, time_limit_s, on_ending))
    try:
        with time_limit(time_limit_s), contextlib.redirect_stdout(io.StringIO()):
            # The learner's prints during the check are not shown: the verdict comes last.
            summary = exercise.check(_guarded(candidate, exercise))
    except CheckFailed as failure:
        return Result(name, False, _short(str(failure)))
    except NotImplementedError:
        return Result(
            name,
            False,
            "not attempted yet: the stub still raises NotImplementedError. "
            "Replace its body with your code and run the cell again.",
        )
    except ExerciseTimeout:
        return Result(name, False, timeout_message(exercise, time_limit_s))
    except RecursionError:
        return Result(
            name,
            False,
            "hit Python's recursion limit: use an explicit stack or list "
            "instead of recursion, so that long graphs work.",
        )
    except MemoryError:
        return Result(name, False, memory_message())
    except SystemExit as stop:
        return Result(name, False, exit_message(stop.code))
    except KeyboardInterrupt:
        return Result(name, False, INTERRUPTED)
    except Exception as error:  # the learner's code raised: report it without crashing
        return Result(
            name,
            False,
            _short(
                f"your code raised {type(error).__name__}: {error}{_where_in_learner_code(error)}"
            ),
        )
    return Result(name, True, summary)


def check(name: str, candidate: object, time_limit_s: float = DEFAULT_TIME_LIMIT_S) -> None:
    """Grade ``candidate`` for exercise ``name`` and print the verdict (for check cells).

    The check runs in a process of its own where the system allows (see :func:`grade`), so
    no answer can hang or end the notebook's kernel."""
    print(grade(name, candidate, time_limit_s, isolated=True).verdict())


# ------------------------------------------------------------------------------------ hints
_HINTS_SHOWN: dict[str, int] = {}


def hint(name: str, number: int | None = None) -> None:
    """Print a hint for exercise ``name``: the next one each call (from the first, and the last
    again once all were shown), or hint ``number`` (counting from 1)."""
    exercise = registered(name)
    hints = exercise.hints
    if not hints:
        print(f"No hints for {name} yet: reread the exercise's text and its check's message.")
        return
    if number is None:
        number = min(_HINTS_SHOWN.get(name, 0) + 1, len(hints))
    if not 1 <= number <= len(hints):
        raise ValueError(f"{name} has hints 1 to {len(hints)}, not {number}")
    _HINTS_SHOWN[name] = number
    more = f' (hint("{name}") again for hint {number + 1})' if number < len(hints) else ""
    print(f"Hint {number} of {len(hints)} for {name}{more}: {hints[number - 1]}")


# ------------------------------------------------------------- a check cell run too early
_CHECK_CALL = re.compile(r"""^\s*check\(\s*["'](\w+)["']\s*,\s*(\w+)\s*\)\s*(#.*)?$""")


def name_error_verdict(error: BaseException, line: str | None) -> str | None:
    """The verdict a check cell prints when it raises ``NameError`` because the exercise's
    function is not defined (``line`` is the failing line: ``check("mul", mul)``); None for
    any other error, which keeps its usual traceback."""
    match = _CHECK_CALL.match(line or "")
    if not isinstance(error, NameError) or match is None:
        return None
    missing = getattr(error, "name", None) or match.group(2)
    if missing != match.group(2):
        return None
    return Result(
        match.group(1),
        False,
        f"{missing} is not defined: run the exercise cell above that defines it first (a "
        f"restarted kernel forgets it), and keep the name {missing} as given.",
    ).verdict()


def install_notebook_hooks() -> bool:
    """In an IPython kernel, make a check cell run before its exercise cell print a verdict
    (:func:`name_error_verdict`) instead of a bare ``NameError`` traceback.  Returns whether a
    kernel was found."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False

    def on_name_error(self, etype, value, tb, tb_offset=None):
        frames = traceback.extract_tb(tb)
        verdict = name_error_verdict(value, frames[-1].line if frames else None)
        if verdict is None:
            return self.showtraceback((etype, value, tb), tb_offset=tb_offset)
        print(verdict)
        return None

    shell.set_custom_exc((NameError,), on_name_error)
    return True
