"""Neural-network building blocks, with ``torch.nn``'s names.

- :class:`Module` (:mod:`engine.nn.modules.module`): registration by attribute assignment,
  recursion over submodules, ``state_dict``, hooks; :class:`Parameter`.
- layers (:mod:`engine.nn.modules`): containers, ``Linear``, ``Conv2d``, pooling,
  ``BatchNorm2d``/``LayerNorm``/``GroupNorm``, ``Embedding``, ``Dropout``, ``LSTM``/``GRU``,
  ``MultiheadAttention``, activations ...;
  each calls its function of :mod:`engine.nn.functional`.
- :mod:`engine.nn.init`: initialization schemes; :mod:`engine.nn.utils`.
"""

from engine.nn import functional, init, modules, utils
from engine.nn.modules import *  # noqa: F403  (every layer, as torch.nn re-exports torch.nn.modules)
from engine.nn.parameter import Parameter, UninitializedParameter

__all__ = [
    *modules.__all__,
    "Parameter",
    "UninitializedParameter",
    "functional",
    "init",
    "modules",
    "utils",
]
