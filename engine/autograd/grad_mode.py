"""Grad mode: the one global switch that says whether ops record a graph.

``no_grad`` / ``enable_grad`` / ``set_grad_enabled`` work as context managers and as decorators,
like torch's, and always restore the previous mode, even when the body raises.
"""

from __future__ import annotations

import functools
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
