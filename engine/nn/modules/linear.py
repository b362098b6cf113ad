"""``Identity``, ``Linear``, ``LazyLinear`` and ``Bilinear``, with torch's default
initialization: ``kaiming_uniform_(weight, a=sqrt(5))``, i.e. ``U(-1/sqrt(fan_in),
1/sqrt(fan_in))``, and the bias from the same range."""

from __future__ import annotations

import math
from typing import Any

from engine.nn import functional as F
from engine.nn import init
from engine.nn.modules.module import Module
from engine.nn.parameter import Parameter, UninitializedParameter
from engine.ops.creation import empty
from engine.tensor import Tensor

__all__ = ["Bilinear", "Identity", "LazyLinear", "Linear", "NonDynamicallyQuantizableLinear"]


class Identity(Module):
    """Returns its input; any constructor arguments are ignored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """``input`` itself."""
        return input


class Linear(Module):
    """``y = x @ weight.T + bias`` with ``weight`` ``(out_features, in_features)``."""

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torch's default: ``kaiming_uniform_(a=sqrt(5))`` for the weight (bound
        ``1/sqrt(fan_in)``) and ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """``F.linear(input, weight, bias)``."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        """``in_features=..., out_features=..., bias=...``."""
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class NonDynamicallyQuantizableLinear(Linear):
    """A :class:`Linear` under another name: ``MultiheadAttention``'s output projection (in
    torch the name keeps the quantization tools away from it; here it only matches the repr)."""


class LazyLinear(Linear):
    """A :class:`Linear` whose ``in_features`` is read from its first input: until then its
    parameters are :class:`~engine.nn.parameter.UninitializedParameter`; the first call creates
    and initializes them, and the module becomes a ``Linear``."""

    def __init__(self, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        Module.__init__(self)
        self.in_features = 0
        self.out_features = out_features
        self._dtype = dtype
        self.weight = UninitializedParameter()
        if bias:
            self.bias = UninitializedParameter()
        else:
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """Nothing to initialize until the shape is known."""

    def forward(self, input: Tensor) -> Tensor:
        """Create the parameters for ``input.shape[-1]`` features (unless a state dict was
        loaded into them already), then act as Linear."""
        if isinstance(self.weight, UninitializedParameter):
            in_features = input.shape[-1]
            dtype = self._dtype or input.dtype
            self.weight = Parameter(empty(self.out_features, in_features, dtype=dtype))
            if self.bias is not None:
                self.bias = Parameter(empty(self.out_features, dtype=dtype))
            self.in_features = in_features
            Linear.reset_parameters(self)
        self.in_features = self.weight.shape[1]
        self.__class__ = Linear
        return self.forward(input)


class Bilinear(Module):
    """``y[k] = x1 @ weight[k] @ x2 + bias[k]`` with ``weight``
    ``(out_features, in1_features, in2_features)``; weight and bias start from
    ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``."""

    def __init__(
        self,
        in1_features: int,
        in2_features: int,
        out_features: int,
        bias: bool = True,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Weight and bias from ``U(-1/sqrt(in1_features), 1/sqrt(in1_features))``."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """``F.bilinear(input1, input2, weight, bias)``."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        """``in1_features=..., in2_features=..., out_features=..., bias=...``."""
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )
