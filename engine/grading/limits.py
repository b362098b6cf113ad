"""Limits the learner's code cannot lift: processor time, memory, and a process of its own.

A check runs the learner's function in a process of its own, so that whatever the function does
(a loop that catches every exception, one long call into C, a 40 GB allocation, ``os._exit``)
costs that process, never the notebook's kernel or the grader.  Three limits hold it:

* **Processor time.**  An interval timer (``ITIMER_PROF``) raises :class:`ExerciseTimeout` in the
  learner's Python code after ``time_limit_s`` seconds of processor time: a polite stop, with a
  verdict from inside.  Code that swallows that exception, or that is inside one long C call, is
  ended by the kernel 0.5 to 1.5 seconds of processor time later (``RLIMIT_CPU``: ``SIGXCPU``,
  then ``SIGKILL`` a second later if that signal is ignored).
  Processor time, not wall-clock time, so that a correct answer is not failed because other
  programs keep the machine's cores busy.
* **Wall-clock time.**  The parent kills the process (``SIGKILL``) once a deadline has passed
  (three times the processor-time limit, plus two seconds) and the process is not computing:
  code that waits (``time.sleep``, ``input()``).  One that computes slowly on a busy machine
  gets more time, up to ten times that deadline.
* **Memory.**  An address-space limit (``RLIMIT_AS``): the size the process has when the check
  starts, plus :data:`MEMORY_ALLOWANCE_BYTES`.  Past it, an allocation fails with ``MemoryError``.

Measured on Linux x86-64 with torch 2.13 (CPU) and the engine loaded: importing torch and running
a small backward pass adds about 0.48 GB of address space with one thread and 0.62 GB with two
(each thread brings a stack and a malloc arena); the largest reference check (chapter 1's chain
of 100,000 nodes) adds 0.17 GB.  The allowance, 2 GiB, leaves three times that.

Where these limits come from: ``os.fork`` and ``resource`` exist on Linux and macOS.  macOS does
not enforce ``RLIMIT_AS`` (its ``setrlimit`` accepts it and ignores it), so there a runaway
allocation is stopped by the time limits or by the system.  Windows has neither ``fork`` nor
``resource``: the check then runs in the kernel's own process, under the alarm alone (see the
README).
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import math
import os
import select
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

try:  # not on Windows
    import resource
except ImportError:  # pragma: no cover - Windows
    resource = None  # type: ignore[assignment]

# Bytes of address space a check may add to what its process already has (see the module
# docstring for the measurements behind it).
MEMORY_ALLOWANCE_BYTES = 2 * 1024**3
# Seconds of processor time past the polite stop before the kernel ends the process (at least;
# the kernel counts whole seconds, so the limit is rounded up), and from SIGXCPU to SIGKILL.
HARD_STOP_AFTER_S = 0.5
KILL_AFTER_S = 1
# The parent's wall-clock deadline: this many times the processor-time limit, plus GRACE_S.
WALL_CLOCK_FACTOR = 3
GRACE_S = 2.0
# ... extended while the child is computing, up to this many times that deadline.
WALL_CLOCK_CAP_FACTOR = 10
# The longest verdict message sent back; a learner's value printed in full could be huge.
MAX_MESSAGE_CHARS = 4000

CAN_FORK = hasattr(os, "fork") and resource is not None


def use_fork() -> bool:
    """Whether checks run in a forked child: where the system can fork, unless the environment
    variable ``ENGINE_GRADING_IN_PROCESS`` is set (to anything but ``0``) or this process has
    initialized CUDA (a forked child cannot use it: the check would fail for that reason)."""
    if not CAN_FORK or os.environ.get("ENGINE_GRADING_IN_PROCESS", "") not in ("", "0"):
        return False
    torch = sys.modules.get("torch")
    try:
        return not (torch is not None and torch.cuda.is_initialized())
    except Exception:  # an unusual torch build: forking is still the safer choice
        return True


class ExerciseTimeout(Exception):
    """The learner's code used up its processor time (raised inside it by a timer signal)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`ExerciseTimeout` inside the running code after ``seconds`` of processor
    time.

    Uses an interval timer (``ITIMER_PROF``), so it works in Jupyter and Colab kernels (which run
    cells on the main thread) on Linux and macOS.  Where no timer exists (Windows, or a thread
    that is not the main one) the code runs without this limit.  Code can defeat the timer (by
    catching the exception, or inside a long C call): the limits of :func:`run_in_child` and of
    the shell grader's workers hold from outside.
    """
    usable = (
        hasattr(signal, "setitimer")
        and hasattr(signal, "SIGPROF")
        and threading_is_main()
        and seconds > 0
    )
    if not usable:
        yield
        return

    def on_timer(signum, frame):
        raise ExerciseTimeout(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGPROF, on_timer)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def threading_is_main() -> bool:
    """True on the main thread (the only one that may set signal handlers)."""
    import threading

    return threading.current_thread() is threading.main_thread()


def address_space_bytes() -> int | None:
    """This process's current address-space size (Linux), or None where it cannot be read."""
    try:
        with open(f"/proc/{os.getpid()}/statm") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def set_limits(cpu_seconds: float, memory_allowance: int = MEMORY_ALLOWANCE_BYTES) -> int | None:
    """Limit this process from now on: ``cpu_seconds`` more seconds of processor time (then
    ``SIGXCPU`` at least :data:`HARD_STOP_AFTER_S` later, then ``SIGKILL``), its address space
    to what it has now plus ``memory_allowance``, and no core dumps.  Returns the address-space
    limit set, or None where none could be (macOS ignores it anyway)."""
    if resource is None:  # pragma: no cover - Windows
        return None
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    limit_cpu(cpu_seconds)
    size = address_space_bytes()
    if size is None:
        return None
    limit = size + memory_allowance
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        return None
    return limit


def limit_cpu(cpu_seconds: float) -> None:
    """Allow this process ``cpu_seconds`` more seconds of processor time, and at least
    :data:`HARD_STOP_AFTER_S` more before ``SIGXCPU`` (the kernel counts whole seconds), then
    ``SIGKILL`` :data:`KILL_AFTER_S` later (a limit may be lowered, never raised)."""
    if resource is None:  # pragma: no cover - Windows
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    soft = math.ceil(used + cpu_seconds + HARD_STOP_AFTER_S)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + KILL_AFTER_S))


def single_threaded_libraries() -> None:
    """Keep torch to one thread in a forked child: its OpenMP pool is not fork-safe, and the
    processor-time limit should measure the answer, not idle threads spinning."""
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            torch.set_num_threads(1)


# ------------------------------------------------------------------ how a child process ended
def describe_signal(number: int) -> str:
    """``SIGSEGV (Segmentation fault)`` for 11, and so on."""
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    description = signal.strsignal(number) if hasattr(signal, "strsignal") else None
    return f"{name} ({description})" if description else name


def wall_clock_deadline(cpu_seconds: float) -> float:
    """Seconds the parent waits for a check limited to ``cpu_seconds`` of processor time, if
    the check is not computing (see :class:`Deadline`)."""
    return WALL_CLOCK_FACTOR * cpu_seconds + GRACE_S


def process_cpu_seconds(pid: int) -> float | None:
    """Processor time used so far by process ``pid`` (Linux), or None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


class Deadline:
    """The parent's wall-clock deadline for a child limited to ``cpu_seconds`` of processor
    time.  A child that is still computing when the deadline comes (on a busy machine, its
    share of a core may be small) gets more time, up to ``WALL_CLOCK_CAP_FACTOR`` times as much:
    its own processor-time limit will stop it.  One that is waiting is killed."""

    def __init__(self, pid: int, seconds: float):
        self.pid = pid
        self.started = time.monotonic()
        self.at = self.started + seconds
        self.cap = self.started + WALL_CLOCK_CAP_FACTOR * seconds
        self.cpu = 0.0

    def left(self) -> float:
        """Seconds until the deadline, extended while the child computes; 0 when it has
        passed."""
        now = time.monotonic()
        if now < self.at:
            return self.at - now
        cpu = process_cpu_seconds(self.pid)
        if cpu is not None and cpu > self.cpu + 0.05 and now < self.cap:
            self.cpu = cpu
            self.at = now + 1.0
            return 1.0
        return 0.0

    def waited(self) -> float:
        """Seconds since the child started."""
        return time.monotonic() - self.started


# ---------------------------------------------------------------------- running in a child
@dataclass(frozen=True)
class Ending:
    """How a child process ended without sending an answer.

    ``how`` is ``"deadline"`` (the parent killed it at its wall-clock deadline), ``"signal"``
    (ended by signal ``number``), ``"exit"`` (ended with exit status ``number``) or
    ``"interrupt"`` (the parent was interrupted, e.g. by Jupyter's stop button, and ended it).
    ``waited`` is the wall-clock time and ``cpu`` the processor time the child used.
    """

    how: str
    number: int
    waited: float
    cpu: float


def run_in_child(
    job: Callable[[], dict],
    cpu_seconds: float,
    on_ending: Callable[[Ending], dict],
    wall_seconds: float | None = None,
) -> dict:
    """Run ``job`` in a forked copy of this process under the limits above and return the dict
    it returned (sent back through a pipe as JSON); when none came back, return
    ``on_ending(Ending(...))``."""
    wall = wall_clock_deadline(cpu_seconds) if wall_seconds is None else wall_seconds
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child (coverage does not follow it)
        os.close(read_end)
        _child(job, cpu_seconds, write_end)
    os.close(write_end)
    deadline = Deadline(pid, wall)
    received = bytearray()
    how = None
    try:
        while True:
            left = deadline.left()
            if left <= 0:
                how = "deadline"
                break
            ready, _, _ = select.select([read_end], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break  # the child closed its end: it sent everything, or it ended
                received += chunk
    except KeyboardInterrupt:
        how = "interrupt"
    finally:
        os.close(read_end)
        if how is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        status, cpu = _wait(pid)
    waited = deadline.waited()
    if how is None and received:
        with contextlib.suppress(json.JSONDecodeError, UnicodeDecodeError):
            return json.loads(received.decode())
    if how is not None:
        return on_ending(Ending(how, 0, waited, cpu))
    if os.WIFSIGNALED(status):
        return on_ending(Ending("signal", os.WTERMSIG(status), waited, cpu))
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    return on_ending(Ending("exit", code, waited, cpu))


def _wait(pid: int) -> tuple[int, float]:
    """Wait for the child (an interrupt cannot break this off: the child is already ending);
    returns its wait status and the processor time it used."""
    while True:
        try:
            _, status, usage = os.wait4(pid, 0)
            return status, usage.ru_utime + usage.ru_stime
        except ChildProcessError:
            return 0, 0.0
        except KeyboardInterrupt:
            continue


def _child(job: Callable[[], dict], cpu_seconds: float, write_end: int) -> None:  # pragma: no cover
    """The child's side: silence its output, set the limits, run ``job``, send its dict."""
    status = 0
    try:
        # Anything printed at the file-descriptor level would reach the notebook through the
        # kernel's own pipes; the child's Python-level output is captured and dropped.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        sys.stdout = sys.stderr = io.StringIO()
        # faulthandler writes to a copy of the parent's stderr: a crash is reported as a verdict.
        faulthandler.disable()
        if threading_is_main():
            signal.signal(signal.SIGINT, signal.default_int_handler)
        single_threaded_libraries()
        set_limits(cpu_seconds)
        answer = job()
        message = json.dumps(answer).encode()
        view = memoryview(message)
        while view:
            view = view[os.write(write_end, view) :]
    except BaseException:  # noqa: BLE001 - nothing may escape a forked child
        status = 70  # EX_SOFTWARE: the parent reports a child that ended without an answer
    finally:
        os._exit(status)
