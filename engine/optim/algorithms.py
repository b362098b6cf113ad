"""The update rules of ``torch.optim``'s SGD, Adam, AdamW, RMSprop and Adagrad, written as
torch's single-tensor implementations (``torch/optim/sgd.py`` ``_single_tensor_sgd`` and so
on) with the same operations in the same order, so trajectories agree with torch's to
rounding.  torch's fused ``addcmul_``/``addcdiv_``/``lerp_`` are spelled with plain engine ops
(``p.addcdiv_(a, b, value=v)`` is ``p.add_(a * v / b)``, which rounds exactly as torch's
kernel does).  Every update runs under ``no_grad`` and changes the parameters in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.dtypes import float32, float64, get_default_dtype
from engine.ops.creation import full_like, tensor, zeros_like
from engine.ops.elementwise import lerp, maximum
from engine.optim.optimizer import Optimizer
from engine.tensor import Tensor

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop"]


def _scalar_dtype():
    # torch's _get_scalar_dtype: the dtype of the "step" counters.
    return float64 if get_default_dtype() is float64 else float32


def _step_tensor() -> Tensor:
    return tensor(0.0, dtype=_scalar_dtype())


def _with_grads(group: dict[str, Any]) -> list[Tensor]:
    """The group's parameters that have a gradient (the others are skipped, as in torch)."""
    return [p for p in group["params"] if p.grad is not None]


def _check_positive(value: float, what: str) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (``buf = momentum * buf + (1 -
    dampening) * grad``, the first buffer being the gradient itself), Nesterov momentum,
    L2 ``weight_decay`` (added to the gradient) and ``maximize``; as ``torch.optim.SGD``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay = group["weight_decay"]
        for param in _with_grads(group):
            grad = param.grad if not group["maximize"] else -param.grad
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            if momentum != 0:
                state = self.state[param]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = grad.detach().clone()
                    state["momentum_buffer"] = buf
                else:
                    buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                grad = grad.add(buf, alpha=momentum) if group["nesterov"] else buf
            param.add_(grad, alpha=-lr)


class Adam(Optimizer):
    """Adam: moving averages of the gradient and of its square with bias correction
    (``amsgrad`` keeps the running maximum of the second moment), L2 ``weight_decay`` added
    to the gradient, or decoupled (``decoupled_weight_decay=True``, which is AdamW);
    as ``torch.optim.Adam``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(eps, "epsilon value")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_positive(weight_decay, "weight_decay value")
        if not all(isinstance(beta, float) for beta in betas):
            raise ValueError("betas must be either both floats or both Tensors")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"] = zeros_like(param)
                state["exp_avg_sq"] = zeros_like(param)
                if group["amsgrad"]:
                    state["max_exp_avg_sq"] = zeros_like(param)
            grad = param.grad if not group["maximize"] else -param.grad
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"].add_(1)
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            exp_avg.copy_(lerp(exp_avg, grad, 1 - beta1))
            exp_avg_sq.mul_(beta2).add_(grad * (1 - beta2) * grad)
            step = state["step"].item()
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2**0.5
            if group["amsgrad"]:
                state["max_exp_avg_sq"].copy_(maximum(state["max_exp_avg_sq"], exp_avg_sq))
                denom = (state["max_exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(eps)
            else:
                denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
            param.add_(exp_avg * -step_size / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the update,
    default ``weight_decay=1e-2``), as ``torch.optim.AdamW``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by the root of a moving average of its square
    (``centered`` subtracts the squared moving average of the gradient), with optional
    momentum; as ``torch.optim.RMSprop``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(eps, "epsilon value")
        _check_positive(momentum, "momentum value")
        _check_positive(weight_decay, "weight_decay value")
        _check_positive(alpha, "alpha value")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = zeros_like(param)
                if momentum > 0:
                    state["momentum_buffer"] = zeros_like(param)
                if group["centered"]:
                    state["grad_avg"] = zeros_like(param)
            grad = param.grad if not group["maximize"] else -param.grad
            square_avg = state["square_avg"]
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            square_avg.mul_(alpha).add_(grad * (1 - alpha) * grad)
            if group["centered"]:
                grad_avg = state["grad_avg"]
                grad_avg.copy_(lerp(grad_avg, grad, 1 - alpha))
                avg = (square_avg - grad_avg * grad_avg).sqrt()
            else:
                avg = square_avg.sqrt()
            avg = avg.add_(eps)
            if momentum > 0:
                buf = state["momentum_buffer"]
                buf.mul_(momentum).add_(grad / avg)
                param.add_(buf, alpha=-lr)
            else:
                param.add_(grad * -lr / avg)


class Adagrad(Optimizer):
    """Adagrad: divide the gradient by the root of the sum of its squares, with the learning
    rate decayed as ``lr / (1 + (step - 1) * lr_decay)``; as ``torch.optim.Adagrad``, whose
    state is created with the optimizer, every sum starting from the constructor's
    ``initial_accumulator_value`` (a group's own value is ignored, as in torch)."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(lr_decay, "lr_decay value")
        _check_positive(weight_decay, "weight_decay value")
        _check_positive(initial_accumulator_value, "initial_accumulator_value value")
        _check_positive(eps, "epsilon value")
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # As torch: the accumulators start from the constructor's value, whatever a group says.
        for group in self.param_groups:
            for param in group["params"]:
                self._initial_state(param)

    def _initial_state(self, param: Tensor) -> None:
        state = self.state[param]
        state["step"] = _step_tensor()
        state["sum"] = full_like(param, self.defaults["initial_accumulator_value"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:  # added by add_param_group after construction
                self._initial_state(param)
            state["step"].add_(1)
            step = state["step"].item()
            grad = param.grad if not group["maximize"] else -param.grad
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            clr = lr / (1 + (step - 1) * lr_decay)
            state["sum"].add_(grad * grad)
            std = state["sum"].sqrt().add_(eps)
            param.add_(grad * -clr / std)


def _check_betas(betas: tuple[float, float]) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


class Adadelta(Optimizer):
    """Adadelta: the step is ``sqrt(acc_delta + eps) / sqrt(square_avg + eps) * grad``,
    both averages decaying with ``rho``; as ``torch.optim.Adadelta``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_positive(eps, "epsilon value")
        _check_positive(weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps, weight_decay = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["square_avg"] = zeros_like(param)
                state["acc_delta"] = zeros_like(param)
            state["step"].add_(1)
            grad = param.grad if not group["maximize"] else -param.grad
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            square_avg, acc_delta = state["square_avg"], state["acc_delta"]
            square_avg.mul_(rho).add_(grad * (1 - rho) * grad)
            std = (square_avg + eps).sqrt()
            delta = (acc_delta + eps).sqrt() / std * grad
            acc_delta.mul_(rho).add_(delta * (1 - rho) * delta)
            param.add_(delta, alpha=-lr)


class Adamax(Optimizer):
    """Adam with the infinity norm: ``exp_inf = max(beta2 * exp_inf, |grad| + eps)``; as
    ``torch.optim.Adamax``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(eps, "epsilon value")
        _check_betas(betas)
        _check_positive(weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"] = zeros_like(param)
                state["exp_inf"] = zeros_like(param)
            grad = param.grad if not group["maximize"] else -param.grad
            state["step"].add_(1)
            if weight_decay != 0:
                grad = grad.add(param, alpha=weight_decay)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.copy_(lerp(exp_avg, grad, 1 - beta1))
            exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs() + eps))
            clr = lr / (1 - beta1 ** state["step"].item())
            param.add_(exp_avg * -clr / exp_inf)


class NAdam(Optimizer):
    """Adam with Nesterov momentum and torch's momentum schedule ``mu_t = beta1 * (1 - 0.5 *
    0.96 ** (t * momentum_decay))`` (their product kept in the state, in the scalar dtype as
    torch: float32 unless the default dtype is float64); as ``torch.optim.NAdam``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(eps, "epsilon value")
        _check_betas(betas)
        _check_positive(weight_decay, "weight_decay value")
        _check_positive(momentum_decay, "momentum_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        momentum_decay = group["momentum_decay"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["mu_product"] = tensor(1.0, dtype=_scalar_dtype())
                state["exp_avg"] = zeros_like(param)
                state["exp_avg_sq"] = zeros_like(param)
            grad = param.grad if not group["maximize"] else -param.grad
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"].add_(1)
            step = state["step"].item()
            bias_correction2 = 1 - beta2**step
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            state["mu_product"].mul_(mu)
            mu_product = state["mu_product"].item()
            exp_avg.copy_(lerp(exp_avg, grad, 1 - beta1))
            exp_avg_sq.mul_(beta2).add_(grad * (1 - beta2) * grad)
            denom = (exp_avg_sq / bias_correction2).sqrt().add_(eps)
            mu_product_next = mu_product * mu_next
            param.add_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product)) / denom)
            param.add_(exp_avg * (-lr * mu_next / (1.0 - mu_product_next)) / denom)


class RAdam(Optimizer):
    """Rectified Adam: plain momentum SGD while the variance of the adaptive rate is
    intractable (``rho_t <= 5``), then Adam scaled by the rectification term; as
    ``torch.optim.RAdam``."""

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_positive(lr, "learning rate")
        _check_positive(eps, "epsilon value")
        _check_betas(betas)
        _check_positive(weight_decay, "weight_decay value")
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        for param in _with_grads(group):
            state = self.state[param]
            if len(state) == 0:
                state["step"] = _step_tensor()
                state["exp_avg"] = zeros_like(param)
                state["exp_avg_sq"] = zeros_like(param)
            grad = param.grad if not group["maximize"] else -param.grad
            exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
            state["step"].add_(1)
            step = state["step"].item()
            if weight_decay != 0:
                if group["decoupled_weight_decay"]:
                    param.mul_(1 - lr * weight_decay)
                else:
                    grad = grad.add(param, alpha=weight_decay)
            exp_avg.copy_(lerp(exp_avg, grad, 1 - beta1))
            exp_avg_sq.mul_(beta2).add_(grad * (1 - beta2) * grad)
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            corrected = exp_avg / bias_correction1
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
            if rho_t > 5.0:
                rect = (
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                ) ** 0.5
                adaptive = bias_correction2**0.5 / exp_avg_sq.sqrt().add_(eps)
                param.add_(corrected * lr * adaptive * rect, alpha=-1.0)
            else:
                param.add_(corrected * lr, alpha=-1.0)
