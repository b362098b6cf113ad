"""Reverse-mode automatic differentiation, with torch.autograd's API and semantics.

- :class:`Function` (``forward``/``backward`` + ``ctx``) is how every differentiable op records
  itself; graph nodes are ``grad_fn`` objects named like torch's (``MulBackward0``).
- :func:`backward` / ``Tensor.backward`` accumulate into leaves' ``.grad``; :func:`grad` returns
  gradients without touching ``.grad``.
- :class:`no_grad`, :class:`enable_grad`, :class:`set_grad_enabled`: grad modes.
- :func:`gradcheck`: analytical vs numerical (central-difference) gradients;
  :func:`gradgradcheck`: the same for second derivatives (the backward of backward).
"""

from __future__ import annotations

from engine.autograd import graph
from engine.autograd.backward_engine import run_backward
from engine.autograd.function import (
    AccumulateGrad,
    BackwardNode,
    Function,
    FunctionCtx,
    Node,
)
from engine.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from engine.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "AccumulateGrad",
    "BackwardNode",
    "Function",
    "FunctionCtx",
    "GradcheckError",
    "Node",
    "backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "graph",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


def _as_list(value) -> list | None:
    from engine.tensor import Tensor

    if value is None:
        return None
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def backward(
    tensors,
    grad_tensors=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs=None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (only ``inputs`` when given).

    ``grad_tensors`` are the vectors of the vector-Jacobian products, one per tensor (optional
    for single-element tensors).  The graph's saved tensors are freed afterwards unless
    ``retain_graph``; ``create_graph`` records the backward pass itself, for higher derivatives.
    """
    outputs = _as_list(tensors)
    grads = _as_list(grad_tensors)
    input_list = _as_list(inputs)
    if input_list is not None and not input_list:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    run_backward(
        outputs,
        grads,
        retain_graph=retain_graph,
        create_graph=create_graph,
        inputs=input_list,
        accumulate=True,
    )


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple (one per input);
    ``.grad`` fields are not touched.  An input the outputs do not depend on is an error
    unless ``allow_unused`` (its gradient is then None, or zeros with ``materialize_grads``)."""
    from engine.ops import creation

    output_list = _as_list(outputs)
    input_list = _as_list(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    grads = run_backward(
        output_list,
        _as_list(grad_outputs),
        retain_graph=retain_graph,
        create_graph=create_graph,
        inputs=input_list,
        accumulate=False,
        allow_unused=allow_unused,
    )
    if materialize_grads:
        grads = [
            creation.zeros_like(tensor) if value is None else value
            for tensor, value in zip(input_list, grads, strict=True)
        ]
    return tuple(grads)
