"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their one-step cells.

A recurrent layer is a loop over time around a *cell*, a small function of the current input
and the previous state, whose weights are shared by every step:

- RNN:  ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (or relu);
- LSTM: four gates from the same two matmuls, in torch's order ``i, f, g, o``:
  ``c' = sigmoid(f) * c + sigmoid(i) * tanh(g)``, ``h' = sigmoid(o) * tanh(c')``;
- GRU:  three gates ``r, z, n``: ``n = tanh(x W_in + b_in + r * (h W_hn + b_hn))``,
  ``h' = (1 - z) * n + z * h``.

Backpropagation through time is just autograd over the unrolled loop.  A packed batch of
sequences of different lengths (:mod:`engine.nn.utils.rnn`) runs padded, each sequence's
state frozen after its last step.  Layers stack
(``num_layers``; dropout between them in training), run both ways (``bidirectional``), and
take ``(seq, batch, feature)`` input, or ``(batch, seq, feature)`` with ``batch_first``.  The
parameters are named as torch's (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...) and start
from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from engine.nn import functional as F
from engine.nn import init
from engine.nn.modules.module import Module
from engine.nn.parameter import Parameter
from engine.nn.utils.rnn import PackedSequence, pad_packed_sequence
from engine.ops.creation import empty, zeros
from engine.ops.elementwise import relu, sigmoid, tanh, where
from engine.ops.join import cat, stack
from engine.tensor import Tensor

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell"]

Weights = tuple[Tensor, Tensor, Tensor | None, Tensor | None]


def _chunks(tensor: Tensor, count: int) -> list[Tensor]:
    """``count`` equal slices of the last dim (the gates stacked in one matmul's result)."""
    size = tensor.shape[-1] // count
    return [tensor.narrow(-1, index * size, size) for index in range(count)]


def rnn_tanh_cell(input: Tensor, hidden: Tensor, weights: Weights) -> Tensor:
    """One step of an Elman RNN with tanh: ``tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``."""
    w_ih, w_hh, b_ih, b_hh = weights
    return tanh(F.linear(input, w_ih, b_ih) + F.linear(hidden, w_hh, b_hh))


def rnn_relu_cell(input: Tensor, hidden: Tensor, weights: Weights) -> Tensor:
    """One step of an Elman RNN with relu."""
    w_ih, w_hh, b_ih, b_hh = weights
    return relu(F.linear(input, w_ih, b_ih) + F.linear(hidden, w_hh, b_hh))


def lstm_cell(
    input: Tensor, state: tuple[Tensor, Tensor], weights: Weights
) -> tuple[Tensor, Tensor]:
    """One LSTM step: gates ``i, f, g, o`` (torch's order) from ``x`` and ``h``; returns
    ``(h', c')``."""
    hidden, cell = state
    w_ih, w_hh, b_ih, b_hh = weights
    gates = F.linear(input, w_ih, b_ih) + F.linear(hidden, w_hh, b_hh)
    in_gate, forget_gate, candidate, out_gate = _chunks(gates, 4)
    cell = sigmoid(forget_gate) * cell + sigmoid(in_gate) * tanh(candidate)
    return sigmoid(out_gate) * tanh(cell), cell


def gru_cell(input: Tensor, hidden: Tensor, weights: Weights) -> Tensor:
    """One GRU step: reset ``r``, update ``z``, candidate ``n`` (torch's order)."""
    w_ih, w_hh, b_ih, b_hh = weights
    input_r, input_z, input_n = _chunks(F.linear(input, w_ih, b_ih), 3)
    hidden_r, hidden_z, hidden_n = _chunks(F.linear(hidden, w_hh, b_hh), 3)
    reset = sigmoid(input_r + hidden_r)
    update = sigmoid(input_z + hidden_z)
    candidate = tanh(input_n + reset * hidden_n)
    return (1 - update) * candidate + update * hidden


def _reset_uniform(module: Module, hidden_size: int) -> None:
    """torch's recurrent init: every parameter from ``U(-1/sqrt(hidden), 1/sqrt(hidden))``."""
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0
    for parameter in module.parameters():
        init.uniform_(parameter, -bound, bound)


def _repack(output: Tensor, like: PackedSequence) -> PackedSequence:
    """``output`` ``(T, B, *)`` packed with the steps and the order of ``like``."""
    if like.sorted_indices is not None:
        output = output[:, like.sorted_indices]
    sizes = like.batch_sizes.tolist()
    data = cat([output[t, :size] for t, size in enumerate(sizes)])
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


class _RNNBase(Module):
    """The loop over layers, directions and time steps that RNN, LSTM and GRU share."""

    gates = 1
    is_lstm = False

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                UserWarning,
                stacklevel=2,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        gate_size = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                name = f"l{layer}{suffix}"
                shapes = {
                    f"weight_ih_{name}": (gate_size, layer_input),
                    f"weight_hh_{name}": (gate_size, hidden_size),
                }
                if bias:
                    shapes[f"bias_ih_{name}"] = (gate_size,)
                    shapes[f"bias_hh_{name}"] = (gate_size,)
                for key, shape in shapes.items():
                    setattr(self, key, Parameter(empty(*shape, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        _reset_uniform(self, self.hidden_size)

    def _weights(self, layer: int, direction: int) -> Weights:
        name = f"l{layer}{'_reverse' if direction else ''}"
        return (
            getattr(self, f"weight_ih_{name}"),
            getattr(self, f"weight_hh_{name}"),
            getattr(self, f"bias_ih_{name}") if self.bias else None,
            getattr(self, f"bias_hh_{name}") if self.bias else None,
        )

    def _cell(self) -> Callable:
        raise NotImplementedError

    def _check_hidden(self, hidden: Tensor, expected: tuple, label: str) -> None:
        if tuple(hidden.shape) != expected:
            raise RuntimeError(f"Expected {label} size {expected}, got {list(hidden.shape)}")

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Any, Any]:
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``): ``output`` holds the last
        layer's hidden state at every step (both directions concatenated), ``h_n`` every
        layer's and direction's last state, shape ``(num_layers * directions, batch,
        hidden_size)``.  A :class:`~engine.nn.utils.rnn.PackedSequence` input gives a packed
        output, and each sequence's state stops at its own length."""
        packed = input if isinstance(input, PackedSequence) else None
        lengths = None
        if packed is not None:
            input, lengths = pad_packed_sequence(packed)
        elif input.dim() not in (2, 3):
            raise ValueError(
                f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D "
                "tensor instead"
            )
        unbatched = packed is None and input.dim() == 2
        if unbatched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if self.is_lstm else hx.unsqueeze(1)
        elif self.batch_first and packed is None:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.shape[-1]}"
            )
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, input.shape[1], self.hidden_size)
        if hx is None:
            hx = zeros(expected, dtype=input.dtype)
            hx = (hx, hx) if self.is_lstm else hx
        if self.is_lstm:
            self._check_hidden(hx[0], expected, "hidden[0]")
            self._check_hidden(hx[1], expected, "hidden[1]")
        else:
            self._check_hidden(hx, expected, "hidden")
        output, finals = self._layers(input, hx, lengths)
        if self.is_lstm:
            h_n = (stack([h for h, _ in finals]), stack([c for _, c in finals]))
        else:
            h_n = stack(finals)
        if packed is not None:
            return _repack(output, packed), h_n
        if unbatched:
            output = output.squeeze(1)
            h_n = tuple(h.squeeze(1) for h in h_n) if self.is_lstm else h_n.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, h_n

    def _layers(self, input: Tensor, hx: Any, lengths: Tensor | None) -> tuple[Tensor, list]:
        """The loop over layers, directions and steps of ``(T, B, input_size)``; with
        ``lengths``, sequence ``b``'s state only changes at its steps ``t < lengths[b]`` (so a
        reverse pass starts at its own last step)."""
        cell = self._cell()
        directions = 2 if self.bidirectional else 1
        steps = range(input.shape[0])
        valid = None if lengths is None else [(lengths > t).unsqueeze(-1) for t in steps]
        finals = []
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                state = (hx[0][index], hx[1][index]) if self.is_lstm else hx[index]
                weights = self._weights(layer, direction)
                hiddens = []
                for step in reversed(steps) if direction else steps:
                    new = cell(layer_input[step], state, weights)
                    if valid is not None and self.is_lstm:
                        new = tuple(where(valid[step], n, o) for n, o in zip(new, state))
                    elif valid is not None:
                        new = where(valid[step], new, state)
                    state = new
                    hiddens.append(state[0] if self.is_lstm else state)
                if direction:
                    hiddens.reverse()
                outputs.append(stack(hiddens))
                finals.append(state)
            layer_input = cat(outputs, -1) if directions == 2 else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        return layer_input, finals

    def extra_repr(self) -> str:
        """torch's: sizes, then the options that differ from their defaults."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text


class RNN(_RNNBase):
    """Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args: Any, nonlinearity: str = "tanh", **kwargs: Any) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        super().__init__(*args, **kwargs)

    def _cell(self) -> Callable:
        return rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell


class LSTM(_RNNBase):
    """Long short-term memory: a cell state ``c`` carried through gates; the state is
    ``(h, c)``."""

    gates = 4
    is_lstm = True

    def __init__(self, *args: Any, proj_size: int = 0, **kwargs: Any) -> None:
        if proj_size:
            raise NotImplementedError("LSTM(proj_size=...) is not supported")
        self.proj_size = 0
        super().__init__(*args, **kwargs)

    def _cell(self) -> Callable:
        return lstm_cell


class GRU(_RNNBase):
    """Gated recurrent unit: reset and update gates around a tanh candidate."""

    gates = 3

    def _cell(self) -> Callable:
        return gru_cell


class _CellBase(Module):
    """One step of a recurrent layer, on ``(batch, input_size)`` or ``(input_size,)``."""

    gates = 1

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gate_size = self.gates * hidden_size
        self.weight_ih = Parameter(empty(gate_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gate_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias from ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        _reset_uniform(self, self.hidden_size)

    def _weights(self) -> Weights:
        return (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def _zeros(self, input: Tensor) -> Tensor:
        return zeros(*input.shape[:-1], self.hidden_size, dtype=input.dtype)

    def extra_repr(self) -> str:
        """``input_size, hidden_size`` and the options that differ from their defaults."""
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(_CellBase):
    """One Elman RNN step."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: Any = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state."""
        cell = rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_relu_cell
        return cell(input, self._zeros(input) if hx is None else hx, self._weights())


class LSTMCell(_CellBase):
    """One LSTM step; the state is ``(h, c)``."""

    gates = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        """The next ``(h, c)``."""
        if hx is None:
            hx = (self._zeros(input), self._zeros(input))
        return lstm_cell(input, hx, self._weights())


class GRUCell(_CellBase):
    """One GRU step."""

    gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """The next hidden state."""
        return gru_cell(input, self._zeros(input) if hx is None else hx, self._weights())
