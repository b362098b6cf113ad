"""The public API is documented: every public function of the engine's modules has a docstring
and type hints, and every public Tensor method and property has a docstring (``help(x.exp)``
and the book's ``show_source`` cells are how learners read the engine)."""

from __future__ import annotations

import importlib
import inspect

import pytest

import engine

MODULES = [
    "engine.dtypes",
    "engine.layout",
    "engine.memory",
    "engine.tensor",
    "engine.random",
    "engine.autograd.function",
    "engine.autograd.grad_mode",
    "engine.autograd.inplace",
    "engine.autograd.backward_engine",
    "engine.autograd.gradcheck",
    "engine.autograd.graph",
    "engine.utils.checkpoint",
    "engine.amp",
    "engine.utils.data.dataset",
    "engine.utils.data.sampler",
    "engine.utils.data.dataloader",
    "engine.autograd.forward_ad",
    "engine.autograd.functional",
    "engine.func",
    "engine.nn.functional",
    "engine.nn.parameter",
    "engine.nn.init",
    "engine.nn.utils.rnn",
    "engine.nn.utils.convert_parameters",
    "engine.nn.utils.clip_grad",
    "engine.nn.utils.parametrize",
    "engine.nn.utils.parametrizations",
    "engine.nn.modules.module",
    "engine.nn.modules.container",
    "engine.nn.modules.activation",
    "engine.nn.modules.dropout",
    "engine.nn.modules.flatten",
    "engine.nn.modules.linear",
    "engine.nn.modules.sparse",
    "engine.nn.modules.conv",
    "engine.nn.modules.pooling",
    "engine.nn.modules.resampling",
    "engine.nn.modules.normalization",
    "engine.nn.modules.rnn",
    "engine.nn.modules.transformer",
    "engine.nn.modules.loss",
    "engine.serialization",
    "engine.optim.optimizer",
    "engine.optim.algorithms",
    "engine.optim.lr_scheduler",
    "engine.ops.softmax",
    "engine.ops.autocast",
    "engine.ops.iterator",
    "engine.ops.table",
    "engine.ops.creation",
    "engine.ops.indexing",
    "engine.ops.elementwise",
    "engine.ops.reduction",
    "engine.ops.shape",
    "engine.ops.scan",
    "engine.ops.scatter",
    "engine.ops.sorting",
    "engine.ops.linalg",
    "engine.ops.join",
    "engine.ops.formatting",
    "engine.linalg",
    "engine.testing",
    "engine.viz",
    "engine.distributed",
]


def _public_objects(module_name: str):
    module = importlib.import_module(module_name)
    for name, value in sorted(vars(module).items()):
        if name.startswith("_") or getattr(value, "__module__", None) != module_name:
            continue
        if inspect.isfunction(value) or inspect.isclass(value):
            yield name, value


CASES = [
    (f"{module}.{name}", value) for module in MODULES for name, value in _public_objects(module)
]


@pytest.mark.parametrize(("name", "value"), CASES, ids=[name for name, _ in CASES])
def test_public_function_has_docstring_and_type_hints(name, value):
    assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    if not inspect.isfunction(value):
        return
    signature = inspect.signature(value)
    untyped = [
        parameter.name
        for parameter in signature.parameters.values()
        if parameter.annotation is inspect.Parameter.empty
        and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
    ]
    assert not untyped, f"{name}: parameters without type hints: {untyped}"
    assert signature.return_annotation is not inspect.Signature.empty, (
        f"{name}: no return type hint"
    )


def test_every_public_tensor_method_has_a_docstring():
    missing = []
    for name in dir(engine.Tensor):
        if name.startswith("_"):
            continue
        attribute = inspect.getattr_static(engine.Tensor, name)
        function = attribute.fget if isinstance(attribute, property) else attribute
        if callable(function) and not (getattr(function, "__doc__", None) or "").strip():
            missing.append(name)
    assert not missing, f"Tensor members without a docstring: {missing}"
