"""``torch.nn.utils``: converting between parameters and one vector (gradient clipping
belongs with the training library)."""

from engine.nn.utils.convert_parameters import parameters_to_vector, vector_to_parameters

__all__ = ["parameters_to_vector", "vector_to_parameters"]
