"""``torch.autograd.functional``'s Hessian products: ``hvp`` and ``vhp``.

Both avoid forming the Hessian.  ``vhp`` is reverse-over-reverse: the gradient ``g(x)`` is
computed with ``create_graph=True`` and then differentiated again in the direction ``v``,
giving ``v^T H``.  ``hvp`` is forward-over-reverse: the gradient is computed while ``x``
carries the tangent ``v`` (forward mode), so the tangent of the gradient is ``H v``.  For a
function that is twice continuously differentiable ``H`` is symmetric and the two agree.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.autograd import forward_ad, grad_mode
from engine.autograd.backward_engine import grad as autograd_grad
from engine.ops.creation import zeros_like
from engine.tensor import Tensor

__all__ = ["hvp", "vhp"]


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _scalar_output(func: Callable, inputs: tuple, name: str) -> Tensor:
    output = func(*inputs)
    if not isinstance(output, Tensor) or output.numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single element"
        )
    return output


def _check_v(v, inputs: tuple, name: str) -> tuple:
    if v is None:
        if len(inputs) == 1 and inputs[0].numel() == 1:
            return (inputs[0].new_ones(inputs[0].shape),)
        raise RuntimeError(
            f"The vector v can only be None if the input to the user-provided function is a "
            f"single Tensor with a single element ({name})."
        )
    vectors = _as_tuple(v)
    if len(vectors) != len(inputs):
        raise RuntimeError(
            f"v is a tuple of invalid length: should be {len(inputs)} but got {len(vectors)}."
        )
    for index, (vector, tensor) in enumerate(zip(vectors, inputs, strict=True)):
        if vector.shape != tensor.shape:
            raise RuntimeError(
                f"Entry {index} in v has invalid size: should be {list(tensor.shape)} but got "
                f"{list(vector.shape)}."
            )
    return vectors


def _finish(output: Tensor, products: tuple, inputs, create_graph: bool):
    products = tuple(
        zeros_like(tensor) if product is None else product
        for tensor, product in zip(_as_tuple(inputs), products, strict=True)
    )
    if not create_graph:
        output, products = output.detach(), tuple(product.detach() for product in products)
    return output, products if isinstance(inputs, tuple) else products[0]


def vhp(
    func: Callable,
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """``(func(inputs), v^T H)``: reverse-over-reverse, without forming the Hessian ``H``."""
    leaves = tuple(tensor.detach().requires_grad_() for tensor in _as_tuple(inputs))
    vectors = _check_v(v, leaves, "vhp")
    with grad_mode.enable_grad():
        output = _scalar_output(func, leaves, "vhp")
        grads = autograd_grad(output, leaves, create_graph=True, allow_unused=True)
        used = [
            (grad, vector) for grad, vector in zip(grads, vectors, strict=True) if grad is not None
        ]
        products = (None,) * len(leaves)
        if used and any(grad.requires_grad for grad, _ in used):
            products = autograd_grad(
                [grad for grad, _ in used],
                leaves,
                [vector for _, vector in used],
                create_graph=create_graph,
                allow_unused=True,
            )
    return _finish(output, products, inputs, create_graph)


def hvp(
    func: Callable,
    inputs: Tensor | tuple[Tensor, ...],
    v: Tensor | tuple[Tensor, ...] | None = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple:
    """``(func(inputs), H v)``: forward-over-reverse (the gradient computed while the inputs
    carry the tangent ``v``), without forming the Hessian ``H``."""
    originals = _as_tuple(inputs)
    vectors = _check_v(v, originals, "hvp")
    with forward_ad.dual_level():
        leaves = tuple(
            forward_ad.make_dual(tensor.detach(), vector).requires_grad_()
            for tensor, vector in zip(originals, vectors, strict=True)
        )
        with grad_mode.enable_grad():
            output = _scalar_output(func, leaves, "hvp")
            grads = autograd_grad(output, leaves, create_graph=create_graph, allow_unused=True)
        products = tuple(
            None if grad is None else forward_ad.unpack_dual(grad).tangent for grad in grads
        )
        output = forward_ad.unpack_dual(output).primal
    return _finish(output, products, inputs, create_graph)
