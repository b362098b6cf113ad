"""``DataLoader`` as ``torch.utils.data.DataLoader``: a sampler picks indices, a batch
sampler groups them, the dataset is read at each index and ``collate_fn`` assembles the
samples into a batch (:func:`default_collate` stacks tensors, turns numbers into tensors and
recurses into tuples, lists and dicts).

**Randomness.**  Every iterator (every epoch) first draws a ``base_seed`` from the loader's
``generator`` (the default generator when None), as torch does, even with no workers -- so
iterating a loader advances ``engine``'s global generator.  ``shuffle=True`` then uses a
:class:`RandomSampler` with the same ``generator``.

**Workers.**  With ``num_workers > 0`` each batch is read and collated in one of
``num_workers`` processes; worker ``i`` seeds Python's ``random`` and ``engine``'s default
generator with ``base_seed + i`` and NumPy's global generator with torch's
``_generate_state(base_seed, i)``, then calls ``worker_init_fn(i)``;
:func:`get_worker_info` tells code running in a worker which one it is.  Batches are handed
out round-robin, ``prefetch_factor`` per worker ahead, and yielded in order.  Processes are
started with the ``fork`` context where the platform has it (Linux: the workers inherit the
dataset without pickling it and start fast), else the platform's default (``spawn``: the
dataset, ``collate_fn`` and ``worker_init_fn`` must be picklable);
``multiprocessing_context`` overrides it.  An exception in a worker is raised again in the
main process with the worker's traceback.  With an :class:`IterableDataset` each worker
iterates its own copy (so the samples repeat once per worker unless ``__iter__`` splits the
stream with :func:`get_worker_info`), batches are taken round-robin from the workers still
running, as in torch.  Workers are started for each epoch, or once with
``persistent_workers=True`` (then, as in torch, later epochs draw no new base seed and each
worker's generators continue where they were).  ``pin_memory`` is accepted and does nothing
(CPU only).
"""

from __future__ import annotations

import collections.abc
import copy
import itertools
import multiprocessing
import queue
import random
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.dtypes import float64, int64
from engine.ops.creation import from_numpy
from engine.ops.creation import tensor as as_tensor
from engine.ops.join import stack
from engine.random import Generator, manual_seed, randint
from engine.tensor import Tensor
from engine.utils.data.dataset import Dataset, IterableDataset
from engine.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "default_collate", "default_convert", "get_worker_info"]

_END = object()  # the end of the index stream (an iterable dataset's indices are None)

_ERROR_FORMAT = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_string_array(array: np.ndarray) -> bool:
    return array.dtype.kind in "SaUO"


def default_collate(batch: list) -> Any:
    """torch's ``default_collate``: tensors are stacked along a new first dimension, NumPy
    arrays too (as tensors), Python floats become a float64 tensor and ints an int64 one
    (bools a bool one), strings stay a list; dicts, namedtuples, tuples and lists are
    collated field by field (a tuple gives a list, as in torch)."""
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, np.ndarray):
        if _is_string_array(elem):
            raise TypeError(_ERROR_FORMAT.format(elem.dtype))
        return default_collate([from_numpy(np.array(b)) for b in batch])
    if isinstance(elem, np.bool_ | np.number):
        return from_numpy(np.array(batch))
    if isinstance(elem, float):
        return as_tensor(batch, dtype=float64)
    if isinstance(elem, int):
        return as_tensor(batch)
    if isinstance(elem, str | bytes):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(collated)
                return clone
            return elem_type(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(e) == size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [default_collate(list(samples)) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return transposed
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, value in enumerate(transposed):
                    clone[i] = value
                return clone
            return elem_type(transposed)
        except TypeError:
            return transposed
    raise TypeError(_ERROR_FORMAT.format(elem_type))


def default_convert(data: Any) -> Any:
    """torch's ``default_convert`` (the collate of ``batch_size=None``): NumPy arrays and
    scalars become tensors, containers are converted element by element, the rest is kept."""
    if isinstance(data, np.ndarray) and not _is_string_array(data):
        return from_numpy(np.array(data))
    if isinstance(data, np.bool_ | np.number):
        return from_numpy(np.array(data))
    if isinstance(data, collections.abc.Mapping):
        converted = {key: default_convert(data[key]) for key in data}
        try:
            clone = copy.copy(data)
            clone.update(converted)
            return clone
        except (TypeError, AttributeError):
            return converted
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, str | bytes):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


@dataclass(frozen=True)
class WorkerInfo:
    """What :func:`get_worker_info` returns in a worker process."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process: its ``id``, ``num_workers``, ``seed`` (``base_seed +
    id``) and its copy of the ``dataset``; None in the main process."""
    return _worker_info


def _generate_state(base_seed: int, worker_id: int) -> list[int]:
    """torch's ``_utils/worker.py`` ``_generate_state``: four 32-bit words seeding NumPy's
    global generator in a worker, so that it does not repeat ``random``'s stream."""
    init_a, mult_a, init_b, mult_b = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
    mix_mult_l, mix_mult_r, xshift, mask32 = 0xCA01F9DD, 0x4973F715, 16, 0xFFFFFFFF
    entropy = [worker_id, base_seed & mask32, base_seed >> 32, 0]
    pool = [0] * 4
    hash_const_a = init_a

    def hash_(value: int) -> int:
        nonlocal hash_const_a
        value = (value ^ hash_const_a) & mask32
        hash_const_a = (hash_const_a * mult_a) & mask32
        value = (value * hash_const_a) & mask32
        return (value ^ (value >> xshift)) & mask32

    def mix(x: int, y: int) -> int:
        result = ((mix_mult_l * x) & mask32) - ((mix_mult_r * y) & mask32)
        result &= mask32
        return (result ^ (result >> xshift)) & mask32

    for i in range(4):
        pool[i] = hash_(entropy[i])
    for i_src in range(4):
        for i_dst in range(4):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hash_(pool[i_src]))
    hash_const_b = init_b
    state = []
    for i_dst in range(4):
        data_val = pool[i_dst]
        data_val = (data_val ^ hash_const_b) & mask32
        hash_const_b = (hash_const_b * mult_b) & mask32
        data_val = (data_val * hash_const_b) & mask32
        data_val = (data_val ^ (data_val >> xshift)) & mask32
        state.append(data_val)
    return state


class _WorkerError:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, error: BaseException, worker_id: int) -> None:
        self.type = type(error)
        self.message = (
            f"Caught {self.type.__name__} in DataLoader worker process {worker_id}.\n"
            f"Original {traceback.format_exc()}"
        )

    def reraise(self) -> None:
        try:
            error = self.type(self.message)
        except Exception:  # noqa: BLE001 - an exception type that takes other arguments
            error = RuntimeError(self.message)
        raise error


class _InfiniteConstantSampler(Sampler):
    """``None`` forever: the index stream of an iterable dataset (torch's)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class _MapFetcher:
    """Reads the samples at the indices of a batch (torch's _MapDatasetFetcher)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index: Any) -> Any:
        if self.auto_collation:
            getitems = getattr(self.dataset, "__getitems__", None)
            if callable(getitems):
                return self.collate_fn(getitems(index))
            return self.collate_fn([self.dataset[i] for i in index])
        return self.collate_fn(self.dataset[index])


class _IterableFetcher:
    """Takes the next ``batch_size`` samples of the dataset's iterator; StopIteration at
    its end (torch's _IterableDatasetFetcher, ``drop_last`` included)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        data = []
        for _ in index:
            try:
                data.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if len(data) == 0 or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def _fetcher(dataset: Any, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> Any:
    kind = _IterableFetcher if isinstance(dataset, IterableDataset) else _MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)


class _WorkerExhausted:
    """A worker's reply once its copy of an iterable dataset has ended."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


def _worker_loop(
    dataset: Any,
    index_queue: Any,
    result_queue: Any,
    auto_collation: bool,
    collate_fn: Callable,
    drop_last: bool,
    base_seed: int,
    worker_init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
) -> None:
    global _worker_info
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
    init_error = None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
    except Exception as error:  # noqa: BLE001 - reported with the first batch
        init_error = _WorkerError(error, worker_id)
    fetcher = None
    if init_error is None:
        try:
            fetcher = _fetcher(dataset, auto_collation, collate_fn, drop_last)
        except Exception as error:  # noqa: BLE001 - reported with the first batch
            init_error = _WorkerError(error, worker_id)
    while True:
        task = index_queue.get()
        if task is None:
            break
        send_idx, index = task
        if init_error is not None:
            result_queue.put((send_idx, init_error))
            init_error = None
            continue
        try:
            data = fetcher.fetch(index)
        except StopIteration:
            data = _WorkerExhausted(worker_id)
        except Exception as error:  # noqa: BLE001 - re-raised in the main process
            data = _WorkerError(error, worker_id)
        result_queue.put((send_idx, data))


def _default_context() -> Any:
    if "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


class DataLoader:
    """Batches of ``dataset`` (see the module docstring): ``batch_size`` (None: no
    batching, each sample converted by :func:`default_convert`), ``shuffle``, ``sampler``,
    ``batch_sampler``, ``drop_last``, ``collate_fn``, ``num_workers``, ``worker_init_fn``,
    ``generator``, ``prefetch_factor``, ``multiprocessing_context``, with torch's checks."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: Any = None,
        generator: Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to "
                "None."
            )
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if isinstance(dataset, IterableDataset):
            if shuffle not in {False, None}:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified shuffle option, but "
                    f"got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified sampler option, but "
                    f"got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    "DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
            sampler = _InfiniteConstantSampler()
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.multiprocessing_context = multiprocessing_context
        self._pool: _WorkerPool | None = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)
            if self.batch_size is not None:
                length = (
                    length // self.batch_size if self.drop_last else -(-length // self.batch_size)
                )
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator:
        if self.num_workers > 0 and self.persistent_workers and self._pool is not None:
            # torch's _reset: the same workers (no new base seed), a new pass of the sampler.
            return self._pool.run(iter(self._index_sampler))
        # torch's _BaseDataLoaderIter draws the base seed first, from the loader's generator.
        base_seed = randint(0, 2**63 - 1, (), dtype=int64, generator=self.generator).item()
        indices = iter(self._index_sampler)
        if self.num_workers == 0:
            return self._single_process(indices)
        pool = _WorkerPool(self, base_seed)
        if self.persistent_workers:
            self._pool = pool
            return pool.run(indices)
        return pool.run(indices, shutdown=True)

    def _single_process(self, indices: Iterator) -> Iterator:
        fetcher = _fetcher(self.dataset, self._auto_collation, self.collate_fn, self.drop_last)
        for index in indices:
            try:
                data = fetcher.fetch(index)
            except StopIteration:
                return
            yield data

    def _context(self) -> Any:
        context = self.multiprocessing_context
        if context is None:
            return _default_context()
        if isinstance(context, str):
            valid = multiprocessing.get_all_start_methods()
            if context not in valid:
                raise ValueError(
                    "multiprocessing_context option should specify a valid start method in "
                    f"{valid!r}, but got multiprocessing_context={context!r}"
                )
            return multiprocessing.get_context(context)
        return context

    def __del__(self) -> None:
        pool = self.__dict__.get("_pool")
        if pool is not None:
            pool.shutdown()


class _WorkerPool:
    """``num_workers`` processes reading and collating batches; tasks are numbered across
    epochs so that results of an abandoned epoch (persistent workers) are recognised and
    dropped."""

    def __init__(self, loader: DataLoader, base_seed: int) -> None:
        context = loader._context()
        self.num_workers = loader.num_workers
        self.prefetch = loader.prefetch_factor * loader.num_workers
        self.timeout = loader.timeout
        self.result_queue = context.Queue()
        self.index_queues, self.workers = [], []
        for worker_id in range(self.num_workers):
            index_queue = context.Queue()
            worker = context.Process(
                target=_worker_loop,
                args=(
                    loader.dataset,
                    index_queue,
                    self.result_queue,
                    loader._auto_collation,
                    loader.collate_fn,
                    loader.drop_last,
                    base_seed,
                    loader.worker_init_fn,
                    worker_id,
                    self.num_workers,
                ),
                daemon=True,
            )
            worker.start()
            self.index_queues.append(index_queue)
            self.workers.append(worker)
        self.next_task = 0
        self.closed = False

    def run(self, indices: Iterator, shutdown: bool = False) -> Iterator:
        """Yield the batches of ``indices`` in order; each epoch starts at worker 0."""
        first = received = self.next_task
        pending: dict[int, Any] = {}
        active = [True] * self.num_workers  # an iterable dataset's copy may run out
        cycle = itertools.cycle(range(self.num_workers))

        def send() -> bool:
            if not any(active):
                return False
            index = next(indices, _END)
            if index is _END:
                return False
            worker = next(cycle)
            while not active[worker]:
                worker = next(cycle)
            self.index_queues[worker].put((self.next_task, index))
            self.next_task += 1
            return True

        try:
            for _ in range(self.prefetch):
                if not send():
                    break
            while received < self.next_task:
                while received not in pending:
                    task, data = self._get()
                    if task >= first:  # an earlier, abandoned epoch's result is dropped
                        pending[task] = data
                data = pending.pop(received)
                received += 1
                if isinstance(data, _WorkerExhausted):
                    active[data.worker_id] = False
                    continue
                send()
                if isinstance(data, _WorkerError):
                    data.reraise()
                yield data
        finally:
            if shutdown:
                self.shutdown()

    def _get(self) -> tuple[int, Any]:
        waited = 0.0
        while True:
            try:
                return self.result_queue.get(timeout=1.0)
            except queue.Empty:
                waited += 1.0
                dead = [str(w.pid) for w in self.workers if not w.is_alive()]
                if dead:
                    raise RuntimeError(
                        f"DataLoader worker (pid(s) {', '.join(dead)}) exited unexpectedly"
                    ) from None
                if self.timeout > 0 and waited >= self.timeout:
                    raise RuntimeError(
                        f"DataLoader timed out after {self.timeout} seconds"
                    ) from None

    def shutdown(self) -> None:
        """Stop the workers and close the queues."""
        if self.closed:
            return
        self.closed = True
        for index_queue in self.index_queues:
            index_queue.put(None)
        for worker in self.workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
        for q in [*self.index_queues, self.result_queue]:
            q.cancel_join_thread()
            q.close()
