"""Pictures of computation graphs.

``draw(root)`` returns a ``graphviz.Digraph`` (shown as SVG in Jupyter) when the Graphviz ``dot``
program is installed.  Without it, it warns once and returns a ``TextGraph``, a plain-text
rendering of the same graph, so that notebooks still run everywhere.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.autograd import graph as autograd_graph
from engine.scalar import Value, topological_order

if TYPE_CHECKING:
    import graphviz
    from matplotlib.axes import Axes

    from engine.tensor import Tensor

_warned_missing_dot = False


def dot_available() -> bool:
    """True when the Graphviz ``dot`` program is on the PATH."""
    return shutil.which("dot") is not None


@dataclass
class TextGraph:
    """A graph rendered as text lines, one node per line, outputs first."""

    lines: list[str]

    def __str__(self) -> str:
        return "\n".join(self.lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def _names(order: list[Value]) -> dict[int, str]:
    """Short, stable names for nodes: their label if they have one, else v0, v1, ... by age."""
    names = {}
    for number, node in enumerate(sorted(order, key=lambda n: n._order)):
        names[id(node)] = node.label or f"v{number}"
    return names


def _inputs_in_creation_order(node: Value) -> list[Value]:
    return sorted(node._prev, key=lambda n: n._order)


def value_graph_text(root: Value) -> TextGraph:
    """The graph of ``root`` as text: ``name = op(inputs)  data=...  grad=...``, outputs first."""
    order = topological_order(root)
    names = _names(order)
    lines = []
    for node in order:
        inputs = ", ".join(names[id(child)] for child in _inputs_in_creation_order(node))
        formula = f"{node._op}({inputs})" if node._op else "leaf"
        lines.append(
            f"{names[id(node)]:>6} = {formula:<22} data={node.data:.4f}  grad={node.grad:.4f}"
        )
    return TextGraph(lines)


def _text_fallback(root) -> TextGraph | None:
    """The text rendering (after one warning) when ``dot`` is missing, else None."""
    global _warned_missing_dot
    if dot_available():
        return None
    if not _warned_missing_dot:
        warnings.warn(
            "Graphviz's 'dot' program was not found, so graphs are shown as text. "
            "Install it with 'apt-get install graphviz' (Debian/Ubuntu) or "
            "'brew install graphviz' (macOS).",
            RuntimeWarning,
            stacklevel=3,
        )
        _warned_missing_dot = True
    return value_graph_text(root) if isinstance(root, Value) else tensor_graph_text(root)


def draw(root: Value | Tensor, rankdir: str = "TB") -> graphviz.Digraph | TextGraph:
    """Draw the graph that produced ``root``, inputs at the top, output at the bottom.

    Top to bottom keeps the picture narrow enough to read on a phone; ``rankdir="LR"`` lays
    it out left to right instead.

    For a scalar ``Value``: one box per Value (name, data, grad) and one oval per operation.
    For a ``Tensor``: its backward graph, like torchviz: one box per ``grad_fn`` node, blue
    boxes for leaves (their ``AccumulateGrad``), orange boxes for the tensors each node saved
    for backward, and the output in green.
    Returns a ``graphviz.Digraph``, or a ``TextGraph`` (after one warning) when ``dot`` is
    missing.
    """
    fallback = _text_fallback(root)
    if fallback is not None:
        return fallback
    if isinstance(root, Value):
        return _draw_value_graph(root, rankdir)
    return _draw_tensor_graph(root, rankdir)


def _draw_value_graph(root: Value, rankdir: str):
    import graphviz

    order = topological_order(root)
    names = _names(order)
    graph = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    for node in reversed(order):  # inputs first, so the layout reads top to bottom
        node_id = names[id(node)]
        graph.node(
            node_id,
            label=f"{{ {node_id} | data {node.data:.4f} | grad {node.grad:.4f} }}",
            shape="record",
        )
        if node._op:
            op_id = f"{node_id}_op"
            graph.node(op_id, label=node._op, shape="ellipse")
            graph.edge(op_id, node_id)
            for child in _inputs_in_creation_order(node):
                graph.edge(names[id(child)], op_id)
    return graph


# ------------------------------------------------------------------------- tensor graphs


def _shape(tensor) -> str:
    return str(tuple(tensor.shape))


def tensor_graph_text(root: Tensor) -> TextGraph:
    """The backward graph of ``root`` as text, one node per line, output first."""
    if root.grad_fn is None:
        return TextGraph([f"leaf tensor {_shape(root)} (no graph recorded)"])
    nodes = autograd_graph.nodes(root)
    number = {id(node): i for i, node in enumerate(nodes)}
    lines = [f"output {_shape(root)} <- n0"]
    for node in nodes:
        if hasattr(node, "variable"):
            label = f"{node.name()} of leaf {_shape(node.variable)}"
        else:
            label = node.name()
        feeds = ", ".join(f"n{number[id(n)]}" for n, _ in node.next_functions if n is not None)
        saved = ", ".join(_shape(t) for t in autograd_graph.saved_tensors(node))
        lines.append(
            f"n{number[id(node)]:<3} {label:<34}"
            + (f" -> {feeds}" if feeds else "")
            + (f"   saved: {saved}" if saved else "")
        )
    return TextGraph(lines)


def _draw_tensor_graph(root, rankdir: str):
    import graphviz

    graph = graphviz.Digraph(
        graph_attr={"rankdir": rankdir},
        node_attr={"fontname": "Helvetica", "shape": "box", "style": "filled", "fontsize": "11"},
    )
    graph.node("output", label=f"output\n{_shape(root)}", fillcolor="#b8e0b8")
    if root.grad_fn is None:
        return graph
    nodes = autograd_graph.nodes(root)
    number = {id(node): i for i, node in enumerate(nodes)}
    for node in nodes:
        node_id = f"n{number[id(node)]}"
        if hasattr(node, "variable"):  # AccumulateGrad: show the leaf it fills
            graph.node(node_id, label=f"leaf\n{_shape(node.variable)}", fillcolor="#add8e6")
        else:
            graph.node(node_id, label=node.name(), fillcolor="#eeeeee")
        for position, tensor in enumerate(autograd_graph.saved_tensors(node)):
            saved_id = f"{node_id}_saved{position}"
            graph.node(saved_id, label=f"saved\n{_shape(tensor)}", fillcolor="#ffd8a8")
            graph.edge(saved_id, node_id, style="dashed", arrowhead="none")
        for next_node, _ in node.next_functions:
            if next_node is not None:
                graph.edge(f"n{number[id(next_node)]}", node_id)
    graph.edge(f"n{number[id(root.grad_fn)]}", "output")
    return graph


def show_source(obj: object) -> object:
    """Display the engine's real source of a function, method or class, highlighted.

    Chapters call this instead of copying code into cells, so the text always shows the code
    that runs.  Returns an ``IPython.display.Code`` object (plain text outside IPython).
    """
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(obj)).rstrip()
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - plain Python without IPython
        return source
    return Code(source, language="python")


def draw_layout(tensor: Tensor, title: str = "", ax: Axes | None = None) -> Axes:
    """Draw how a 1-D or 2-D engine tensor maps onto its storage.

    Top: the tensor as the user sees it, each cell labelled with its value and, small, the
    position in storage it reads.  Bottom: the storage buffer; cells this view reads are
    coloured like the tensor cells that read them, cells it skips are grey.  A storage cell
    read by several tensor cells (stride 0, overlapping windows) shows how many.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    shape = tuple(tensor.shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"draw_layout draws 1-D and 2-D tensors, got shape {shape}")
    rows, cols = (1, shape[0]) if len(shape) == 1 else shape
    strides = tuple(tensor.stride()) if len(shape) == 2 else (0, tensor.stride()[0])
    offset = tensor.storage_offset()
    storage = np.asarray(tensor._storage)
    colors = plt.cm.viridis(np.linspace(0.15, 0.95, max(storage.size, 1)))

    if ax is None:
        width = max(cols, min(storage.size, 24)) * 0.55 + 1
        _, ax = plt.subplots(figsize=(width, (rows + 2.6) * 0.55))
    reads = {}
    for r in range(rows):
        for c in range(cols):
            position = offset + r * strides[0] + c * strides[1]
            reads[position] = reads.get(position, 0) + 1
            ax.add_patch(plt.Rectangle((c, -r), 1, 1, color=colors[position], ec="white"))
            ax.text(
                c + 0.5,
                -r + 0.55,
                f"{storage[position]:g}",
                ha="center",
                va="center",
                color="white",
                fontsize=9,
                weight="bold",
            )
            ax.text(
                c + 0.5,
                -r + 0.18,
                f"@{position}",
                ha="center",
                va="center",
                color="white",
                fontsize=6,
            )
    top = -rows - 1.4
    for position in range(storage.size):
        used = position in reads
        ax.add_patch(
            plt.Rectangle(
                (position, top), 1, 1, ec="white", color=colors[position] if used else "#dddddd"
            )
        )
        ax.text(
            position + 0.5,
            top + 0.55,
            f"{storage[position]:g}",
            ha="center",
            va="center",
            fontsize=8,
            color="white" if used else "#888888",
        )
        label = f"{position}" + (f" x{reads[position]}" if reads.get(position, 0) > 1 else "")
        ax.text(position + 0.5, top - 0.25, label, ha="center", va="center", fontsize=6)
    ax.text(-0.3, 0.5, "tensor", ha="right", va="center", fontsize=8)
    ax.text(-0.3, top + 0.5, "storage", ha="right", va="center", fontsize=8)
    ax.set_xlim(-1.6, max(cols, storage.size) + 0.2)
    ax.set_ylim(top - 0.6, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(
        title
        or f"shape {shape}, stride {strides if len(shape) == 2 else strides[1:]}, offset {offset}",
        fontsize=9,
    )
    return ax
