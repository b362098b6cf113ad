"""Factories, randomness, conversion to Python, repr and the testing helpers."""

import pathlib
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine.testing import assert_close, to_numpy

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    ALL_NAMES,
    ENGINE_DTYPES,
    TORCH_DTYPES,
    assert_same_tensor,
    check_like_torch,
    shapes,
    tensor_pairs,
)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@settings(max_examples=20, deadline=None)
@given(shape=shapes(), dtype_name=st.sampled_from((None, *ALL_NAMES)))
def test_constant_factories_accept_both_shape_forms(name, shape, dtype_name):
    engine_kwargs = {} if dtype_name is None else {"dtype": ENGINE_DTYPES[dtype_name]}
    torch_kwargs = {} if dtype_name is None else {"dtype": TORCH_DTYPES[dtype_name]}
    engine_factory, torch_factory = getattr(engine, name), getattr(torch, name)
    compare = assert_same_tensor if name != "empty" else lambda got, want: None
    check_like_torch(
        lambda: engine_factory(*shape, **engine_kwargs),
        lambda: torch_factory(*shape, **torch_kwargs),
        compare,
    )
    check_like_torch(
        lambda: engine_factory(shape, **engine_kwargs),
        lambda: torch_factory(shape, **torch_kwargs),
        compare,
    )
    assert engine_factory(shape, **engine_kwargs).shape == shape


def test_negative_sizes_are_rejected_like_torch():
    check_like_torch(lambda: engine.zeros(2, -1), lambda: torch.zeros(2, -1))


@pytest.mark.parametrize(
    "arguments",
    [
        (5,),
        (2, 7),
        (0, 1, 0.25),
        (1.5, 4),
        (10, 0, -3),
        (0, 5, 0),
        (0, 5, -1),
        (3, 3),
        (-2.5, 2.5, 0.7),
    ],
    ids=repr,
)
def test_arange_like_torch(arguments):
    check_like_torch(lambda: engine.arange(*arguments), lambda: torch.arange(*arguments))
    check_like_torch(
        lambda: engine.arange(*arguments, dtype=engine.float64),
        lambda: torch.arange(*arguments, dtype=torch.float64),
    )


@pytest.mark.parametrize(
    "arguments", [(0, 1, 5), (-3, 7, 11), (2, 2, 1), (0, 10, 0), (1, 0, 4), (0, 5, -1)], ids=repr
)
def test_linspace_like_torch(arguments):
    check_like_torch(lambda: engine.linspace(*arguments), lambda: torch.linspace(*arguments))
    check_like_torch(
        lambda: engine.linspace(*arguments, dtype=engine.float64),
        lambda: torch.linspace(*arguments, dtype=torch.float64),
    )


@pytest.mark.parametrize("arguments", [(3,), (2, 4), (4, 2), (0,)], ids=repr)
def test_eye_like_torch(arguments):
    check_like_torch(lambda: engine.eye(*arguments), lambda: torch.eye(*arguments))
    check_like_torch(
        lambda: engine.eye(*arguments, dtype=engine.int64),
        lambda: torch.eye(*arguments, dtype=torch.int64),
    )


@settings(max_examples=30, deadline=None)
@given(tensor_pairs(ALL_NAMES, max_steps=3), st.sampled_from([None, *ALL_NAMES]))
def test_like_factories_follow_dtype_argument(pair, dtype_name):
    engine_tensor, torch_tensor = pair
    engine_kwargs = {} if dtype_name is None else {"dtype": ENGINE_DTYPES[dtype_name]}
    torch_kwargs = {} if dtype_name is None else {"dtype": TORCH_DTYPES[dtype_name]}
    check_like_torch(
        lambda: engine.full_like(engine_tensor, 7, **engine_kwargs),
        lambda: torch.full_like(torch_tensor, 7, **torch_kwargs),
        assert_same_tensor,
    )


# ------------------------------------------------------------------------------- randomness
@pytest.mark.parametrize(
    "draw",
    [
        lambda: engine.rand(3, 4),
        lambda: engine.randn((2, 5), dtype=engine.float64),
        lambda: engine.randint(0, 10, (6,)),
        lambda: engine.randint(5, (2, 2)),
        lambda: engine.randperm(7),
        lambda: engine.rand(4, dtype=engine.bfloat16),
    ],
)
def test_same_seed_same_numbers(draw):
    engine.manual_seed(123)
    first = draw()
    engine.manual_seed(123)
    assert draw().tolist() == first.tolist()
    engine.manual_seed(124)
    assert draw().tolist() != first.tolist() or first.numel() < 2


def test_restoring_the_rng_state_replays_the_following_draws():
    engine.manual_seed(0)
    engine.rand(5)
    state = engine.get_rng_state()
    assert state.dtype is engine.uint8 and state.ndim == 1
    after = [
        engine.rand(3).tolist(),
        engine.randn(2).tolist(),
        engine.randint(0, 100, (4,)).tolist(),
    ]
    engine.set_rng_state(state)
    again = [
        engine.rand(3).tolist(),
        engine.randn(2).tolist(),
        engine.randint(0, 100, (4,)).tolist(),
    ]
    assert after == again
    with pytest.raises(RuntimeError):
        engine.set_rng_state(engine.zeros(3, dtype=engine.uint8))


def test_generators_are_independent_and_seedable():
    generator = engine.Generator().manual_seed(7)
    assert generator.initial_seed() == 7
    from_generator = engine.rand(4, generator=generator).tolist()
    engine.manual_seed(7)
    engine.rand(100)  # the default generator moving on does not affect `generator`
    generator.manual_seed(7)
    assert engine.rand(4, generator=generator).tolist() == from_generator
    saved = generator.get_state()
    first = engine.randn(3, generator=generator).tolist()
    generator.set_state(saved)
    assert engine.randn(3, generator=generator).tolist() == first


def test_random_factories_shapes_dtypes_and_ranges():
    engine.manual_seed(1)
    uniform = engine.rand(10_000)
    assert uniform.dtype is engine.float32 and uniform.shape == (10_000,)
    values = uniform.numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.02
    normal = engine.randn(10_000, dtype=engine.float64).numpy()
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 1.0) < 0.05
    integers = engine.randint(3, 6, (1000,))
    assert integers.dtype is engine.int64 and set(integers.tolist()) == {3, 4, 5}
    assert sorted(engine.randperm(10).tolist()) == list(range(10))
    assert engine.rand(2, 3, requires_grad=True).requires_grad
    assert engine.rand_like(engine.zeros(2, dtype=engine.float64)).dtype is engine.float64
    assert engine.randn_like(engine.zeros(3, 2)).shape == (3, 2)
    assert engine.rand(1000, dtype=engine.float16).numpy().max() < 1.0
    with pytest.raises(RuntimeError):
        engine.randint(5, 5, (2,))
    with pytest.raises(RuntimeError):
        engine.rand(2, dtype=engine.int64)


def test_in_place_random_fills():
    engine.manual_seed(3)
    weights = engine.zeros(1000)
    assert weights.uniform_(-2.0, 2.0) is weights
    values = weights.numpy()
    assert values.min() >= -2.0 and values.max() < 2.0 and values.std() > 0.5
    weights.normal_(1.0, 0.1)
    assert abs(weights.numpy().mean() - 1.0) < 0.02


# ------------------------------------------------------------------- conversion to Python
def test_item_tolist_len_iter_bool_like_torch():
    for values in ([1.5], [[1, 2], [3, 4]], 3, True, []):
        engine_tensor, torch_tensor = engine.tensor(values), torch.tensor(values)
        check_like_torch(engine_tensor.tolist, torch_tensor.tolist, lambda a, b: a == b)
        check_like_torch(engine_tensor.item, torch_tensor.item, lambda a, b: a == b)
        check_like_torch(
            lambda engine_tensor=engine_tensor: len(engine_tensor),
            lambda torch_tensor=torch_tensor: len(torch_tensor),
            lambda a, b: a == b,
        )
        check_like_torch(
            lambda engine_tensor=engine_tensor: bool(engine_tensor),
            lambda torch_tensor=torch_tensor: bool(torch_tensor),
            lambda a, b: a == b,
        )
        check_like_torch(
            lambda engine_tensor=engine_tensor: [row.tolist() for row in engine_tensor],
            lambda torch_tensor=torch_tensor: [row.tolist() for row in torch_tensor],
            lambda a, b: a == b,
        )
    assert float(engine.tensor([2.5])) == 2.5 and int(engine.tensor(7)) == 7
    assert [10, 20, 30][engine.tensor(1)] == 20
    with pytest.raises(
        RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"
    ):
        engine.ones(2).item()


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]]),
        lambda lib: lib.tensor([1.5, -2.25, 3.0]),
        lambda lib: lib.tensor([1e10, 1.0]),
        lambda lib: lib.tensor([1e-5, 1.0, 100.0]),
        lambda lib: lib.tensor(3.0),
        lambda lib: lib.tensor([1, 2, 3]),
        lambda lib: lib.tensor([1, 2], dtype=lib.int32),
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float16),
        lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float64),
        lambda lib: lib.tensor([1.5, 2.0], dtype=lib.bfloat16),
        lambda lib: lib.tensor([float("nan"), float("inf"), 1.0]),
        lambda lib: lib.tensor([], dtype=lib.float64),
        lambda lib: lib.zeros(0, 3),
        lambda lib: lib.zeros(2, 0, dtype=lib.int64),
        lambda lib: lib.arange(2000.0),
        lambda lib: lib.arange(3000).reshape(30, 100),
        lambda lib: lib.arange(24.0).reshape(2, 3, 4) / 7,
        lambda lib: lib.ones(2, requires_grad=True),
        lambda lib: lib.ones(2, dtype=lib.float64, requires_grad=True),
        lambda lib: lib.arange(40.0) * 1000.5,
    ],
)
def test_repr_reads_like_torch(make):
    expected = repr(make(torch)).replace("torch.", "engine.")
    assert repr(make(engine)) == expected


# ------------------------------------------------------------------------ testing helpers
def test_assert_close_reports_what_differs():
    assert_close(engine.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]))
    with pytest.raises(AssertionError, match="shape mismatch"):
        assert_close(engine.zeros(2), torch.zeros(3))
    with pytest.raises(AssertionError, match="dtype mismatch"):
        assert_close(engine.zeros(2), torch.zeros(2, dtype=torch.float64))
    assert_close(engine.zeros(2), torch.zeros(2, dtype=torch.float64), check_dtype=False)
    with pytest.raises(AssertionError, match="values differ at 1 of 2 positions"):
        assert_close(engine.tensor([1.0, 2.0]), torch.tensor([1.0, 2.5]))
    with pytest.raises(AssertionError, match="stride mismatch"):
        assert_close(engine.zeros(2, 3).t(), torch.zeros(3, 2), check_stride=True)
    assert_close(engine.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]), atol=0.2)


def test_to_numpy_handles_both_libraries_and_bfloat16():
    assert to_numpy(torch.tensor([1.0], dtype=torch.bfloat16)).dtype == np.float32
    assert to_numpy(engine.tensor([1.0], dtype=engine.bfloat16)).dtype == np.float32
    requires = torch.ones(2, requires_grad=True) * 2
    assert to_numpy(requires).tolist() == [2.0, 2.0]


@pytest.mark.parametrize("dtype_name", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize(
    ("start", "end", "steps"), [(2, 5, 1), (3.5, -1, 1), (0, 10, 4), (1, 1, 0)]
)
def test_linspace_one_step_is_start_and_bool_is_refused(dtype_name, start, end, steps):
    check_like_torch(
        lambda: engine.linspace(start, end, steps, dtype=ENGINE_DTYPES[dtype_name]),
        lambda: torch.linspace(start, end, steps, dtype=TORCH_DTYPES[dtype_name]),
    )
