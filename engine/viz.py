"""Pictures of computation graphs.

``draw(root)`` returns a ``graphviz.Digraph`` (shown as SVG in Jupyter) when the Graphviz ``dot``
program is installed.  Without it, it warns once and returns a ``TextGraph``, a plain-text
rendering of the same graph, so that notebooks still run everywhere.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass

from engine.scalar import Value, topological_order

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


def draw(root: Value, rankdir: str = "LR"):
    """Draw the graph that produced ``root``: one box per Value (name, data, grad) and one oval
    per operation, inputs on the left, output on the right.

    Returns a ``graphviz.Digraph``, or a ``TextGraph`` (after one warning) when ``dot`` is missing.
    """
    global _warned_missing_dot
    if not dot_available():
        if not _warned_missing_dot:
            warnings.warn(
                "Graphviz's 'dot' program was not found, so graphs are shown as text. "
                "Install it with 'apt-get install graphviz' (Debian/Ubuntu) or "
                "'brew install graphviz' (macOS).",
                RuntimeWarning,
                stacklevel=2,
            )
            _warned_missing_dot = True
        return value_graph_text(root)

    import graphviz

    order = topological_order(root)
    names = _names(order)
    graph = graphviz.Digraph(graph_attr={"rankdir": rankdir}, node_attr={"fontname": "Helvetica"})
    for node in reversed(order):  # inputs first, so the layout reads left to right
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


def show_source(obj) -> object:
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


def draw_layout(tensor, title: str = "", ax=None):
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
