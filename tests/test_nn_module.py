"""engine.nn.Module against torch.nn.Module: registration, names and order, modes, gradients,
dtype conversion, state_dict/load_state_dict, hooks, containers and repr.

Most tests build the same model with ``engine.nn`` and with ``torch.nn`` (the two APIs are the
same, so one builder serves both) and compare what the two report."""

from __future__ import annotations

import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, same_error, to_engine, torch_message


def build(lib):
    """A model exercising every kind of registration, built with ``engine`` or ``torch``."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("b0", lib.zeros(1))
            self.lin = lib.nn.Linear(2, 3)
            self.p = lib.nn.Parameter(lib.ones(3))
            self.register_buffer("scratch", lib.ones(1), persistent=False)
            self.seq = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(3, 1))
            self.shared = self.lin  # the same module twice: reported once
            self.register_parameter("unused", None)
            self.drop = lib.nn.Dropout(0.5)
            self.heads = lib.nn.ModuleDict({"b": lib.nn.Linear(1, 2), "a": lib.nn.Tanh()})

        def forward(self, x):
            return self.heads["b"](self.seq(self.lin(x) * self.p) + self.b0)

    return Net()


def names(pairs):
    return [name for name, _ in pairs]


def test_names_and_order_match_torch():
    ours, theirs = build(engine), build(torch)
    for method in ("named_parameters", "named_buffers", "named_modules", "named_children"):
        assert names(getattr(ours, method)()) == names(getattr(theirs, method)()), method
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert names(ours.named_parameters(prefix="model")) == names(
        theirs.named_parameters(prefix="model")
    )
    for method in ("named_parameters", "named_buffers", "named_modules"):
        ours_all = names(getattr(ours, method)(remove_duplicate=False))
        assert ours_all == names(getattr(theirs, method)(remove_duplicate=False)), method
    assert names(ours.named_parameters(recurse=False)) == ["p"]
    assert len(list(ours.parameters())) == len(list(theirs.parameters())) == 7
    assert [type(m).__name__ for m in ours.modules()] == [
        type(m).__name__ for m in theirs.modules()
    ]
    assert [type(m).__name__ for m in ours.children()] == [
        type(m).__name__ for m in theirs.children()
    ]


def test_registration_follows_assignment():
    model = build(engine)
    assert isinstance(model.p, nn.Parameter) and model.p.requires_grad
    model.p = nn.Parameter(engine.zeros(3))  # replacing a parameter keeps it registered
    assert model.p.tolist() == [0.0, 0.0, 0.0]
    model.lin = nn.Linear(2, 3)
    assert model.shared is not model.lin
    assert "lin.weight" in dict(model.named_parameters())
    model.plain = engine.ones(2)  # a plain tensor is an attribute, not a buffer
    assert "plain" not in dict(model.named_buffers())
    model.b0 = engine.full((1,), 5.0)  # assigning to a buffer name replaces the buffer
    assert model.state_dict()["b0"].tolist() == [5.0]
    model.b0 = None  # a None buffer is skipped everywhere
    assert "b0" not in model.state_dict() and model.b0 is None
    del model.p
    assert "p" not in dict(model.named_parameters())
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'p'"):
        model.p  # noqa: B018
    model.seq = None
    assert "seq.1.weight" not in model.state_dict()


# (action, whether the messages are equal: those that name a tensor's type differ, torch's
# 'torch.FloatTensor' being the engine's 'engine.Tensor').
REGISTRATION_ERRORS = [
    (lambda lib, m: m.register_buffer("a.b", lib.ones(1)), True),
    (lambda lib, m: m.register_buffer("", lib.ones(1)), True),
    (lambda lib, m: m.register_buffer("p", lib.ones(1)), True),
    (lambda lib, m: m.register_buffer(3, lib.ones(1)), True),
    (lambda lib, m: m.register_buffer("x", 3), False),
    (lambda lib, m: m.register_parameter("a.b", None), True),
    (lambda lib, m: m.register_parameter("q", lib.ones(1)), False),
    (lambda lib, m: m.add_module("a.b", lib.nn.ReLU()), True),
    (lambda lib, m: m.add_module("x", 3), True),
    (lambda lib, m: setattr(m, "p", lib.ones(1)), False),
    (lambda lib, m: setattr(m, "lin", 3), False),
    (lambda lib, m: m.train("yes"), True),
    (lambda lib, m: m.nothing, True),
    (lambda lib, m: lib.nn.Module()(1), True),
    (lambda lib, m: m.to(lib.int64), True),
]


@pytest.mark.parametrize(("action", "same_message"), REGISTRATION_ERRORS)
def test_registration_errors_match_torch(action, same_message):
    same_error(
        lambda: action(engine, build(engine)),
        lambda: action(torch, build(torch)),
        compare_message=same_message,
    )


def test_assignment_before_init_raises_like_torch():
    def make(lib):
        class Early(lib.nn.Module):
            def __init__(self):
                self.lin = lib.nn.Linear(1, 1)

        return Early()

    same_error(lambda: make(engine), lambda: make(torch))


def test_parameter_wraps_data_without_copy():
    data = engine.ones(2, 3)
    parameter = nn.Parameter(data)
    assert parameter.requires_grad and parameter.is_leaf
    assert parameter.data_ptr() == data.data_ptr()
    assert repr(parameter) == repr(torch.nn.Parameter(torch.ones(2, 3)))
    frozen = nn.Parameter(engine.ones(2), requires_grad=False)
    assert repr(frozen) == repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert nn.Parameter().shape == (0,)
    computed = nn.Parameter(engine.ones(2, requires_grad=True) * 3)
    assert computed.is_leaf and computed.grad_fn is None
    assert type(parameter * 2) is engine.Tensor
    same_error(
        lambda: nn.Parameter(engine.ones(2, dtype=engine.int64)),
        lambda: torch.nn.Parameter(torch.ones(2, dtype=torch.int64)),
    )


def test_train_eval_reach_every_module_and_keep_gradients():
    model = build(engine)
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    output = model(engine.ones(4, 2))
    assert output.requires_grad  # eval() is not no_grad()
    model.train()
    assert all(module.training for module in model.modules())
    model.drop.train(False)
    assert model.training and not model.drop.training


def test_zero_grad_requires_grad_and_apply():
    model = build(engine)
    model(engine.ones(4, 2)).sum().backward()
    grad = model.lin.weight.grad
    model.zero_grad(set_to_none=False)
    assert model.lin.weight.grad is grad and not grad.abs().sum().item()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.lin.requires_grad_()
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["lin.weight", "lin.bias"]
    visited, visited_torch = [], []
    assert model.apply(lambda m: visited.append(type(m).__name__)) is model
    build(torch).apply(lambda m: visited_torch.append(type(m).__name__))
    assert visited == visited_torch


@pytest.mark.parametrize(
    ("method", "dtype"),
    [("double", "float64"), ("half", "float16"), ("float", "float32"), ("bfloat16", "bfloat16")],
)
def test_dtype_conversion_keeps_parameter_objects(method, dtype):
    model = build(engine)
    model.register_buffer("count", engine.zeros(2, dtype=engine.int64))
    model(engine.ones(4, 2)).sum().backward()
    weight = model.lin.weight
    assert getattr(model, method)() is model
    assert model.lin.weight is weight and isinstance(weight, nn.Parameter)
    assert weight.dtype.name == dtype and weight.grad.dtype.name == dtype
    assert model.b0.dtype.name == dtype and model.scratch.dtype.name == dtype
    assert model.count.dtype is engine.int64  # integer buffers are left alone, as in torch
    assert model.to(engine.float64).lin.bias.dtype is engine.float64
    assert model.to("cpu") is model


def test_state_dict_is_detached_and_shares_storage():
    model = build(engine)
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert not state["lin.weight"].requires_grad
    assert type(state["lin.weight"]) is engine.Tensor
    assert state["lin.weight"].data_ptr() == model.lin.weight.data_ptr()
    assert model.state_dict(keep_vars=True)["lin.weight"] is model.lin.weight
    assert "scratch" not in state  # non-persistent buffer


def test_load_state_dict_copies_values_like_torch():
    ours, theirs = build(engine), build(torch)
    copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((5, 2))
    assert_close(ours(engine.tensor(x)), theirs(torch.tensor(x)))
    result = ours.load_state_dict(ours.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    # strict=False reports what did not match, like torch
    state, state_torch = ours.state_dict(), theirs.state_dict()
    for sd in (state, state_torch):
        del sd["p"]
        sd["extra"] = sd["b0"]
        sd["seq.7.weight"] = sd["b0"]
    result, result_torch = (
        ours.load_state_dict(state, strict=False),
        theirs.load_state_dict(state_torch, strict=False),
    )
    assert result == tuple(result_torch)
    assert repr(result) == repr(result_torch)


def test_load_state_dict_errors_match_torch():
    ours, theirs = build(engine), build(torch)
    state, state_torch = ours.state_dict(), theirs.state_dict()
    for sd, lib in ((state, engine), (state_torch, torch)):
        del sd["p"]
        sd["extra"] = lib.zeros(1)
        sd["lin.weight"] = lib.zeros(5, 5)
    same_error(lambda: ours.load_state_dict(state), lambda: theirs.load_state_dict(state_torch))
    # shape mismatches raise even when strict=False
    message = same_error(
        lambda: ours.load_state_dict(state, strict=False),
        lambda: theirs.load_state_dict(state_torch, strict=False),
    )
    assert "engine.Size([5, 5])" in message
    with pytest.raises(RuntimeError, match="expected engine.Tensor or Tensor-like object"):
        ours.load_state_dict({**ours.state_dict(), "p": [1.0, 2.0, 3.0]})


def test_hooks_run_in_torch_order_and_replace_values():
    def run(lib):
        calls = []
        lin = lib.nn.Linear(2, 3).double()
        with lib.no_grad():
            lin.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
            lin.bias.zero_()

        def pre(module, args):
            calls.append(("pre", len(args)))
            return args[0] * 2  # a single value is wrapped in a tuple

        def forward(module, args, output):
            calls.append(("forward", args[0].tolist()))
            return output + 1

        def backward(module, grad_input, grad_output):
            calls.append(("backward", [g.tolist() for g in grad_input + grad_output]))
            return (grad_input[0] * 10,)

        handles = [
            lin.register_forward_pre_hook(pre),
            lin.register_forward_hook(forward),
            lin.register_full_backward_hook(backward),
        ]
        x = lib.tensor([[1.0, -1.0]], dtype=lib.float64, requires_grad=True)
        y = lin(x)
        (y * lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float64)).sum().backward()
        calls.append(("x.grad", x.grad.tolist()))
        for handle in handles:
            handle.remove()
        calls.append(("removed", lin(x).tolist()))
        return calls

    assert run(engine) == run(torch)


def test_backward_hook_without_input_gradients_fires_at_outputs():
    def run(lib):
        seen = []
        lin = lib.nn.Linear(2, 3)
        lin.register_full_backward_hook(
            lambda m, gin, gout: seen.append((gin, tuple(g.shape for g in gout)))
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lin(lib.ones(4, 2)).sum().backward()
        return seen, [str(w.message).split(".")[0] for w in caught]

    assert run(engine) == run(torch)


def test_backward_hook_sees_none_for_non_tensor_and_frozen_inputs():
    def run(lib):
        seen = []

        class Scale(lib.nn.Module):
            def forward(self, x, factor, y):
                return x * factor + y

        module = Scale()
        module.register_full_backward_hook(
            lambda m, gin, gout: seen.append([None if g is None else g.tolist() for g in gin])
        )
        x = lib.ones(3, requires_grad=True)
        module(x, 2.0, lib.ones(3)).sum().backward()
        return seen, x.grad.tolist()

    assert run(engine) == run(torch)


def test_handles_remove_and_work_as_context_managers():
    lin = nn.Linear(2, 2)
    calls = []
    with lin.register_forward_hook(lambda m, a, o: calls.append(1)):
        lin(engine.ones(1, 2))
    lin(engine.ones(1, 2))
    assert calls == [1]


def test_repr_matches_torch():
    def layers(lib):
        n = lib.nn
        return n.Sequential(
            n.Linear(2, 2),
            n.Dropout(0.5),
            n.Flatten(),
            n.Unflatten(1, (2, 1)),
            n.Embedding(3, 4, padding_idx=0),
            n.Bilinear(2, 3, 4),
            n.LeakyReLU(0.1),
            n.Identity(),
            n.LazyLinear(3),
            n.ModuleList([n.ReLU()]),
            n.ModuleDict({"a": n.Tanh()}),
            n.Linear(2, 2, bias=False),
            n.Softmax(dim=1),
            n.LogSoftmax(dim=1),
            n.Sigmoid(),
            n.ReLU(inplace=True),
            n.Dropout(0.5, inplace=True),
            n.ELU(),
            n.Hardtanh(-2.0, 2.0),
            n.SiLU(),
            n.GELU(approximate="tanh"),
            n.Sequential(),
            n.ModuleList(),
            n.ModuleList([n.Linear(2, 2) for _ in range(3)] + [n.ReLU(), n.ReLU()]),
            n.Embedding(4, 3, max_norm=1.0, norm_type=3.0),
            n.ReLU6(),
            n.Hardsigmoid(),
            n.Hardswish(),
            n.Softsign(),
            n.SELU(),
            n.CELU(0.5),
            n.Softmin(dim=0),
            n.Tanh(),
            n.GELU(),
            n.Softplus(2.0, 10.0),
            n.Threshold(0.1, 20.0),
            n.Softshrink(),
            n.Hardshrink(0.3),
            n.GLU(),
            n.Tanhshrink(),
            n.PReLU(3),
            n.LogSigmoid(),
            n.Mish(),
        )

    assert repr(layers(engine)) == repr(layers(torch))
    assert repr(build(engine)) == repr(build(torch))
    assert repr(nn.LazyLinear(3).weight) == repr(torch.nn.LazyLinear(3).weight)


def test_sequential_indexing_slicing_and_append_like_torch():
    def run(lib):
        n = lib.nn
        seq = n.Sequential(n.Linear(2, 3), n.ReLU(), n.Linear(3, 1))
        out = [repr(seq[-1]), repr(seq[0:2]), repr(seq[::-1]), type(seq[1:]).__name__]
        seq.append(n.Tanh())
        seq[1] = n.Sigmoid()
        del seq[0]
        out += [repr(seq), len(seq), [type(m).__name__ for m in seq]]
        named = n.Sequential(OrderedDict([("first", n.ReLU()), ("second", n.Tanh())]))
        out += [repr(named), repr(named[1])]
        return out

    assert run(engine) == run(torch)
    seq = nn.Sequential(nn.ReLU())
    same_error(lambda: seq[5], lambda: torch.nn.Sequential(torch.nn.ReLU())[5])
    same_error(lambda: seq["a"], lambda: torch.nn.Sequential(torch.nn.ReLU())["a"])


def test_modulelist_and_moduledict_like_torch():
    def run(lib):
        n = lib.nn
        layers = n.ModuleList([n.ReLU()])
        layers.append(n.Tanh())
        layers.extend([n.Sigmoid()])
        layers.insert(0, n.Identity())
        out = [repr(layers), repr(layers[1:]), len(layers), repr(layers[-1])]
        del layers[1]
        out.append(repr(layers))
        heads = n.ModuleDict({"b": n.ReLU(), "a": n.Linear(1, 1)})
        heads["c"] = n.Tanh()
        out += [list(heads.keys()), "a" in heads, len(heads), repr(heads.pop("b")), repr(heads)]
        holder = n.Module()
        holder.layers = layers
        holder.heads = heads
        out.append(names(holder.named_parameters()))
        return out

    assert run(engine) == run(torch)


def test_lazy_linear_becomes_linear_on_first_call():
    lazy = nn.LazyLinear(3)
    assert lazy.in_features == 0 and list(lazy.state_dict()) == ["weight", "bias"]
    out = lazy(engine.ones(2, 5))
    assert type(lazy) is nn.Linear and lazy.weight.shape == (3, 5) and out.shape == (2, 3)
    assert repr(lazy) == repr(torch.nn.Linear(5, 3))
    assert isinstance(lazy.weight, nn.Parameter) and lazy.weight.requires_grad


def test_modules_compose_with_autograd_like_torch():
    ours, theirs = build(engine), build(torch)
    copy_weights(ours, theirs)
    x = np.random.default_rng(1).standard_normal((3, 2))
    ours(engine.tensor(x)).pow(2).sum().backward()
    theirs(torch.tensor(x)).pow(2).sum().backward()
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        if q.grad is None:
            assert p.grad is None, name
        else:
            assert_close(p.grad, q.grad)


def test_torch_message_helper_translates_names():
    assert torch_message(RuntimeError("torch.Size([1])")) == "engine.Size([1])"
    assert to_engine(torch.ones(2, dtype=torch.float64)).dtype is engine.float64


def test_parameter_gradient_is_a_plain_tensor():
    parameter = nn.Parameter(engine.ones(2))
    (parameter * 3).sum().backward()
    assert type(parameter.grad) is engine.Tensor


def test_function_returning_an_input_marked_non_differentiable():
    """What the backward hooks rely on: an input returned as-is and marked non-differentiable
    gives an output that does not require grad (as in torch)."""

    def run(lib):
        class Pass(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                ctx.mark_non_differentiable(b)
                return a, b

            @staticmethod
            def backward(ctx, grad_a, grad_b):
                return grad_a, grad_b

        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        x, y = Pass.apply(a, b)
        return x.requires_grad, y.requires_grad, y.grad_fn is None

    assert run(engine) == run(torch) == (True, False, True)


def test_hook_options_match_torch():
    """prepend, with_kwargs, and full backward pre-hooks that replace grad_output."""

    def run(lib):
        calls = []

        class Scale(lib.nn.Module):
            def forward(self, x, factor=1.0):
                return x * factor

        module = Scale()
        module.register_forward_pre_hook(lambda m, a: calls.append("pre-1"))
        module.register_forward_pre_hook(lambda m, a: calls.append("pre-0"), prepend=True)

        def with_kwargs(m, args, kwargs):
            calls.append(("kwargs", sorted(kwargs)))
            return args, {"factor": kwargs["factor"] * 10}

        module.register_forward_pre_hook(with_kwargs, with_kwargs=True)
        module.register_forward_hook(
            lambda m, a, k, out: calls.append(("forward", k["factor"])) or out + 1,
            with_kwargs=True,
        )
        module.register_full_backward_pre_hook(lambda m, grad_out: (grad_out[0] * 3,))
        module.register_full_backward_hook(
            lambda m, gin, gout: calls.append(("backward", gin[0].tolist(), gout[0].tolist()))
        )
        x = lib.ones(2, requires_grad=True)
        out = module(x, factor=2.0)
        out.sum().backward()
        return calls, out.tolist(), x.grad.tolist()

    assert run(engine) == run(torch)


def test_forward_pre_hook_with_kwargs_must_return_a_pair():
    module = nn.Identity()
    module.register_forward_pre_hook(lambda m, a, k: a, with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        module(engine.ones(1))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.get_submodule("seq.1"),
        lambda m: m.get_submodule(""),
        lambda m: m.get_parameter("seq.1.weight"),
        lambda m: m.get_parameter("p"),
        lambda m: m.get_buffer("b0"),
    ],
)
def test_get_submodule_parameter_buffer_like_torch(call):
    ours, theirs = build(engine), build(torch)
    found, expected = call(ours), call(theirs)
    assert type(found).__name__ == type(expected).__name__
    assert tuple(found.shape if hasattr(found, "shape") else ()) == tuple(
        expected.shape if hasattr(expected, "shape") else ()
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.get_submodule("seq.7"),
        lambda m: m.get_submodule("p"),
        lambda m: m.get_parameter("seq.1.nothing"),
        lambda m: m.get_parameter("b0"),
        lambda m: m.get_buffer("p"),
    ],
)
def test_get_by_name_errors_match_torch(call):
    same_error(lambda: call(build(engine)), lambda: call(build(torch)))


def test_lazy_linear_loads_a_state_dict_like_torch():
    source = torch.nn.Linear(5, 3)
    lazy, torch_lazy = nn.LazyLinear(3), torch.nn.LazyLinear(3)
    lazy.load_state_dict({k: to_engine(v) for k, v in source.state_dict().items()})
    torch_lazy.load_state_dict(source.state_dict())
    assert lazy.weight.shape == torch_lazy.weight.shape == (3, 5)
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    assert_close(lazy(engine.tensor(x)), torch_lazy(torch.tensor(x)))
    assert repr(lazy) == repr(torch_lazy) and type(lazy).__name__ == "Linear"


def test_more_container_methods_like_torch():
    def run(lib):
        n = lib.nn
        seq = n.Sequential(n.ReLU(), n.Tanh())
        seq.insert(1, n.Sigmoid())
        seq.insert(-1, n.Identity())
        seq.extend([n.Softsign()])
        popped = seq.pop(0)
        layers = n.ModuleList([n.ReLU()])
        layers += [n.Tanh(), n.Sigmoid()]
        layers_popped = layers.pop(1)
        return repr(seq), repr(popped), repr(layers), repr(layers_popped), len(seq)

    assert run(engine) == run(torch)
    same_error(
        lambda: nn.Sequential(nn.ReLU()).insert(5, nn.ReLU()),
        lambda: torch.nn.Sequential(torch.nn.ReLU()).insert(5, torch.nn.ReLU()),
    )


def test_load_state_dict_assign_like_torch():
    def run(lib):
        layer = lib.nn.Linear(2, 2)
        layer.bias.requires_grad_(False)
        state = {"weight": lib.ones(2, 2), "bias": lib.zeros(2)}
        layer.load_state_dict(state, assign=True)
        return (
            type(layer.weight).__name__,
            layer.weight.requires_grad,
            layer.bias.requires_grad,
            layer.weight.data_ptr() == state["weight"].data_ptr(),
            layer.weight.tolist(),
        )

    assert run(engine) == run(torch)
    assert nn.Linear(1, 1).cpu().weight.device == "cpu"


def test_parameter_containers_like_torch():
    def run(lib):
        n = lib.nn
        values = n.ParameterList([n.Parameter(lib.ones(2, 3)), lib.zeros(3, dtype=lib.float64)])
        values.append(n.Parameter(lib.ones(1), requires_grad=False))
        values += [lib.ones(2)]
        values[0] = lib.full((2, 3), 2.0)
        table = n.ParameterDict({"b": n.Parameter(lib.ones(2)), "a": lib.zeros(2, 2)})
        table["c"] = n.Parameter(lib.ones(1))
        popped = table.pop("b")
        holder = n.Module()
        holder.values, holder.table = values, table
        return (
            repr(holder).replace("torch.", "engine."),
            [name for name, _ in holder.named_parameters()],
            [type(p).__name__ for p in values],
            values[2].requires_grad,
            type(values[1:]).__name__,
            len(values[1:]),
            list(table.keys()),
            "a" in table,
            popped.tolist(),
            list(holder.state_dict()),
        )

    assert run(engine) == run(torch)


def test_deepcopy_copies_values_but_not_gradients_like_torch():
    import copy

    def run(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.BatchNorm1d(2))
        model(lib.ones(3, 2)).sum().backward()
        clone = copy.deepcopy(model)
        weight, copied = model[0].weight, clone[0].weight
        return (
            type(copied).__name__,
            copied is not weight,
            copied.data_ptr() != weight.data_ptr(),
            copied.grad is None,
            copied.requires_grad,
            copied.tolist() == weight.tolist(),
            clone[1].running_mean.tolist() == model[1].running_mean.tolist(),
        )

    assert run(engine) == run(torch)
