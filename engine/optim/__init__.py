"""Optimizers with ``torch.optim``'s names and update rules: :class:`Optimizer` (parameter
groups, state, ``state_dict``), :class:`SGD`, :class:`Adam`, :class:`AdamW`, :class:`RMSprop`,
:class:`Adagrad`; learning-rate schedules in :mod:`engine.optim.lr_scheduler`."""

from engine.optim.algorithms import SGD, Adagrad, Adam, AdamW, RMSprop
from engine.optim.optimizer import Optimizer

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]
