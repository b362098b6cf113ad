"""The engine's layers import one way, and no module uses another module's private helpers.

Read from the source with ``ast``: every ``import`` statement of every engine module, at module
level or inside a function, must point to a module of a lower layer (or to itself).  The one
exception is documented in ``engine/tensor.py``: Tensor's methods delegate to the ops.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ENGINE = pathlib.Path(__file__).resolve().parent.parent / "engine"

# Lowest first.  Modules within one tuple may import each other only in the order listed.
LAYERS = [
    ("engine.dtypes", "engine.layout", "engine.memory"),
    ("engine.tensor",),
    ("engine.autograd.grad_mode", "engine.autograd.function", "engine.autograd.inplace"),
    (
        "engine.ops.autocast",
        "engine.ops.iterator",
        "engine.ops.table",
        "engine.ops.creation",
        "engine.ops.indexing",
        "engine.ops.elementwise",
        "engine.random",
        "engine.ops.reduction",
        "engine.ops.softmax",
        "engine.ops.shape",
        "engine.ops.scan",
        "engine.ops.scatter",
        "engine.ops.sorting",
        "engine.ops.join",
        "engine.ops.linalg",
        "engine.ops.formatting",
        "engine.ops",
    ),
    (
        "engine.autograd.backward_engine",
        "engine.autograd.gradcheck",
        "engine.autograd.graph",
        "engine.autograd.forward_ad",
        "engine.autograd.functional",
        "engine.autograd",
    ),
    (
        "engine.scalar",
        "engine.testing",
        "engine.viz",
        "engine.func",
        "engine.nn.functional",
        "engine.nn.parameter",
        "engine.nn.init",
        "engine.nn.utils.rnn",
        "engine.nn.utils.convert_parameters",
        "engine.nn.utils.clip_grad",
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
        "engine.nn.modules",
        "engine.nn.utils.parametrize",
        "engine.nn.utils.parametrizations",
        "engine.nn.utils",
        "engine.nn",
        "engine.serialization",
        "engine.optim.optimizer",
        "engine.optim.algorithms",
        "engine.optim.lr_scheduler",
        "engine.optim",
        "engine.amp",
        "engine.utils.checkpoint",
        "engine.utils.data.dataset",
        "engine.utils.data.sampler",
        "engine.utils.data.dataloader",
        "engine.utils.data",
        "engine.utils",
        "engine.distributed",
    ),
    ("engine.linalg", "engine", "engine.grading"),
]
RANK = {
    module: (layer, order)
    for layer, names in enumerate(LAYERS)
    for order, module in enumerate(names)
}

# The documented upward imports (engine/tensor.py): Tensor's methods delegate to the ops and
# to autograd (``backward``, ``register_hook``), where the work is defined.
ALLOWED_UPWARD = {
    ("engine.tensor", "engine.ops"),
    ("engine.tensor", "engine.random"),
    ("engine.tensor", "engine.autograd"),
}


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ENGINE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _rank_of(module: str):
    """The rank of ``module`` or of the closest listed package that contains it."""
    while module not in RANK:
        if "." not in module:
            raise AssertionError(f"{module} is in no layer of tests/test_layers.py")
        module = module.rsplit(".", 1)[0]
    return RANK[module], module


def _imports(tree: ast.AST, module: str):
    """(imported module, line) for each import of an engine module."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("engine"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
            for alias in node.names:
                # `from engine.ops import shape` imports the module engine.ops.shape.
                candidate = f"{node.module}.{alias.name}"
                path = ENGINE.parent / candidate.replace(".", "/")
                is_module = path.with_suffix(".py").exists() or (path / "__init__.py").exists()
                target = candidate if is_module else node.module
                yield target, node.lineno


SOURCES = sorted(ENGINE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: _module_name(path))
def test_imports_point_down(path):
    module = _module_name(path)
    own_rank, own_listed = _rank_of(module)
    tree = ast.parse(path.read_text())
    for target, line in _imports(tree, module):
        if target == module or target.startswith(module + "."):
            continue  # a package importing its own submodules
        rank, listed = _rank_of(target)
        if listed == own_listed and listed == "engine.grading":
            continue  # the grader's modules are one application, above the engine
        if any(
            module == low and (target == high or target.startswith(high + "."))
            for low, high in ALLOWED_UPWARD
        ):
            continue
        assert rank < own_rank, (
            f"{module} (line {line}) imports {target}, which is not below it in "
            "tests/test_layers.py's LAYERS"
        )


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: _module_name(path))
def test_no_private_helpers_of_other_modules(path):
    module = _module_name(path)
    tree = ast.parse(path.read_text())
    module_aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("engine"):
            for alias in node.names:
                assert not alias.name.startswith("_"), (
                    f"{module} imports the private name {alias.name} from {node.module}"
                )
                module_aliases.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            module_aliases.update(
                alias.asname or alias.name.split(".")[0]
                for alias in node.names
                if alias.name.startswith("engine")
            )
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            # A module alias followed by a private attribute (`elementwise._wrap`).  Names
            # bound to classes (Tensor._from_array) are classes, not modules: allowed.
            if node.value.id[0].isupper():
                continue
            raise AssertionError(
                f"{module} (line {node.lineno}) uses the private {node.value.id}.{node.attr}"
            )


def test_the_checks_can_fail(tmp_path):
    """The layer check flags an upward import (so the tests above are not vacuous)."""
    tree = ast.parse("from engine.ops.elementwise import mul\n")
    targets = [target for target, _ in _imports(tree, "engine.autograd.function")]
    assert targets == ["engine.ops.elementwise"]
    assert _rank_of("engine.ops.elementwise")[0] > _rank_of("engine.autograd.function")[0]


@pytest.mark.parametrize(
    "module",
    [
        "engine.tensor",
        "engine.autograd",
        "engine.autograd.function",
        "engine.autograd.backward_engine",
        "engine.ops.elementwise",
        "engine.ops.reduction",
        "engine.random",
    ],
)
def test_module_can_be_imported_first(module):
    """The one import cycle (Tensor's methods are the ops) resolves whichever module a user
    imports first: each of these, first in a fresh interpreter, gives a working engine."""
    import subprocess
    import sys

    program = (
        f"import {module}\nimport engine\n"
        "x = engine.ones(3, requires_grad=True)\n(x * x).sum().backward()\n"
        "assert x.grad.tolist() == [2.0, 2.0, 2.0]\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
