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
    assert "rankdir=LR" in source
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
