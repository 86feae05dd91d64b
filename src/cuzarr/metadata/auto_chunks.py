"""Chunk and shard shapes when the user gives none: zarr-python's choices, to the element.

The same ``create_array(shape=..., dtype=...)`` call must lay out the same files whichever
library runs it, so these follow zarr-python 3's ``_guess_chunks`` (h5py's heuristic) and
``_auto_partition`` exactly; the tests compare them with zarr-python's own functions.
"""

from __future__ import annotations

import math
from typing import Any

KiB = 1024
MiB = 1024 * KiB
#: target chunk size for an inner chunk of a sharded array (zarr-python: "aim for a 1MiB chunk")
SHARDED_CHUNK_MAX_BYTES = 1 * MiB


def guess_chunks(
    shape: tuple[int, ...],
    itemsize: int,
    *,
    increment_bytes: int = 256 * KiB,
    min_bytes: int = 128 * KiB,
    max_bytes: int = 64 * MiB,
) -> tuple[int, ...]:
    """zarr-python's (and h5py's) automatic chunk shape.

    The target size grows with the array (``increment_bytes * 2**log10(MiB of the array)``,
    clamped to ``min_bytes``..``max_bytes``); axes are halved in turn, first to last, until a
    chunk is under the target or within half of it, and under ``max_bytes``. Zero-length axes
    count as 1, so the result is always a valid chunk shape.
    """
    if min_bytes >= max_bytes:
        raise ValueError(f"min_bytes ({min_bytes}) must be less than max_bytes ({max_bytes})")
    chunks = [float(max(int(s), 1)) for s in shape]
    if itemsize == 0 or not chunks:
        return tuple(int(c) for c in chunks)
    target = increment_bytes * 2 ** math.log10(math.prod(chunks) * itemsize / MiB)
    target = min(max(target, min_bytes), max_bytes)
    axis = 0
    while True:
        nbytes = math.prod(chunks) * itemsize
        if (nbytes < target or abs(nbytes - target) / target < 0.5) and nbytes < max_bytes:
            break
        if math.prod(chunks) == 1:
            break  # one element is larger than max_bytes
        chunks[axis % len(chunks)] = math.ceil(chunks[axis % len(chunks)] / 2.0)
        axis += 1
    return tuple(int(c) for c in chunks)


def chunks_per_shard_axis(
    chunk_shape: tuple[int, ...], itemsize: int, max_bytes: int, array_shape: tuple[int, ...]
) -> int:
    """How many chunks along every axis a shard of at most ``max_bytes`` holds (at least 1),
    without a shard outgrowing the array on any axis."""
    chunk_bytes = math.prod(chunk_shape) * itemsize
    if max_bytes < chunk_bytes:
        return 1
    n = 1
    while chunk_bytes * (n + 1) ** len(chunk_shape) <= max_bytes and all(
        c * (n + 1) <= a for c, a in zip(chunk_shape, array_shape)
    ):
        n += 1
    return n


def auto_shard_shape(
    array_shape: tuple[int, ...], chunk_shape: tuple[int, ...], itemsize: int, target_bytes: int | None
) -> tuple[int, ...]:
    """``shards="auto"``: with no ``target_shard_size_bytes``, two chunks along every axis that
    holds more than eight chunks (one elsewhere); with it, as many chunks per axis as fit."""
    if target_bytes is None:
        return tuple(c * 2 if a // c > 8 else c for a, c in zip(array_shape, chunk_shape))
    n = chunks_per_shard_axis(chunk_shape, itemsize, target_bytes, array_shape)
    return tuple(c * n for c in chunk_shape)


def auto_chunks_for(array_shape: tuple[int, ...], itemsize: int, *, sharded: bool) -> tuple[int, ...]:
    """``chunks="auto"``: inner chunks of a sharded array aim at 1 MiB."""
    if sharded:
        return guess_chunks(array_shape, itemsize, max_bytes=SHARDED_CHUNK_MAX_BYTES)
    return guess_chunks(array_shape, itemsize)


def fit_in_shard(chunk_shape: tuple[int, ...], shard_shape: tuple[int, ...]) -> tuple[int, ...]:
    """``chunk_shape`` with each axis that does not divide the shard shrunk to the largest
    divisor of the shard's length that is no larger (so the pair is always valid)."""
    fitted = []
    for c, s in zip(chunk_shape, shard_shape):
        c = max(1, min(c, s))
        while s % c:
            c -= 1
        fitted.append(c)
    return tuple(fitted)


def is_auto(value: Any) -> bool:
    return isinstance(value, str) and value == "auto"
