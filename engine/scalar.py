"""The scalar engine of chapter 1: one ``Value`` per number, micrograd style.

Every operation creates a new ``Value`` that remembers its inputs (``_prev``), the name of the
operation (``_op``) and a closure ``_backward`` that applies the chain rule for that one
operation: it reads ``out.grad`` and adds the local contribution to each input's ``.grad``.
The forward formula and its derivative sit side by side in each method.

Arithmetic is plain Python float64 in the order PyTorch uses, so an expression built from
``+ - * /``, integer powers and ``relu`` gives bit-for-bit the values and gradients that the same
expression gives in ``torch.float64`` (the tests check it).  ``exp``, ``log`` and ``tanh`` use
the C library and may differ from PyTorch's vectorised kernels in the last bit.
"""

from __future__ import annotations

import itertools
import math
import numbers
import random
from collections.abc import Callable, Iterable

# Every Value gets the next number from this counter when it is created.  Creation order is a
# topological order (a node can only be built from nodes that already exist), and PyTorch's
# autograd engine uses the same idea: of the nodes that are ready, it runs the newest first.
_creation_counter = itertools.count()


def _power(base: float, exponent: float) -> float:
    """``base ** exponent`` computed the way PyTorch's CPU kernel does for float64.

    PyTorch replaces small integer exponents by multiplications and one division, which round
    differently from the C library's ``pow``.  Matching it keeps our numbers equal to torch's.
    """
    if exponent == 2:
        return base * base
    if exponent == 3:
        return base * base * base
    if exponent == -1:
        return 1.0 / base
    if exponent == -2:
        return 1.0 / (base * base)
    return math.pow(base, exponent)


class Value:
    """A scalar that records how it was computed, so that ``backward()`` can differentiate it.

    Attributes:
        data: the float64 number this node holds.
        grad: d(output of the last ``backward()``)/d(this value); accumulates on leaves.
        _prev: the set of input Values (empty for a leaf).
        _op: the name of the operation that produced this Value ('' for a leaf).
    """

    __slots__ = ("data", "grad", "_prev", "_op", "_backward", "_order", "label", "__weakref__")

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ):
        if isinstance(data, Value):
            raise TypeError("Value(...) takes a number, not a Value; use the Value itself")
        if not isinstance(data, numbers.Real):  # Python and NumPy ints and floats
            raise TypeError(f"Value(...) takes an int or float, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self._prev = set(_children)
        self._op = _op
        self._backward: Callable[[], None] = lambda: None
        self._order = next(_creation_counter)
        self.label = label

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r})"

    # ----------------------------------------------------------------------------- arithmetic

    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a + b)/da = 1, d(a + b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(a * b)/da = b, d(a * b)/db = a
            self.grad += out.grad * other.data
            other.grad += out.grad * self.data

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        other = _as_value(other)
        out = Value(self.data - other.data, (self, other), "-")

        def _backward():  # d(a - b)/da = 1, d(a - b)/db = -1
            self.grad += out.grad
            other.grad += -out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        other = _as_value(other)
        out = Value(self.data / other.data, (self, other), "/")

        def _backward():  # d(a / b)/da = 1 / b, d(a / b)/db = -a / b**2
            self.grad += out.grad / other.data
            other.grad += -out.grad * ((self.data / other.data) / other.data)

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value) or not isinstance(exponent, (int, float)):
            raise TypeError(
                "Value ** exponent supports a number exponent only (x ** 2, x ** -1), "
                f"got {type(exponent).__name__}; write exp(log(x) * y) for a Value exponent"
            )
        out = Value(_power(self.data, exponent), (self,), f"**{exponent}")

        def _backward():  # d(a ** n)/da = n * a ** (n - 1)
            if exponent != 0:
                self.grad += out.grad * (exponent * _power(self.data, exponent - 1))

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, (self,), "neg")

        def _backward():  # d(-a)/da = -1
            self.grad += -out.grad

        out._backward = _backward
        return out

    # Reflected forms, for expressions that start with a plain number: 2 * x, 1 - x, 1 / x.
    def __radd__(self, other: float) -> Value:
        return _as_value(other) + self

    def __rmul__(self, other: float) -> Value:
        return _as_value(other) * self

    def __rsub__(self, other: float) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other: float) -> Value:
        # PyTorch evaluates ``number / tensor`` as ``tensor.reciprocal() * number``.
        return self.reciprocal() * other

    def reciprocal(self) -> Value:
        out = Value(1.0 / self.data, (self,), "reciprocal")

        def _backward():  # d(1 / a)/da = -1 / a**2 = -(output * output)
            self.grad += -out.grad * (out.data * out.data)

        out._backward = _backward
        return out

    # --------------------------------------------------------------- nonlinear functions

    def relu(self) -> Value:
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # slope 1 where the output is positive, 0 elsewhere, 0 at the kink
            self.grad += out.grad if out.data > 0 else 0.0

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d tanh(a)/da = 1 - tanh(a)**2, computed from the saved output
            self.grad += out.grad * (1.0 - out.data * out.data)

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # d exp(a)/da = exp(a), which is the output itself
            self.grad += out.grad * out.data

        out._backward = _backward
        return out

    def log(self) -> Value:
        if self.data <= 0:
            # torch returns nan or -inf here; a scalar engine for learners stops with a reason.
            raise ValueError(f"log is only defined for positive numbers, got {self.data!r}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d log(a)/da = 1 / a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        out = Value(1.0 / (1.0 + math.exp(-self.data)), (self,), "sigmoid")

        def _backward():  # d sigmoid(a)/da = sigmoid(a) * (1 - sigmoid(a)), from the output
            self.grad += out.grad * (1.0 - out.data) * out.data

        out._backward = _backward
        return out

    # ------------------------------------------------------------------------- backward

    def backward(self) -> None:
        """Fill ``.grad`` of every Value this one depends on with d(self)/d(that Value).

        Like ``loss.backward()`` in PyTorch: the output is seeded with 1, every node runs its
        ``_backward`` once, after all the nodes that use it, and leaves *accumulate*: a second
        call adds the same gradients again.  Intermediate nodes start each call from zero.
        """
        order = topological_order(self)
        for node in order:
            if node._prev:  # an intermediate node: its gradient belongs to this call only
                node.grad = 0.0
        self.grad += 1.0
        for node in order:
            node._backward()


def _as_value(x: Value | float) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}; use a number or a Value")


def graph_nodes(root: Value) -> list[Value]:
    """Every Value that ``root`` depends on, ``root`` included, found without recursion."""
    seen = {id(root): root}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node._prev:
            if id(child) not in seen:
                seen[id(child)] = child
                stack.append(child)
    return list(seen.values())


def topological_order(root: Value) -> list[Value]:
    """The nodes of ``root``'s graph, each before all of its inputs (``root`` first).

    Sorting by creation number is enough: every node was created after its inputs.  It is also
    the order PyTorch's engine runs in, which makes our sums of gradients round like torch's.
    """
    return sorted(graph_nodes(root), key=lambda node: node._order, reverse=True)


# ------------------------------------------------------------------------------------------
# A tiny neural network on Values, for the chapter's training example.  Chapter 7 builds the
# tensor ``engine.nn``; these classes stay deliberately minimal and separate from it.


class Module:
    """Base class: anything with parameters that can have their gradients zeroed."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for parameter in self.parameters():
            parameter.grad = 0.0


class Neuron(Module):
    """``activation(w . x + b)`` for one output; weights drawn uniformly from [-1, 1]."""

    def __init__(self, n_inputs: int, nonlinear: bool = True, rng: random.Random | None = None):
        rng = rng or random.Random(0)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_inputs)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: list[Value | float]) -> Value:
        activation = self.b
        for weight, xi in zip(self.w, x):
            activation = activation + weight * xi
        return activation.relu() if self.nonlinear else activation

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlinear else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``n_outputs`` neurons that all read the same inputs."""

    def __init__(self, n_inputs: int, n_outputs: int, rng: random.Random | None = None, **kwargs):
        rng = rng or random.Random(0)
        self.neurons = [Neuron(n_inputs, rng=rng, **kwargs) for _ in range(n_outputs)]

    def __call__(self, x: list[Value | float]) -> Value | list[Value]:
        outputs = [neuron(x) for neuron in self.neurons]
        return outputs[0] if len(outputs) == 1 else outputs

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(neuron) for neuron in self.neurons)}]"


class MLP(Module):
    """A multi-layer perceptron: ReLU hidden layers, a linear last layer.

    ``MLP(2, [16, 16, 1])`` maps 2 inputs through two hidden layers of 16 to one output.
    ``seed`` makes the initial weights reproducible.
    """

    def __init__(self, n_inputs: int, layer_sizes: list[int], seed: int = 0):
        rng = random.Random(seed)
        sizes = [n_inputs] + list(layer_sizes)
        self.layers = [
            Layer(sizes[i], sizes[i + 1], rng=rng, nonlinear=i != len(layer_sizes) - 1)
            for i in range(len(layer_sizes))
        ]

    def __call__(self, x: list[Value | float]) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
