"""Copying helpers with zarr-python's names: ``*_like``, ``open_like``, ``from_array``, ``save``/``load``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .api import AUTO, create, create_array, open_array
from .config import config
from .core.array import Array

KEEP = "keep"


def _like_kwargs(a: Any) -> dict[str, Any]:
    """Creation arguments that reproduce ``a``'s layout (shape, dtype and, for arrays, chunks/codecs)."""
    kwargs: dict[str, Any] = {"shape": tuple(a.shape), "dtype": a.dtype}
    if isinstance(a, Array):
        kwargs.update(chunks=a.chunks, order=a.order, zarr_format=a.zarr_format, fill_value=a.fill_value)
        kwargs.update(_codec_kwargs(a))
    return kwargs


def _codec_kwargs(a: Array) -> dict[str, Any]:
    if a.zarr_format == 3:
        return {"codecs": list(a.metadata.codecs)}
    filters = list(a.metadata.filters) if a.metadata.filters else None
    return {"compressor": a.metadata.compressor, "filters": filters}


def zeros_like(a: Any, **kwargs: Any) -> Array:
    return create(**{**_like_kwargs(a), "fill_value": 0, **kwargs})


def ones_like(a: Any, **kwargs: Any) -> Array:
    return create(**{**_like_kwargs(a), "fill_value": 1, **kwargs})


def full_like(a: Any, fill_value: Any = None, **kwargs: Any) -> Array:
    like = _like_kwargs(a)
    if fill_value is not None:
        like["fill_value"] = fill_value
    return create(**{**like, **kwargs})


def empty_like(a: Any, **kwargs: Any) -> Array:
    return create(**{**_like_kwargs(a), **kwargs})


def open_like(a: Any, path: Any, **kwargs: Any) -> Array:
    """Open ``path``, creating it with ``a``'s layout when it does not exist (mode 'a')."""
    like = _like_kwargs(a)
    like.update(kwargs)
    return open_array(path, **like)


def from_array(
    store: Any = None,
    *,
    data: Any,
    write_data: bool = True,
    name: str | None = None,
    chunks: Any = KEEP,
    filters: Any = KEEP,
    compressors: Any = KEEP,
    serializer: Any = KEEP,
    fill_value: Any = None,
    order: str | None = None,
    zarr_format: int | None = None,
    attributes: dict[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    dimension_names: Any = None,
    storage_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    config: Any = None,
    device: str | None = None,
) -> Array:
    """A new array holding a copy of ``data`` (NumPy or cuzarr); ``'keep'`` reuses the source's settings."""
    source_is_array = isinstance(data, Array)
    if not source_is_array:
        data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
    same_format = source_is_array and (zarr_format in (None, data.zarr_format))
    kwargs: dict[str, Any] = {
        "chunks": _keep(chunks, data.chunks if source_is_array else AUTO),
        "fill_value": fill_value
        if fill_value is not None
        else (data.fill_value if source_is_array else None),
        "zarr_format": zarr_format or (data.zarr_format if source_is_array else None),
        "attributes": attributes
        if attributes is not None
        else (dict(data.attrs) if source_is_array else None),
        "order": order or (data.order if source_is_array else None),
    }
    if same_format and data.zarr_format == 3:
        kwargs["filters"] = _keep(filters, list(data.filters))
        kwargs["serializer"] = _keep(serializer, data.serializer)
        kwargs["compressors"] = _keep(compressors, list(data.compressors))
        kwargs["dimension_names"] = dimension_names or data.metadata.dimension_names
    elif same_format:
        kwargs["filters"] = _keep(filters, list(data.metadata.filters) if data.metadata.filters else None)
        kwargs["compressors"] = _keep(compressors, data.metadata.compressor)
    else:
        kwargs["filters"] = _keep(filters, AUTO)
        kwargs["compressors"] = _keep(compressors, AUTO)
        kwargs["serializer"] = _keep(serializer, AUTO)
        kwargs["dimension_names"] = dimension_names
    if kwargs.get("filters") == []:
        kwargs["filters"] = None
    target = create_array(
        store,
        name=name,
        shape=data.shape,
        dtype=data.dtype,
        chunk_key_encoding=chunk_key_encoding,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        device=device,
        **kwargs,
    )
    if write_data:
        copy_data(data, target)
    return target


def _keep(value: Any, kept: Any) -> Any:
    return kept if isinstance(value, str) and value == KEEP else value


def copy_data(source: Any, target: Array) -> None:
    """Copy in slabs of whole target chunks along axis 0, so memory stays bounded for huge arrays."""
    if target.ndim == 0:
        target[...] = source[...]
        return
    row_bytes = max(1, target.nbytes // max(target.shape[0], 1))
    rows_per_slab = max(
        target.chunks[0], (config.get("batch_bytes") // row_bytes) // target.chunks[0] * target.chunks[0]
    )
    for start in range(0, target.shape[0], rows_per_slab):
        slab = slice(start, min(start + rows_per_slab, target.shape[0]))
        target[slab] = source[slab]


def save_array(
    store: Any,
    arr: Any,
    *,
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Write ``arr`` as a new array at ``path`` (replacing what was there)."""
    arr = arr if hasattr(arr, "shape") and hasattr(arr, "dtype") else np.asarray(arr)
    create_array(
        store,
        name=path,
        data=arr,
        zarr_format=zarr_format,
        storage_options=storage_options,
        overwrite=True,
        **kwargs,
    )


def load(store: Any, path: str | None = None, zarr_format: int | None = None) -> Any:
    """The whole array at ``path`` as a NumPy (or device) array."""
    return open_array(store, mode="r", path=path or "", zarr_format=zarr_format)[...]


def save(
    store: Any,
    *args: Any,
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """``save(store, arr)`` writes one array; several arrays need a group (not in this cuzarr version)."""
    if len(args) == 1 and not kwargs:
        save_array(store, args[0], zarr_format=zarr_format, path=path, storage_options=storage_options)
        return
    raise NotImplementedError(
        "saving several arrays at once writes a group; cuzarr groups are not implemented yet - "
        "call save_array once per array with path="
    )
