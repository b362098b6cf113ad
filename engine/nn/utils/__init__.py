"""``torch.nn.utils``: converting between parameters and one vector, packed sequences
(:mod:`~engine.nn.utils.rnn`), and parametrizations
(:mod:`~engine.nn.utils.parametrize`, :mod:`~engine.nn.utils.parametrizations`: weight and
spectral normalization), gradient clipping (:mod:`~engine.nn.utils.clip_grad`)."""

from engine.nn.utils import parametrizations, parametrize, rnn
from engine.nn.utils.clip_grad import (
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
)
from engine.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "clip_grads_with_norm_",
    "get_total_norm",
    "parameters_to_vector",
    "parametrizations",
    "parametrize",
    "rnn",
    "vector_to_parameters",
]
