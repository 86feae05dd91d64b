"""Plan a selection over a regular chunk grid: which chunks, which part of each, where it goes.

Pure functions: no store, no codec, no device. ``ChunkProjection`` is what the pipeline
executes; planning is tested against NumPy slicing.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .indexing import BasicSelection, DimSelection


@dataclass(frozen=True)
class ChunkProjection:
    """One chunk touched by a selection.

    ``chunk_selection`` indexes the decoded chunk, ``out_selection`` the full-rank output (every
    array dimension kept). ``covers_chunk`` means the selection includes every element of the
    chunk that lies inside the array, so a write needs no read of the old chunk.
    ``is_whole_chunk`` additionally means the chunk lies fully inside the array, so its decoded
    form maps one-to-one onto ``out[out_selection]`` and can be decoded straight into it.
    """

    coords: tuple[int, ...]
    chunk_selection: tuple[slice, ...]
    out_selection: tuple[slice, ...]
    covers_chunk: bool
    is_whole_chunk: bool


@dataclass(frozen=True)
class _DimPiece:
    chunk_index: int
    chunk_slice: slice
    out_slice: slice
    covers: bool
    whole: bool


def _dim_pieces(dim: DimSelection, length: int, chunk_len: int) -> list[_DimPiece]:
    """The chunks of one dimension that a positive-step range touches."""
    pieces: list[_DimPiece] = []
    if dim.count == 0:
        return pieces
    last = dim.start + (dim.count - 1) * dim.step
    for c in range(dim.start // chunk_len, last // chunk_len + 1):
        chunk_start = c * chunk_len
        chunk_stop = min(chunk_start + chunk_len, length)
        if chunk_start <= dim.start:
            first = dim.start
        else:
            first = dim.start + -(-(chunk_start - dim.start) // dim.step) * dim.step
        stop = min(dim.stop, chunk_stop)
        if first >= stop:
            continue
        count = len(range(first, stop, dim.step))
        out_start = (first - dim.start) // dim.step
        covers = first == chunk_start and count == chunk_stop - chunk_start
        pieces.append(
            _DimPiece(
                chunk_index=c,
                chunk_slice=slice(first - chunk_start, stop - chunk_start, dim.step),
                out_slice=slice(out_start, out_start + count),
                covers=covers,
                whole=covers and chunk_stop - chunk_start == chunk_len,
            )
        )
    return pieces


def plan_basic(selection: BasicSelection, chunk_shape: tuple[int, ...]) -> list[ChunkProjection]:
    """Every chunk a basic selection touches, in C order of chunk coordinates."""
    per_dim = [
        _dim_pieces(dim, length, chunk_len)
        for dim, length, chunk_len in zip(selection.dims, selection.array_shape, chunk_shape)
    ]
    projections = []
    for pieces in itertools.product(*per_dim):
        projections.append(
            ChunkProjection(
                coords=tuple(p.chunk_index for p in pieces),
                chunk_selection=tuple(p.chunk_slice for p in pieces),
                out_selection=tuple(p.out_slice for p in pieces),
                covers_chunk=all(p.covers for p in pieces),
                is_whole_chunk=all(p.whole for p in pieces),
            )
        )
    return projections


def iter_batches(projections: list[ChunkProjection], chunk_nbytes: int, batch_bytes: int):
    """Split projections into consecutive batches whose decoded size stays under ``batch_bytes``."""
    per_batch = max(1, batch_bytes // max(chunk_nbytes, 1))
    for i in range(0, len(projections), per_batch):
        yield projections[i : i + per_batch]
