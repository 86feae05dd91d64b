"""Creation arguments that reproduce an existing array's layout, for the ``*_like`` functions
(top-level and ``Group`` methods alike)."""

from __future__ import annotations

from typing import Any

from .array import Array


def like_kwargs(a: Any, zarr_format: int | None = None) -> dict[str, Any]:
    """Shape and dtype of ``a``; for a cuzarr array also its chunk grid, fill value and codecs.

    ``zarr_format``: the format the new array will have (None: ``a``'s own). Codecs and the v2
    order only carry over within one format. v3 codecs are given piece by piece (filters,
    serializer, compressors, shards), so that overriding ``chunks`` or ``shards`` still works.
    """
    kwargs: dict[str, Any] = {"shape": tuple(a.shape), "dtype": a.dtype}
    if not isinstance(a, Array):
        chunks = getattr(a, "chunks", None)
        if isinstance(chunks, tuple) and all(isinstance(c, int) for c in chunks):
            kwargs["chunks"] = chunks
        return kwargs
    kwargs["fill_value"] = a.fill_value
    if zarr_format not in (None, a.zarr_format):
        kwargs["chunks"] = a.chunks
        if a.shards:  # (a v2 copy of a sharded array is chunked by its inner chunks)
            kwargs["shards"] = None if zarr_format == 2 else a.shards
        return kwargs
    kwargs["zarr_format"] = a.zarr_format
    metadata = a.metadata
    if a.zarr_format == 3:
        kwargs.update(
            chunks=a.chunks,
            shards=_shards_of(a),
            filters=list(a.filters),
            serializer=a.serializer,
            compressors=list(a.compressors),
        )
    else:
        filters = list(metadata.filters) if metadata.filters else None
        kwargs.update(chunks=a.chunks, compressor=metadata.compressor, filters=filters, order=metadata.order)
    return kwargs


def _shards_of(a: Array) -> dict[str, Any] | None:
    if not a.shards:
        return None
    location = a.metadata.codecs[0].get("configuration", {}).get("index_location", "end")
    return {"shape": a.shards, "index_location": location}


__all__ = ["like_kwargs"]
