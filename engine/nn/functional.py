"""``torch.nn.functional``'s names: ``softmax``, ``log_softmax`` and ``gumbel_softmax``.

``softmax`` and ``log_softmax`` are the fused, stable ops of :mod:`engine.ops.softmax`.
``gumbel_softmax`` draws a differentiable sample from a categorical distribution: Gumbel
noise ``-log(-log(U))`` added to the logits, then a softmax at temperature ``tau``.  With
``hard=True`` the forward value is the one-hot of the sample while the gradient is the soft
sample's (the straight-through trick: ``y_hard - y_soft.detach() + y_soft``).
"""

from __future__ import annotations

from engine import layout
from engine.ops.indexing import one_hot
from engine.ops.softmax import log_softmax, softmax
from engine.random import rand_like
from engine.tensor import Tensor

__all__ = ["gumbel_softmax", "log_softmax", "softmax"]


def gumbel_softmax(
    logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1
) -> Tensor:
    """A sample from the Gumbel-softmax (concrete) distribution over ``dim``: shape of
    ``logits``.  ``hard=True`` returns one-hot vectors whose gradient is the soft sample's.
    ``eps`` is accepted for torch's signature and unused, as in torch."""
    uniform = rand_like(logits.detach())
    # -log(-log(U)) is Gumbel(0, 1); U = 0 or 1 would give inf, which rand never returns.
    gumbels = -(-uniform.log()).log()
    soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return soft
    axis = layout.wrap_dim(dim, soft.ndim)
    index = soft.detach().argmax(axis)
    chosen = one_hot(index, soft.shape[axis]).to(soft.dtype)
    order = [*range(axis), soft.ndim - 1, *range(axis, soft.ndim - 1)]
    hard_sample = chosen.permute(order) if soft.ndim > 1 else chosen
    return hard_sample - soft.detach() + soft
