"""engine.utils.data against torch.utils.data: datasets, random_split's lengths, the
DataLoader's order, batching, collation (tensors, numbers, NumPy, tuples, dicts, strings),
samplers and errors; shuffling and seeding (the engine's generator is not torch's, so
shuffled orders are checked as permutations reproducible from a seed); worker processes
(seeded with base_seed + worker_id, results in order, errors carried to the main process)."""

from __future__ import annotations

import collections
import random
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata
from torch.utils.data._utils.worker import _generate_state as torch_generate_state

import engine
import engine.utils.data as edata
from engine.utils.data.dataloader import _generate_state
from tests.nn_helpers import same_error

Point = collections.namedtuple("Point", ["x", "y"])


def tensors(lib, n=10):
    features = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    return lib.tensor(features), lib.tensor(np.arange(n) % 3)


def as_plain(value):
    """A batch as nested Python values with tensor dtypes, comparable across libraries."""
    if isinstance(value, engine.Tensor | torch.Tensor):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.tolist())
    if isinstance(value, dict):
        return {key: as_plain(item) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return (type(value).__name__, *map(as_plain, value))
    if isinstance(value, list | tuple):
        return (type(value).__name__, *map(as_plain, value))
    return value


def batches(lib, dataset, **options):
    module = edata if lib is engine else tdata
    return [as_plain(batch) for batch in module.DataLoader(dataset, **options)]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batch_size": 4},
        {"batch_size": 4, "drop_last": True},
        {"batch_size": 20},
        {"batch_size": None},
        {"batch_size": 3, "sampler": [9, 0, 4, 4, 2]},
        {"batch_sampler": [[1, 2], [7], [0, 3, 5]]},
    ],
)
def test_tensor_dataset_batches_match_torch(options):
    ours = batches(engine, edata.TensorDataset(*tensors(engine)), **options)
    theirs = batches(torch, tdata.TensorDataset(*tensors(torch)), **options)
    assert ours == theirs
    module_loaders = [
        m.DataLoader(m.TensorDataset(*tensors(lib)), **options)
        for m, lib in ((edata, engine), (tdata, torch))
    ]
    assert len(module_loaders[0]) == len(module_loaders[1])


class Samples:
    """A plain map-style dataset of structured samples (no Dataset base class needed)."""

    def __init__(self, lib, kind):
        self.lib, self.kind = lib, kind

    def __len__(self):
        return 5

    def __getitem__(self, i):
        lib = self.lib
        return {
            "tuple": (lib.tensor([i, i + 1.0], dtype=lib.float64), i, float(i) / 2),
            "dict": {"a": np.full((2, 2), i, dtype=np.float32), "name": f"s{i}", "ok": i % 2 == 0},
            "namedtuple": Point(x=np.int16(i), y=[i, lib.tensor(i)]),
            "list": [np.float64(i), [i, i * 2]],
        }[self.kind]


@pytest.mark.parametrize("kind", ["tuple", "dict", "namedtuple", "list"])
@pytest.mark.parametrize("batch_size", [2, None])
def test_default_collate_matches_torch(kind, batch_size):
    ours = batches(engine, Samples(engine, kind), batch_size=batch_size)
    theirs = batches(torch, Samples(torch, kind), batch_size=batch_size)
    assert ours == theirs


@pytest.mark.parametrize(
    "batch",
    [
        [np.array(["a"]), np.array(["b"])],
        [object(), object()],
        [[1, 2], [3]],
        [np.zeros(2), np.zeros(3)],
    ],
    ids=["strings", "object", "ragged-list", "ragged-arrays"],
)
def test_default_collate_errors_match_torch(batch):
    same_error(
        lambda: edata.default_collate(batch),
        lambda: tdata.default_collate(batch),
    )


def test_datasets_match_torch():
    ours, theirs = tensors(engine), tensors(torch)
    e, t = edata.TensorDataset(*ours), tdata.TensorDataset(*theirs)
    assert as_plain(e[3]) == as_plain(t[3]) and len(e) == len(t)
    assert as_plain(edata.Subset(e, [4, 1])[1]) == as_plain(tdata.Subset(t, [4, 1])[1])
    concat_e, concat_t = e + edata.Subset(e, [0, 1]), t + tdata.Subset(t, [0, 1])
    assert len(concat_e) == len(concat_t) == 12
    assert as_plain(concat_e[-1]) == as_plain(concat_t[-1])
    assert as_plain(concat_e[10]) == as_plain(concat_t[10])
    same_error(
        lambda: edata.TensorDataset(ours[0], ours[1][:3]),
        lambda: tdata.TensorDataset(theirs[0], theirs[1][:3]),
    )


@pytest.mark.parametrize(
    "lengths", [[3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [1 / 3] * 3, [0.5, 0.5, 0.0]]
)
def test_random_split_lengths_match_torch_and_partition(lengths):
    dataset = list(range(10))
    with pytest.warns(UserWarning) if 0.0 in lengths else _no_warning():
        ours = edata.random_split(dataset, lengths, engine.Generator().manual_seed(1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = tdata.random_split(dataset, lengths, torch.Generator().manual_seed(1))
        again = edata.random_split(dataset, lengths, engine.Generator().manual_seed(1))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    items = [x for subset in ours for x in (subset[i] for i in range(len(subset)))]
    assert sorted(items) == dataset and items != dataset
    assert [list(s.indices) for s in again] == [list(s.indices) for s in ours]


class _no_warning:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("lengths", [[3, 6], [1.2, -0.2], [0.5, 0.6]])
def test_random_split_errors_match_torch(lengths):
    same_error(
        lambda: edata.random_split(list(range(10)), lengths),
        lambda: tdata.random_split(list(range(10)), lengths),
    )


def order(loader):
    return [int(i) for batch in loader for i in batch[1]]


def test_shuffle_is_a_permutation_reproducible_from_the_generator():
    dataset = edata.TensorDataset(engine.zeros(23), engine.arange(23))
    loader = edata.DataLoader(
        dataset, batch_size=5, shuffle=True, generator=engine.Generator().manual_seed(7)
    )
    first, second = order(loader), order(loader)
    assert sorted(first) == sorted(second) == list(range(23))
    assert first != second != list(range(23))  # a new permutation each epoch
    replay = edata.DataLoader(
        dataset, batch_size=5, shuffle=True, generator=engine.Generator().manual_seed(7)
    )
    assert order(replay) == first and order(replay) == second
    other = edata.DataLoader(
        dataset, batch_size=5, shuffle=True, generator=engine.Generator().manual_seed(8)
    )
    assert order(other) != first


@pytest.mark.parametrize("lib", [engine, torch])
def test_iterating_a_loader_draws_from_the_global_generator_as_torch(lib):
    module = edata if lib is engine else tdata
    dataset = module.TensorDataset(lib.zeros(6), lib.arange(6))
    lib.manual_seed(0)
    reference = lib.rand(3).tolist()
    lib.manual_seed(0)
    iter(module.DataLoader(dataset))  # the base seed is drawn even without workers
    assert lib.rand(3).tolist() != reference
    lib.manual_seed(0)
    shuffled = order(module.DataLoader(dataset, batch_size=2, shuffle=True))
    lib.manual_seed(0)
    assert order(module.DataLoader(dataset, batch_size=2, shuffle=True)) == shuffled


def test_samplers_match_torch():
    data = list(range(7))
    for drop_last in (False, True):
        ours = edata.BatchSampler(edata.SequentialSampler(data), 3, drop_last)
        theirs = tdata.BatchSampler(tdata.SequentialSampler(data), 3, drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    sampler = edata.RandomSampler(data, num_samples=17, generator=engine.Generator().manual_seed(0))
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == 17 and sorted(drawn[:7]) == data
    sampler = edata.RandomSampler(
        data, replacement=True, num_samples=40, generator=engine.Generator().manual_seed(0)
    )
    drawn = list(sampler)
    assert len(drawn) == 40 and set(drawn) <= set(data) and len(set(drawn)) < 40


@pytest.mark.parametrize(
    "call",
    [
        lambda m, d: m.DataLoader(d, num_workers=-1),
        lambda m, d: m.DataLoader(d, timeout=-1),
        lambda m, d: m.DataLoader(d, prefetch_factor=2),
        lambda m, d: m.DataLoader(d, persistent_workers=True),
        lambda m, d: m.DataLoader(d, shuffle=True, sampler=[0, 1]),
        lambda m, d: m.DataLoader(d, batch_size=2, batch_sampler=[[0]]),
        lambda m, d: m.DataLoader(d, batch_size=None, drop_last=True),
        lambda m, d: m.BatchSampler([0, 1], 0, False),
        lambda m, d: m.BatchSampler([0, 1], 2, 1),
        lambda m, d: m.RandomSampler(d, replacement=1),
        lambda m, d: m.RandomSampler(d, num_samples=0),
    ],
)
def test_errors_match_torch(call):
    same_error(lambda: call(edata, list(range(4))), lambda: call(tdata, list(range(4))))


def test_generate_state_is_torchs():
    for base_seed, worker_id in [(0, 0), (5995351910379070737, 3), (2**63 - 1, 7)]:
        assert _generate_state(base_seed, worker_id) == torch_generate_state(base_seed, worker_id)


class Probe(edata.Dataset):
    """Each sample records which worker read it and that worker's random draws."""

    def __len__(self):
        return 9

    def __getitem__(self, i):
        info = edata.get_worker_info()
        if i == 99:
            raise ValueError("bad sample 99")
        return {
            "i": i,
            "worker": info.id,
            "seed": info.seed,
            "num_workers": info.num_workers,
            "engine": engine.rand(()).item(),
            "python": random.random(),
            "numpy": float(np.random.random()),
            "init": getattr(info.dataset, "initialized", -1),
        }


def _init(worker_id):
    edata.get_worker_info().dataset.initialized = worker_id


def test_workers_are_seeded_as_torch_and_results_come_in_order():
    assert edata.get_worker_info() is None
    generator = engine.Generator().manual_seed(3)
    base_seed = engine.randint(0, 2**63 - 1, (), generator=engine.Generator().manual_seed(3)).item()
    loader = edata.DataLoader(
        Probe(), batch_size=2, num_workers=2, worker_init_fn=_init, generator=generator
    )
    batches_ = list(loader)
    assert [int(i) for b in batches_ for i in b["i"]] == list(range(9))  # in order
    assert [int(b["worker"][0]) for b in batches_] == [0, 1, 0, 1, 0]  # round-robin
    streams = {}
    for b in batches_:
        worker = int(b["worker"][0])
        assert int(b["seed"][0]) == base_seed + worker
        assert int(b["init"][0]) == worker and int(b["num_workers"][0]) == 2
        streams.setdefault(worker, []).append(b)
    for worker, worker_batches in streams.items():
        seed = base_seed + worker
        own = engine.Generator().manual_seed(seed)
        draws = [v for b in worker_batches for v in b["engine"].tolist()]
        assert draws == [engine.rand((), generator=own).item() for _ in draws]
        python = random.Random(seed)
        assert [v for b in worker_batches for v in b["python"].tolist()] == [
            python.random() for _ in draws
        ]
        numpy = np.random.RandomState(_generate_state(base_seed, worker))
        assert [v for b in worker_batches for v in b["numpy"].tolist()] == [
            numpy.random_sample() for _ in draws
        ]
    # An error in a worker is raised again in the main process, naming the worker.
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 0"):
        list(edata.DataLoader(Probe(), batch_size=2, sampler=[0, 99], num_workers=1))


def test_persistent_workers_keep_their_seeds_and_streams_across_epochs():
    engine.manual_seed(11)
    loader = edata.DataLoader(Probe(), batch_size=3, num_workers=2, persistent_workers=True)
    first = list(loader)
    state = engine.get_rng_state()
    partial = next(iter(loader))  # an abandoned epoch: its pending batches are dropped
    second = list(loader)
    # No new base seed after the first epoch (torch's _reset), so the global generator
    # has not moved.
    assert engine.get_rng_state().tolist() == state.tolist()
    assert [int(i) for b in second for i in b["i"]] == list(range(9))
    assert [int(b["worker"][0]) for b in second] == [0, 1, 0]  # each epoch starts at worker 0
    for worker in (0, 1):
        seeds = {int(b["seed"][0]) for b in [*first, partial, *second] if b["worker"][0] == worker}
        assert len(seeds) == 1
        own = engine.Generator().manual_seed(seeds.pop())
        draws = [v for b in first if b["worker"][0] == worker for v in b["engine"].tolist()]
        later = [v for b in second if b["worker"][0] == worker for v in b["engine"].tolist()]
        expected = [engine.rand((), generator=own).item() for _ in range(len(draws) + 12)]
        assert draws == expected[: len(draws)]
        assert later[0] in expected[len(draws) :]  # the stream continued, not restarted
    del loader


class Stream(edata.IterableDataset):
    """0 .. n-1; split between workers when ``split`` (torch's get_worker_info recipe)."""

    def __init__(self, n, split=False):
        self.n, self.split = n, split

    def __iter__(self):
        info = edata.get_worker_info()
        if info is None or not self.split:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize(
    "options", [{}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}]
)
def test_iterable_dataset_batches_match_torch(options):
    ours = [as_plain(b) for b in edata.DataLoader(Stream(8), **options)]
    theirs = [as_plain(b) for b in tdata.DataLoader(TorchStream(8), **options)]
    assert ours == theirs
    assert len(edata.DataLoader(Stream(8), **options)) == len(
        tdata.DataLoader(TorchStream(8), **options)
    )
    chained = edata.DataLoader(Stream(3) + Stream(2), batch_size=2)
    assert [b.tolist() for b in chained] == [[0, 1], [2, 0], [1]]
    for bad in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        same_error(
            lambda bad=bad: edata.DataLoader(Stream(8), **bad),
            lambda bad=bad: tdata.DataLoader(TorchStream(8), **bad),
        )


def test_iterable_dataset_with_workers_duplicates_unless_split():
    # Each worker iterates its own copy: without a split every sample comes twice.
    duplicated = [b.tolist() for b in edata.DataLoader(Stream(5), batch_size=2, num_workers=2)]
    assert duplicated == [[0, 1], [0, 1], [2, 3], [2, 3], [4], [4]]
    split = [
        b.tolist() for b in edata.DataLoader(Stream(7, split=True), batch_size=2, num_workers=2)
    ]
    assert split == [[0, 2], [1, 3], [4, 6], [5]]


def test_weighted_and_subset_random_samplers():
    generator = engine.Generator().manual_seed(0)
    weights = [1.0, 2.0, 0.0, 7.0]
    drawn = list(edata.WeightedRandomSampler(weights, 20000, generator=generator))
    counts = np.bincount(drawn, minlength=4) / 20000
    np.testing.assert_allclose(counts, np.array(weights) / 10, atol=0.015)
    assert counts[2] == 0
    # Without replacement: successive draws from the remaining weight, zero weights last.
    pairs = collections.Counter(
        tuple(edata.WeightedRandomSampler([1.0, 2.0, 7.0], 2, False, generator))
        for _ in range(2000)
    )
    assert abs(pairs[(2, 1)] / 2000 - 0.7 * 2 / 3) < 0.035
    assert abs(pairs[(1, 2)] / 2000 - 0.2 * 7 / 8) < 0.035
    assert list(edata.WeightedRandomSampler([1.0, 0.0, 1.0], 3, False, generator))[2] == 1
    subset = edata.SubsetRandomSampler([10, 20, 30, 40], generator=generator)
    assert sorted(subset) == [10, 20, 30, 40] and len(subset) == 4
    for arguments in [([1.0, 2.0], 5, False), ([[1.0, 2.0]], 2), ([1.0, -1.0], 2), ([0.0, 0.0], 2),
                      ([1.0], 0), ([1.0], 2, 1)]:  # fmt: skip
        same_error(
            lambda a=arguments: list(edata.WeightedRandomSampler(*a)),
            lambda a=arguments: list(tdata.WeightedRandomSampler(*a)),
        )
