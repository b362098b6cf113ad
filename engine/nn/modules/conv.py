"""``Conv1d`` and ``Conv2d``: a weight ``(out_channels, in_channels / groups, *kernel_size)``
and a bias, initialized like ``Linear`` (``kaiming_uniform_(a=sqrt(5))``, fan_in =
``in_channels / groups * prod(kernel_size)``); the computation is
:func:`engine.nn.functional.conv2d` (windows by ``as_strided``, then one matmul).
``ConvTranspose1d``/``2d`` hold ``(in_channels, out_channels / groups, *kernel_size)``.
A ``padding_mode`` other than ``"zeros"`` pads with :func:`engine.nn.functional.pad` first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from engine.nn import functional as F
from engine.nn import init
from engine.nn.modules.module import Module
from engine.nn.parameter import Parameter
from engine.ops.creation import empty
from engine.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


class _ConvNd(Module):
    """What Conv1d and Conv2d share; ``dims`` is the number of spatial dims."""

    dims = 2
    transposed = False

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = None,
        output_padding: int | Sequence[int] = 0,
    ) -> None:
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
                )
            if padding == "same" and any(s != 1 for s in self._tuple(stride)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                "padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], "
                f"but got padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = self._tuple(kernel_size)
        self.stride = self._tuple(stride)
        self.padding = padding if isinstance(padding, str) else self._tuple(padding)
        self.dilation = self._tuple(dilation)
        self.groups = groups
        self.padding_mode = padding_mode
        self.output_padding = self._tuple(output_padding)
        if self.transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(empty(*shape, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _tuple(self, value: int | Sequence[int]) -> tuple[int, ...]:
        return (value,) * self.dims if isinstance(value, int) else tuple(value)

    def reset_parameters(self) -> None:
        """torch's default: ``kaiming_uniform_(a=sqrt(5))`` for the weight, the bias from
        ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        """torch's: the sizes, then the options that differ from their defaults."""
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        zeros = (0,) * self.dims
        if self.padding != zeros:
            text += f", padding={self.padding}"
        if self.output_padding != zeros:
            text += f", output_padding={self.output_padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def _padded(self, input: Tensor) -> tuple[Tensor, str | tuple[int, ...]]:
        """With a non-zeros ``padding_mode``: the input padded that way, and padding 0 for the
        convolution itself."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size, strict=True)]
            pairs = [(total // 2, total - total // 2) for total in totals]
        elif self.padding == "valid":
            pairs = [(0, 0)] * self.dims
        else:
            pairs = [(amount, amount) for amount in self.padding]
        amounts = [amount for pair in reversed(pairs) for amount in pair]
        return F.pad(input, amounts, mode=self.padding_mode), (0,) * self.dims


class Conv1d(_ConvNd):
    """1-d convolution over ``(N, C_in, L)`` (see :func:`engine.nn.functional.conv1d`)."""

    dims = 1

    def forward(self, input: Tensor) -> Tensor:
        """``conv1d(input, weight, bias, stride, padding, dilation, groups)``."""
        input, padding = self._padded(input)
        return F.conv1d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv2d(_ConvNd):
    """2-d convolution over ``(N, C_in, H, W)`` (see :func:`engine.nn.functional.conv2d`)."""

    dims = 2

    def forward(self, input: Tensor) -> Tensor:
        """``conv2d(input, weight, bias, stride, padding, dilation, groups)``."""
        input, padding = self._padded(input)
        return F.conv2d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv3d(_ConvNd):
    """3-d convolution over ``(N, C_in, D, H, W)`` (see :func:`engine.nn.functional.conv3d`)."""

    dims = 3

    def forward(self, input: Tensor) -> Tensor:
        """``conv3d(input, weight, bias, stride, padding, dilation, groups)``."""
        input, padding = self._padded(input)
        return F.conv3d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class _ConvTransposeNd(_ConvNd):
    """Transposed convolutions: the weight is ``(in_channels, out_channels / groups, *k)``."""

    transposed = True

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        dtype: Any = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
            output_padding,
        )


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution (see :func:`engine.nn.functional.conv_transpose1d`)."""

    dims = 1

    def forward(self, input: Tensor) -> Tensor:
        """``conv_transpose1d(input, weight, bias, ...)``."""
        return F.conv_transpose1d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution (see :func:`engine.nn.functional.conv_transpose2d`)."""

    dims = 2

    def forward(self, input: Tensor) -> Tensor:
        """``conv_transpose2d(input, weight, bias, ...)``."""
        return F.conv_transpose2d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution (see :func:`engine.nn.functional.conv_transpose3d`)."""

    dims = 3

    def forward(self, input: Tensor) -> Tensor:
        """``conv_transpose3d(input, weight, bias, ...)``."""
        return F.conv_transpose3d(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )
