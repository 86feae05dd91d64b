"""Dask arrays over cuzarr arrays: lazy chunk-aligned reads and parallel chunk-aligned writes.

``to_dask`` makes one dask task per cuzarr chunk (or per block of whole chunks), so every task is
one batched cuzarr read. ``from_dask`` rechunks the dask array so that each task writes whole
stored objects (shards when the array is sharded), which lets tasks write concurrently with no
lock: no two tasks ever read-modify-write the same object.
"""

from __future__ import annotations

from typing import Any

import dask.array as da
import numpy as np
from dask.base import tokenize

import cuzarr

__all__ = ["aligned_chunks", "from_dask", "to_dask"]


def _meta(z: cuzarr.Array) -> Any:
    """An empty array of the type ``z`` returns, so dask knows it holds CuPy chunks on a GPU."""
    shape = (0,) * z.ndim
    if z.device == "cuda" and not z.dtype.hasobject:
        import cupy  # type: ignore[import-not-found]

        return cupy.empty(shape, dtype=z.dtype)
    return np.empty(shape, dtype=z.dtype)


def _device_lock(z: cuzarr.Array) -> bool:
    """Whether tasks on ``z`` must run one at a time in a process.

    Device arrays (CUDA or emulated) are locked: their staging slots are thread-safe (tested in
    emulation), but concurrent CuPy batches from several threads have not run on a GPU yet, and
    one GPU gains little from them. CPU arrays read and write in parallel.
    """
    return z.device != "cpu"


def to_dask(z: cuzarr.Array, chunks: Any = None, *, name: str | None = None) -> da.Array:
    """A lazy dask array reading ``z``; ``chunks`` defaults to ``z.chunks``.

    Other ``chunks`` (``"auto"``, sizes, dask chunk tuples) are passed to dask; choose multiples of
    ``z.chunks`` so that no chunk is decoded by two tasks.
    """
    if chunks is None:
        chunks = z.chunks if z.ndim else ()
    if name is None:
        token = tokenize(repr(z.store), z.path, z.shape, z.chunks, str(z.dtype), z.device, chunks)
        name = f"cuzarr-{token}"
    return da.from_array(
        z,
        chunks=chunks,
        name=name,
        lock=_device_lock(z),
        asarray=False,  # keep CuPy chunks on the GPU; cuzarr already returns arrays
        fancy=False,
        meta=_meta(z),
    )


def _is_aligned(axis_chunks: tuple[int, ...], unit: int) -> bool:
    """Whether every boundary between dask chunks along one axis is a multiple of ``unit``."""
    boundary = 0
    for size in axis_chunks[:-1]:
        boundary += size
        if boundary % unit:
            return False
    return True


def aligned_chunks(chunks: tuple[tuple[int, ...], ...], unit: tuple[int, ...]) -> tuple[Any, ...] | None:
    """Dask chunks whose boundaries fall on multiples of ``unit`` (the stored object shape), close
    to the sizes of ``chunks``; ``None`` when ``chunks`` are aligned already."""
    if all(_is_aligned(axis, u) for axis, u in zip(chunks, unit)):
        return None
    result: list[Any] = []
    for axis, u in zip(chunks, unit):
        if _is_aligned(axis, u):
            result.append(axis)
            continue
        multiple = max(1, round(max(axis) / u))
        result.append(multiple * u)
    return tuple(result)


def from_dask(darr: da.Array, store_or_array: Any = None, **create_kwargs: Any) -> cuzarr.Array:
    """Write ``darr`` into an existing array, or into a new one created in ``store_or_array``.

    ``create_kwargs`` go to ``cuzarr.create_array`` (``chunks`` defaults to the dask chunk size).
    The dask array is rechunked so that each task writes whole stored objects; the write runs on
    the current dask scheduler (threads, processes or distributed) and the array is returned.
    """
    if isinstance(store_or_array, cuzarr.Array):
        if create_kwargs:
            raise TypeError(f"cannot pass creation arguments {sorted(create_kwargs)} with an existing array")
        target = store_or_array
        if tuple(target.shape) != tuple(darr.shape):
            raise ValueError(f"dask array of shape {darr.shape} does not match {target!r}")
    else:
        if darr.ndim and "chunks" not in create_kwargs and not any(np.isnan(darr.shape)):
            create_kwargs["chunks"] = tuple(int(c) for c in darr.chunksize)
        create_kwargs.setdefault("dtype", darr.dtype)
        target = cuzarr.create_array(store_or_array, shape=darr.shape, **create_kwargs)
    if darr.ndim:
        unit = target.shards or target.chunks
        rechunked = aligned_chunks(darr.chunks, unit)
        if rechunked is not None:
            darr = darr.rechunk(rechunked)
    da.store(darr, target, lock=_device_lock(target), compute=True)
    return target
