"""The layers of :mod:`engine.nn`, one file per family as in ``torch/nn/modules``."""

from engine.nn.modules.activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softsign,
    Tanh,
)
from engine.nn.modules.container import ModuleDict, ModuleList, Sequential
from engine.nn.modules.dropout import Dropout
from engine.nn.modules.flatten import Flatten, Unflatten
from engine.nn.modules.linear import Bilinear, Identity, LazyLinear, Linear
from engine.nn.modules.module import Module
from engine.nn.modules.sparse import Embedding

__all__ = [
    "CELU",
    "ELU",
    "GELU",
    "SELU",
    "Bilinear",
    "Dropout",
    "Embedding",
    "Flatten",
    "Hardsigmoid",
    "Hardswish",
    "Hardtanh",
    "Identity",
    "LazyLinear",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "Module",
    "ModuleDict",
    "ModuleList",
    "ReLU",
    "ReLU6",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softmin",
    "Softsign",
    "Tanh",
    "Unflatten",
]
