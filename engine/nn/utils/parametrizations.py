"""``weight_norm`` and ``spectral_norm`` as parametrizations (``torch.nn.utils.parametrizations``).

- Weight normalization (Salimans & Kingma) writes ``w = g * v / ||v||``, the norm taken over
  every dim but ``dim``: the direction ``v`` and the length ``g`` are learned separately
  (``original1`` and ``original0``).
- Spectral normalization (Miyato et al.) divides ``w`` by its largest singular value
  ``sigma``, estimated by power iteration: vectors ``u``, ``v`` (buffers) are refined by one
  step ``v <- W^T u / |.|``, ``u <- W v / |.|`` per forward in training, and
  ``sigma = u^T W v``.  The weight is viewed as a matrix with ``dim`` as its rows.
"""

from __future__ import annotations

from engine.autograd import no_grad
from engine.nn import functional as F
from engine.nn.modules.conv import ConvTranspose1d, ConvTranspose2d
from engine.nn.modules.module import Module
from engine.nn.utils.parametrize import register_parametrization
from engine.ops.linalg import norm
from engine.random import randn
from engine.tensor import Tensor

__all__ = ["spectral_norm", "weight_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The ``pow``-norm of ``v`` over every dim except ``dim``, keeping dims (``dim=-1``: of
    all elements, a 0-d tensor)."""
    if dim == -1:
        return norm(v, pow)
    others = [d for d in range(v.ndim) if d != dim]
    return norm(v, pow, others, keepdim=True) if others else v.abs()


class _WeightNorm(Module):
    """``g * v / ||v||`` (norm over all dims but ``dim``)."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        """The weight from its length ``g`` and direction ``v``."""
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        """``(g, v)`` for a given weight: its norms and the weight itself."""
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize ``module.<name>`` as ``g * v / ||v||``; ``g`` is
    ``parametrizations.<name>.original0``, ``v`` is ``original1``."""
    return register_parametrization(module, name, _WeightNorm(dim), unsafe=True)


class _SpectralNorm(Module):
    """``W / sigma(W)`` with ``sigma`` from power iteration on the buffers ``_u``, ``_v``."""

    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                "Dimension out of range (expected to be in range of "
                f"[-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._reshape_weight_to_matrix(weight)
            rows, cols = matrix.shape
            u = randn(rows, dtype=weight.dtype)
            v = randn(cols, dtype=weight.dtype)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, n_power_iterations: int) -> None:
        """Refine ``_u`` and ``_v`` in place (outside autograd)."""
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(matrix.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(matrix.t().mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        """``weight / sigma``; one power-iteration step first in training."""
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(matrix.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        """The weight itself is the original."""
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Reparametrize ``module.<name>`` as ``W / sigma(W)`` (largest singular value 1);
    ``dim`` defaults to 1 for transposed convolutions (their output channels), else 0."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose1d | ConvTranspose2d) else 0
    return register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
