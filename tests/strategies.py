"""Hypothesis strategies and comparison helpers shared by the tensor tests.

The central strategy, :func:`tensor_pairs`, draws a shape, a dtype and values, builds the same
tensor in the engine and in torch, then applies the same random chain of views to both
(permute, transpose, slices with steps, narrow, expand, unsqueeze, select).  The results are
usually non-contiguous, sometimes overlapping (expanded), with non-zero storage offsets: exactly
the inputs where a stride bug shows.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import strategies as st

import engine
from engine.testing import assert_close

ENGINE_DTYPES = {name: getattr(engine, name) for name in (
    "bool", "uint8", "int8", "int16", "int32", "int64",
    "float16", "bfloat16", "float32", "float64",
)}  # fmt: skip
TORCH_DTYPES = {name: getattr(torch, name) for name in ENGINE_DTYPES}
FLOAT_NAMES = ("float16", "bfloat16", "float32", "float64")
INT_NAMES = ("uint8", "int8", "int16", "int32", "int64")
ALL_NAMES = tuple(ENGINE_DTYPES)


def shapes(min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4):
    """Tuples of sizes, e.g. ``()``, ``(3,)``, ``(2, 0, 4)``."""
    return st.lists(st.integers(min_side, max_side), min_size=min_dims, max_size=max_dims).map(
        tuple
    )


def random_values(shape: tuple, dtype_name: str, seed: int) -> np.ndarray:
    """Values that suit the dtype: small integers (so products do not overflow differently),
    normal floats, random bools."""
    generator = np.random.default_rng(seed)
    if dtype_name == "bool":
        return np.asarray(generator.random(shape) < 0.5)
    if dtype_name == "uint8":
        return generator.integers(0, 12, size=shape).astype(np.uint8)
    if dtype_name in INT_NAMES:
        return generator.integers(-9, 10, size=shape).astype(np.int64)
    return generator.standard_normal(shape).astype(np.float32)


def make_pair(values: np.ndarray, dtype_name: str):
    """The same values as an engine tensor and a torch tensor of dtype ``dtype_name``."""
    engine_tensor = engine.tensor(values, dtype=ENGINE_DTYPES[dtype_name])
    # torch.tensor(array) copies NumPy's strides for empty arrays (zeros); start dense instead.
    torch_tensor = torch.empty(values.shape, dtype=TORCH_DTYPES[dtype_name])
    torch_tensor.copy_(torch.from_numpy(np.array(values, order="C")))
    return engine_tensor, torch_tensor


@st.composite
def view_steps(draw, shape: tuple, max_steps: int, allow_expand: bool = True):
    """A list of view operations valid for ``shape``, as (name, arguments) tuples."""
    steps = []
    shape = list(shape)
    for _ in range(draw(st.integers(0, max_steps))):
        ndim = len(shape)
        names = ["unsqueeze"]
        if ndim >= 1:
            names += ["permute", "transpose", "slice", "narrow", "select"]
        if allow_expand and 1 in shape or (allow_expand and ndim < 4):
            names.append("expand")
        name = draw(st.sampled_from(names))
        if name == "unsqueeze":
            if ndim >= 5:
                continue
            dim = draw(st.integers(-ndim - 1, ndim))
            shape.insert(dim % (ndim + 1), 1)
            steps.append((name, (dim,)))
        elif name == "permute":
            order = draw(st.permutations(range(ndim)))
            shape = [shape[index] for index in order]
            steps.append((name, tuple(order)))
        elif name == "transpose":
            first, second = draw(st.integers(-ndim, ndim - 1)), draw(st.integers(-ndim, ndim - 1))
            shape[first], shape[second] = shape[second], shape[first]
            steps.append((name, (first, second)))
        elif name == "slice":
            dim = draw(st.integers(0, ndim - 1))
            size = shape[dim]
            start = draw(st.integers(-size - 1, size + 1))
            stop = draw(st.integers(-size - 1, size + 1) | st.none())
            step = draw(st.integers(1, 3))
            shape[dim] = len(range(*slice(start, stop, step).indices(size)))
            steps.append((name, (dim, start, stop, step)))
        elif name == "narrow":
            dim = draw(st.integers(-ndim, ndim - 1))
            size = shape[dim]
            start = draw(st.integers(0, size))
            length = draw(st.integers(0, size - start))
            shape[dim] = length
            steps.append((name, (dim, start, length)))
        elif name == "select":
            dim = draw(st.integers(0, ndim - 1))
            if shape[dim] == 0:
                continue
            index = draw(st.integers(-shape[dim], shape[dim] - 1))
            del shape[dim]
            steps.append((name, (dim, index)))
        elif name == "expand":
            leading = draw(st.integers(0, 1)) if ndim < 4 else 0
            target = [draw(st.integers(0, 3)) if size == 1 else size for size in shape]
            target = [draw(st.integers(1, 3)) for _ in range(leading)] + target
            keep = draw(st.booleans())
            written = [
                -1 if keep and index >= leading else size for index, size in enumerate(target)
            ]
            if keep:
                target = target[:leading] + shape
            shape = target
            steps.append((name, tuple(written)))
    return steps


def apply_step(tensor, step):
    """Apply one view step to an engine or torch tensor (same code for both)."""
    name, arguments = step
    if name == "unsqueeze":
        return tensor.unsqueeze(*arguments)
    if name == "permute":
        return tensor.permute(*arguments)
    if name == "transpose":
        return tensor.transpose(*arguments)
    if name == "slice":
        dim, start, stop, step_size = arguments
        return tensor[(slice(None),) * dim + (slice(start, stop, step_size),)]
    if name == "narrow":
        return tensor.narrow(*arguments)
    if name == "select":
        dim, index = arguments
        return tensor[(slice(None),) * dim + (index,)]
    if name == "expand":
        return tensor.expand(arguments)
    raise ValueError(name)


@st.composite
def tensor_pairs(
    draw,
    dtype_names=("float32",),
    min_dims: int = 0,
    max_dims: int = 4,
    max_side: int = 4,
    max_steps: int = 3,
    allow_expand: bool = True,
    shape=None,
):
    """``(engine_tensor, torch_tensor)``: equal values, equal (often non-contiguous) layout."""
    if shape is None:
        shape = draw(shapes(min_dims=min_dims, max_dims=max_dims, max_side=max_side))
    dtype_name = draw(st.sampled_from(dtype_names))
    seed = draw(st.integers(0, 2**32 - 1))
    engine_tensor, torch_tensor = make_pair(random_values(shape, dtype_name, seed), dtype_name)
    for step in draw(view_steps(tuple(shape), max_steps, allow_expand)):
        engine_tensor = apply_step(engine_tensor, step)
        torch_tensor = apply_step(torch_tensor, step)
    return engine_tensor, torch_tensor


@st.composite
def broadcastable_pairs(draw, dtype_names=("float32",), max_dims: int = 3):
    """Two tensor pairs whose shapes broadcast together (one side often has size-1 dims or
    fewer dims), each possibly non-contiguous."""
    shape = draw(shapes(min_dims=0, max_dims=max_dims, min_side=1, max_side=3))
    first_shape = tuple(draw(st.sampled_from([size, 1])) for size in shape)
    second_shape = tuple(draw(st.sampled_from([size, 1])) for size in shape)
    second_shape = second_shape[draw(st.integers(0, len(second_shape))) :]
    first = draw(tensor_pairs(dtype_names, shape=first_shape, max_steps=0))
    second = draw(tensor_pairs(dtype_names, shape=second_shape, max_steps=0))
    return first, second


def assert_same_layout(engine_tensor, torch_tensor) -> None:
    """Shape, strides, storage offset and contiguity all equal torch's."""
    assert tuple(engine_tensor.shape) == tuple(torch_tensor.shape)
    assert engine_tensor.stride() == torch_tensor.stride(), (
        engine_tensor.stride(),
        torch_tensor.stride(),
    )
    assert engine_tensor.storage_offset() == torch_tensor.storage_offset()
    assert engine_tensor.is_contiguous() == torch_tensor.is_contiguous()


def assert_same_tensor(engine_tensor, torch_tensor, **tolerances) -> None:
    """Layout (shape, strides, offset, contiguity), dtype and values all equal torch's."""
    assert_same_layout(engine_tensor, torch_tensor)
    assert_close(engine_tensor, torch_tensor, **tolerances)


def outcome(call):
    """``("ok", result)`` or ``("error", exception type)`` for ``call()``."""
    try:
        return "ok", call()
    except Exception as error:  # noqa: BLE001 - the type is what we compare
        return "error", type(error)


def check_like_torch(engine_call, torch_call, compare=assert_close):
    """Run both; they must both raise the same exception type, or both succeed with results
    that ``compare`` accepts.  Returns the pair of results (None when both raised)."""
    torch_kind, torch_result = outcome(torch_call)
    engine_kind, engine_result = outcome(engine_call)
    if torch_kind == "error":
        assert engine_kind == "error", f"torch raised {torch_result.__name__}, engine did not"
        assert engine_result is torch_result, (
            f"engine raised {engine_result.__name__}, torch raised {torch_result.__name__}"
        )
        return None
    if engine_kind == "error":
        # Re-run to show the engine's traceback.
        engine_call()
    compare(engine_result, torch_result)
    return engine_result, torch_result
