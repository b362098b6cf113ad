"""``engine.linalg``: the names of ``torch.linalg`` that the engine has (norms, the cross
product, matrix products), defined in :mod:`engine.ops.linalg`."""

from __future__ import annotations

from collections.abc import Sequence

from engine.dtypes import DType
from engine.ops.linalg import linalg_cross as cross
from engine.ops.linalg import matmul, matrix_norm, vector_norm
from engine.tensor import Tensor

__all__ = ["cross", "matmul", "matrix_norm", "norm", "vector_norm"]


def norm(
    A: Tensor,  # noqa: N803 - torch's name
    ord: str | float | None = None,
    dim: int | Sequence[int] | None = None,
    keepdim: bool = False,
    *,
    dtype: DType | None = None,
) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one dim (or all elements when ``ord`` and
    ``dim`` are None), a matrix norm over two dims (or of a 2-D ``A`` with ``ord`` given)."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(
        f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
        f"Got {A.ndim}D."
    )
