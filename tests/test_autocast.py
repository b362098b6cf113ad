"""engine.autocast against torch.autocast: every op's result dtype under torch's CPU policy
(real CPU torch) and under its CUDA policy (torch's AutocastCUDA kernels, reached on a
CPU-only machine through fake tensors on device "cuda": they carry dtype, shape and device but
no data), for float16 and bfloat16 regions; values on the CPU; nesting, disabling, exceptions,
the decorator, the weight cache, and the dtypes of the gradients."""

import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode

import engine
import engine.nn.functional as EF
from engine.amp import AUTOCAST_POLICY, policy_of
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for autocast_cases in any import mode
from autocast_cases import CASES  # noqa: E402

TF = torch.nn.functional
LOW = {"bfloat16": (engine.bfloat16, torch.bfloat16), "float16": (engine.float16, torch.float16)}


def _inputs(kind: str, low: str, count: int, library: str):
    """The dtype of the ``count``-th floating input: all float32, all 16-bit, or mixed (the
    first float32, the others 16-bit: what ``promote`` ops see)."""
    engine_low, torch_low = LOW[low]
    if kind == "float32" or (kind == "mixed" and count == 0):
        return engine.float32 if library == "engine" else torch.float32
    return engine_low if library == "engine" else torch_low


def _run_torch(device: str, low: str, kind: str, call):
    rng = np.random.default_rng(0)
    counter = iter(range(100))

    def t(*shape):
        dtype = _inputs(kind, low, next(counter), "torch")
        if device == "cuda":
            return torch.empty(shape, device="cuda", dtype=dtype)
        return torch.from_numpy(rng.uniform(0.1, 0.9, shape).astype(np.float32)).to(dtype)

    def i(values):
        return torch.tensor(values, device=device)

    if device == "cpu":
        with torch.autocast("cpu", dtype=LOW[low][1]):
            return call(torch, TF, t, i)
    with FakeTensorMode(allow_non_fake_inputs=True):
        # torch.autocast("cuda") refuses without a GPU; the switches below are what it sets.
        torch.set_autocast_enabled("cuda", True)
        torch.set_autocast_dtype("cuda", LOW[low][1])
        try:
            return call(torch, TF, t, i)
        finally:
            torch.set_autocast_enabled("cuda", False)
            torch.set_autocast_dtype("cuda", torch.float16)


def _run_engine(device: str, low: str, kind: str, call):
    rng = np.random.default_rng(0)
    counter = iter(range(100))

    def t(*shape):
        dtype = _inputs(kind, low, next(counter), "engine")
        return engine.tensor(rng.uniform(0.1, 0.9, shape).astype(np.float32)).to(dtype)

    def i(values):
        return engine.tensor(values)

    with engine.autocast(device, dtype=LOW[low][0]):
        return call(engine, EF, t, i)


def _outcome(run, *args):
    try:
        return run(*args)
    except Exception as error:  # noqa: BLE001 - the error's type is compared with torch's
        return error


# Where torch fails for a reason that is not autocast's, the case is left out: torch's CPU
# normalization kernels refuse 16-bit parameters with a float32 input ("mixed dtype (CPU)")
# with or without autocast, where the engine promotes; and a fake CUDA tensor's index_copy
# skips the dtype check that the real kernel makes (CPU torch: "self and source expected to
# have the same dtype"; the engine raises it too).
NOT_AUTOCAST = {
    ("layer_norm", "cpu", "mixed"),
    ("group_norm", "cpu", "mixed"),
    ("batch_norm", "cpu", "mixed"),
    ("index_copy", "cuda", "mixed"),
}


@pytest.mark.parametrize("kind", ["float32", "low", "mixed"])
@pytest.mark.parametrize("low", ["bfloat16", "float16"])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("name, call", CASES, ids=[f"{n}-{k}" for k, (n, _) in enumerate(CASES)])
def test_every_op_runs_in_torchs_autocast_dtype(name, call, device, low, kind):
    if (name, device, kind) in NOT_AUTOCAST:
        return
    theirs = _outcome(_run_torch, device, low, kind, call)
    ours = _outcome(_run_engine, device, low, kind, call)
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), f"torch raised {theirs!r}, the engine gave {ours!r}"
        return
    assert not isinstance(ours, Exception), f"the engine raised {ours!r}"
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1], (
        f"{name} under autocast({device!r}, {low}) with {kind} inputs: the engine gives "
        f"{ours.dtype}, torch {theirs.dtype} (policy: {policy_of(name, device)})"
    )
    if device == "cpu":
        assert_close(ours.float(), theirs.float(), rtol=2e-2, atol=2e-2)


def test_the_policy_lists_only_ops_that_torch_autocasts_on_that_device():
    # torch's names for the engine's: the op (overload) that carries the autocast kernel.
    aten = {
        "conv_transpose2d": "conv_transpose2d.input",
        "conv_transpose3d": "conv_transpose3d.input",
        "cross_entropy": "cross_entropy_loss",
        "pow": "pow.Tensor_Scalar",
        "vector_norm": "linalg_vector_norm",
        "reflection_pad": "reflection_pad1d",
        "replication_pad": "replication_pad1d",
        "norm": "norm.Scalar",
        "interpolate": "upsample_linear1d",
        "sum": "sum",
        "prod": "prod",
        "softmax": "softmax.int",
        "log_softmax": "log_softmax.int",
    }
    key = {"cpu": "AutocastCPU", "cuda": "AutocastCUDA"}
    for device, policies in AUTOCAST_POLICY.items():
        for names in policies.values():
            for name in names:
                if device == "cuda" and name == "cross_entropy":
                    continue  # torch decomposes it into log_softmax and nll_loss (both float32)
                op = "aten::" + aten.get(name, name)
                assert torch._C._dispatch_has_kernel_for_dispatch_key(op, key[device]), (
                    f"{op} has no {key[device]} kernel in torch"
                )


def test_binary_cross_entropy_is_refused_in_a_cuda_region_like_torch():
    x = engine.rand(3)
    with engine.autocast("cuda"), pytest.raises(RuntimeError, match="unsafe to autocast"):
        EF.binary_cross_entropy(x, x)
    with engine.autocast("cpu"):
        assert EF.binary_cross_entropy(x, x).dtype is engine.float32


def test_regions_nest_disable_and_restore_the_state_even_after_an_exception():
    assert not engine.is_autocast_enabled("cpu")
    assert engine.get_autocast_dtype("cpu") is engine.bfloat16
    assert engine.get_autocast_dtype("cuda") is engine.float16
    a, b = engine.rand(2, 2), engine.rand(2, 2)
    with engine.autocast("cpu"):
        assert engine.is_autocast_enabled("cpu") and (a @ b).dtype is engine.bfloat16
        with engine.autocast("cpu", dtype=engine.float16):
            assert (a @ b).dtype is engine.float16
            with engine.autocast("cpu", enabled=False):
                assert not engine.is_autocast_enabled("cpu")
                assert (a @ b).dtype is engine.float32
            assert engine.get_autocast_dtype("cpu") is engine.float16
        assert (a @ b).dtype is engine.bfloat16
        with pytest.raises(ZeroDivisionError), engine.autocast("cuda"):
            assert (a.exp()).dtype is engine.float32 and (a @ b).dtype is engine.float16
            raise ZeroDivisionError
        assert not engine.is_autocast_enabled("cuda") and (a @ b).dtype is engine.bfloat16
    assert not engine.is_autocast_enabled("cpu") and (a @ b).dtype is engine.float32
    assert engine.get_autocast_dtype("cpu") is engine.bfloat16


def test_as_a_decorator():
    @engine.autocast("cpu", dtype=engine.float16)
    def product(a, b):
        return a @ b

    assert product(engine.rand(2, 2), engine.rand(2, 2)).dtype is engine.float16
    assert not engine.is_autocast_enabled("cpu")
    with pytest.raises(TypeError, match="requires a callable"):
        engine.autocast("cpu")(3)


def test_bad_arguments_fail_or_warn_like_torch():
    with pytest.raises(ValueError, match="device_type"):
        engine.autocast(3)
    with pytest.raises(RuntimeError, match="unsupported autocast device_type 'tpu'"):
        engine.autocast("tpu")
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        region = engine.autocast("cpu", dtype=engine.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch_region = torch.autocast("cpu", dtype=torch.float32)
    assert region._enabled is torch_region._enabled is False


def _mlp_step(library, F, low, cache_enabled=True):
    """One linear layer used twice and a loss, under autocast: the results, the graph and
    the gradients' dtypes."""
    rng = np.random.default_rng(1)
    x = library.tensor(rng.standard_normal((4, 3)).astype(np.float32))
    w = library.tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    with library.autocast("cpu", dtype=low, cache_enabled=cache_enabled):
        hidden = F.linear(x, w)
        out = F.linear(hidden, w)
        loss = F.mse_loss(out, library.zeros(4, 3))
    loss.backward()
    return hidden, out, loss, w


@pytest.mark.parametrize("cache_enabled", [True, False])
@pytest.mark.parametrize("low", ["bfloat16", "float16"])
def test_backward_gives_float32_leaves_float32_gradients_and_the_cache_casts_once(
    low, cache_enabled
):
    ours = _mlp_step(engine, EF, LOW[low][0], cache_enabled)
    theirs = _mlp_step(torch, TF, LOW[low][1], cache_enabled)
    for mine, expected in zip(ours, theirs, strict=True):
        assert str(mine.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    assert ours[3].grad.dtype is engine.float32
    assert_close(ours[2], theirs[2], rtol=2e-2, atol=1e-3)
    assert_close(ours[3].grad, theirs[3].grad, rtol=5e-2, atol=5e-2)

    def weight_cast(result):  # the node that cast w for this linear layer
        return result.grad_fn.next_functions[1][0].next_functions[0][0]

    for mine, expected in ((ours[0], theirs[0]), (ours[1], theirs[1])):
        assert type(weight_cast(mine)).__name__ == type(weight_cast(expected)).__name__
    same_cast = weight_cast(ours[0]) is weight_cast(ours[1])
    assert same_cast is (weight_cast(theirs[0]) is weight_cast(theirs[1])) is cache_enabled


def test_the_cache_is_emptied_when_the_outermost_region_closes():
    from engine.ops.autocast import AUTOCAST

    w = engine.rand(2, 2, requires_grad=True)
    with engine.autocast("cpu"):
        with engine.autocast("cpu"):
            w @ w
        assert AUTOCAST.cache  # still open: the cast weight is kept
    assert not AUTOCAST.cache


def test_float64_and_integer_tensors_are_never_cast():
    with engine.autocast("cpu"):
        doubles = engine.rand(2, 2, dtype=engine.float64)
        assert (doubles @ doubles).dtype is engine.float64
        integers = engine.ones(2, 2, dtype=engine.int64)
        assert (integers @ integers).dtype is engine.int64
        # A float32 operand is cast and a float64 one is not: the product then fails, in torch too.
        with pytest.raises(RuntimeError, match="same dtype"):
            doubles @ engine.rand(2, 2)
    with torch.autocast("cpu"), pytest.raises(RuntimeError, match="same dtype"):
        torch.rand(2, 2, dtype=torch.float64) @ torch.rand(2, 2)
