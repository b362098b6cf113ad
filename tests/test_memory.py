"""engine.memory: bytes of live tensor storage and their peak (torch.cuda.memory_allocated & co).

Expected byte counts are worked out by hand from shapes and dtypes.  The automatic garbage
collector is off during each test so that only reference counting frees storages: a
collection of some earlier test's garbage cycle in the middle of a test would change the counts.
"""

import gc

import numpy as np
import pytest

import engine
from engine import memory
from engine.tensor import Tensor

N = 1000


@pytest.fixture(autouse=True)
def no_automatic_gc():
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("dtype", "itemsize"),
    [
        (engine.float32, 4),
        (engine.float64, 8),
        (engine.bfloat16, 2),
        (engine.int64, 8),
        (engine.bool, 1),
    ],
)
def test_new_tensor_counts_its_bytes_until_deleted(dtype, itemsize):
    base = memory.allocated()
    tensor = engine.zeros(N, dtype=dtype)
    assert memory.allocated() == base + N * itemsize
    del tensor
    assert memory.allocated() == base


def test_tensor_constructor_registers_the_storage_it_wraps():
    base = memory.allocated()
    tensor = Tensor(np.zeros(10, dtype=np.float32), (2, 5), (5, 1))
    assert memory.allocated() == base + 40
    del tensor
    assert memory.allocated() == base


def test_views_add_nothing_and_keep_the_storage_alive():
    base = memory.allocated()
    tensor = engine.zeros(N)
    views = [
        tensor.view(10, 100),
        tensor[::2],
        tensor.view(10, 100).t(),
        tensor.view(1, N).expand(3, N),
        tensor.detach(),
        tensor.data,
    ]
    assert memory.allocated() == base + 4 * N
    del tensor
    assert memory.allocated() == base + 4 * N  # the views still hold the storage
    del views
    assert memory.allocated() == base


def test_clone_adds_a_storage():
    base = memory.allocated()
    tensor = engine.zeros(N)
    copy = tensor.clone()
    assert memory.allocated() == base + 2 * 4 * N
    del copy
    assert memory.allocated() == base + 4 * N
    del tensor
    assert memory.allocated() == base


def test_from_numpy_counts_the_storage_it_spans_once_per_storage():
    array = np.zeros(10, dtype=np.float32)
    base = memory.allocated()
    every_other = engine.from_numpy(array[::2])  # spans elements 0..8 of the array
    assert memory.allocated() == base + 9 * 4
    whole = engine.from_numpy(array)
    assert memory.allocated() == base + 9 * 4 + 10 * 4
    again = engine.from_numpy(array)  # a second storage over the same memory counts again
    assert memory.allocated() == base + 9 * 4 + 2 * 10 * 4
    del every_other, whole, again
    assert memory.allocated() == base


def test_peak_tracks_a_temporary_that_was_freed():
    a = engine.zeros(N)
    memory.reset_peak_stats()
    base = memory.allocated()
    total = (a * 2).sum()  # the product (4N bytes) is freed once the sum (4 bytes) exists
    assert memory.allocated() == base + 4
    assert memory.max_allocated() == base + 4 * N + 4
    del total


def test_reset_peak_stats_sets_the_peak_to_the_current_value():
    kept = engine.zeros(N)
    temporary = engine.zeros(2 * N)
    del temporary
    memory.reset_peak_stats()
    assert memory.max_allocated() == memory.allocated()
    more = engine.zeros(N // 2)
    assert memory.max_allocated() == memory.allocated()
    peak = memory.max_allocated()
    del more
    assert memory.max_allocated() == peak
    assert memory.allocated() == peak - 4 * (N // 2)
    del kept


def test_reset_peak_stats_collects_graph_cycles_first():
    x = engine.ones(N, requires_grad=True)
    base = memory.allocated()
    y = (x.exp() * 2).sum()
    # exp saves its own result, and that result points back at its node: a reference cycle
    # that outlives the graph until the garbage collector runs.
    del y
    assert memory.allocated() == base + 4 * N
    memory.reset_peak_stats()
    assert memory.allocated() == base
    assert memory.max_allocated() == base


def _graph_with_existing_grad():
    x = engine.ones(N, requires_grad=True)
    x.grad = engine.zeros(N)  # backward then accumulates in place: no new storage for .grad
    return x


def test_backward_frees_the_saved_tensors():
    x = _graph_with_existing_grad()
    memory.reset_peak_stats()
    base = memory.allocated()
    y = (x.exp() * 2).sum()
    # ExpBackward saved exp(x) (4N bytes); MulBackward saved nothing (its other operand is a
    # number); SumBackward saves shapes only.  The product (4N) was freed by the sum.
    gc.collect()
    assert memory.allocated() == base + 4 * N + 4
    assert memory.max_allocated() == base + 4 * N + 4 * N + 4
    y.backward()
    assert memory.allocated() == base + 4  # only y is left
    # During backward: the 4-byte gradient of y, grad * 2 (4N) and (grad * 2) * exp(x) (4N).
    assert memory.max_allocated() == base + 4 * N + 4 + 4 + 4 * N + 4 * N
    del y


def test_backward_with_retain_graph_keeps_the_saved_tensors():
    x = _graph_with_existing_grad()
    base = memory.allocated()
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    assert memory.allocated() == base + 4 * N + 4
    y.backward()
    assert memory.allocated() == base + 4


def test_no_leak_after_a_loop_of_ops():
    x = engine.ones(N, requires_grad=True)
    base = memory.allocated()
    for _ in range(100):
        y = (x.exp() * 2).sum()
        y.backward()
    with engine.no_grad():
        t = engine.zeros(N)
        for _ in range(100):
            t = (t + 1).relu()
    assert memory.allocated() == base + 4 * N + 4 + 4 * N  # x.grad, the last y, t
    del y, t
    x.grad = None
    assert memory.allocated() == base


def test_a_reused_id_is_counted_afresh():
    # CPython hands a freed object's address (its id) to a later object of that size: a new
    # storage must be registered even though its id was registered (and freed) before.
    base = memory.allocated()
    freed_ids = set()
    new = None
    for _ in range(100):
        old = engine.Tensor(np.zeros(10, dtype=np.float32), (10,), (1,))
        freed_ids.add(id(old._storage))
        del old
        assert memory.allocated() == base
        storage = np.zeros(20, dtype=np.float32)
        new = engine.Tensor(storage, (20,), (1,))
        del storage
        if id(new._storage) in freed_ids:
            break
        freed_ids.add(id(new._storage))
        new = None
    else:
        pytest.fail("no storage id was reused; the test did not exercise id reuse")
    assert memory.allocated() == base + 20 * 4
    del new
    assert memory.allocated() == base
