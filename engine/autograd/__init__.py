"""Reverse-mode automatic differentiation, with torch.autograd's API and semantics.

- :class:`Function` (``forward``/``backward`` + ``ctx``) is how every differentiable op records
  itself; graph nodes are ``grad_fn`` objects named like torch's (``MulBackward0``).
- :func:`backward` / ``Tensor.backward`` accumulate into leaves' ``.grad``; :func:`grad` returns
  gradients without touching ``.grad``.
- :class:`no_grad`, :class:`enable_grad`, :class:`set_grad_enabled`, :class:`inference_mode`:
  grad modes.
- :class:`detect_anomaly`, :class:`set_detect_anomaly`: anomaly detection (a failing or NaN
  backward node is reported with the traceback of the forward call that created it).
- :func:`gradcheck`: analytical vs numerical (central-difference) gradients;
  :func:`gradgradcheck`: the same for second derivatives (the backward of backward).
"""

from __future__ import annotations

from engine.autograd import forward_ad, functional, graph
from engine.autograd.backward_engine import backward, grad
from engine.autograd.function import (
    AccumulateGrad,
    BackwardNode,
    Function,
    FunctionCtx,
    Node,
)
from engine.autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
)
from engine.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "AccumulateGrad",
    "BackwardNode",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Node",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "forward_ad",
    "functional",
    "gradgradcheck",
    "graph",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
]
