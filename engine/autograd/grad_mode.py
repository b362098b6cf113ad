"""Grad mode: the one global switch that says whether ops record a graph, and the modes next
to it.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` / ``inference_mode`` work as context
managers and as decorators, like torch's, and always restore the previous mode, even when the
body raises.  ``inference_mode`` also sets the flag that new tensors read
(``engine.tensor.INFERENCE_MODE``: they become inference tensors).  Forward-mode AD's state
(``FORWARD_AD``) and anomaly detection's (``ANOMALY_MODE``: ``detect_anomaly``,
``set_detect_anomaly``) live here too, as flags that ``Function.apply`` and the backward engine
read.
"""

from __future__ import annotations

import functools
import warnings
import weakref
from collections.abc import Callable


class GradMode:
    """The grad-mode flag (torch's ``GradMode``).  ``GRAD_MODE.enabled`` is read directly by
    ``Function.apply``, which runs for every op; everything else calls :func:`is_grad_enabled`
    and changes the mode only through the context managers below."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


GRAD_MODE = GradMode()


class ForwardAD:
    """Forward-mode state (torch's forward AD levels, of which only one may be open at a
    time): whether a dual level is open, and the tensors that hold a tangent at that level
    (weakly, so that leaving the level can drop every tangent).  ``Function.apply`` reads
    ``FORWARD_AD.active`` for every op; :mod:`engine.autograd.forward_ad` opens and closes it."""

    __slots__ = ("active", "duals")

    def __init__(self) -> None:
        self.active = False
        # id -> tensor, weakly (a WeakSet would compare tensors with ==, which is elementwise).
        self.duals: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


FORWARD_AD = ForwardAD()


def is_grad_enabled() -> bool:
    """Whether ops called now record the autograd graph."""
    return GRAD_MODE.enabled


def _set_enabled(mode: bool) -> None:
    GRAD_MODE.enabled = bool(mode)


class _GradModeContext:
    """Base of the grad-mode context managers: saves the mode on enter, restores it on exit."""

    _mode: bool

    def __enter__(self) -> None:
        self._previous = is_grad_enabled()
        _set_enabled(self._mode)

    def __exit__(self, *exc_info) -> None:
        _set_enabled(self._previous)

    def __call__(self, function: Callable) -> Callable:
        """Use as a decorator: the function runs in this grad mode."""

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._init_args()):
                return function(*args, **kwargs)

        return wrapper

    def _init_args(self) -> tuple:
        return ()


class _NoArgumentContext(_GradModeContext):
    """Allows both ``@no_grad()`` and the bare ``@no_grad`` decorator, as torch does."""

    def __new__(cls, function: Callable | None = None):
        instance = super().__new__(cls)
        if function is None:
            return instance
        return instance(function)

    def __init__(self, function: Callable | None = None) -> None:
        pass


class no_grad(_NoArgumentContext):  # noqa: N801 - torch's name
    """Ops inside do not record a graph (their results have ``requires_grad=False``)."""

    _mode = False


class enable_grad(_NoArgumentContext):  # noqa: N801 - torch's name
    """Turn recording back on inside a ``no_grad`` region."""

    _mode = True


class set_grad_enabled(_GradModeContext):  # noqa: N801 - torch's name
    """``set_grad_enabled(mode)``: takes effect immediately (like torch, it also works as a plain
    function call), and as a context manager restores the previous mode on exit."""

    def __init__(self, mode: bool) -> None:
        self._previous = is_grad_enabled()
        self._mode = bool(mode)
        _set_enabled(self._mode)

    def __enter__(self) -> None:
        # The mode was already set by __init__; _previous was recorded there.
        pass

    def _init_args(self) -> tuple:
        return (self._mode,)

    def __call__(self, function: Callable) -> Callable:
        # As a decorator the constructor must not change the mode for the rest of the program.
        _set_enabled(self._previous)
        mode = self._mode

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return function(*args, **kwargs)

        return wrapper


# ------------------------------------------------------------------------------ inference mode
def is_inference_mode_enabled() -> bool:
    """Whether ``inference_mode`` is on: ops record nothing and new tensors are inference
    tensors (``Tensor.is_inference()``)."""
    from engine.tensor import INFERENCE_MODE

    return INFERENCE_MODE.enabled


class inference_mode(_GradModeContext):  # noqa: N801 - torch's name
    """``no_grad`` and more (torch's ``inference_mode``): inside, ops record no graph, and every
    tensor created (a new storage, not a view of a normal tensor) is an *inference tensor*.
    Autograd refuses to save an inference tensor for backward later, and an in-place update
    of one outside inference mode is an error; in exchange torch skips the version counter
    and view tracking for them.  ``inference_mode(False)`` turns it off (and grad mode on).
    A context manager and a decorator, bare (``@inference_mode``) or called."""

    def __new__(cls, mode: bool | Callable = True):
        instance = super().__new__(cls)
        if isinstance(mode, bool):
            return instance
        instance.__init__(True)
        return instance(mode)

    def __init__(self, mode: bool | Callable = True) -> None:
        if isinstance(mode, bool):
            self._mode = mode

    def _init_args(self) -> tuple:
        return (self._mode,)

    def __enter__(self) -> None:
        from engine.tensor import INFERENCE_MODE

        self._previous = (is_grad_enabled(), INFERENCE_MODE.enabled)
        _set_enabled(not self._mode)
        INFERENCE_MODE.enabled = self._mode

    def __exit__(self, *exc_info) -> None:
        from engine.tensor import INFERENCE_MODE

        grad_enabled, INFERENCE_MODE.enabled = self._previous
        _set_enabled(grad_enabled)


# ---------------------------------------------------------------------------- anomaly mode
class AnomalyMode:
    """Anomaly detection (torch's ``AnomalyMode``): when ``enabled``, every recorded node keeps
    the stack of the forward call that created it, a failing backward node reports that stack,
    and with ``check_nan`` a node that returns NaN gradients is an error."""

    __slots__ = ("enabled", "check_nan")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True


ANOMALY_MODE = AnomalyMode()

_ANOMALY_WARNING = (
    "Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
    "enabled for debugging."
)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return ANOMALY_MODE.enabled


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks every backward node's gradients for NaN."""
    return ANOMALY_MODE.check_nan


def _set_anomaly(mode: bool, check_nan: bool) -> None:
    ANOMALY_MODE.enabled = bool(mode)
    ANOMALY_MODE.check_nan = bool(check_nan)


class detect_anomaly:  # noqa: N801 - torch's name
    """Context manager (and decorator) that turns anomaly detection on, with torch's warning
    that it slows everything down.  A backward node that raises, or returns NaN gradients
    (``check_nan``), is reported with the traceback of the forward call that created it."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        warnings.warn(_ANOMALY_WARNING, UserWarning, stacklevel=2)

    def __enter__(self) -> None:
        self._previous = (ANOMALY_MODE.enabled, ANOMALY_MODE.check_nan)
        _set_anomaly(True, self.check_nan)

    def __exit__(self, *exc_info) -> None:
        _set_anomaly(*self._previous)

    def __call__(self, function: Callable) -> Callable:
        """Use as a decorator: the function runs with anomaly detection on."""

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801 - torch's name
    """``set_detect_anomaly(mode, check_nan=True)``: takes effect immediately (a plain call
    switches it for good) and, as a context manager, restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._previous = (ANOMALY_MODE.enabled, ANOMALY_MODE.check_nan)
        _set_anomaly(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        _set_anomaly(*self._previous)
