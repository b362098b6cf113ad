"""inference_mode, anomaly detection and once_differentiable, against torch."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch.autograd.function import once_differentiable as torch_once

import engine
from engine.autograd.function import once_differentiable as engine_once

LIBRARIES = [engine, torch]


def _error(call) -> str:
    try:
        call()
    except RuntimeError as error:
        return str(error)
    return "no error"


@pytest.mark.parametrize("lib", LIBRARIES, ids=["engine", "torch"])
def test_inference_mode_flags_and_tensors(lib):
    x = lib.ones(2, requires_grad=True)
    assert not lib.is_inference_mode_enabled()
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled() and not lib.is_grad_enabled()
        y = x * 2
        fresh = lib.ones(3)
        view = x.view(2)
        detached = x.detach()
        with lib.inference_mode(False):
            assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
            assert not lib.ones(1).is_inference()
        assert lib.is_inference_mode_enabled()
    assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
    assert y.is_inference() and not y.requires_grad and y.grad_fn is None
    assert fresh.is_inference() and y[0].is_inference()
    # a view or detach() of a normal tensor made in inference mode stays normal
    assert not view.is_inference() and not detached.is_inference()
    assert not x.is_inference() and not (y * 2).is_inference()


def _inference_errors(lib) -> tuple:
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        y = x * 2
        y.add_(1)  # in place inside inference mode is allowed
    saved = _error(lambda: (y * x).sum().backward())  # mul saves y for x's gradient
    inplace = _error(lambda: y.add_(1))
    with lib.no_grad():
        inplace_no_grad = _error(lambda: y.mul_(2))
    # add saves nothing, so an inference tensor may enter a recorded add
    (y + x).sum().backward()
    # (torch writes the values before it raises; the engine raises before writing, so the
    # values of y are not compared)
    return saved, inplace, inplace_no_grad, x.grad.tolist()


def test_inference_tensor_errors_match_torch():
    messages = [_inference_errors(lib) for lib in LIBRARIES]
    assert messages[0] == messages[1]
    assert messages[0][0].startswith("Inference tensors cannot be saved for backward")
    assert messages[0][1].startswith("Inplace update to inference tensor outside InferenceMode")


@pytest.mark.parametrize("lib", LIBRARIES, ids=["engine", "torch"])
def test_inference_mode_decorators_restore_modes(lib):
    @lib.inference_mode
    def bare():
        return lib.ones(1), lib.is_grad_enabled()

    @lib.inference_mode()
    def called():
        return lib.ones(1)

    @lib.inference_mode(False)
    def off():
        return lib.ones(1)

    made, grad_enabled = bare()
    assert made.is_inference() and not grad_enabled
    assert called().is_inference() and not off().is_inference()
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()
    with pytest.raises(ValueError), lib.inference_mode():
        raise ValueError
    assert lib.is_grad_enabled() and not lib.is_inference_mode_enabled()


def _nan_backward(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    return Bad


def test_detect_anomaly_names_the_node_and_the_forward_line():
    results = []
    for lib in LIBRARIES:
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.detect_anomaly():
                assert lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
                y = (x.sqrt() * 0).sum()  # the line the warning must show
                error = _error(y.backward)
                custom = _error(_nan_backward(lib).apply(x).sum().backward)
        assert not lib.is_anomaly_enabled()
        texts = [str(w.message) for w in caught]
        assert texts[0].startswith("Anomaly Detection has been enabled.")
        assert texts[1].startswith(
            "Error detected in SqrtBackward0. Traceback of forward call that caused the error:"
        )
        assert "y = (x.sqrt() * 0).sum()  # the line the warning must show" in texts[1]
        assert texts[2].startswith("Error detected in BadBackward.")
        results.append((error, custom, x.grad))
    assert results[0] == results[1]
    assert results[0][0] == "Function 'SqrtBackward0' returned nan values in its 0th output."
    assert results[0][1] == "Function 'BadBackward' returned nan values in its 0th output."


@pytest.mark.parametrize("lib", LIBRARIES, ids=["engine", "torch"])
def test_set_detect_anomaly_and_check_nan(lib):
    x = lib.tensor([0.0, 1.0], requires_grad=True)
    with lib.autograd.set_detect_anomaly(True, check_nan=False):
        assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        (x.sqrt() * 0).sum().backward()  # NaN, but not checked
    assert not lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
    lib.autograd.set_detect_anomaly(True)
    try:
        assert lib.is_anomaly_enabled()
    finally:
        lib.autograd.set_detect_anomaly(False)
    # without anomaly mode, a NaN gradient passes silently
    x.grad = None
    (x.sqrt() * 0).sum().backward()
    assert x.grad.isnan().tolist() == [True, False]


def test_anomaly_reports_a_raising_backward():
    for lib in LIBRARIES:

        class Raises(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x + 1

            @staticmethod
            def backward(ctx, grad):
                raise ValueError("broken backward")

        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with lib.autograd.set_detect_anomaly(True):
                out = Raises.apply(x).sum()
                with pytest.raises(ValueError, match="broken backward"):
                    out.backward()
        assert any(str(w.message).startswith("Error detected in RaisesBackward") for w in caught)


def _square(lib, once):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert not lib.is_grad_enabled()
            return 2 * x * grad

    return Square


def test_once_differentiable_matches_torch():
    results = []
    for lib, once in ((engine, engine_once), (torch, torch_once)):
        square = _square(lib, once)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (first,) = lib.autograd.grad(square.apply(x).sum(), x, create_graph=True)
        # the incoming gradient (ones) needs no grad: a plain result
        plain = (first.tolist(), first.requires_grad)
        y = square.apply(x)
        (grad,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        error = _error(grad.sum().backward)
        results.append((plain, grad.tolist(), type(grad.grad_fn).__name__, error))
    assert results[0] == results[1]
    assert results[0][3] == (
        "trying to differentiate twice a function that was marked with @once_differentiable"
    )
