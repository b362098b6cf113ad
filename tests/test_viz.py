"""Graph pictures of Value graphs, with and without Graphviz's dot program."""

import warnings

import graphviz
import pytest

from engine import viz
from engine.scalar import Value


def small_graph():
    x, y = Value(2.0, label="x"), Value(3.0, label="y")
    f = (x + y) * x
    f.label = "f"
    f.backward()
    return f


@pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot program is not installed")
def test_draw_labels_every_value_with_data_and_grad_and_every_op():
    graph = viz.draw(small_graph())
    assert isinstance(graph, graphviz.Digraph)
    source = graph.source
    assert "rankdir=TB" in source
    assert "{ x | data 2.0000 | grad 7.0000 }" in source
    assert "{ y | data 3.0000 | grad 2.0000 }" in source
    assert "{ f | data 10.0000 | grad 1.0000 }" in source
    assert source.count("shape=ellipse") == 2  # one oval for + and one for *
    assert "<svg" in graph.pipe(format="svg").decode()


def test_without_dot_draw_warns_once_and_returns_text(monkeypatch):
    monkeypatch.setattr(viz, "dot_available", lambda: False)
    monkeypatch.setattr(viz, "_warned_missing_dot", False)
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz"):
        first = viz.draw(small_graph())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second call must not warn again
        second = viz.draw(small_graph())
    assert isinstance(first, viz.TextGraph) and str(first) == str(second)
    lines = str(first).splitlines()
    assert lines[0].split() == ["f", "=", "*(x,", "v2)", "data=10.0000", "grad=1.0000"]
    assert any(line.split()[:3] == ["x", "=", "leaf"] and "grad=7.0000" in line for line in lines)


def test_show_source_shows_the_engine_code():
    shown = viz.show_source(Value.relu)
    assert "def relu(self)" in shown.data and "_backward" in shown.data


def tensor_graph():
    import engine

    x = engine.ones(4, 3, dtype=engine.float64, requires_grad=True)
    w = engine.ones(3, 2, dtype=engine.float64, requires_grad=True)
    b = engine.ones(2, dtype=engine.float64, requires_grad=True)
    return (x @ w + b).relu().sum()


def test_tensor_graph_text_lists_nodes_leaves_and_saved_tensors_like_torch():
    import torch

    lines = str(viz.tensor_graph_text(tensor_graph())).splitlines()
    names = [line.split()[1] for line in lines[1:]]
    tx = torch.ones(4, 3, dtype=torch.float64, requires_grad=True)
    tw = torch.ones(3, 2, dtype=torch.float64, requires_grad=True)
    tb = torch.ones(2, dtype=torch.float64, requires_grad=True)
    torch_root = (tx @ tw + tb).relu().sum().grad_fn
    assert names[:4] == [torch_root.name(), "ReluBackward0", "AddBackward0", "MmBackward0"]
    assert names[4:] == ["AccumulateGrad"] * 3
    assert lines[2].endswith("saved: (4, 2)")  # relu saves its result
    assert lines[4].endswith("saved: (4, 3), (3, 2)")  # mm saves both operands


@pytest.mark.skipif(not viz.dot_available(), reason="Graphviz's dot program is not installed")
def test_draw_tensor_graph_has_nodes_leaves_saved_tensors_and_output():
    source = viz.draw(tensor_graph()).source
    for label in ["MmBackward0", "ReluBackward0", "SumBackward0", "AddBackward0"]:
        assert f"label={label}" in source
    assert source.count('label="leaf') == 3
    assert source.count('label="saved') == 3
    assert 'label="output' in source and "()" in source
