"""Each difference from PyTorch stated on limitations.md fails the way the page says."""

from pathlib import Path

import pytest

import engine
import engine.nn

PAGE = (Path(__file__).resolve().parent.parent / "limitations.md").read_text()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: engine.zeros(2, device="cuda"), RuntimeError, "CPU only"),
        (lambda: engine.zeros(2).to("cuda"), RuntimeError, "CPU only"),
        (lambda: engine.zeros(2).cuda(), AttributeError, "cuda"),
        (lambda: engine.tensor([1j]), TypeError, "Could not infer dtype of complex"),
        (lambda: engine.zeros(2).to_sparse(), AttributeError, "to_sparse"),
        (lambda: engine.func.vmap, AttributeError, "vmap"),
        (lambda: engine.compile, AttributeError, "compile"),
        (lambda: engine.distributions, AttributeError, "distributions"),
        (lambda: engine.nn.LSTM(3, 4, proj_size=2), NotImplementedError, "proj_size"),
        (
            lambda: engine.linalg.matrix_norm(engine.ones(2, 2), "nuc"),
            NotImplementedError,
            "singular",
        ),
        (lambda: engine.linalg.matrix_norm(engine.ones(2, 2), 2), NotImplementedError, "singular"),
        (lambda: engine.linalg.svd, AttributeError, "svd"),
        (lambda: engine.nn.MultiheadAttention(4, 2, kdim=3), NotImplementedError, "kdim"),
    ],
)
def test_what_the_engine_does_not_do_fails_as_the_page_says(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_page_states_the_errors_it_promises():
    for text in ("engine tensors live on the CPU only", "Could not infer dtype of complex"):
        assert text in PAGE


def test_the_same_seed_gives_different_numbers_than_torch():
    import torch

    engine.manual_seed(0)
    torch.manual_seed(0)
    assert engine.rand(3).tolist() != torch.rand(3).tolist()
    assert "PCG64" in PAGE


def test_the_in_place_details_that_differ_from_torch():
    import torch

    names = []
    for lib in (engine, torch):
        x = lib.zeros(3, requires_grad=True)
        y = x.clone()
        y[0] = 1.0
        names.append(y.grad_fn.name().removeprefix("torch::autograd::"))
        with lib.inference_mode():
            t = lib.zeros(2)
        with pytest.raises(RuntimeError):
            t.add_(1)
        names.append(t.tolist())
    assert names == ["IndexPutBackward0", [0.0, 0.0], "CopySlices", [1.0, 1.0]]
    assert "CopySlices" in PAGE and "IndexPutBackward0" in PAGE


def test_a_cuda_autocast_region_applies_the_cuda_policy_to_engine_tensors():
    import torch

    x = engine.rand(3, requires_grad=True).to(engine.float16)
    with engine.autocast("cuda"):
        total = x.sum()
    assert total.dtype is engine.float32  # torch's CUDA policy: sum runs in float32
    assert total.grad_fn.name() == "SumBackward0"
    assert total.grad_fn.next_functions[0][0].name() == "ToCopyBackward0"
    with torch.autocast("cpu"):  # torch on the CPU: a CPU region keeps sum in 16 bits
        assert torch.rand(3).half().sum().dtype is torch.float16
    assert 'engine.autocast("cuda")' in PAGE and "ToCopyBackward0" in PAGE
