"""Checks for the course's exercises, usable from a notebook cell and from the shell.

In a notebook::

    from engine.grading import check
    check("mul", mul)          # prints [PASS] or [FAIL] with the case that went wrong
    hint("mul")                # the next hint for exercise mul; hint("mul", 2) for the second

From the shell (``make grade``)::

    python -m engine.grading exercises/

Each chapter's checks live in one module here (``chapter01`` ...); importing this package
registers all of them.

Why the checks live inside the ``engine`` package rather than in a top-level package of their
own: the checks compare answers with the engine (and so need it), one ``pip install`` of the
repository gives a learner in Colab both, and nothing is hidden by moving them -- the
reference answers are in ``solutions/`` anyway.  The grading modules import the engine's public
API only; the engine never imports them (``tests/test_layers.py``).
"""

from engine.grading import (  # noqa: F401  (importing a chapter module registers its checks)
    chapter01,
    chapter02,
    chapter03,
    chapter04,
    chapter05,
    chapter06,
    chapter07,
    chapter08,
    chapter09,
    chapter10,
    chapter11,
    chapter12,
)
from engine.grading.core import (
    EXERCISES,
    Result,
    check,
    exercises_of,
    explain,
    freeze,
    grade,
    hint,
    install_notebook_hooks,
    outcome,
    raises,
)

freeze()  # grade() uses this copy of the registry from now on
install_notebook_hooks()  # in a kernel: a check cell run too early prints a verdict

__all__ = [
    "EXERCISES",
    "Result",
    "check",
    "exercises_of",
    "explain",
    "grade",
    "hint",
    "outcome",
    "raises",
]
