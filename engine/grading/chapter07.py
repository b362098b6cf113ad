"""Checks for chapter 7, Modules (exercises/07_modules.ipynb).

Expected values come from NumPy formulas, from the engine's own modules run without the learner's
code, and from statistics over many draws (a mask is random, so its share and its scale are
checked, not its values).
"""

from __future__ import annotations

import numpy as np

import engine
import engine.nn as nn
import engine.nn.functional as F
from engine.grading.core import CheckFailed, exercise, expect, explain

CHAPTER = "07_modules"


def _float64(values, requires_grad=False):
    return engine.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _array(result, case: str) -> np.ndarray:
    expect(
        case,
        isinstance(result, engine.Tensor),
        f"expected an engine Tensor, got {type(result).__name__}",
    )
    return np.asarray(result.detach().tolist(), dtype=np.float64)


def _compare(case: str, got: np.ndarray, want: np.ndarray, tolerance: float = 1e-10) -> None:
    if got.shape != want.shape:
        raise CheckFailed(f"{case}: expected shape {want.shape}, got {got.shape}")
    if not np.allclose(got, want, rtol=tolerance, atol=tolerance):
        raise CheckFailed(
            f"{case}: expected {np.round(want, 6).tolist()}, got {np.round(got, 6).tolist()}"
        )


class _Encoder(nn.Module):
    """The module whose state_dict keys exercise state_dict_keys predicts."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.register_buffer("positions", engine.arange(4.0))
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.LayerNorm(4)])
        self.register_buffer("cache", engine.zeros(4), persistent=False)
        self.temperature = engine.ones(())
        self.head = nn.Linear(4, 2, bias=False)


@exercise(
    CHAPTER,
    "state_dict_keys",
    "predict the keys of a module's state_dict, in order",
    kind="predict",
    hints=(
        "Keys come in registration order: first this module's own parameters, then its "
        "buffers, then each child module's keys with the child's name and a dot in front.",
        "A buffer registered with persistent=False is not saved, and a plain tensor attribute "
        "is neither a parameter nor a buffer.",
    ),
)
def check_state_dict_keys(state_dict_keys) -> str:
    prediction = state_dict_keys()
    expect(
        "state_dict_keys()",
        isinstance(prediction, list | tuple),
        f"return a list of strings, got {prediction!r:.80}",
    )
    actual = list(_Encoder().state_dict())
    return explain(
        "list(Encoder().state_dict())",
        list(prediction),
        actual,
        "The module's own buffer comes first (it has no parameters of its own), then each "
        "child in the order it was assigned, with dotted names; 'cache' is not persistent and "
        "'temperature' is a plain tensor, so neither is saved.",
    )


@exercise(
    CHAPTER,
    "inverted_dropout",
    "dropout in training mode: a Bernoulli(1 - p) mask and inverted scaling",
    forbidden=(
        "engine.nn.functional.dropout",
        "engine.nn.Dropout.forward",
        "torch.nn.functional.dropout",
        "torch.dropout",
    ),
    hints=(
        "engine.rand_like(x) gives uniform numbers in [0, 1): an element is kept when its draw "
        "is at least p, which happens with probability 1 - p.",
        "Scale what you keep by 1 / (1 - p), so the mean of every element stays the same; at "
        "p = 1 nothing is kept (and there is nothing to divide).",
        "Check p first: torch raises ValueError outside [0, 1].",
    ),
)
def check_inverted_dropout(inverted_dropout) -> str:
    x = engine.ones(100_000, dtype=engine.float64) * 3.0
    for p in (0.1, 0.5, 0.9):
        case = f"inverted_dropout(x, p={p}) on 100,000 threes"
        out = _array(inverted_dropout(x, p), case)
        kept = out != 0
        share = kept.mean()
        if abs(share - p) < 0.02 and p != 0.5:
            raise CheckFailed(
                f"{case}: you kept {share:.3f} of the elements, about p: the keep-mask must be "
                f"Bernoulli(1 - p), keeping {1 - p:.1f}"
            )
        expect(
            case,
            abs(share - (1 - p)) < 0.01,
            f"kept {share:.3f} of the elements, expected about {1 - p:.2f}",
        )
        values = np.unique(np.round(out[kept], 9))
        want = 3.0 / (1 - p)
        expect(
            case,
            values.tolist() == [round(want, 9)],
            f"kept elements should all be 3 / (1 - p) = {want:.4f}, got {values[:5].tolist()}",
        )
    same = _array(inverted_dropout(x, 0.0), "inverted_dropout(x, p=0)")
    _compare("inverted_dropout(x, p=0)", same, np.full(100_000, 3.0))
    none = _array(inverted_dropout(x, 1.0), "inverted_dropout(x, p=1)")
    _compare("inverted_dropout(x, p=1)", none, np.zeros(100_000))
    try:
        inverted_dropout(x, 1.5)
    except ValueError:
        pass
    else:
        raise CheckFailed("inverted_dropout(x, p=1.5) should raise ValueError, as torch does")
    return "keep share 1 - p, survivors scaled by 1 / (1 - p), p = 0 and p = 1 exact"


def _batch_norm_reference(x, mean, var, momentum, training):
    if not training:
        return (x - mean) / np.sqrt(var + 1e-5), mean, var
    batch_mean, batch_var = x.mean(axis=0), x.var(axis=0)
    unbiased = x.var(axis=0, ddof=1)
    return (
        (x - batch_mean) / np.sqrt(batch_var + 1e-5),
        (1 - momentum) * mean + momentum * batch_mean,
        (1 - momentum) * var + momentum * unbiased,
    )


@exercise(
    CHAPTER,
    "batch_norm",
    "batch norm's forward in training and eval, with its running statistics",
    forbidden=(
        "engine.nn.functional.batch_norm",
        "engine.nn.BatchNorm1d.forward",
        "torch.nn.functional.batch_norm",
        "torch.batch_norm",
    ),
    hints=(
        "In training: normalise with the batch's mean and its biased variance (divide by n), "
        "then update the running statistics in place.",
        "The running variance is updated with the unbiased variance (divide by n - 1): "
        "running = (1 - momentum) * running + momentum * batch.",
        "In eval: normalise with the running statistics and leave them alone. eps = 1e-5 goes "
        "inside the square root.",
    ),
)
def check_batch_norm(batch_norm) -> str:
    rng = np.random.default_rng(4)
    mean, var = np.zeros(3), np.ones(3)
    running_mean, running_var = _float64(mean), _float64(var)
    for step in range(3):
        x = 2.0 + 3.0 * rng.standard_normal((8, 3))
        case = f"batch_norm, training step {step}"
        out = _array(batch_norm(_float64(x), running_mean, running_var, 0.1, True), case)
        biased_var = 0.9 * var + 0.1 * x.var(axis=0)
        want, mean, var = _batch_norm_reference(x, mean, var, 0.1, True)
        _compare(case, out, want)
        got_var = np.asarray(running_var.tolist())
        if np.allclose(got_var, biased_var):
            raise CheckFailed(
                f"{case}: the running variance was updated with the biased variance; torch "
                "keeps the unbiased one (divide by n - 1)"
            )
        _compare(f"{case}: running_mean after the step", np.asarray(running_mean.tolist()), mean)
        _compare(f"{case}: running_var after the step", got_var, var)
    x = rng.standard_normal((5, 3))
    out = _array(batch_norm(_float64(x), running_mean, running_var, 0.1, False), "eval")
    want, _, _ = _batch_norm_reference(x, mean, var, 0.1, False)
    _compare("batch_norm in eval mode (running statistics)", out, want)
    _compare("eval leaves running_mean alone", np.asarray(running_mean.tolist()), mean)
    return "training output and running statistics, and eval on them, match torch's rule"


@exercise(
    CHAPTER,
    "conv2d_windows",
    "a 2-D convolution from as_strided windows and one product",
    forbidden=(
        "engine.nn.functional.conv2d",
        "engine.nn.Conv2d.forward",
        "engine.nn.functional.unfold",
        "engine.Tensor.unfold",
        "torch.nn.functional.conv2d",
        "torch.conv2d",
    ),
    hints=(
        "x is (N, C, H, W) and contiguous. A window view of shape (N, C, out_h, out_w, kh, kw) "
        "reads x with strides (C*H*W, H*W, W, 1, W, 1).",
        "Then contract C, kh and kw against the weight (O, C, kh, kw): move them last, reshape "
        "to (N, out_h, out_w, C*kh*kw) and multiply by the weight reshaped to (O, C*kh*kw).T.",
        "The result comes out as (N, out_h, out_w, O): permute it to (N, O, out_h, out_w).",
    ),
)
def check_conv2d_windows(conv2d_windows) -> str:
    rng = np.random.default_rng(2)
    for n, c, h, w, o, k in [(1, 1, 4, 4, 1, 3), (2, 3, 5, 6, 4, 3), (1, 2, 6, 5, 3, 2)]:
        x = _float64(rng.standard_normal((n, c, h, w)), requires_grad=True)
        weight = _float64(rng.standard_normal((o, c, k, k)), requires_grad=True)
        case = f"conv2d_windows(x {tuple(x.shape)}, weight {tuple(weight.shape)})"
        got = conv2d_windows(x, weight)
        want = F.conv2d(x, weight)
        _compare(case, _array(got, case), np.asarray(want.tolist()))
        expect(case, got.requires_grad, "the result has no gradient: build it from engine ops")
        got.sum().backward()
        grads = (np.asarray(x.grad.tolist()), np.asarray(weight.grad.tolist()))
        x.grad, weight.grad = None, None
        want.sum().backward()
        _compare(f"{case}: gradient of x", grads[0], np.asarray(x.grad.tolist()))
        _compare(f"{case}: gradient of the weight", grads[1], np.asarray(weight.grad.tolist()))
    return "three shapes, values and both gradients equal to engine.nn.functional.conv2d"


@exercise(
    CHAPTER,
    "embedding_backward",
    "the gradient of an embedding's weight: a scatter-add of the incoming rows",
    forbidden=(
        "engine.nn.functional.embedding",
        "engine.nn.Embedding.forward",
        "engine.index_add",
        "engine.Tensor.index_add",
        "engine.Tensor.index_add_",
        "engine.scatter_add",
        "engine.Tensor.scatter_add",
        "engine.Tensor.scatter_add_",
        "engine.Tensor.index_put_",
        "engine.Tensor.backward",
        "engine.autograd.grad",
    ),
    hints=(
        "Row i of grad_output belongs to the embedding row indices[i]: add it there.",
        "An index can appear more than once: its row receives the sum. Start from zeros of shape "
        "(num_embeddings, dim) and add row by row.",
    ),
)
def check_embedding_backward(embedding_backward) -> str:
    rng = np.random.default_rng(6)
    for indices in ([2, 0, 2], [4, 4, 4, 1], [0]):
        grad_output = rng.standard_normal((len(indices), 3))
        case = f"embedding_backward(indices={indices}, grad_output of shape {grad_output.shape}, 5)"
        got = _array(embedding_backward(engine.tensor(indices), _float64(grad_output), 5), case)
        want = np.zeros((5, 3))
        np.add.at(want, indices, grad_output)
        if got.shape == want.shape and len(set(indices)) < len(indices):
            last = np.zeros((5, 3))
            last[indices] = grad_output
            if np.allclose(got, last):
                raise CheckFailed(
                    f"{case}: a repeated index kept only its last row: it must receive the sum"
                )
        _compare(case, got, want)
    return "repeated indices summed, unused rows zero, as the embedding's backward"


@exercise(
    CHAPTER,
    "TwoLayer",
    "fix a module whose layers its optimizer never sees",
    kind="debug",
    hints=(
        "Print list(TwoLayer(3, 4, 2).parameters()). What should it contain?",
        "A Module registers the layers assigned to its attributes. A Python list is none of "
        "the things __setattr__ registers.",
    ),
)
def check_two_layer(two_layer) -> str:
    model = two_layer(3, 4, 2)
    expect("TwoLayer(3, 4, 2)", isinstance(model, nn.Module), "expected an engine.nn.Module")
    names = [name for name, _ in model.named_parameters()]
    expect(
        "TwoLayer(3, 4, 2).named_parameters()",
        len(names) == 4,
        f"expected the 4 parameters of two Linear layers, got {names}: the layers are not "
        "registered, so an optimizer would never update them",
    )
    keys = list(model.state_dict())
    expect("TwoLayer(3, 4, 2).state_dict()", len(keys) == 4, f"got keys {keys}")
    model.double()
    x = _float64(np.linspace(-1, 1, 6).reshape(2, 3))
    out = model(x)
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    want = layers[1](layers[0](x).relu())
    _compare("TwoLayer(3, 4, 2)(x)", _array(out, "forward"), np.asarray(want.tolist()))
    out.sum().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    expect("after backward", not missing, f"no gradient reached {missing}")
    return f"parameters {names} registered, saved, and trained"
