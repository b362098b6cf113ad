"""matmul/mm/bmm/mv/dot and cat/stack/one_hot, compared with torch, errors included."""

import pathlib
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import check_like_torch, make_pair, random_values, tensor_pairs  # noqa: E402


@st.composite
def matmul_shapes(draw):
    """Operand shapes for matmul: 0-d to 4-d, inner sizes usually matching, batch dims usually
    broadcastable."""
    inner = draw(st.integers(0, 4))
    first_ndim, second_ndim = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    batch = draw(st.lists(st.integers(1, 3), min_size=2, max_size=2))

    def batch_for(count):
        sizes = batch[len(batch) - count :] if count > 0 else []
        return [draw(st.sampled_from([size, 1])) for size in sizes]

    if first_ndim == 0:
        first = ()
    elif first_ndim == 1:
        first = (inner,)
    else:
        first = (*batch_for(first_ndim - 2), draw(st.integers(1, 3)), inner)
    other_inner = inner if draw(st.integers(0, 5)) else inner + 1
    if second_ndim == 0:
        second = ()
    elif second_ndim == 1:
        second = (other_inner,)
    else:
        second = (*batch_for(second_ndim - 2), other_inner, draw(st.integers(1, 3)))
    return first, second


@settings(max_examples=400, deadline=None)
@given(matmul_shapes(), st.sampled_from(["float32", "float64", "int64", "float16"]), st.data())
def test_matmul_shapes_values_and_errors_like_torch(shapes, dtype_name, data):
    first_shape, second_shape = shapes
    seed = data.draw(st.integers(0, 1000))
    engine_a, torch_a = make_pair(random_values(first_shape, dtype_name, seed), dtype_name)
    engine_b, torch_b = make_pair(random_values(second_shape, dtype_name, seed + 1), dtype_name)
    if data.draw(st.booleans()) and engine_a.ndim >= 2:
        # A transposed (non-contiguous) left operand.
        engine_a = engine_a.mT.contiguous().mT
        torch_a = torch_a.mT.contiguous().mT
    check_like_torch(lambda: engine_a @ engine_b, lambda: torch_a @ torch_b)
    check_like_torch(
        lambda: engine.matmul(engine_a, engine_b), lambda: torch.matmul(torch_a, torch_b)
    )
    check_like_torch(lambda: engine.mm(engine_a, engine_b), lambda: torch.mm(torch_a, torch_b))
    check_like_torch(lambda: engine.bmm(engine_a, engine_b), lambda: torch.bmm(torch_a, torch_b))
    check_like_torch(lambda: engine.dot(engine_a, engine_b), lambda: torch.dot(torch_a, torch_b))
    check_like_torch(lambda: engine.mv(engine_a, engine_b), lambda: torch.mv(torch_a, torch_b))


def test_matmul_error_messages_follow_torch():
    with pytest.raises(
        RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"
    ):
        engine.ones(2, 3) @ engine.ones(4, 5)
    with pytest.raises(RuntimeError, match="same dtype"):
        engine.ones(2, 3) @ engine.ones(3, 2, dtype=engine.float64)
    with pytest.raises(RuntimeError, match="at least 1D"):
        engine.tensor(1.0) @ engine.ones(3)
    with pytest.raises(RuntimeError, match=r"batch2 tensor to be: \[6, 3\] but got: \[6, 4\]"):
        engine.ones(6, 2, 3) @ engine.ones(6, 4, 5)
    check_like_torch(
        lambda: engine.ones(2, 2, dtype=engine.bool) @ engine.ones(2, 2, dtype=engine.bool),
        lambda: torch.ones(2, 2, dtype=torch.bool) @ torch.ones(2, 2, dtype=torch.bool),
    )


@settings(max_examples=80, deadline=None)
@given(
    tensor_pairs(("float32", "int64", "bool", "float64"), max_steps=2, max_side=3),
    st.data(),
)
def test_cat_and_stack_like_torch(pair, data):
    engine_tensor, torch_tensor = pair
    ndim = torch_tensor.ndim
    dim = data.draw(st.integers(-ndim - 1, ndim))
    count = data.draw(st.integers(1, 3))
    engine_list, torch_list = [engine_tensor], [torch_tensor]
    for index in range(count - 1):
        shape = list(torch_tensor.shape)
        if shape and data.draw(st.booleans()):
            shape[dim % ndim if ndim else 0] = data.draw(st.integers(0, 3))
        dtype_name = data.draw(st.sampled_from(["float32", "int64", "float16"]))
        engine_other, torch_other = make_pair(
            random_values(tuple(shape), dtype_name, index), dtype_name
        )
        engine_list.append(engine_other)
        torch_list.append(torch_other)
    check_like_torch(lambda: engine.cat(engine_list, dim), lambda: torch.cat(torch_list, dim))
    check_like_torch(lambda: engine.stack(engine_list, dim), lambda: torch.stack(torch_list, dim))


def test_cat_and_stack_errors_like_torch():
    check_like_torch(lambda: engine.cat([]), lambda: torch.cat([]))
    check_like_torch(lambda: engine.stack([]), lambda: torch.stack([]))
    check_like_torch(
        lambda: engine.cat([engine.ones(2, 2), engine.ones(3)]),
        lambda: torch.cat([torch.ones(2, 2), torch.ones(3)]),
    )
    check_like_torch(
        lambda: engine.cat([engine.tensor(1.0), engine.tensor(2.0)]),
        lambda: torch.cat([torch.tensor(1.0), torch.tensor(2.0)]),
    )
    check_like_torch(
        lambda: engine.cat([engine.ones(2, 2), engine.ones(0)]),
        lambda: torch.cat([torch.ones(2, 2), torch.ones(0)]),
    )
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        engine.cat([engine.ones(2, 2), engine.ones(3, 3)], 1)


@pytest.mark.parametrize(
    "values, num_classes",
    [([0, 2, 1], -1), ([[1, 0], [3, 3]], 5), ([], 3), ([], -1), ([-1], -1), ([3], 2), ([1], 0)],
)
def test_one_hot_like_torch(values, num_classes):
    check_like_torch(
        lambda: engine.one_hot(engine.tensor(values, dtype=engine.int64), num_classes),
        lambda: torch.nn.functional.one_hot(torch.tensor(values, dtype=torch.int64), num_classes),
    )


def test_one_hot_needs_int64():
    with pytest.raises(RuntimeError, match="LongTensor"):
        engine.one_hot(engine.tensor([1.0]))
