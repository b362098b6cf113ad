"""matmul/mm/bmm/mv/dot and cat/stack/one_hot, compared with torch, errors included."""

import pathlib
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `strategies` in any import mode
from strategies import (  # noqa: E402
    assert_same_tensor,
    check_like_torch,
    make_pair,
    random_values,
    tensor_pairs,
)


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


# ------------------------------------------------------------- norms and products (issue 12)
def _same(ours, theirs):
    assert_same_tensor(ours, theirs)


ORDS = [2, 1, 0, 3, 0.5, float("inf"), -float("inf"), -1]


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "float64", "float16", "int64"), max_steps=3),
    ord=st.sampled_from(ORDS),
    data=st.data(),
)
def test_vector_norm_like_torch(pair, ord, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    dim = data.draw(st.none() | st.integers(-ndim, ndim - 1) | st.just((0, -1)))
    keepdim = data.draw(st.booleans())
    check_like_torch(
        lambda: engine.linalg.vector_norm(ours, ord, dim, keepdim),
        lambda: torch.linalg.vector_norm(theirs, ord, dim, keepdim),
        _same,
    )
    if dim is not None and ord != 0 and ord > 0:
        check_like_torch(lambda: ours.norm(ord, dim), lambda: theirs.norm(ord, dim))


@settings(max_examples=25, deadline=None)
@given(
    pair=tensor_pairs(("float32", "float64"), min_dims=2, max_steps=2, allow_expand=False),
    ord=st.sampled_from(["fro", 1, -1, float("inf"), -float("inf")]),
    keepdim=st.booleans(),
)
def test_matrix_norm_like_torch(pair, ord, keepdim):
    ours, theirs = pair
    check_like_torch(
        lambda: engine.linalg.matrix_norm(ours, ord, keepdim=keepdim),
        lambda: torch.linalg.matrix_norm(theirs, ord, keepdim=keepdim),
    )
    check_like_torch(lambda: engine.linalg.norm(ours), lambda: torch.linalg.norm(theirs))


def test_norm_errors_like_torch():
    for ours_call, torch_call in [
        (lambda: engine.linalg.vector_norm(engine.ones(3).long()),
         lambda: torch.linalg.vector_norm(torch.ones(3).long())),
        (lambda: engine.linalg.vector_norm(engine.ones(0), float("inf")),
         lambda: torch.linalg.vector_norm(torch.ones(0), float("inf"))),
        (lambda: engine.linalg.matrix_norm(engine.ones(3)),
         lambda: torch.linalg.matrix_norm(torch.ones(3))),
        (lambda: engine.cdist(engine.ones(3), engine.ones(3)),
         lambda: torch.cdist(torch.ones(3), torch.ones(3))),
        (lambda: engine.cdist(engine.ones(2, 3), engine.ones(2, 4)),
         lambda: torch.cdist(torch.ones(2, 3), torch.ones(2, 4))),
        (lambda: engine.outer(engine.ones(2, 2), engine.ones(2)),
         lambda: torch.outer(torch.ones(2, 2), torch.ones(2))),
        (lambda: engine.linalg.cross(engine.ones(4), engine.ones(4)),
         lambda: torch.linalg.cross(torch.ones(4), torch.ones(4))),
    ]:  # fmt: skip
        check_like_torch(ours_call, torch_call)


def test_norm_gradient_is_zero_at_zero_like_torch():
    ours = engine.zeros(2, 3, dtype=engine.float64, requires_grad=True)
    engine.linalg.vector_norm(ours).backward()
    engine.cdist(ours, ours).sum().backward()
    assert ours.grad.tolist() == [[0.0] * 3] * 2


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
@settings(max_examples=25, deadline=None)
@given(
    pairs=st.sampled_from([((3,), (3,)), ((2, 3), (1, 3)), ((3, 4), (3, 1)), ((0, 3), (1, 3))]),
    dtype=st.sampled_from(["float32", "float64", "int64"]),
    seed=st.integers(0, 2**16),
)
def test_cross_outer_kron_like_torch(pairs, dtype, seed):
    first, second = (make_pair(random_values(shape, dtype, seed + i), dtype) for i, shape in
                     enumerate(pairs))  # fmt: skip
    check_like_torch(
        lambda: engine.cross(first[0], second[0]), lambda: torch.cross(first[1], second[1])
    )
    check_like_torch(
        lambda: engine.linalg.cross(first[0], second[0], dim=0),
        lambda: torch.linalg.cross(first[1], second[1], dim=0),
    )
    check_like_torch(lambda: first[0].kron(second[0]), lambda: first[1].kron(second[1]), _same)
    flat = (first[0].flatten(), second[0].flatten()), (first[1].flatten(), second[1].flatten())
    check_like_torch(lambda: engine.outer(*flat[0]), lambda: torch.outer(*flat[1]), _same)


@settings(max_examples=25, deadline=None)
@given(
    shapes=st.sampled_from([((3, 2), (4, 2)), ((2, 3, 2), (3, 2)), ((1, 0, 2), (3, 3, 2))]),
    p=st.sampled_from([2.0, 1.0, 0.0, 3.0, float("inf")]),
    seed=st.integers(0, 2**16),
)
def test_cdist_like_torch(shapes, p, seed):
    first, second = (make_pair(random_values(shape, "float64", seed + i), "float64")
                     for i, shape in enumerate(shapes))  # fmt: skip
    check_like_torch(
        lambda: engine.cdist(first[0], second[0], p), lambda: torch.cdist(first[1], second[1], p)
    )


EQUATIONS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("i,j->ij", [(2,), (3,)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("ij,kj,k->i", [(2, 3), (4, 3), (4,)]),
    ("Ba,ca->Bc", [(2, 3), (4, 3)]),
    ("...", [(2, 3)]),
    ("i...->...", [(2, 3, 4)]),
    ("ij->", [(0, 3)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i j , j k -> i k", [(2, 3), (3, 2)]),
    ("ij,jk->ik", [(2, 3), (4, 2)]),
    ("ij,jk->ii", [(2, 3), (3, 2)]),
    ("ij->k", [(2, 3)]),
    ("ijk->", [(2, 3)]),
    ("ij,jk->ik", [(2, 3)]),
]


@pytest.mark.parametrize(("equation", "shapes"), EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_einsum_like_torch(equation, shapes):
    pairs = [make_pair(random_values(shape, "float64", index), "float64")
             for index, shape in enumerate(shapes)]  # fmt: skip
    check_like_torch(
        lambda: engine.einsum(equation, *[pair[0] for pair in pairs]),
        lambda: torch.einsum(equation, *[pair[1] for pair in pairs]),
        _same,
    )
    check_like_torch(
        lambda: engine.einsum(equation, [pair[0] for pair in pairs]),
        lambda: torch.einsum(equation, [pair[1] for pair in pairs]),
    )


@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0:UserWarning")
@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
@settings(max_examples=25, deadline=None)
@given(pair=tensor_pairs(("float32", "float64", "int64"), min_dims=1, max_steps=3), data=st.data())
def test_var_mean_and_std_mean_like_torch(pair, data):
    ours, theirs = pair
    ndim = max(ours.ndim, 1)
    dim = data.draw(st.none() | st.integers(-ndim, ndim - 1))
    keepdim, correction = data.draw(st.booleans()), data.draw(st.sampled_from([0, 1, 2]))
    for name in ("var_mean", "std_mean"):
        check_like_torch(
            lambda name=name: getattr(engine, name)(
                ours, dim, keepdim=keepdim, correction=correction
            ),
            lambda name=name: getattr(torch, name)(
                theirs, dim, keepdim=keepdim, correction=correction
            ),
            lambda a, b: [_same(x, y) for x, y in zip(a, b, strict=True)],
        )
