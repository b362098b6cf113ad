"""``Parameter``: a tensor that a :class:`~engine.nn.Module` registers as one of its parameters.

A Parameter is an ordinary leaf tensor (same storage, shape and strides as the data it wraps)
whose type tells ``Module.__setattr__`` to register it: ``self.weight = Parameter(...)`` puts it
in ``self._parameters``, so ``parameters()``, ``state_dict()`` and the optimizers find it.
Results of ops on a Parameter are plain tensors, as in torch.
"""

from __future__ import annotations

from engine.ops.creation import empty
from engine.tensor import Tensor

__all__ = ["Parameter", "UninitializedParameter"]


class Parameter(Tensor):
    """A leaf tensor registered as a module parameter; ``requires_grad`` is True by default.

    ``Parameter(data)`` shares ``data``'s storage (no copy) and is cut out of any graph
    ``data`` belongs to."""

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        super().__init__(
            data.untyped_storage(),
            data.shape,
            data.stride(),
            data.storage_offset(),
            requires_grad=requires_grad,
        )

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # As torch: a copy of the values with the same requires_grad; the gradient is not
        # copied (copy.deepcopy(model) starts with no gradients).
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.detach().clone(), self.requires_grad)
        return memo[id(self)]


class UninitializedParameter(Parameter):
    """The placeholder weight of a lazy module (``LazyLinear``) until its first call sets the
    shape: it holds no elements."""

    def __init__(self, requires_grad: bool = True) -> None:
        super().__init__(None, requires_grad)

    def __repr__(self) -> str:
        return "<UninitializedParameter>"
