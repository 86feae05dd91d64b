"""Writing one encoded xarray variable into a region of a cuzarr array (all of it, an appended
tail, or a ``region=`` slice).

Dask-backed data is rechunked so that every task boundary inside the region falls on a stored
object boundary (a shard when the array is sharded): tasks then never read-modify-write the same
object and run in parallel with no lock, wherever the region starts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from xarray import Variable

import cuzarr

__all__ = ["aligned_axis", "write_variable"]


def aligned_axis(chunks: tuple[int, ...], start: int, unit: int) -> tuple[int, ...]:
    """Dask chunk sizes along one axis, close to ``chunks``, whose inner boundaries fall on
    multiples of ``unit`` once shifted by ``start``; ``chunks`` itself when they already do."""
    total = sum(chunks)
    edges = np.cumsum(chunks[:-1], dtype=np.int64) + start
    if total == 0 or not (edges % unit).any():
        return tuple(chunks)
    step = max(1, round(max(chunks) / unit)) * unit
    sizes = [min(total, (-start) % step or step)]
    done = sizes[0]
    while done < total:
        sizes.append(min(step, total - done))
        done += sizes[-1]
    return tuple(sizes)


def _write_dask(array: cuzarr.Array, data: Any, region: tuple[slice, ...]) -> None:
    import dask.array as da

    starts = [r.indices(n)[0] for r, n in zip(region, array.shape)]
    unit = array.shards or array.chunks
    if data.ndim:
        data = data.rechunk(tuple(aligned_axis(c, s, u) for c, s, u in zip(data.chunks, starts, unit)))
    regions = tuple(slice(s, s + n) for s, n in zip(starts, data.shape))
    # Device arrays write one task at a time (see integrations/dask.py ``_device_lock``).
    da.store(data, array, regions=regions, lock=array.device != "cpu", compute=True)


def write_variable(array: cuzarr.Array, var: Variable, region: tuple[slice, ...]) -> None:
    """Write ``var``'s data into ``array[region]`` (dask in parallel, CuPy without a host copy)."""
    data = var.data
    if hasattr(data, "dask"):
        _write_dask(array, data, region)
    elif hasattr(data, "__cuda_array_interface__"):
        array[region] = data
    else:
        array[region] = np.asarray(var.values)
