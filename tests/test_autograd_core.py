"""The autograd core against torch: Function/ctx, the backward engine, leaves and .grad, hooks,
retain_grad/retain_graph, grad modes, in-place safety and autograd.grad."""

from __future__ import annotations

import pathlib
import sys
import warnings

import numpy as np
import pytest
import torch

import engine
from engine import autograd
from engine.testing import assert_close

sys.path.insert(0, str(pathlib.Path(__file__).parent))  # for `autograd_helpers`
from autograd_helpers import assert_grads_match, leaf_pair, raises_like_torch  # noqa: E402


def both(values, contiguous: bool = True):
    return leaf_pair(np.asarray(values, dtype=np.float64), contiguous)


# --------------------------------------------------------------------------- graph structure
def test_grad_fn_names_next_functions_and_leaves():
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = engine.tensor([0.5, 0.5, 0.5])
    y = x * w
    assert x.is_leaf and x.grad_fn is None and y.requires_grad and not y.is_leaf
    assert y.grad_fn.name() == "MulBackward0" and type(y.grad_fn).__name__ == "MulBackward0"
    (node, input_nr), (empty, _) = y.grad_fn.next_functions
    assert node.name() == "AccumulateGrad" and node.variable is x and input_nr == 0
    assert empty is None
    # One AccumulateGrad per leaf, shared by every use (as in torch).
    z = x + 1
    assert z.grad_fn.next_functions[0][0] is node
    assert z.grad_fn.next_functions[1][0] is None  # a Python number gets an empty edge
    where_edges = engine.where(x > 0, x, 0.0).grad_fn.next_functions
    assert where_edges[0][0] is node and where_edges[1][0] is None and len(where_edges) == 2
    s = z.sum()
    assert s.grad_fn.name() == "SumBackward0"
    assert s.grad_fn._sequence_nr() > z.grad_fn._sequence_nr()
    assert "grad_fn=<SumBackward0>" in repr(s)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (lambda x: x.view(6), "ViewBackward0"),
        (lambda x: x.t(), "TBackward0"),
        (lambda x: x.transpose(0, 1), "TransposeBackward0"),
        (lambda x: x.permute(1, 0), "PermuteBackward0"),
        (lambda x: x.expand(4, 2, 3), "ExpandBackward0"),
        (lambda x: x[0], "SelectBackward0"),
        (lambda x: x[:, 1:], "SliceBackward0"),
        (lambda x: x[:, 1], "SelectBackward0"),
        (lambda x: x[[0, 1]], "IndexBackward0"),
        (lambda x: x[None], "UnsqueezeBackward0"),
        (lambda x: x.narrow(1, 0, 2), "SliceBackward0"),
        (lambda x: x.unfold(1, 2, 1), "UnfoldBackward0"),
        (lambda x: x.squeeze(), "SqueezeBackward0"),
        (lambda x: x.squeeze(0), "SqueezeBackward1"),
        (lambda x: x.t().contiguous(), "CloneBackward0"),
        (lambda x: x.sum(0), "SumBackward1"),
        (lambda x: x.max(), "MaxBackward1"),
        (lambda x: x.max(0)[0], "MaxBackward0"),
        (lambda x: x.mean(1), "MeanBackward1"),
        (lambda x: x @ x.t(), "MmBackward0"),
        (lambda x: x[0] @ x[1], "DotBackward0"),
        (lambda x: x.pow(2), "PowBackward0"),
        (lambda x: x.pow(x), "PowBackward1"),
        (lambda x: x.clamp(0, 1), "ClampBackward1"),
        (lambda x: x.relu(), "ReluBackward0"),
        (lambda x: x.var(), "VarBackward0"),
        (lambda x: x.std(0), "StdBackward0"),
        (lambda x: x.prod(), "ProdBackward0"),
        (lambda x: x.prod(1), "ProdBackward1"),
    ],
)
def test_node_names_match_torch(expression, expected):
    ours, theirs = both(np.arange(1.0, 7.0).reshape(2, 3))
    assert type(expression(theirs).grad_fn).__name__ == expected  # the table itself is right
    assert expression(ours).grad_fn.name() == expected


def test_floor_divide_has_no_derivative_like_torch():
    (x, tx) = both([1.5, -2.5])
    assert (x // 2).grad_fn.name() == "NotImplemented"
    raises_like_torch(
        lambda: (x // 2).sum().backward(),
        lambda: (tx // 2).sum().backward(),
        "derivative for aten::floor_divide is not implemented",
    )


def test_integer_valued_results_have_no_gradient_path():
    x = engine.tensor([0.4, -1.6, 2.5], requires_grad=True)
    assert not (x > 0).requires_grad and not x.argmax().requires_grad
    values, indices = x.max(0)
    assert values.requires_grad and not indices.requires_grad
    # round and sign are differentiable with zero gradient, as in torch.
    t = torch.tensor([0.4, -1.6, 2.5], requires_grad=True)
    (x.round() + x.sign()).sum().backward()
    (t.round() + t.sign()).sum().backward()
    assert_close(x.grad, t.grad)
    assert x.round().grad_fn.name() == "RoundBackward0"


# ------------------------------------------------------------------------ backward semantics
def test_backward_accumulates_into_leaves_and_sums_fan_out():
    (x, tx), (w, tw) = both([1.0, -2.0, 3.0]), both([[0.5], [2.0]])
    for a, b in ((x, w), (tx, tw)):
        y = a * b  # broadcast (2, 3)
        (y.exp().sum() + (y * a).sum() + a.sum()).backward()
        (a * a).sum().backward()  # a second backward accumulates
    assert_grads_match([x.grad, w.grad], [tx.grad, tw.grad])


def test_engine_order_matches_torch_bitwise():
    # Many paths into one node: the sum of incoming gradients, in torch's order, must give the
    # same float64 bits.
    rng = np.random.default_rng(0)
    (x, tx) = both(rng.standard_normal(5))
    results = []
    for a in (x, tx):
        h = a * 1.3
        total = 0
        for k in range(6):
            h = h.tanh() * (0.7 + 0.1 * k) + a.sin() * h
            total = total + h * (k + 1)
        total.sum().backward()
        results.append(a.grad)
    assert np.array_equal(results[0].numpy(), results[1].numpy())


def test_implicit_gradient_only_for_scalars():
    (x, tx) = both([1.0, 2.0])
    raises_like_torch(lambda: (x * 2).backward(), lambda: (tx * 2).backward(), "scalar outputs")
    (x * 2).backward(engine.tensor([1.0, 0.5], dtype=engine.float64))
    (tx * 2).backward(torch.tensor([1.0, 0.5], dtype=torch.float64))
    assert_close(x.grad, tx.grad)


def test_backward_on_tensor_without_grad_raises():
    raises_like_torch(
        lambda: engine.ones(3).sum().backward(),
        lambda: torch.ones(3).sum().backward(),
        "does not require grad and does not have a grad_fn",
    )


def test_gradient_shape_mismatch_raises():
    (x, tx) = both([1.0, 2.0])
    raises_like_torch(
        lambda: (x * 2).backward(engine.ones(3, dtype=engine.float64)),
        lambda: (tx * 2).backward(torch.ones(3, dtype=torch.float64)),
        "Mismatch in shape",
    )


def _custom_functions(library):
    """The same three custom Functions for the engine and for torch (``library``): one
    returns an output-shaped gradient for a broadcast input, the other two return gradients of
    shapes the input does not expand to."""

    base = library.autograd.Function

    class BroadcastMul(base):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad_output):
            x, y = ctx.saved_tensors
            return grad_output * y, grad_output * x  # both of the broadcast shape (2, 3)

    class TooBig(base):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return library.ones(4, dtype=grad_output.dtype)

    class TooSmall(base):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.reshape(1)  # [1] expands to the input's [3]; torch refuses it

    return BroadcastMul, TooBig, TooSmall


def test_custom_function_gradient_is_summed_to_the_input_shape_like_torch():
    (x, tx), (y, ty) = both([1.0, -2.0, 0.5]), both([[1.0, 2.0, 3.0], [-1.0, 0.5, 4.0]])
    mul, _, _ = _custom_functions(engine)
    torch_mul, _, _ = _custom_functions(torch)
    mul.apply(x, y).sum().backward()
    torch_mul.apply(tx, ty).sum().backward()
    assert tuple(x.grad.shape) == (3,)
    assert_grads_match([x.grad, y.grad], [tx.grad, ty.grad])


def test_custom_function_gradient_of_an_incompatible_shape_raises_like_torch():
    (x, tx) = both([1.0, 2.0, 3.0])
    _, too_big, too_small = _custom_functions(engine)
    _, torch_too_big, torch_too_small = _custom_functions(torch)
    message = raises_like_torch(
        lambda: too_big.apply(x).sum().backward(),
        lambda: torch_too_big.apply(tx).sum().backward(),
        "returned an invalid gradient at index 0 - got [4] but expected shape compatible with [3]",
    )
    assert message.startswith("Function TooBigBackward ")
    raises_like_torch(
        lambda: too_small.apply(x).backward(),
        lambda: torch_too_small.apply(tx).backward(),
        "got [1] but expected shape compatible with [3]",
    )


def test_freed_graph_and_retain_graph():
    (x, tx) = both([1.0, 2.0, 3.0])
    for a in (x, tx):
        y = (a.exp() * a).sum()
        y.backward(retain_graph=True)
        y.backward()  # allowed: the graph was retained the first time
    assert_close(x.grad, tx.grad)
    y, ty = (x.exp() * x).sum(), (tx.exp() * tx).sum()
    y.backward()
    ty.backward()
    message = raises_like_torch(y.backward, ty.backward, "backward through the graph a second time")
    assert "retain_graph=True" in message
    # A graph whose nodes saved nothing can be run twice (torch too).
    z, tz = (x + 1).sum(), (tx + 1).sum()
    z.backward()
    z.backward()
    tz.backward()
    tz.backward()
    assert_close(x.grad, tx.grad)


def test_long_chain_runs_iteratively():
    x = engine.tensor([1.0], dtype=engine.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0
    del y  # freeing a 100,000-node graph must not overflow the stack either


def test_non_leaf_grad_warns_and_retain_grad():
    (x, tx) = both([1.0, 2.0])
    y, ty = x * 3, tx * 3
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert caught and caught[0].category is UserWarning
    assert "not a leaf Tensor is being accessed" in str(caught[0].message)
    y.retain_grad()
    ty.retain_grad()
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(y.grad, ty.grad)
    assert y.retains_grad and x.grad is not None


def test_hooks_replace_order_and_remove():
    calls, grads = [], []
    for a in both([1.0, 2.0]):
        y = a * 2
        first = y.register_hook(lambda g: calls.append("first") or g * 10)
        y.register_hook(lambda g: calls.append("second"))  # returning None keeps the gradient
        leaf_hook = a.register_hook(lambda g: g + 1)  # runs before accumulation into .grad
        y.sum().backward(retain_graph=True)  # d/da = 10 * 2, then + 1
        first.remove()
        leaf_hook.remove()
        y.sum().backward()  # + 2
        grads.append(a.grad)
    assert calls == ["first", "second", "second"] * 2
    assert_grads_match([grads[0]], [grads[1]])
    assert grads[0].tolist() == [23.0, 23.0]


def test_hook_on_tensor_without_grad_raises():
    raises_like_torch(
        lambda: engine.ones(2).register_hook(lambda g: g),
        lambda: torch.ones(2).register_hook(lambda g: g),
        "doesn't require gradient",
    )


def test_requires_grad_rules():
    raises_like_torch(
        lambda: engine.tensor([1, 2], requires_grad=True),
        lambda: torch.tensor([1, 2], requires_grad=True),
        "Only Tensors of floating point",
    )
    (x, tx) = both([1.0])
    raises_like_torch(
        lambda: setattr(x * 2, "requires_grad", False),
        lambda: setattr(tx * 2, "requires_grad", False),
        "only change requires_grad flags of leaf variables",
    )


def test_detach_shares_storage_and_version():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data_ptr() == y.data_ptr()
    d.add_(1)
    assert y._version == d._version == 1 and y.tolist() == [3.0, 5.0]
    y.detach_()
    assert y.is_leaf and not y.requires_grad


# ---------------------------------------------------------------------------- grad modes
def test_grad_modes_context_decorator_and_restore_on_error():
    x = engine.tensor([1.0], requires_grad=True)
    with engine.no_grad():
        assert not engine.is_grad_enabled() and not (x * 2).requires_grad
        with engine.enable_grad():
            assert (x * 2).requires_grad
    assert engine.is_grad_enabled()

    @engine.no_grad()
    def double(value):
        return value * 2

    assert not double(x).requires_grad and engine.is_grad_enabled()

    @engine.no_grad  # the bare decorator works too, as in torch
    def triple(value):
        return value * 3

    assert not triple(x).requires_grad and engine.is_grad_enabled()
    with pytest.raises(ValueError), engine.no_grad():
        raise ValueError("body failed")
    assert engine.is_grad_enabled()
    with pytest.raises(ValueError), engine.set_grad_enabled(False):
        assert not engine.is_grad_enabled()
        raise ValueError("body failed")
    assert engine.is_grad_enabled()
    engine.set_grad_enabled(False)
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)

    @engine.set_grad_enabled(False)
    def inner():
        return engine.is_grad_enabled()

    assert engine.is_grad_enabled() and inner() is False and engine.is_grad_enabled()


# -------------------------------------------------------------------------- in-place safety
def test_modified_saved_tensor_raises_version_error():
    (x, tx) = both([1.0, 2.0, 3.0])
    y, ty = x.exp(), tx.exp()
    y.add_(1)
    ty.add_(1)
    message = raises_like_torch(
        lambda: y.sum().backward(), lambda: ty.sum().backward(), "modified by an inplace"
    )
    assert "[engine.DoubleTensor [3]], which is output 0 of Exp, is at version 1" in message
    assert "expected version 0 instead" in message


def test_modified_saved_leaf_under_no_grad_raises():
    (x, tx) = both([1.0, 2.0])
    y, ty = x * x, tx * tx
    with engine.no_grad():
        x.mul_(2)
    with torch.no_grad():
        tx.mul_(2)
    message = raises_like_torch(
        lambda: y.sum().backward(), lambda: ty.sum().backward(), "modified by an inplace"
    )
    assert "[engine.DoubleTensor [2]] is at version 1; expected version 0" in message


def test_in_place_on_leaf_requiring_grad_and_optimizer_update():
    (x, tx) = both([1.0, 2.0])
    raises_like_torch(lambda: x.add_(1), lambda: tx.add_(1), "a leaf Variable that requires grad")
    raises_like_torch(lambda: x[0].mul_(2), lambda: tx[0].mul_(2), "a view of a leaf Variable")
    raises_like_torch(
        lambda: x.__setitem__(0, 5.0), lambda: tx.__setitem__(0, 5.0), "leaf Variable"
    )
    (x * x).sum().backward()
    with engine.no_grad():
        x.sub_(x.grad, alpha=0.1)
        x.grad.zero_()
    assert x.tolist() == pytest.approx([0.8, 1.6]) and x.is_leaf and x.requires_grad
    assert x.grad.tolist() == [0.0, 0.0]


def test_in_place_on_non_leaf_is_differentiable():
    (x, tx) = both([1.0, -2.0, 3.0])
    (w, tw) = both([0.5, 0.25, 2.0])
    results = []
    for a, b in ((x, w), (tx, tw)):
        y = a * 2
        y.mul_(b)
        y += a
        y[1] = b[0] * 3
        z = a.exp()  # a fresh buffer that becomes part of the graph
        buffer = (torch if a is tx else engine).zeros(3, dtype=a.dtype)
        buffer[0:2] = z[1:]
        (y * y).sum().add(buffer.sum()).backward()
        results.append((y.grad_fn.name(), a.grad, b.grad))
    assert results[0][0] == "IndexPutBackward0" and results[1][0].endswith("CopySlices")
    assert_grads_match(results[0][1:], results[1][1:])


def test_in_place_on_view_of_non_leaf_rebases_the_base():
    (x, tx) = both(np.arange(1.0, 7.0).reshape(2, 3))
    (w, tw) = both([0.5, -1.5])
    grads = []
    for a, b, module in ((x, w, engine), (tx, tw, torch)):
        y = a * 1.5
        row = y[1]
        row.mul_(y[0].clone())  # a view of y, written with values that depend on y itself
        y[:, 0] += b  # setitem through a view with a tensor that requires grad
        y.t()[2].copy_(b.exp())  # copy_ into a strided view
        column = module.zeros(2, dtype=module.float64)
        column[:] = y[:, 1]  # a buffer that does not require grad becomes part of the graph
        ((y * y).sum() + (column * row[0]).sum()).backward()
        grads.append((a.grad, b.grad))
    assert_grads_match(grads[0], grads[1])
    # Multiplying by an un-cloned view of y saves that view, which the later writes to y
    # modify: both libraries refuse to backward.
    outputs = []
    for a in (x, tx):
        y = a * 1.5
        y[1].mul_(y[0])
        y[:, 0] += 1
        outputs.append(y.sum())
    raises_like_torch(outputs[0].backward, outputs[1].backward, "modified by an inplace")


# ------------------------------------------------------------------------- autograd.grad
def test_autograd_grad_does_not_touch_grad_and_allow_unused():
    (x, tx), (u, tu) = both([1.0, 2.0]), both([3.0])
    gx = autograd.grad((x * x).sum(), [x])
    (tgx,) = torch.autograd.grad((tx * tx).sum(), [tx])
    assert_close(gx[0], tgx)
    assert x.grad is None
    raises_like_torch(
        lambda: autograd.grad((x * 2).sum(), [x, u]),
        lambda: torch.autograd.grad((tx * 2).sum(), [tx, tu]),
        "appears to not have been used in the graph",
    )
    assert autograd.grad((x * 2).sum(), [x, u], allow_unused=True)[1] is None
    raises_like_torch(
        lambda: autograd.grad((x * 2).sum(), [engine.ones(2)]),
        lambda: torch.autograd.grad((tx * 2).sum(), [torch.ones(2)]),
        "does not require grad",
    )


def test_autograd_grad_of_intermediate_and_backward_inputs():
    (x, tx), (w, tw) = both([1.0, 2.0]), both([0.5, -1.0])
    y, ty = x * w, tx * tw
    out, tout = (y.exp() * x).sum(), (ty.exp() * tx).sum()
    assert_grads_match(
        autograd.grad(out, [y, x], retain_graph=True),
        torch.autograd.grad(tout, [ty, tx], retain_graph=True),
    )
    out.backward(inputs=[w])
    tout.backward(inputs=[tw])
    assert x.grad is None and tx.grad is None
    assert_close(w.grad, tw.grad)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_second_derivative():
    (x, tx) = both([0.3, -1.2, 2.0])
    (gx,) = autograd.grad((x**3 * x.sin()).sum(), [x], create_graph=True)
    (tgx,) = torch.autograd.grad((tx**3 * tx.sin()).sum(), [tx], create_graph=True)
    assert gx.requires_grad
    gx.sum().backward()
    tgx.sum().backward()
    assert_close(x.grad, tx.grad, rtol=1e-12, atol=1e-12)
    # backward(create_graph=True) leaves a differentiable .grad
    (z, tz) = both([0.5, 1.5])
    (z.exp() * z).sum().backward(create_graph=True)
    (tz.exp() * tz).sum().backward(create_graph=True)
    assert z.grad.requires_grad and tz.grad.grad_fn.name().endswith(z.grad.grad_fn.name())
    leaf, torch_leaf = both([1.0, 2.0])
    leaf.sum().backward(create_graph=True)
    torch_leaf.sum().backward(create_graph=True)
    assert leaf.grad.stride() == torch_leaf.grad.stride() == (1,)
    assert leaf.grad.grad_fn is None and torch_leaf.grad.grad_fn is None
    assert_close(autograd.grad(z.grad.sum(), [z])[0], torch.autograd.grad(tz.grad.sum(), [tz])[0])


# -------------------------------------------------------------------------- custom Function
class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 3 * x * x * ctx.scale, None


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * 2 * x * x, None


def test_custom_function_ctx_and_gradcheck():
    x = engine.tensor([0.5, -1.0, 2.0], dtype=engine.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward" and y.grad_fn.needs_input_grad == (True, False)
    assert len(y.grad_fn.next_functions) == 1  # only tensor arguments get edges
    y.sum().backward()
    assert x.grad.tolist() == pytest.approx([1.5, 6.0, 24.0])
    assert autograd.gradcheck(lambda t: Cube.apply(t, 2.0), [x])
    with pytest.raises(autograd.GradcheckError, match="input 0"):
        autograd.gradcheck(lambda t: WrongCube.apply(t, 1.0), [x])
    assert not autograd.gradcheck(lambda t: WrongCube.apply(t, 1.0), [x], raise_exception=False)


def test_custom_function_wrong_number_of_gradients():
    class TooFew(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    class TorchTooFew(torch.autograd.Function):
        forward = TooFew.forward
        backward = TooFew.backward

    (a, ta), (b, tb) = both([1.0]), both([2.0])
    raises_like_torch(
        lambda: TooFew.apply(a, b).sum().backward(),
        lambda: TorchTooFew.apply(ta, tb).sum().backward(),
        "incorrect number of gradients",
    )


def test_custom_function_mark_non_differentiable_and_saved_version():
    class SortLike(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.max(0)
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(x)
            return values * 1.0, indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            (x,) = ctx.saved_tensors
            return engine.ones_like(x) * grad_values

    x = engine.tensor([[1.0, 2.0]], requires_grad=True)
    h = x * 1
    values, indices = SortLike.apply(h)
    assert values.requires_grad and not indices.requires_grad
    with engine.no_grad():
        h.add_(1)
    with pytest.raises(RuntimeError, match="output 0 of Mul"):
        values.sum().backward()


def test_data_is_outside_graph_and_version_check():
    results = []
    for module in (engine, torch):
        x = module.ones(3, dtype=module.float64, requires_grad=True)
        y = x * x
        x.data.mul_(2)  # invisible to the version check, as in torch
        y.sum().backward()
        results.append((x._version, x.grad))
    assert results[0][0] == results[1][0] == 0
    assert_close(results[0][1], results[1][1])


def test_gradcheck_report_names_values():
    x = engine.tensor([0.5, 2.0], dtype=engine.float64, requires_grad=True)
    with pytest.raises(autograd.GradcheckError) as caught:
        autograd.gradcheck(lambda t: WrongCube.apply(t, 1.0), [x])
    message = str(caught.value)
    assert "numerical" in message and "analytical" in message and "worst element" in message
    # d(x^3)/dx at x = 2 is 12; the wrong backward says 8.
    assert "flat element 1): numerical 12.0000" in message
    assert "vs analytical 8.0 " in message


def test_small_training_loop_matches_torch():
    rng = np.random.default_rng(0)
    data, target = rng.standard_normal((8, 3)), rng.standard_normal((8, 1))
    params = [rng.standard_normal((3, 4)) * 0.5, np.zeros(4), rng.standard_normal((4, 1)) * 0.5]
    histories = []
    for module in (engine, torch):
        weights = [module.tensor(p, dtype=module.float64, requires_grad=True) for p in params]
        inputs = module.tensor(data, dtype=module.float64)
        labels = module.tensor(target, dtype=module.float64)
        losses = []
        for _ in range(5):
            hidden = (inputs @ weights[0] + weights[1]).relu()
            loss = ((hidden @ weights[2] - labels) ** 2).mean()
            loss.backward()
            with module.no_grad():
                for weight in weights:
                    weight -= 0.1 * weight.grad
                    weight.grad.zero_()
            losses.append(loss.item())
        histories.append((losses, weights))
    assert np.allclose(histories[0][0], histories[1][0], rtol=1e-12, atol=0)
    assert_grads_match(histories[0][1], histories[1][1])
