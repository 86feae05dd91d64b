"""Plan a selection over a regular chunk grid: which chunks, which part of each, where it goes.

Pure functions: no store, no codec, no device. ``ChunkProjection`` is what the pipeline
executes; its selections are ready-made NumPy index tuples (slices, or integer arrays shaped for
orthogonal broadcasting), so executing one is ``out[out_selection] = chunk[chunk_selection]``.
Planning is tested against NumPy indexing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from .indexing import ArrayDimSelection, BasicSelection, DimSelection


@dataclass(frozen=True, eq=False, slots=True)
class ChunkProjection:
    """One chunk touched by a selection.

    ``chunk_selection`` indexes the decoded chunk, ``out_selection`` the output buffer (full
    rank for basic/orthogonal selections, flat for coordinate selections). ``covers_chunk`` means
    the selection includes every element of the chunk that lies inside the array, so a write
    needs no read of the old chunk. ``is_whole_chunk`` additionally means the chunk lies fully
    inside the array and maps one-to-one onto a slice view ``out[out_selection]``, so it can be
    decoded straight into the output.
    """

    coords: tuple[int, ...]
    chunk_selection: tuple[Any, ...]
    out_selection: tuple[Any, ...]
    covers_chunk: bool
    is_whole_chunk: bool


@dataclass(frozen=True, eq=False, slots=True)
class _DimPiece:
    chunk_index: int
    chunk_slice: Any  # slice or int64 array
    out_slice: Any  # slice or int64 array
    covers: bool
    whole: bool


def _slice_pieces(dim: DimSelection, length: int, chunk_len: int) -> list[_DimPiece]:
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


def _as_run(positions: np.ndarray) -> slice | None:
    """``positions`` as a slice when they are consecutive ascending integers."""
    if len(positions) == 1 or (
        positions[-1] - positions[0] == len(positions) - 1 and bool((np.diff(positions) == 1).all())
    ):
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return None


def _array_pieces(dim: ArrayDimSelection, length: int, chunk_len: int) -> list[_DimPiece]:
    """Group integer positions by chunk with one stable sort (repeats keep their order)."""
    indices = dim.indices
    if indices.size == 0:
        return []
    chunk_ids = indices // chunk_len
    order = np.argsort(chunk_ids, kind="stable")
    sorted_ids = chunk_ids[order]
    bounds = np.flatnonzero(np.diff(sorted_ids)) + 1
    pieces = []
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(indices)]):
        c = int(sorted_ids[start])
        out_positions = order[start:stop]
        in_chunk = indices[out_positions] - c * chunk_len
        valid = min(chunk_len, length - c * chunk_len)
        covers = len(in_chunk) >= valid and np.unique(in_chunk).size == valid
        chunk_run, out_run = _as_run(in_chunk), _as_run(out_positions)
        if chunk_run is not None and out_run is not None:
            pieces.append(_DimPiece(c, chunk_run, out_run, covers, covers and valid == chunk_len))
        else:
            pieces.append(_DimPiece(c, in_chunk, out_positions, covers, False))
    return pieces


def _orthogonal_index(items: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """Index items applied independently per axis: with several arrays, an open mesh (``np.ix_``)."""
    if sum(isinstance(item, np.ndarray) for item in items) < 2:
        return items
    arrays = [
        item if isinstance(item, np.ndarray) else np.arange(*item.indices(n)) for item, n in zip(items, shape)
    ]
    return np.ix_(*arrays)


def plan_orthogonal(selection: BasicSelection, chunk_shape: tuple[int, ...]) -> list[ChunkProjection]:
    """Every chunk a basic or orthogonal selection touches, in C order of chunk coordinates."""
    per_dim = [
        _array_pieces(dim, length, chunk_len)
        if isinstance(dim, ArrayDimSelection)
        else _slice_pieces(dim, length, chunk_len)
        for dim, length, chunk_len in zip(selection.dims, selection.array_shape, chunk_shape)
    ]
    full_shape = selection.full_shape
    if not any(isinstance(dim, ArrayDimSelection) for dim in selection.dims):
        return _plan_slices(per_dim)
    projections = []
    for pieces in itertools.product(*per_dim):
        projections.append(
            ChunkProjection(
                coords=tuple(p.chunk_index for p in pieces),
                chunk_selection=_orthogonal_index(tuple(p.chunk_slice for p in pieces), chunk_shape),
                out_selection=_orthogonal_index(tuple(p.out_slice for p in pieces), full_shape),
                covers_chunk=all(p.covers for p in pieces),
                is_whole_chunk=all(p.whole for p in pieces),
            )
        )
    return projections


plan_basic = plan_orthogonal


def _plan_slices(per_dim: list[list[_DimPiece]]) -> list[ChunkProjection]:
    """Slices on every axis (the common case): per-axis pieces are computed once and every chunk
    is a product of them, so the per-chunk work is a tuple transpose and one object."""
    columns = [
        [(p.chunk_index, p.chunk_slice, p.out_slice, p.covers, p.whole) for p in dim] for dim in per_dim
    ]
    projections = []
    append = projections.append
    for combo in itertools.product(*columns):
        coords, chunk_sel, out_sel, covers, whole = zip(*combo) if combo else ((),) * 5
        append(ChunkProjection(coords, chunk_sel, out_sel, all(covers), all(whole)))
    return projections


def iter_batches(
    projections: list[ChunkProjection],
    chunk_nbytes: int,
    batch_bytes: int,
    group: Callable[[tuple[int, ...]], Hashable | None] | None = None,
) -> Iterator[list[ChunkProjection]]:
    """Split projections into batches whose decoded size stays under ``batch_bytes``.

    With ``group`` (e.g. the shard of a chunk), projections are ordered by group and a batch
    never splits a group, so each shard is assembled once; a group larger than the budget is a
    batch of its own.
    """
    per_batch = max(1, batch_bytes // max(chunk_nbytes, 1))
    if group is None or group(projections[0].coords if projections else ()) is None:
        for i in range(0, len(projections), per_batch):
            yield projections[i : i + per_batch]
        return
    keyed = sorted(((group(p.coords), i) for i, p in enumerate(projections)), key=lambda t: t[0])
    batch: list[ChunkProjection] = []
    for _, members in itertools.groupby(keyed, key=lambda t: t[0]):
        members = [projections[i] for _, i in members]
        if batch and len(batch) + len(members) > per_batch:
            yield batch
            batch = []
        batch.extend(members)
    if batch:
        yield batch
