"""The ops, one module per family; Tensor methods and the ``engine.*`` functions are these.

- :mod:`~engine.ops.iterator`: the operand iterator (promotion, broadcasting, opmath, output
  strides, wrapping results), shared by every family
- :mod:`~engine.ops.table`: the derivative table: ``@op`` turns a kernel and its VJP formulas
  into a differentiable op; ``DERIVATIVES`` lists every differentiable op
- :mod:`~engine.ops.creation`: ``tensor``, ``zeros``, ``arange``, ``from_numpy`` ...
- :mod:`~engine.ops.shape`: views (``view``, ``transpose``, ``expand`` ...) and copies
- :mod:`~engine.ops.indexing`: ``t[index]``, ``t[index] = value``, ``one_hot``
- :mod:`~engine.ops.elementwise`: arithmetic, comparisons, unary math, ``where``, casts
- :mod:`~engine.ops.reduction`: ``sum``, ``mean``, ``var``, ``max`` ...
- :mod:`~engine.ops.linalg`: ``matmul``, ``mm``, ``bmm``, ``mv``, ``dot``
- :mod:`~engine.ops.join`: ``cat``, ``stack``
- :mod:`~engine.ops.formatting`: ``repr`` in PyTorch's format
"""

# The one documented upward import (see engine/tensor.py): tensor.py defines Tensor and then
# imports the op modules, which import Tensor back.  Loading engine.tensor first, whichever op
# module is asked for first, keeps that cycle working (the op modules find Tensor defined).
import engine.tensor  # noqa: E402, F401
