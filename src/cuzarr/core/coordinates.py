"""Coordinate and mask selections: points grouped by chunk with one vectorised sort.

The output of a coordinate selection is flat (one element per point, in the caller's order)
and reshaped to the broadcast shape of the coordinate arrays at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import VindexInvalidSelectionError
from .indexing import _is_integer, host_array, is_bool_array, is_integer_array, wrap_indices
from .plan import ChunkProjection


@dataclass(frozen=True, eq=False)
class PointSelection:
    """``points[d][i]`` is the position along axis ``d`` of point ``i``; ``shape`` is the result shape."""

    points: tuple[np.ndarray, ...]
    shape: tuple[int, ...]

    @property
    def count(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def normalize_coordinate_selection(selection: Any, shape: tuple[int, ...]) -> PointSelection:
    """One integer array (or int) per axis, broadcast together, bounds-checked per axis."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) != len(shape):
        raise VindexInvalidSelectionError(
            f"a coordinate selection needs one index array per dimension ({len(shape)}), got {len(items)}"
        )
    arrays = []
    for axis, item in enumerate(items):
        if not (_is_integer(item) or is_integer_array(item)):
            raise VindexInvalidSelectionError(
                f"coordinate selections take integers or integer arrays; axis {axis} got {item!r}"
            )
        arrays.append(wrap_indices(host_array(item), shape[axis], axis))
    try:
        broadcast = np.broadcast_arrays(*arrays)
    except ValueError as exc:
        shapes = [a.shape for a in arrays]
        raise VindexInvalidSelectionError(
            f"coordinate arrays could not be broadcast together: shapes {shapes}"
        ) from exc
    result_shape = broadcast[0].shape if broadcast else ()
    return PointSelection(tuple(np.ravel(b) for b in broadcast), tuple(result_shape))


def normalize_mask_selection(selection: Any, shape: tuple[int, ...]) -> PointSelection:
    """A boolean array of the array's shape: the points where it is True, in C order."""
    items = selection if isinstance(selection, tuple) else (selection,)
    if len(items) != 1 or not is_bool_array(items[0]):
        raise VindexInvalidSelectionError(
            "a mask selection is a single boolean array with the shape of the array"
        )
    mask = np.asarray(host_array(items[0]))
    if mask.shape != tuple(shape):
        raise VindexInvalidSelectionError(
            f"mask shape {mask.shape} does not match array shape {tuple(shape)}"
        )
    points = np.nonzero(mask)
    return PointSelection(tuple(p.astype(np.int64) for p in points), (len(points[0]),))


def plan_points(
    selection: PointSelection, array_shape: tuple[int, ...], chunk_shape: tuple[int, ...]
) -> list[ChunkProjection]:
    """One projection per touched chunk; points keep their order inside a chunk (last write wins)."""
    if selection.count == 0:
        return []
    grid = tuple(-(-s // c) for s, c in zip(array_shape, chunk_shape))
    chunk_ids = [p // c for p, c in zip(selection.points, chunk_shape)]
    order = np.argsort(np.ravel_multi_index(chunk_ids, grid), kind="stable")
    # sorted once for all chunks: each chunk's members, ids and local positions are slices (views)
    sorted_ids = [ids[order] for ids in chunk_ids]
    sorted_local = [p[order] - ids * c for p, ids, c in zip(selection.points, sorted_ids, chunk_shape)]
    changes = np.zeros(len(order), dtype=bool)
    for ids in sorted_ids:
        changes[1:] |= ids[1:] != ids[:-1]
    starts = np.flatnonzero(changes[1:]) + 1
    projections = []
    for start, stop in zip(np.r_[0, starts].tolist(), np.r_[starts, len(order)].tolist()):
        members = order[start:stop]
        coords = tuple(int(ids[start]) for ids in sorted_ids)
        local = tuple(positions[start:stop] for positions in sorted_local)
        valid = [min(n, s - c * n) for s, c, n in zip(array_shape, coords, chunk_shape)]
        n_valid = math.prod(valid)
        covers = stop - start >= n_valid and np.unique(np.ravel_multi_index(local, valid)).size == n_valid
        projections.append(ChunkProjection(coords, local, (members,), covers, False))
    return projections
