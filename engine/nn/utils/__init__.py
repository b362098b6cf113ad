"""``torch.nn.utils``: converting between parameters and one vector, and parametrizations
(:mod:`~engine.nn.utils.parametrize`, :mod:`~engine.nn.utils.parametrizations`: weight and
spectral normalization).  Gradient clipping belongs with the training library."""

from engine.nn.utils import parametrizations, parametrize
from engine.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "parametrizations", "parametrize", "vector_to_parameters"]
