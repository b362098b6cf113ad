"""Variable-length sequences for recurrent layers (``torch.nn.utils.rnn``).

A batch of sequences of different lengths is either *padded* to the longest, ``(T, B, *)``,
or *packed*: a :class:`PackedSequence` holds only the real steps, time-major, with the
sequences sorted by decreasing length so that step ``t`` is the first ``batch_sizes[t]``
rows of the batch (``data`` is ``sum(lengths)`` rows).  A recurrent layer given a packed
batch stops each sequence at its own length: its last hidden state is that of its last real
step, not of the padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from engine import dtypes
from engine.ops.creation import full, tensor
from engine.ops.join import cat, stack
from engine.tensor import Tensor

__all__ = [
    "PackedSequence",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
]


class PackedSequence(NamedTuple):
    """The real steps of a batch of sequences, time-major; ``batch_sizes[t]`` sequences are
    longer than ``t``.  ``sorted_indices`` is the order that sorts the batch by decreasing
    length (None if it was sorted already), ``unsorted_indices`` its inverse."""

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None


def pad_sequence(
    sequences: Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``),
    filling the missing steps with ``padding_value`` after (or, ``padding_side="left"``,
    before) each sequence."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    longest = max(len(sequence) for sequence in sequences)
    padded = []
    for sequence in sequences:
        missing = full((longest - len(sequence), *sequence.shape[1:]), padding_value,
                       dtype=sequence.dtype)  # fmt: skip
        parts = [sequence, missing] if padding_side == "right" else [missing, sequence]
        padded.append(cat(parts))
    return stack(padded, 0 if batch_first else 1)


def _lengths(lengths: Tensor | Sequence[int]) -> list[int]:
    return lengths.tolist() if isinstance(lengths, Tensor) else [int(n) for n in lengths]


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | Sequence[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch: keep the first ``lengths[b]`` steps of sequence ``b``."""
    lengths = _lengths(lengths)
    if batch_first:
        input = input.transpose(0, 1)
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:], strict=False)):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        order, sorted_indices, unsorted_indices = list(range(len(lengths))), None, None
    else:
        order = sorted(range(len(lengths)), key=lambda b: -lengths[b])
        sorted_indices = tensor(order, dtype=dtypes.int64)
        inverse = [0] * len(order)
        for position, b in enumerate(order):
            inverse[b] = position
        unsorted_indices = tensor(inverse, dtype=dtypes.int64)
        input = input[:, sorted_indices]
    if min(lengths) <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    sorted_lengths = [lengths[b] for b in order]
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]
    data = cat([input[t, :size] for t, size in enumerate(batch_sizes)])
    return PackedSequence(
        data, tensor(batch_sizes, dtype=dtypes.int64), sorted_indices, unsorted_indices
    )


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo :func:`pack_padded_sequence`: the padded batch (in the original order) and the
    lengths."""
    batch_sizes = sequence.batch_sizes.tolist()
    batch, steps = batch_sizes[0], len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    feature_shape = sequence.data.shape[1:]
    rows, start = [], 0
    for size in batch_sizes:
        step = sequence.data[start : start + size]
        missing = full((batch - size, *feature_shape), padding_value, dtype=step.dtype)
        rows.append(cat([step, missing]))
        start += size
    for _ in range(steps - len(batch_sizes)):
        rows.append(full((batch, *feature_shape), padding_value, dtype=sequence.data.dtype))
    padded = stack(rows)  # (T, B, *) in the sorted order
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = padded[:, sequence.unsorted_indices]
        lengths = [lengths[i] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths, dtype=dtypes.int64)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences ``(L_i, *)`` (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [len(sequence) for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
