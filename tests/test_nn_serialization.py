"""engine.save / engine.load: round trips of every dtype (bfloat16 included), shapes, nested
containers and plain values; files that are not checkpoints give a clear error; nothing is
unpickled."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

import engine
from engine import nn
from engine.testing import assert_close
from tests.nn_helpers import copy_weights, to_engine

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16"]
DTYPES += ["float32", "float64"]


def round_trip(obj, tmp_path, name="checkpoint.pt"):
    path = tmp_path / name
    engine.save(obj, path)
    return engine.load(path)


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips_exactly(dtype, tmp_path):
    values = np.random.default_rng(0).standard_normal((3, 4)) * 5
    tensor = engine.tensor(values).to(getattr(engine, dtype))
    loaded = round_trip({"t": tensor, "empty": tensor[:0], "scalar": tensor[0, 0]}, tmp_path)
    for key, original in (("t", tensor), ("empty", tensor[:0]), ("scalar", tensor[0, 0])):
        assert loaded[key].dtype is original.dtype and loaded[key].shape == original.shape
        assert_close(loaded[key], original, rtol=0, atol=0)


def test_non_contiguous_tensors_and_requires_grad_round_trip(tmp_path):
    base = engine.arange(24.0).reshape(2, 3, 4)
    view = base.permute(2, 0, 1)[1:, :, ::2]
    leaf = engine.ones(2, requires_grad=True)
    loaded = round_trip([view, leaf], tmp_path)
    assert_close(loaded[0], view)
    assert loaded[1].requires_grad and loaded[1].is_leaf


def test_views_share_their_storage_again_like_torch(tmp_path):
    def run(lib, path):
        base = lib.arange(10.0)
        saved = {"base": base, "slice": base[2:5], "transposed": base.view(2, 5).t()}
        (lib.save if lib is torch else engine.save)(saved, path)
        loaded = (torch.load if lib is torch else engine.load)(path)
        loaded["base"][3] = 100.0  # visible through the views, as in torch
        return [
            (t.tolist(), tuple(t.stride()), t.storage_offset(), t.is_contiguous())
            for t in loaded.values()
        ]

    assert run(engine, tmp_path / "ours.pt") == run(torch, tmp_path / "theirs.pt")


def test_a_saved_view_carries_its_whole_storage(tmp_path):
    big = engine.arange(100_000.0)
    engine.save(big[:2], tmp_path / "view.pt")
    engine.save(big[:2].clone(), tmp_path / "clone.pt")
    assert (tmp_path / "view.pt").stat().st_size > 100 * (tmp_path / "clone.pt").stat().st_size
    loaded = engine.load(tmp_path / "view.pt")
    assert loaded.tolist() == [0.0, 1.0] and loaded.untyped_storage().shape == (100_000,)


def test_nested_structure_round_trips(tmp_path):
    # The shape of an optimizer's state_dict: integer keys, lists, numbers, strings, None.
    state = {
        "state": {0: {"step": engine.tensor(3.0), "exp_avg": engine.ones(2, 2)}, 1: {}},
        "param_groups": [
            {"params": [0, 1], "lr": 1e-3, "betas": (0.9, 0.999), "amsgrad": False,
             "weight_decay": 0, "name": "default", "foreach": None, "eps": float("inf")}
        ],
        "dtype": engine.bfloat16,
        "ordered": OrderedDict([("b", 1), ("a", [2, (3, None)])]),
    }  # fmt: skip
    loaded = round_trip(state, tmp_path)
    assert type(loaded) is dict and type(loaded["ordered"]) is OrderedDict
    assert list(loaded["ordered"]) == ["b", "a"]
    assert loaded["ordered"]["a"] == [2, (3, None)]
    group = loaded["param_groups"][0]
    assert group == state["param_groups"][0]
    assert type(group["betas"]) is tuple and type(group["amsgrad"]) is bool
    assert type(group["weight_decay"]) is int and math.isinf(group["eps"])
    assert loaded["dtype"] is engine.bfloat16
    assert list(loaded["state"]) == [0, 1]
    assert_close(loaded["state"][0]["exp_avg"], engine.ones(2, 2))
    assert loaded["state"][0]["step"].shape == ()


def test_module_state_dict_round_trip_through_a_file_object():
    ours, theirs = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), None
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    copy_weights(ours, theirs)
    buffer = io.BytesIO()
    engine.save(ours.state_dict(), buffer)
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double()
    buffer.seek(0)
    state = engine.load(buffer)
    assert type(state) is OrderedDict and list(state) == list(theirs.state_dict())
    assert repr(fresh.load_state_dict(state)) == "<All keys matched successfully>"
    x = np.random.default_rng(0).standard_normal((5, 3))
    assert_close(fresh(engine.tensor(x)), theirs(torch.tensor(x)))
    assert_close(to_engine(theirs[0].weight), fresh[0].weight)


def test_path_is_written_as_given(tmp_path):
    engine.save({"x": 1}, tmp_path / "model.pt")
    engine.save({"x": 2}, str(tmp_path / "other.bin"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "other.bin"]
    assert engine.load(str(tmp_path / "other.bin")) == {"x": 2}


@pytest.mark.parametrize(
    "value",
    [object(), {(1, 2): 3}, {"f": lambda: 0}, np.ones(2)],
    ids=["object", "tuple-key", "function", "ndarray"],
)
def test_unsupported_values_are_refused_on_save(value, tmp_path):
    with pytest.raises(TypeError, match="engine.save"):
        engine.save(value, tmp_path / "x.pt")


def _saved_bytes(obj=None) -> bytes:
    buffer = io.BytesIO()
    engine.save(obj if obj is not None else {"w": engine.arange(100.0)}, buffer)
    return buffer.getvalue()


def _rewritten(structure_change=None, array_change=None) -> bytes:
    """A checkpoint whose JSON structure or arrays were edited, re-zipped."""
    source = zipfile.ZipFile(io.BytesIO(_saved_bytes()))
    arrays = {name[:-4]: np.load(source.open(name)) for name in source.namelist()}
    if structure_change:
        structure = json.loads(arrays["structure"].tobytes())
        structure_change(structure)
        arrays["structure"] = np.frombuffer(json.dumps(structure).encode(), dtype=np.uint8)
    if array_change:
        array_change(arrays)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _pickled_object_array() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, structure=np.array([{"evil": 1}], dtype=object))
    return buffer.getvalue()


CORRUPT = {
    "empty": lambda: b"",
    "truncated": lambda: _saved_bytes()[:200],
    "truncated-end": lambda: _saved_bytes()[:-30],
    "flipped-bytes": lambda: _saved_bytes()[:100] + b"\xff" * 50 + _saved_bytes()[150:],
    "not-a-zip": lambda: b"hello, this is not a checkpoint" * 10,
    "torch-pickle": lambda: (torch.save({"w": torch.ones(2)}, buf := io.BytesIO()), buf)[
        1
    ].getvalue(),
    "pickled-object": _pickled_object_array,
    "wrong-format": lambda: _rewritten(lambda s: s.update(format="other")),
    "wrong-version": lambda: _rewritten(lambda s: s.update(version=99)),
    "bad-node": lambda: _rewritten(lambda s: s.update(root={"bogus": 1})),
    "bad-dtype": lambda: _rewritten(lambda s: s["root"]["dict"][0][1].update(dtype="complex")),
    "bad-shape": lambda: _rewritten(lambda s: s["root"]["dict"][0][1].update(shape=[3, 3])),
    "missing-array": lambda: _rewritten(array_change=lambda a: a.pop("storage_0")),
    "view-outside-storage": lambda: _rewritten(
        lambda s: s["root"]["dict"][0][1].update(offset=95, shape=[10])
    ),
    "negative-stride": lambda: _rewritten(lambda s: s["root"]["dict"][0][1].update(stride=[-1])),
    "float-offset": lambda: _rewritten(lambda s: s["root"]["dict"][0][1].update(offset=0.5)),
    "two-dimensional-storage": lambda: _rewritten(
        array_change=lambda a: a.update(storage_0=a["storage_0"].reshape(10, 10))
    ),
    "no-structure": lambda: _rewritten(array_change=lambda a: a.pop("structure")),
    "bad-json": lambda: _rewritten(
        array_change=lambda a: a.update(structure=np.frombuffer(b"{nope", dtype=np.uint8))
    ),
}


@pytest.mark.parametrize("make", CORRUPT.values(), ids=CORRUPT.keys())
def test_corrupt_or_foreign_files_give_a_clear_error(make, tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(make())
    with pytest.raises(RuntimeError, match="is not a valid engine checkpoint or is corrupted"):
        engine.load(path)


def test_the_corruption_cases_start_from_a_valid_file():
    assert engine.load(io.BytesIO(_rewritten(lambda s: None)))["w"].tolist() == list(
        np.arange(100.0)
    )


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        engine.load(tmp_path / "nothing.pt")
