"""``Dropout``: zeroes elements with probability ``p`` in training mode, scaling the rest by
``1 / (1 - p)``; the identity after ``eval()``."""

from __future__ import annotations

from engine.nn import functional as F
from engine.nn.modules.module import Module
from engine.tensor import Tensor

__all__ = ["Dropout"]


class Dropout(Module):
    """Randomly zero elements while ``self.training`` (see :func:`engine.nn.functional.dropout`)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """``dropout(input, p, training=self.training)``."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        """``p=..., inplace=...``."""
        return f"p={self.p}, inplace={self.inplace}"
