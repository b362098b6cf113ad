"""Numerical gradient checking: compare backward with central differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from engine.autograd import grad_mode


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` when analytical and numerical gradients differ."""


def _outputs_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` w.r.t. every input that requires grad.

    For each differentiable output ``y`` and input ``x`` it builds the Jacobian twice: row by
    row from backward (``autograd.grad`` with a one-hot ``grad_output``), and column by column
    from central differences ``(fn(x + eps) - fn(x - eps)) / (2 eps)``.  Inputs should be
    float64 (float32 differences are too noisy to be meaningful).  Returns True, or raises
    :class:`GradcheckError` naming the input, the worst element and both values.
    """
    from engine.autograd import grad as autograd_grad
    from engine.ops import creation
    from engine.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, Sequence) else (inputs,)
    wrt = [
        index
        for index, value in enumerate(inputs)
        if isinstance(value, Tensor) and value.requires_grad
    ]
    if not wrt:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for index in wrt:
        if inputs[index].dtype.name != "float64":
            raise GradcheckError(
                f"gradcheck: input {index} has dtype {inputs[index].dtype}; use float64 inputs "
                "(finite differences in lower precision are not accurate enough)"
            )
    outputs = _outputs_tuple(fn(*inputs))
    for output_index, output in enumerate(outputs):
        if not isinstance(output, Tensor) or not output.dtype.is_floating_point:
            continue
        numerical = _numerical_jacobians(fn, inputs, wrt, output_index, eps)
        analytical = _analytical_jacobians(
            autograd_grad, creation, inputs, wrt, output, output_index
        )
        for input_index, numeric, analytic in zip(wrt, numerical, analytical, strict=True):
            difference = np.abs(analytic - numeric)
            allowed = atol + rtol * np.abs(numeric)
            if np.all(difference <= allowed):
                continue
            if not raise_exception:
                return False
            worst = np.unravel_index(np.argmax(difference - allowed), difference.shape)
            output_element, input_element = int(worst[0]), int(worst[1])
            raise GradcheckError(
                f"Jacobian mismatch for output {output_index} with respect to input "
                f"{input_index},\n"
                f"numerical:{_format(numeric)}\nanalytical:{_format(analytic)}\n"
                f"The worst element: d(output {output_index}, flat element {output_element}) / "
                f"d(input {input_index}, flat element {input_element}): numerical "
                f"{float(numeric[worst])!r} vs analytical {float(analytic[worst])!r} "
                f"(atol={atol}, rtol={rtol})"
            )
    return True


def _format(matrix: np.ndarray) -> str:
    return "\n" + np.array2string(matrix, precision=6, max_line_width=100)


def _numerical_jacobians(fn, inputs, wrt, output_index: int, eps: float) -> list[np.ndarray]:
    jacobians = []
    with grad_mode.no_grad():
        for index in wrt:
            tensor = inputs[index]
            values = tensor._array()  # perturbed in place (views of the input see it too)
            columns = []
            for position in np.ndindex(*tensor.shape):
                original = values[position].copy()
                values[position] = original + eps
                plus = _outputs_tuple(fn(*inputs))[output_index]._array().astype(np.float64)
                values[position] = original - eps
                minus = _outputs_tuple(fn(*inputs))[output_index]._array().astype(np.float64)
                values[position] = original
                columns.append(((plus - minus) / (2 * eps)).reshape(-1))
            output_size = columns[0].size if columns else 0
            jacobian = np.stack(columns, axis=1) if columns else np.zeros((output_size, 0))
            jacobians.append(jacobian)
    return jacobians


def _analytical_jacobians(autograd_grad, creation, inputs, wrt, output, output_index):
    rows: list[list[np.ndarray]] = [[] for _ in wrt]
    differentiable = output.requires_grad
    for position in range(output.numel()):
        one_hot = np.zeros(output.numel())
        one_hot[position] = 1.0
        grad_output = creation.tensor(one_hot.reshape(output.shape), dtype=output.dtype)
        if differentiable:
            grads = autograd_grad(
                [output],
                [inputs[index] for index in wrt],
                [grad_output],
                retain_graph=True,
                allow_unused=True,
            )
        else:
            grads = [None] * len(wrt)
        for slot, (index, grad) in enumerate(zip(wrt, grads, strict=True)):
            size = inputs[index].numel()
            rows[slot].append(
                np.zeros(size) if grad is None else grad._array().reshape(-1).astype(np.float64)
            )
    return [
        np.stack(slot_rows, axis=0) if slot_rows else np.zeros((0, inputs[index].numel()))
        for slot_rows, index in zip(rows, wrt, strict=True)
    ]
