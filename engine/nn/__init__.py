"""Neural-network building blocks, with ``torch.nn``'s names.  So far the functional API
(:mod:`engine.nn.functional`); modules and layers come with the modules chapter."""

from engine.nn import functional

__all__ = ["functional"]
