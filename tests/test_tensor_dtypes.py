"""Dtypes, inference and type promotion, compared exhaustively with torch."""

import itertools
import operator
import pathlib
import sys

import ml_dtypes
import numpy as np
import pytest
import torch

import engine
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import ALL_NAMES, ENGINE_DTYPES, TORCH_DTYPES, check_like_torch  # noqa: E402

PAIRS = list(itertools.product(ALL_NAMES, ALL_NAMES))
OPERATORS = {"add": operator.add, "mul": operator.mul, "truediv": operator.truediv}
SCALARS = [True, 3, 2.5, -1, 1000, 1e10]


def sample(dtype_name: str, shape=(3,)):
    """Positive values that every dtype holds, so only the dtype rules are under test."""
    values = np.arange(1, 1 + int(np.prod(shape))).reshape(shape) % 2 == 1
    if dtype_name != "bool":
        values = np.arange(1, 1 + int(np.prod(shape))).reshape(shape)
    engine_tensor = engine.tensor(values, dtype=ENGINE_DTYPES[dtype_name])
    torch_tensor = torch.from_numpy(np.array(values)).to(TORCH_DTYPES[dtype_name])
    return engine_tensor, torch_tensor


def test_dtype_objects_print_and_describe_themselves():
    assert repr(engine.float32) == "engine.float32"
    assert str(engine.bfloat16) == "engine.bfloat16"
    for name in ALL_NAMES:
        engine_dtype, torch_dtype = ENGINE_DTYPES[name], TORCH_DTYPES[name]
        assert engine_dtype.is_floating_point == torch_dtype.is_floating_point
        assert engine_dtype.itemsize == torch_dtype.itemsize
        assert engine_dtype.is_signed == torch_dtype.is_signed
    assert engine.bfloat16.numpy_dtype == np.dtype(ml_dtypes.bfloat16)
    assert engine.half is engine.float16 and engine.double is engine.float64
    assert engine.long is engine.int64 and engine.float is engine.float32


@pytest.mark.parametrize("first, second", PAIRS)
def test_promote_types_table_matches_torch(first, second):
    result = engine.promote_types(ENGINE_DTYPES[first], ENGINE_DTYPES[second])
    assert result.name == str(torch.promote_types(TORCH_DTYPES[first], TORCH_DTYPES[second]))[6:]


@pytest.mark.parametrize("op_name", OPERATORS)
@pytest.mark.parametrize("first, second", PAIRS)
def test_tensor_with_tensor_promotion(first, second, op_name):
    operation = OPERATORS[op_name]
    (engine_a, torch_a), (engine_b, torch_b) = sample(first), sample(second)
    check_like_torch(lambda: operation(engine_a, engine_b), lambda: operation(torch_a, torch_b))
    # A zero-dimensional tensor only counts when it is of a higher category.
    (engine_zero, torch_zero) = sample(second, shape=())
    check_like_torch(
        lambda: operation(engine_a, engine_zero), lambda: operation(torch_a, torch_zero)
    )
    check_like_torch(
        lambda: operation(engine_zero, engine_a), lambda: operation(torch_zero, torch_a)
    )
    (engine_zero_a, torch_zero_a) = sample(first, shape=())
    check_like_torch(
        lambda: operation(engine_zero_a, engine_zero), lambda: operation(torch_zero_a, torch_zero)
    )


@pytest.mark.parametrize("op_name", OPERATORS)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("dtype_name", ALL_NAMES)
@pytest.mark.parametrize("shape", [(3,), ()], ids=["1-d", "0-d"])
def test_tensor_with_python_scalar_promotion(dtype_name, scalar, op_name, shape):
    operation = OPERATORS[op_name]
    engine_tensor, torch_tensor = sample(dtype_name, shape)
    check_like_torch(
        lambda: operation(engine_tensor, scalar), lambda: operation(torch_tensor, scalar)
    )
    check_like_torch(
        lambda: operation(scalar, engine_tensor), lambda: operation(scalar, torch_tensor)
    )


@pytest.mark.parametrize("first, second", PAIRS)
def test_result_type_matches_torch(first, second):
    (engine_a, torch_a), (engine_zero, torch_zero) = sample(first), sample(second, shape=())
    for engine_other, torch_other in [(engine_zero, torch_zero), *((s, s) for s in SCALARS)]:
        expected = torch.result_type(torch_a, torch_other)
        assert engine.result_type(engine_a, engine_other).name == str(expected)[6:]


def test_promotion_examples_from_the_chapter():
    assert (engine.ones(2, dtype=engine.float16) * 2.0).dtype is engine.float16
    assert (engine.ones(2, dtype=engine.int64) * 2.5).dtype is engine.float32
    assert (engine.ones(2, dtype=engine.uint8) + 1000).tolist() == [233, 233]
    assert (engine.ones(2, dtype=engine.int64) / 2).dtype is engine.float32
    assert (
        engine.ones(2, dtype=engine.int32) + engine.tensor(1.0, dtype=engine.float64)
    ).dtype is (engine.float64)


@pytest.mark.parametrize(
    "data",
    [
        1,
        2.5,
        True,
        [1, 2],
        [1.0, 2],
        [True, False],
        [True, 2],
        [[1, 2], [3, 4]],
        [],
        [[]],
        np.array([1, 2], dtype=np.int32),
        np.array([1.0], dtype=np.float64),
        np.float64(2.0),
        np.array(3, dtype=np.uint8),
    ],
    ids=repr,
)
def test_tensor_infers_dtype_and_shape_like_torch(data):
    check_like_torch(lambda: engine.tensor(data), lambda: torch.tensor(data))


@pytest.mark.parametrize("dtype_name", ALL_NAMES)
def test_tensor_with_explicit_dtype(dtype_name):
    data = [[0.0, 1.7], [2.2, 3.9]]
    check_like_torch(
        lambda: engine.tensor(data, dtype=ENGINE_DTYPES[dtype_name]),
        lambda: torch.tensor(data, dtype=TORCH_DTYPES[dtype_name]),
    )


def test_ragged_data_is_a_value_error_like_torch():
    with pytest.raises(ValueError):
        torch.tensor([[1, 2], [3]])
    with pytest.raises(ValueError):
        engine.tensor([[1, 2], [3]])


@pytest.mark.parametrize("fill", [3, 3.0, True, -2])
def test_full_infers_dtype_from_the_fill_value(fill):
    check_like_torch(lambda: engine.full((2, 3), fill), lambda: torch.full((2, 3), fill))
    check_like_torch(
        lambda: engine.full((2,), fill, dtype=engine.float64),
        lambda: torch.full((2,), fill, dtype=torch.float64),
    )


@pytest.mark.parametrize("source", ALL_NAMES)
@pytest.mark.parametrize("target", ALL_NAMES)
def test_to_converts_like_torch(source, target):
    values = np.array([0.0, 1.0, 2.7, -3.5, 100.25, 0.5])
    if source in ("bool", "uint8"):
        values = np.abs(values)
    engine_tensor = engine.tensor(values).to(ENGINE_DTYPES[source])
    torch_tensor = torch.tensor(values).to(TORCH_DTYPES[source])
    if target == "uint8" and source not in ("bool", "uint8"):
        # Negative floats to uint8 are undefined behaviour in C++; compare the defined part.
        engine_tensor, torch_tensor = engine_tensor.abs(), torch_tensor.abs()
    check_like_torch(
        lambda: engine_tensor.to(ENGINE_DTYPES[target]),
        lambda: torch_tensor.to(TORCH_DTYPES[target]),
    )


def test_conversion_shortcuts_and_identity():
    tensor = engine.tensor([1.5, -2.5])
    assert tensor.to(engine.float32) is tensor
    assert tensor.float() is tensor
    assert tensor.double().dtype is engine.float64
    assert tensor.half().dtype is engine.float16
    assert tensor.bfloat16().dtype is engine.bfloat16
    assert tensor.long().tolist() == [1, -2]
    assert tensor.int().dtype is engine.int32
    assert tensor.bool().tolist() == [True, True]
    assert tensor.to(engine.zeros(1, dtype=engine.int64)).dtype is engine.int64
    assert tensor.type(engine.float64).dtype is engine.float64
    assert tensor.to("cpu") is tensor


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_finfo_matches_torch(name):
    ours, theirs = engine.finfo(ENGINE_DTYPES[name]), torch.finfo(TORCH_DTYPES[name])
    for field in ("bits", "eps", "max", "min", "tiny", "resolution"):
        assert getattr(ours, field) == getattr(theirs, field), field
    with pytest.raises(TypeError):
        engine.finfo(engine.int32)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name):
    ours, theirs = engine.iinfo(ENGINE_DTYPES[name]), torch.iinfo(TORCH_DTYPES[name])
    assert (ours.bits, ours.min, ours.max) == (theirs.bits, theirs.min, theirs.max)


def test_in_place_ops_refuse_a_lossy_cast_like_torch():
    with pytest.raises(RuntimeError, match="result type Float can't be cast"):
        engine.ones(2, dtype=engine.int64).add_(engine.ones(2))
    with pytest.raises(RuntimeError):
        torch.ones(2, dtype=torch.int64).add_(torch.ones(2))
    accumulator = engine.zeros(2)
    accumulator += engine.ones(2, dtype=engine.int64)
    assert accumulator.dtype is engine.float32 and accumulator.tolist() == [1.0, 1.0]


def test_bfloat16_values_round_like_torch():
    values = [1.0, 1.00390625, 3.14159, 1e-3, 65504.0, 1e30]
    assert_close(
        engine.tensor(values, dtype=engine.bfloat16),
        torch.tensor(values, dtype=torch.bfloat16),
        rtol=0,
        atol=0,
    )
    assert_close(
        engine.tensor(values, dtype=engine.float16),
        torch.tensor(values, dtype=torch.float16),
        rtol=0,
        atol=0,
    )


# ------------------------------------------------------------- 16-bit casts, bit for bit
def _edge_and_random_values() -> np.ndarray:
    """Float64 values where 16-bit rounding can go wrong: random magnitudes over float16's and
    bfloat16's whole range, the largest finite values and the first that overflow, the
    subnormals and what underflows, signed zeros, inf, NaN, and values just above, at and just
    below each halfway point between two float16 / bfloat16 neighbours (rounding twice,
    through float32, differs from rounding once there)."""
    rng = np.random.default_rng(2026)
    magnitudes = rng.standard_normal(20_000) * 10.0 ** rng.integers(-12, 40, 20_000)
    edges = [65504, 65519.99, 65520, 65536, 1e5, 2**-14, 2**-24, 2**-25, 2**-26, 6e-8]
    edges += [3.3895e38, 3.4e38, 3.5e38, 1e39, 1e-40, 1e-45, np.inf, np.nan, 0.0, -0.0]
    halfway = []
    for dtype in (np.float16, ml_dtypes.bfloat16):
        neighbours = rng.standard_normal(5_000).astype(dtype)
        lower = neighbours.astype(np.float64)
        upper = np.nextafter(neighbours, np.array(np.inf, dtype)).astype(np.float64)
        middle = (lower + upper) / 2
        for nudge in (-(2.0**-40), 0.0, 2.0**-40):
            halfway.append(middle + nudge * np.abs(middle))
    values = np.concatenate([magnitudes, np.array(edges), -np.array(edges), *halfway])
    return values


@pytest.mark.parametrize("source", ["float64", "float32"])
@pytest.mark.parametrize("target", ["float16", "bfloat16"])
def test_16_bit_casts_equal_torch_bit_for_bit(source, target):
    with np.errstate(over="ignore"):
        values = _edge_and_random_values().astype(source)
    expected = torch.from_numpy(values).to(TORCH_DTYPES[target]).view(torch.int16).numpy()
    result = engine.tensor(values).to(ENGINE_DTYPES[target])
    bits = np.ascontiguousarray(result.numpy()).view(np.int16)
    nan = np.isnan(values)
    assert np.array_equal(bits[~nan], expected[~nan]), values[~nan][bits[~nan] != expected[~nan]]
    assert np.isnan(result.numpy()[nan].astype(np.float32)).all()


@pytest.mark.parametrize("target", ["float16", "bfloat16"])
def test_python_numbers_round_to_16_bits_through_float32_like_torch(target):
    # 1 + 2**-11 is halfway between float16's 1 and 1 + 2**-10; the tiny excess is lost in
    # float32, so torch's rounding (float64 -> float32 -> float16) gives 1.0.
    value = 1 + 2**-11 + 2**-40 if target == "float16" else 1 + 2**-8 + 2**-40
    engine_dtype, torch_dtype = ENGINE_DTYPES[target], TORCH_DTYPES[target]
    made = [
        (engine.tensor(value, dtype=engine_dtype), torch.tensor(value, dtype=torch_dtype)),
        (engine.full((1,), value, dtype=engine_dtype), torch.full((1,), value, dtype=torch_dtype)),
        (engine.zeros(1, dtype=engine_dtype) + value, torch.zeros(1, dtype=torch_dtype) + value),
    ]
    for ours, theirs in made:
        assert ours.item() == theirs.item() == 1.0


@pytest.mark.parametrize("target", ["float16", "bfloat16"])
def test_16_bit_arithmetic_overflows_and_underflows_like_torch(target):
    engine_dtype, torch_dtype = ENGINE_DTYPES[target], TORCH_DTYPES[target]
    values = [60000.0, 3e38, 1e-7, 6e-8, -60000.0, 1.0, 2.0**-24]
    for function in (
        lambda x: x * 2,
        lambda x: x * x,
        lambda x: x / 1000,
        lambda x: x + x,
        lambda x: x.sum(),
        lambda x: x.exp(),
    ):
        with np.errstate(all="ignore"):
            ours = function(engine.tensor(values, dtype=engine_dtype))
        theirs = function(torch.tensor(values, dtype=torch_dtype))
        assert ours.dtype is engine_dtype
        assert_close(ours, theirs, rtol=0, atol=0, equal_nan=True)


@pytest.mark.parametrize("target", ["float16", "bfloat16"])
@pytest.mark.parametrize("input_shape", [(50, 64), (5, 10, 64)])
def test_16_bit_linear_with_a_bias_rounds_once_like_torchs_addmm(target, input_shape):
    # torch sums the product and the bias in float32 and rounds once; rounding the product
    # to 16 bits before adding the bias differed from torch in 955 of 3,200 float16 entries.
    rng = np.random.default_rng(0)
    arrays = [
        rng.random(input_shape),
        rng.standard_normal((64, 64)) * 0.1,
        rng.standard_normal(64) * 0.1,
    ]
    ours = engine.nn.functional.linear(
        *(engine.tensor(a).to(ENGINE_DTYPES[target]) for a in arrays)
    ).float()
    theirs = torch.nn.functional.linear(
        *(torch.from_numpy(a).to(TORCH_DTYPES[target]) for a in arrays)
    ).float()
    differ = (ours.numpy() != theirs.numpy()).mean()
    assert differ < 0.005, f"{differ:.1%} of the entries differ from torch"
    assert_close(ours, theirs, rtol=1e-2, atol=1e-2)
