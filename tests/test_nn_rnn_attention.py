"""engine.nn recurrent and attention layers against torch in float64 (copied weights): RNN,
LSTM, GRU and their cells over layers, directions and layouts; scaled_dot_product_attention,
MultiheadAttention (masks, head weights) and TransformerEncoderLayer; names, reprs, errors,
initialization."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import nn
from engine.autograd import gradcheck
from engine.nn import functional as F
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, same_error


def flat(result):
    """The tensors of a nested result ((output, h_n) or (output, (h_n, c_n)))."""
    if isinstance(result, tuple):
        return [tensor for item in result for tensor in flat(item)]
    return [] if result is None else [result]


def compare_module(ours, theirs, arrays, engine_kwargs=None, torch_kwargs=None, seed=0):
    """Every output tensor and every gradient (inputs and parameters) equal torch's."""
    copy_weights(ours, theirs)
    pairs = [(engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
             for a in arrays]  # fmt: skip
    outs = flat(ours(*(a for a, _ in pairs), **(engine_kwargs or {})))
    expected = flat(theirs(*(b for _, b in pairs), **(torch_kwargs or {})))
    assert len(outs) == len(expected)
    rng = np.random.default_rng(seed)
    ours_loss, torch_loss = 0, 0
    for out, reference in zip(outs, expected, strict=True):
        assert_close(out, reference)
        upstream = rng.standard_normal(tuple(reference.shape))
        ours_loss = ours_loss + (out * engine.tensor(upstream)).sum()
        torch_loss = torch_loss + (reference * torch.tensor(upstream)).sum()
    ours_loss.backward()
    torch_loss.backward()
    for a, b in pairs:
        assert_close(a.grad, b.grad)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert p.grad is not None, name
        assert_close(p.grad, q.grad)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["RNN", "LSTM", "GRU"]),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    batch=st.sampled_from([None, 1, 2]),
    length=st.integers(1, 3),
    with_state=st.booleans(),
)
def test_recurrent_layers_match_torch(
    kind, num_layers, bidirectional, batch_first, bias, batch, length, with_state
):
    options = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first,
                   bias=bias)  # fmt: skip
    ours, theirs = getattr(nn, kind)(3, 4, **options), getattr(torch.nn, kind)(3, 4, **options)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    rng = np.random.default_rng(length)
    if batch is None:
        shape, state_shape = (length, 3), (num_layers * (1 + bidirectional), 4)
    else:
        shape = (batch, length, 3) if batch_first else (length, batch, 3)
        state_shape = (num_layers * (1 + bidirectional), batch, 4)
    arrays = [rng.standard_normal(shape)]
    if not with_state:
        compare_module(ours, theirs, arrays)
        return
    states = [rng.standard_normal(state_shape) for _ in range(2 if kind == "LSTM" else 1)]
    engine_states = [engine.tensor(s) for s in states]
    torch_states = [torch.tensor(s) for s in states]
    if kind == "LSTM":
        compare_module(
            ours, theirs, arrays, {"hx": tuple(engine_states)}, {"hx": tuple(torch_states)}
        )
    else:
        compare_module(ours, theirs, arrays, {"hx": engine_states[0]}, {"hx": torch_states[0]})


def test_relu_rnn_and_gradients_through_the_initial_state():
    ours, theirs = nn.RNN(3, 4, nonlinearity="relu"), torch.nn.RNN(3, 4, nonlinearity="relu")
    rng = np.random.default_rng(0)
    compare_module(ours, theirs, [rng.standard_normal((4, 2, 3)), rng.standard_normal((1, 2, 4))])
    lstm, torch_lstm = nn.LSTM(3, 4), torch.nn.LSTM(3, 4)
    copy_weights(lstm, torch_lstm)
    h0, c0 = (
        engine.zeros(1, 2, 4, dtype=engine.float64, requires_grad=True),
        engine.ones(1, 2, 4, dtype=engine.float64, requires_grad=True),
    )
    th0, tc0 = (
        torch.zeros(1, 2, 4, dtype=torch.float64, requires_grad=True),
        torch.ones(1, 2, 4, dtype=torch.float64, requires_grad=True),
    )
    x = rng.standard_normal((3, 2, 3))
    lstm(engine.tensor(x), (h0, c0))[0].sum().backward()
    torch_lstm(torch.tensor(x), (th0, tc0))[0].sum().backward()
    assert_close(h0.grad, th0.grad)
    assert_close(c0.grad, tc0.grad)


def test_dropout_between_layers_only_in_training():
    engine.manual_seed(0)
    layer = nn.GRU(3, 4, num_layers=2, dropout=0.5)
    x = engine.randn(5, 2, 3)
    first = layer(x)[0]
    assert first.tolist() != layer(x)[0].tolist()  # a new mask each call
    layer.eval()
    assert layer(x)[0].tolist() == layer(x)[0].tolist()


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {}),
     ("GRUCell", {"bias": False})],
)  # fmt: skip
def test_cells_match_torch(kind, kwargs):
    ours, theirs = getattr(nn, kind)(3, 4, **kwargs), getattr(torch.nn, kind)(3, 4, **kwargs)
    rng = np.random.default_rng(0)
    compare_module(ours, theirs, [rng.standard_normal((2, 3))])
    if kind == "LSTMCell":
        state = [rng.standard_normal((2, 4)) for _ in range(2)]
        compare_module(
            ours,
            theirs,
            [rng.standard_normal((2, 3))],
            {"hx": tuple(engine.tensor(s) for s in state)},
            {"hx": tuple(torch.tensor(s) for s in state)},
        )
    else:
        compare_module(ours, theirs, [rng.standard_normal((2, 3)), rng.standard_normal((2, 4))])
    compare_module(ours, theirs, [rng.standard_normal(3)])  # unbatched


def test_recurrent_reprs_names_and_init():
    def layers(lib):
        n = lib.nn
        return n.ModuleList([
            n.RNN(3, 4), n.LSTM(3, 4, num_layers=2, batch_first=True, bidirectional=True,
                               dropout=0.5),
            n.GRU(3, 4, bias=False), n.RNN(3, 4, nonlinearity="relu"), n.RNNCell(3, 4),
            n.LSTMCell(3, 4), n.GRUCell(3, 4, bias=False), n.RNNCell(3, 4, nonlinearity="relu"),
        ])  # fmt: skip

    assert repr(layers(engine)) == repr(layers(torch))
    assert list(layers(engine).state_dict()) == list(layers(torch).state_dict())
    engine.manual_seed(0)
    values = np.concatenate(
        [p.detach().numpy().ravel() for p in nn.LSTM(30, 100, num_layers=2).parameters()]
    )
    assert scipy.stats.kstest(values, "uniform", args=(-0.1, 0.2)).pvalue > 1e-3


RNN_ERRORS = [
    lambda lib: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 4)),
    lambda lib: lib.nn.LSTM(3, 4)(lib.ones(5, 2, 3), (lib.ones(2, 2, 4), lib.ones(1, 2, 4))),
    lambda lib: lib.nn.RNN(3, 4)(lib.ones(5, 2, 3), lib.ones(1, 3, 4)),
    lambda lib: lib.nn.RNN(3, 4, nonlinearity="x"),
    lambda lib: lib.nn.RNN(3, 4)(lib.ones(2, 2, 2, 3)),
    lambda lib: lib.nn.MultiheadAttention(7, 2),
    lambda lib: lib.nn.MultiheadAttention(4, 2)(lib.ones(2, 3, 4), lib.ones(2, 3, 4),
                                                lib.ones(2, 3, 4), is_causal=True),
    lambda lib: lib.nn.functional.scaled_dot_product_attention(
        lib.ones(2, 3, 4), lib.ones(2, 3, 4), lib.ones(2, 3, 4),
        attn_mask=lib.ones(3, 3, dtype=lib.bool), is_causal=True),
]  # fmt: skip


@pytest.mark.parametrize("call", RNN_ERRORS)
def test_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


def test_dropout_warning_for_a_single_layer_like_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.5)


# ------------------------------------------------------------------------------- attention
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"is_causal": True}, {"scale": 0.3}, {"mask": "bool"}, {"mask": "float"}],
    ids=["plain", "causal", "scale", "bool-mask", "float-mask"],
)
def test_scaled_dot_product_attention_matches_torch(kwargs):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)),
              rng.standard_normal((2, 3, 6, 7))]  # fmt: skip
    kwargs = dict(kwargs)
    mask = kwargs.pop("mask", None)
    ours_kwargs, torch_kwargs = dict(kwargs), dict(kwargs)
    if mask == "bool":
        allowed = rng.random((5, 6)) < 0.7
        allowed[:, 0] = True  # every query sees at least one key
        ours_kwargs["attn_mask"], torch_kwargs["attn_mask"] = (
            engine.tensor(allowed),
            torch.tensor(allowed),
        )
    elif mask == "float":
        additive = rng.standard_normal((5, 6))
        ours_kwargs["attn_mask"], torch_kwargs["attn_mask"] = (
            engine.tensor(additive),
            torch.tensor(additive),
        )
    pairs = [(engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))
             for a in arrays]  # fmt: skip
    out = F.scaled_dot_product_attention(*(a for a, _ in pairs), **ours_kwargs)
    expected = torch.nn.functional.scaled_dot_product_attention(
        *(b for _, b in pairs), **torch_kwargs
    )
    assert_close(out, expected)
    upstream = rng.standard_normal(tuple(expected.shape))
    (out * engine.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    for a, b in pairs:
        assert_close(a.grad, b.grad)


def test_attention_gradcheck():
    rng = np.random.default_rng(1)
    q, k, v = (engine.tensor(rng.standard_normal(s), requires_grad=True)
               for s in ((2, 3, 2), (2, 4, 2), (2, 4, 3)))  # fmt: skip
    assert gradcheck(lambda *t: F.scaled_dot_product_attention(*t, is_causal=True), (q, k, v))
    weight = engine.tensor(rng.standard_normal((12, 4)), requires_grad=True)
    out_weight = engine.tensor(rng.standard_normal((4, 4)), requires_grad=True)
    x = engine.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)

    def attend(x, weight, out_weight):
        return F.multi_head_attention_forward(
            x, x, x, 4, 2, weight, None, None, None, False, 0.0, out_weight, None
        )[0]

    assert gradcheck(attend, (x, weight, out_weight))


MHA_CASES = {
    "plain": ({}, {}),
    "batch_first": ({"batch_first": True}, {}),
    "no_bias": ({"bias": False}, {}),
    "masks_per_head": ({}, {"masks": True, "average_attn_weights": False}),
    "bool_mask": ({}, {"bool_mask": True}),
    "unbatched": ({}, {"unbatched": True}),
    "no_weights": ({}, {"need_weights": False}),
}


@pytest.mark.parametrize(("options", "call"), MHA_CASES.values(), ids=MHA_CASES.keys())
def test_multihead_attention_matches_torch(options, call):
    rng = np.random.default_rng(0)
    ours, theirs = (
        nn.MultiheadAttention(8, 2, **options),
        torch.nn.MultiheadAttention(8, 2, **options),
    )
    shapes = [(5, 2, 8), (4, 2, 8), (4, 2, 8)]
    if options.get("batch_first"):
        shapes = [(2, 5, 8), (2, 4, 8), (2, 4, 8)]
    if call.get("unbatched"):
        shapes = [(5, 8), (4, 8), (4, 8)]
    arrays = [rng.standard_normal(s) for s in shapes]
    ours_kwargs, torch_kwargs = {}, {}
    for key in ("average_attn_weights", "need_weights"):
        if key in call:
            ours_kwargs[key] = torch_kwargs[key] = call[key]
    if call.get("masks"):
        additive = rng.standard_normal((5, 4))
        padding = np.array([[False, False, True, False], [False, False, False, True]])
        ours_kwargs.update(
            attn_mask=engine.tensor(additive), key_padding_mask=engine.tensor(padding)
        )
        torch_kwargs.update(
            attn_mask=torch.tensor(additive), key_padding_mask=torch.tensor(padding)
        )
    if call.get("bool_mask"):
        blocked = np.triu(np.ones((5, 4), bool), 1)
        ours_kwargs["attn_mask"], torch_kwargs["attn_mask"] = (
            engine.tensor(blocked),
            torch.tensor(blocked),
        )
    compare_module(ours, theirs, arrays, ours_kwargs, torch_kwargs)


def test_multihead_attention_reprs_names_and_init():
    def layers(lib):
        n = lib.nn
        return n.ModuleList([
            n.MultiheadAttention(8, 2), n.MultiheadAttention(8, 2, batch_first=True, bias=False),
            n.TransformerEncoderLayer(8, 2, 16, batch_first=True),
            n.TransformerEncoderLayer(8, 2, 16, norm_first=True, bias=False),
        ])  # fmt: skip

    assert repr(layers(engine)) == repr(layers(torch))
    assert list(layers(engine).state_dict()) == list(layers(torch).state_dict())
    engine.manual_seed(0)
    layer = nn.MultiheadAttention(64, 4)
    bound = math.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ on the (3E, E) matrix
    weights = layer.in_proj_weight.detach().numpy().ravel()
    assert scipy.stats.kstest(weights, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    assert (
        layer.in_proj_bias.abs().sum().item() == 0 and layer.out_proj.bias.abs().sum().item() == 0
    )


@pytest.mark.parametrize(
    "options",
    [{}, {"norm_first": True, "activation": "gelu", "batch_first": True}, {"bias": False}],
    ids=["post-norm", "pre-norm-gelu", "no-bias"],
)
def test_transformer_encoder_layer_matches_torch(options):
    rng = np.random.default_rng(0)
    ours = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **options)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **options)
    x = rng.standard_normal((5, 2, 8))
    compare_module(ours, theirs, [x])
    padding = np.zeros((5, 2) if options.get("batch_first") else (2, 5), bool)
    padding[0, -1] = True
    causal = np.triu(np.full((5, 5) if not options.get("batch_first") else (2, 2), -np.inf), 1)
    ours.eval()
    theirs.eval()  # torch takes its fused fast path here: the same numbers
    compare_module(
        ours,
        theirs,
        [x],
        {"src_key_padding_mask": engine.tensor(padding), "src_mask": engine.tensor(causal)},
        {"src_key_padding_mask": torch.tensor(padding), "src_mask": torch.tensor(causal)},
    )


def test_square_subsequent_mask_like_torch():
    assert_close(
        nn.Transformer.generate_square_subsequent_mask(4),
        torch.nn.Transformer.generate_square_subsequent_mask(4),
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_and_stacks_match_torch(norm_first):
    rng = np.random.default_rng(0)
    tgt, memory = rng.standard_normal((4, 2, 8)), rng.standard_normal((5, 2, 8))
    causal = np.triu(np.full((4, 4), -np.inf), 1)
    padding = np.zeros((2, 5), bool)
    padding[1, -1] = True

    def masks(lib):
        return {"tgt_mask": lib.tensor(causal), "memory_key_padding_mask": lib.tensor(padding)}

    options = dict(dropout=0.0, norm_first=norm_first)
    layer = nn.TransformerDecoderLayer(8, 2, 16, **options)
    torch_layer = torch.nn.TransformerDecoderLayer(8, 2, 16, **options)
    compare_module(layer, torch_layer, [tgt, memory], masks(engine), masks(torch))
    decoder = nn.TransformerDecoder(layer, 2, nn.LayerNorm(8))
    torch_decoder = torch.nn.TransformerDecoder(torch_layer, 2, torch.nn.LayerNorm(8))
    assert repr(decoder) == repr(torch_decoder)
    compare_module(decoder, torch_decoder, [tgt, memory], masks(engine), masks(torch))
    with pytest.warns(UserWarning):
        torch_encoder = torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(8, 2, 16, **options), 2
        )
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, **options), 2)
    assert list(encoder.state_dict()) == list(torch_encoder.state_dict())
    compare_module(encoder, torch_encoder, [memory],
                   {"src_key_padding_mask": engine.tensor(padding)},
                   {"src_key_padding_mask": torch.tensor(padding)})  # fmt: skip


def test_transformer_matches_torch_and_starts_from_xavier():
    rng = np.random.default_rng(0)
    src, tgt = rng.standard_normal((5, 2, 8)), rng.standard_normal((4, 2, 8))
    ours = nn.Transformer(8, 2, 1, 2, 16, dropout=0.0)
    with pytest.warns(UserWarning):
        theirs = torch.nn.Transformer(8, 2, 1, 2, 16, dropout=0.0)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    causal = nn.Transformer.generate_square_subsequent_mask(4, dtype=engine.float64)
    torch_causal = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    compare_module(ours, theirs, [src, tgt], {"tgt_mask": causal}, {"tgt_mask": torch_causal})
    ours.eval()
    theirs.eval()
    compare_module(ours, theirs, [src, tgt], {"tgt_mask": causal}, {"tgt_mask": torch_causal})
    weight = nn.Transformer(8, 2, 1, 1, 16).encoder.layers[0].linear1.weight
    assert weight.abs().max().item() <= math.sqrt(6 / (8 + 16))  # xavier, not Linear's default


# -------------------------------------------------------------------------- packed sequences
R, TR = nn.utils.rnn, torch.nn.utils.rnn
LENGTHS = (3, 1, 4, 2)


def sequence_pairs(seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((n, 3)) for n in LENGTHS]
    return ([engine.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])  # fmt: skip


@pytest.mark.parametrize(
    "options",
    [{}, {"batch_first": True, "padding_value": -1.0}, {"padding_side": "left"}],
)
def test_pad_sequence_matches_torch(options):
    ours, theirs = sequence_pairs()
    out, expected = R.pad_sequence(ours, **options), TR.pad_sequence(theirs, **options)
    assert_close(out, expected)
    (out * out).sum().backward()
    (expected * expected).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        assert_close(a.grad, b.grad)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_and_pad_round_trip_like_torch(batch_first):
    ours, theirs = sequence_pairs()
    padded = R.pad_sequence(ours, batch_first=batch_first)
    torch_padded = TR.pad_sequence(theirs, batch_first=batch_first)
    packed = R.pack_padded_sequence(padded, list(LENGTHS), batch_first, enforce_sorted=False)
    torch_packed = TR.pack_padded_sequence(torch_padded, list(LENGTHS), batch_first,
                                           enforce_sorted=False)  # fmt: skip
    assert_close(packed.data, torch_packed.data)
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(packed, field).tolist() == getattr(torch_packed, field).tolist()
    unpacked, lengths = R.pad_packed_sequence(packed, batch_first, 0.5, total_length=6)
    expected, expected_lengths = TR.pad_packed_sequence(torch_packed, batch_first, 0.5, 6)
    assert_close(unpacked, expected)
    assert lengths.tolist() == expected_lengths.tolist() == list(LENGTHS)
    sorted_pack = R.pack_sequence(sorted(ours, key=len, reverse=True))
    torch_sorted = TR.pack_sequence(sorted(theirs, key=len, reverse=True))
    assert_close(sorted_pack.data, torch_sorted.data)
    assert sorted_pack.sorted_indices is None and torch_sorted.sorted_indices is None


PACK_ERRORS = [
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 4, 1]),
    lambda lib: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_sequence([lib.ones(3, 2), lib.ones(2, 2)]), total_length=2
    ),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.ones(2)], padding_side="middle"),
]


@pytest.mark.parametrize("call", PACK_ERRORS)
def test_packing_errors_match_torch(call):
    same_error(lambda: call(engine), lambda: call(torch))


@pytest.mark.parametrize(
    ("kind", "options"),
    [("LSTM", {"num_layers": 2, "bidirectional": True}), ("GRU", {"bidirectional": True}),
     ("RNN", {"nonlinearity": "relu"})],
)  # fmt: skip
def test_recurrent_layers_on_packed_sequences_match_torch(kind, options):
    ours, theirs = getattr(nn, kind)(3, 4, **options), getattr(torch.nn, kind)(3, 4, **options)
    copy_weights(ours, theirs)
    sequences, torch_sequences = sequence_pairs(1)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    state = np.random.default_rng(2).standard_normal((layers, len(LENGTHS), 4))
    hx = engine.tensor(state) if kind != "LSTM" else (engine.tensor(state), engine.tensor(-state))
    torch_hx = torch.tensor(state) if kind != "LSTM" else (torch.tensor(state),
                                                           torch.tensor(-state))  # fmt: skip
    out, h_n = ours(R.pack_sequence(sequences, enforce_sorted=False), hx)
    expected, expected_h = theirs(TR.pack_sequence(torch_sequences, enforce_sorted=False),
                                  torch_hx)  # fmt: skip
    assert isinstance(out, R.PackedSequence)
    assert_close(out.data, expected.data)
    assert out.batch_sizes.tolist() == expected.batch_sizes.tolist()
    finals, torch_finals = (h_n, expected_h) if kind == "LSTM" else ((h_n,), (expected_h,))
    loss, torch_loss = (out.data**2).sum(), (expected.data**2).sum()
    for final, torch_final in zip(finals, torch_finals, strict=True):
        assert_close(final, torch_final)  # each sequence's state at its own last step
        loss, torch_loss = loss + final.sum(), torch_loss + torch_final.sum()
    loss.backward()
    torch_loss.backward()
    for a, b in zip(sequences, torch_sequences, strict=True):
        assert_close(a.grad, b.grad)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(p.grad, q.grad)
