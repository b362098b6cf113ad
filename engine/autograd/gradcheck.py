"""Numerical gradient checking: compare backward (and, with :func:`gradgradcheck`, the
backward of backward) with central differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from engine.autograd import grad_mode

if TYPE_CHECKING:
    from engine.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by :func:`gradcheck` / :func:`gradgradcheck` when analytical and numerical
    gradients differ."""


def _outputs_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def gradcheck(
    fn: Callable,
    inputs: Tensor | Sequence[object],
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
    from engine.autograd.backward_engine import grad as autograd_grad
    from engine.ops import creation
    from engine.tensor import Tensor

    inputs = _as_tuple(inputs)
    wrt = _positions_requiring_grad(inputs, "gradcheck")
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
        numerical = _numerical_jacobians(fn, inputs, wrt, output_index, output.numel(), eps)
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


def _numerical_jacobians(
    fn, inputs, wrt, output_index: int, output_size: int, eps: float
) -> list[np.ndarray]:
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
            # An empty input has no columns; its Jacobian is still output_size rows high.
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


def gradgradcheck(
    func: Callable,
    inputs: Tensor | Sequence[object],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
) -> bool:
    """Check the second derivatives of ``func(*inputs)``: backward of its backward.

    As ``torch.autograd.gradgradcheck``: the first derivatives ``g = autograd.grad(outputs,
    inputs, grad_outputs, create_graph=True)`` are themselves a differentiable function of the
    inputs *and* of ``grad_outputs``, and :func:`gradcheck` compares that function's backward
    (the double backward, i.e. the graph that the ops' ``backward`` methods record) with central
    differences of ``g``.  So it fails when a ``backward`` is computed outside the graph (raw
    NumPy values wrapped in a new tensor) or records wrong second-order terms.

    ``grad_outputs`` default to random tensors in [-1, 1) requiring grad, one per output that
    requires grad, shaped and typed like it (float64 for a non-float output), drawn from a
    fixed-seed NumPy generator so the check is deterministic; ``gen_non_contig_grad_outputs``
    makes them non-contiguous (strided views).  Inputs and grad_outputs that require grad must
    be float64 (a :class:`GradcheckError` says which is not).  Returns True, or raises
    :class:`GradcheckError` (returns False when ``raise_exception`` is False).
    """
    from engine.autograd.backward_engine import grad as autograd_grad
    from engine.ops import creation

    tupled_inputs = _as_tuple(inputs)
    for index, value in enumerate(tupled_inputs):
        _check_double(value, f"input {index}")
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        with grad_mode.enable_grad():
            outputs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(
            _random_grad_output(creation, rng, output, gen_non_contig_grad_outputs)
            for output in outputs
        )
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    for index, value in enumerate(tupled_grad_outputs):
        _check_double(value, f"grad_outputs[{index}]")
    num_inputs = len(tupled_inputs)
    diff_input_indices = _positions_requiring_grad(tupled_inputs, "gradgradcheck")
    if grad_outputs is not None:
        with grad_mode.enable_grad():
            num_outputs = len(_differentiable_outputs(func(*tupled_inputs)))
        if num_outputs != len(tupled_grad_outputs):
            raise ValueError(
                f"gradgradcheck: func has {num_outputs} outputs that require grad but "
                f"{len(tupled_grad_outputs)} grad_outputs were given"
            )

    def first_derivatives(*args) -> tuple:
        # gradcheck evaluates its function under no_grad for the finite differences; the first
        # derivatives need a graph to exist at all, so grad mode is switched back on here.
        with grad_mode.enable_grad():
            input_args, grads_in = args[:num_inputs], args[num_inputs:]
            outputs = _differentiable_outputs(func(*input_args))
            grads = autograd_grad(
                outputs,
                [input_args[index] for index in diff_input_indices],
                grads_in,
                create_graph=True,
                allow_unused=True,
            )
        return tuple(grad for grad in grads if grad is not None)

    try:
        return gradcheck(
            first_derivatives,
            tupled_inputs + tupled_grad_outputs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            raise_exception=raise_exception,
        )
    except GradcheckError as error:
        raise GradcheckError(
            f"gradgradcheck (second derivatives; inputs 0..{num_inputs - 1} are func's inputs, "
            f"inputs {num_inputs}.. its grad_outputs, outputs are the first derivatives): "
            f"{error}"
        ) from error


def _as_tuple(values) -> tuple:
    return tuple(values) if isinstance(values, Sequence) else (values,)


def _positions_requiring_grad(inputs: tuple, caller: str) -> list[int]:
    """Which inputs are tensors that require grad; a ValueError when none is."""
    from engine.tensor import Tensor

    positions = [
        index
        for index, value in enumerate(inputs)
        if isinstance(value, Tensor) and value.requires_grad
    ]
    if not positions:
        raise ValueError(f"{caller} expects at least one input tensor to require gradient")
    return positions


def _differentiable_outputs(result) -> tuple:
    from engine.tensor import Tensor

    return tuple(
        output
        for output in _outputs_tuple(result)
        if isinstance(output, Tensor) and output.requires_grad
    )


def _check_double(value, what: str) -> None:
    from engine.tensor import Tensor

    if isinstance(value, Tensor) and value.requires_grad and value.dtype.name != "float64":
        raise GradcheckError(
            f"gradgradcheck: {what} has dtype {value.dtype}; use float64 (finite differences "
            "of first derivatives in lower precision are not accurate enough)"
        )


def _random_grad_output(creation, rng: np.random.Generator, output, noncontiguous: bool):
    """A random grad_output shaped like ``output``, requiring grad (as torch.testing.make_tensor
    with low=-1, high=1: float outputs keep their dtype, others get float64)."""
    from engine import dtypes

    dtype = output.dtype if output.dtype.is_floating_point else dtypes.float64
    values = rng.uniform(-1.0, 1.0, tuple(output.shape))
    if noncontiguous and values.size > 1:
        # Every other element of a buffer twice as long in the last dim (torch's recipe).
        padded = np.repeat(values, 2, axis=-1)
        strided = creation.tensor(padded, dtype=dtype)[..., ::2]
        return strided.requires_grad_()
    return creation.tensor(values, dtype=dtype, requires_grad=True)
