"""Optimizers with ``torch.optim``'s names and update rules: :class:`Optimizer` (parameter
groups, state, ``state_dict``), :class:`SGD`, :class:`Adam`, :class:`AdamW`, :class:`RMSprop`,
:class:`Adagrad`, and :class:`Adadelta`, :class:`Adamax`, :class:`NAdam`,
:class:`RAdam`; learning-rate schedules in :mod:`engine.optim.lr_scheduler`."""

from engine.optim.algorithms import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    NAdam,
    RAdam,
    RMSprop,
)
from engine.optim.optimizer import Optimizer

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
]
