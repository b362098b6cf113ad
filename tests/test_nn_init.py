"""engine.nn.init and engine.nn.utils against torch: gains and fans exactly, distributions by
moments and KS tests on many draws (the engine's generator is not torch's), no_grad
semantics, errors; parameters_to_vector / vector_to_parameters."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.stats
import torch

import engine
from engine import nn
from engine.nn import init
from engine.testing import assert_close
from tests.nn_helpers import same_error

NONLINEARITIES = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", 3),
    ("selu", None),
]


@pytest.mark.parametrize(("nonlinearity", "param"), NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(
        nonlinearity, param
    )


@pytest.mark.parametrize(
    "args", [("foo",), ("leaky_relu", "x"), ("leaky_relu", True)], ids=["name", "str", "bool"]
)
def test_calculate_gain_errors_match_torch(args):
    same_error(lambda: init.calculate_gain(*args), lambda: torch.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(3, 4), (4, 3, 2, 5), (2, 6, 7), (5, 1, 3, 3, 3), (0, 3)])
def test_fans_match_torch(shape):
    ours = init.calculate_fan_in_and_fan_out(engine.empty(*shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    assert init._calculate_fan_in_and_fan_out is init.calculate_fan_in_and_fan_out


def ks(tensor, distribution, *args):
    values = tensor.detach().numpy().astype(np.float64).ravel()
    return scipy.stats.kstest(values, distribution, args=args).pvalue


# (function, kwargs, shape, the law it must draw from as a scipy name and its arguments)
def _laws():
    shape = (64, 32, 3, 3)  # fan_in = 288, fan_out = 576
    fan_in, fan_out = 32 * 9, 64 * 9
    xavier_bound = math.sqrt(6 / (fan_in + fan_out))
    relu_bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(fan_in)
    return [
        ("uniform_", {"a": -2.0, "b": 3.0}, (100, 50), ("uniform", -2.0, 5.0)),
        ("normal_", {"mean": 1.0, "std": 0.5}, (100, 50), ("norm", 1.0, 0.5)),
        ("xavier_uniform_", {}, shape, ("uniform", -xavier_bound, 2 * xavier_bound)),
        (
            "xavier_uniform_",
            {"gain": 2.0},
            shape,
            ("uniform", -2 * xavier_bound, 4 * xavier_bound),
        ),
        ("xavier_normal_", {}, shape, ("norm", 0.0, xavier_bound / math.sqrt(3))),
        (
            "kaiming_uniform_",
            {"nonlinearity": "relu"},
            shape,
            ("uniform", -relu_bound, 2 * relu_bound),
        ),
        (
            "kaiming_uniform_",
            {"a": math.sqrt(5)},
            shape,
            ("uniform", -1 / math.sqrt(fan_in), 2 / math.sqrt(fan_in)),
        ),
        (
            "kaiming_normal_",
            {"mode": "fan_out", "nonlinearity": "relu"},
            shape,
            ("norm", 0.0, math.sqrt(2 / fan_out)),
        ),
        (
            "kaiming_normal_",
            {"nonlinearity": "tanh"},
            shape,
            ("norm", 0.0, 5 / 3 / math.sqrt(fan_in)),
        ),
    ]


LAWS = _laws()


@pytest.mark.parametrize(
    ("name", "kwargs", "shape", "law"), LAWS, ids=[f"{law[0]}-{i}" for i, law in enumerate(LAWS)]
)
def test_initializations_draw_torchs_distribution(name, kwargs, shape, law):
    engine.manual_seed(0)
    tensor = engine.empty(*shape, dtype=engine.float64)
    assert getattr(init, name)(tensor, **kwargs) is tensor
    assert ks(tensor, *law) > 1e-3
    # torch's own draws pass the same test (the law is torch's), and a wrong scale fails it.
    torch.manual_seed(0)
    reference = getattr(torch.nn.init, name)(torch.empty(*shape, dtype=torch.float64), **kwargs)
    assert scipy.stats.kstest(reference.numpy().ravel(), law[0], args=law[1:]).pvalue > 1e-3
    kind, location, scale = law
    assert ks(tensor, kind, location * 1.1, scale * 1.1) < 1e-3


def test_initializations_run_under_no_grad_on_leaves():
    weight = nn.Parameter(engine.empty(4, 3))
    for function in (init.xavier_uniform_, init.kaiming_normal_, init.zeros_, init.orthogonal_):
        assert function(weight) is weight
        assert weight.is_leaf and weight.grad_fn is None and weight.requires_grad


def test_constant_zeros_ones_eye_like_torch():
    for name, args in (("constant_", (2.5,)), ("zeros_", ()), ("ones_", ()), ("eye_", ())):
        for shape in ((3, 5), (4, 2)):
            ours = getattr(init, name)(engine.empty(*shape), *args)
            assert_close(ours, getattr(torch.nn.init, name)(torch.empty(*shape), *args))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (3, 2, 2), (5, 5)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    engine.manual_seed(1)
    tensor = init.orthogonal_(engine.empty(*shape, dtype=engine.float64), gain=2.0)
    matrix = tensor.numpy().reshape(shape[0], -1)
    small = min(matrix.shape)
    gram = matrix.T @ matrix if matrix.shape[0] >= matrix.shape[1] else matrix @ matrix.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_orthogonal_is_haar_distributed():
    """Q's sign fix makes it uniform: the first entry of a random 3x3 rotation-or-reflection
    has mean 0 (without the fix it is biased)."""
    engine.manual_seed(2)
    firsts = [init.orthogonal_(engine.empty(3, 3, dtype=engine.float64))[0, 0].item()
              for _ in range(400)]  # fmt: skip
    assert abs(np.mean(firsts)) < 4 * np.std(firsts) / math.sqrt(400)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.nn.init.xavier_uniform_(lib.empty(3)),
        lambda lib: lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="x"),
        lambda lib: lib.nn.init.kaiming_normal_(lib.empty(3)),
        lambda lib: lib.nn.init.eye_(lib.empty(3)),
        lambda lib: lib.nn.init.orthogonal_(lib.empty(3)),
    ],
)
def test_init_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


def test_zero_element_kaiming_warns_like_torch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.kaiming_uniform_(engine.empty(0, 3))
        torch.nn.init.kaiming_uniform_(torch.empty(0, 3))
    assert [str(w.message) for w in caught] == ["Initializing zero-element tensors is a no-op"] * 2


def test_generator_argument_makes_draws_reproducible():
    first = init.normal_(engine.empty(5), generator=engine.Generator().manual_seed(7))
    second = init.normal_(engine.empty(5), generator=engine.Generator().manual_seed(7))
    assert first.tolist() == second.tolist()


# ------------------------------------------------------------------------------ nn.utils
def test_parameters_to_vector_and_back_like_torch():
    def run(lib):
        parameters = [
            lib.nn.Parameter(lib.arange(4.0).reshape(2, 2)),
            lib.nn.Parameter(lib.ones(3)),
        ]
        vector = lib.nn.utils.parameters_to_vector(parameters)
        (vector * lib.arange(7.0)).sum().backward()
        grads = [p.grad.tolist() for p in parameters]
        lib.nn.utils.vector_to_parameters(lib.arange(10.0, 17.0), parameters)
        return (
            vector.tolist(),
            grads,
            [p.tolist() for p in parameters],
            [(p.is_leaf, p.requires_grad, type(p).__name__) for p in parameters],
        )

    assert run(engine) == run(torch)
    same_error(
        lambda: nn.utils.vector_to_parameters([1.0], []),
        lambda: torch.nn.utils.vector_to_parameters([1.0], []),
        compare_message=False,
    )


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"), [(0.0, 1.0, -2.0, 2.0), (1.0, 0.5, 0.0, 3.0), (0.0, 2.0, -1.0, 0.5)]
)
def test_trunc_normal_draws_the_truncated_normal(mean, std, a, b):
    engine.manual_seed(0)
    tensor = init.trunc_normal_(engine.empty(100, 100, dtype=engine.float64), mean, std, a, b)
    values = tensor.numpy().ravel()
    assert values.min() >= a and values.max() <= b
    law = ((a - mean) / std, (b - mean) / std, mean, std)
    assert scipy.stats.kstest(values, "truncnorm", args=law).pvalue > 1e-3
    torch.manual_seed(0)
    reference = torch.nn.init.trunc_normal_(torch.empty(100, 100, dtype=torch.float64), mean,
                                            std, a, b)  # fmt: skip
    assert scipy.stats.kstest(reference.numpy().ravel(), "truncnorm", args=law).pvalue > 1e-3
    wrong = ((a - mean) / std, (b - mean) / std, mean + 0.2 * std, std)
    assert scipy.stats.kstest(values, "truncnorm", args=wrong).pvalue < 1e-3


def test_trunc_normal_warns_like_torch_for_a_distant_mean():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        init.trunc_normal_(engine.empty(3), mean=10.0)


@pytest.mark.parametrize(
    ("shape", "groups"), [((4, 3, 3), 1), ((6, 2, 3, 3), 2), ((2, 3, 1, 2, 3), 1)]
)
def test_dirac_matches_torch(shape, groups):
    ours = init.dirac_(engine.empty(*shape), groups)
    assert_close(ours, torch.nn.init.dirac_(torch.empty(*shape), groups))


@pytest.mark.parametrize(
    "call",
    [lambda lib: lib.nn.init.dirac_(lib.empty(3, 3)),
     lambda lib: lib.nn.init.dirac_(lib.empty(3, 3, 3), groups=2)],
)  # fmt: skip
def test_dirac_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))
