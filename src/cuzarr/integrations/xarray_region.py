"""Writing one encoded xarray variable into a region of a cuzarr array (all of it, an appended
tail, or a ``region=`` slice), and the chunk-safety rules for dask-backed data.

By default dask data is rechunked so that every task boundary inside the region falls on a stored
object boundary (a shard when the array is sharded): tasks then never read-modify-write the same
object and run in parallel with no lock, wherever the region starts. Without that realignment,
``check_chunks`` refuses the write as xarray's ``safe_chunks=True`` does, or the tasks write one at
a time so that none of them loses another's data.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from xarray import Variable

import cuzarr

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = ["aligned_axis", "check_chunks", "write_variable"]


def aligned_axis(chunks: tuple[int, ...], start: int, unit: int) -> tuple[int, ...]:
    """Dask chunk sizes along one axis, close to ``chunks``, whose inner boundaries fall on
    multiples of ``unit`` once shifted by ``start``; ``chunks`` itself when they already do."""
    total = sum(chunks)
    if total == 0 or _first_misaligned(chunks, start, unit) is None:
        return tuple(chunks)
    step = max(1, round(max(chunks) / unit)) * unit
    sizes = [min(total, (-start) % step or step)]
    done = sizes[0]
    while done < total:
        sizes.append(min(step, total - done))
        done += sizes[-1]
    return tuple(sizes)


def _first_misaligned(chunks: tuple[int, ...], start: int, unit: int) -> int | None:
    """The position of the first boundary between dask chunks that falls inside a stored object."""
    edges = np.cumsum(chunks[:-1], dtype=np.int64) + start
    misaligned = np.flatnonzero(edges % unit)
    return int(misaligned[0]) if misaligned.size else None


def _is_aligned(data: Any, region: tuple[slice, ...], unit: tuple[int, ...]) -> bool:
    """Whether no two dask tasks of ``data`` written at ``region`` touch the same stored object."""
    return all(_first_misaligned(c, r.start, u) is None for c, r, u in zip(data.chunks, region, unit))


def check_chunks(
    name: str,
    dims: Sequence[Hashable],
    chunks: tuple[tuple[int, ...], ...],
    region: tuple[slice, ...],
    shape: tuple[int, ...],
    unit: tuple[int, ...],
    *,
    partial_edges: bool,
) -> None:
    """xarray's ``safe_chunks`` rule: refuse dask chunks that would share a stored object.

    ``region`` is resolved (integer starts and stops) in the final ``shape``; ``unit`` is the
    stored chunk (or shard) shape. Without ``partial_edges`` (mode 'r+') the region must also
    start and end on object boundaries, since a neighbouring region written by another process
    would share the edge objects. Raises ValueError naming the variable and the dimension.
    """
    for dim, axis_chunks, where, size, step in zip(dims, chunks, region, shape, unit):
        position = _first_misaligned(axis_chunks, where.start, step)
        if position is not None:
            raise ValueError(
                f"dask chunks {axis_chunks} of variable {name!r} along dimension {dim!r} would write "
                f"the same stored Zarr chunk (shard, when sharded; size {step}) from two tasks: the "
                f"boundary after dask chunk {position} is at "
                f"{where.start + sum(axis_chunks[: position + 1])}, inside one. "
                "Writing them in parallel could corrupt data. Rechunk the data with `.chunk()`, "
                "pass align_chunks=True (or leave it unset) to let cuzarr rechunk it, or "
                "safe_chunks=False to write it one task at a time."
            )
        edge_inside = where.start % step or (where.stop % step and where.stop != size)
        if not partial_edges and edge_inside:
            raise ValueError(
                f"region {where.start}:{where.stop} of variable {name!r} along dimension {dim!r} "
                f"starts or ends inside a stored Zarr chunk (size {step}); with mode='r+' another process "
                "writing the neighbouring region could overwrite part of it. Write a region on "
                "chunk boundaries, or pass safe_chunks=False (or align_chunks=True) when no other "
                "writer touches the neighbouring region."
            )


def _store_dask(array: cuzarr.Array, data: Any, region: tuple[slice, ...], align: bool) -> Delayed:
    """A ``dask.delayed`` write of ``data`` into ``array[region]`` (nothing written yet).

    Tasks that would share a stored object (``align=False`` with misaligned chunks) and tasks
    on a device array (see integrations/dask.py ``_device_lock``) run one at a time.
    """
    import dask.array as da

    unit = array.shards or array.chunks
    if align and data.ndim:
        data = data.rechunk(tuple(aligned_axis(c, r.start, u) for c, r, u in zip(data.chunks, region, unit)))
    lock = array.device != "cpu" or not _is_aligned(data, region, unit)
    return da.store(data, array, regions=region, lock=lock, compute=False)


def write_variable(
    array: cuzarr.Array, var: Variable, region: tuple[slice, ...], *, align: bool = True
) -> Delayed | None:
    """Write ``var``'s data into ``array[region]`` (integer slices); dask data is left pending.

    NumPy and CuPy data are written now (CuPy without a host copy); for dask data the write is
    returned as a ``dask.delayed`` object to compute, with ``None`` for everything else.
    """
    data = var.data
    if hasattr(data, "dask"):
        return _store_dask(array, data, region, align)
    if hasattr(data, "__cuda_array_interface__"):
        array[region] = data
    else:
        array[region] = np.asarray(var.values)
    return None
