"""``torch.utils.data``'s names: datasets (:mod:`~engine.utils.data.dataset`), samplers
(:mod:`~engine.utils.data.sampler`) and the :class:`DataLoader` with its collation and
worker processes (:mod:`~engine.utils.data.dataloader`)."""

from engine.utils.data.dataloader import (
    DataLoader,
    WorkerInfo,
    default_collate,
    default_convert,
    get_worker_info,
)
from engine.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from engine.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
