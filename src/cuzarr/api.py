"""Top-level functions with zarr-python 3's names: create_array, open_array, zeros, ...

They resolve a store-like value, decide whether to create or open according to ``mode``, and
return an ``Array``. All logic about arrays lives in ``core``; this module only wires.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import config as global_config
from .core.array import Array
from .core.creation import AUTO, build_metadata
from .core.metadata_io import existing_node_keys, read_node_metadata, write_array_metadata
from .errors import (
    ContainsArrayError,
    ContainsGroupError,
    NodeNotFoundError,
    NodeTypeValidationError,
    ReadOnlyError,
)
from .metadata import ArrayMetadataV2, ArrayMetadataV3
from .storage import make_store
from .storage.base import Store

_MODES = ("r", "r+", "a", "w", "w-")


def _check_mode(mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    return mode


def _array_config(config: Any, write_empty_chunks: bool | None) -> bool | None:
    """``write_empty_chunks`` from ``config=`` ({'write_empty_chunks': ...}) or the legacy kwarg."""
    if config is None:
        return write_empty_chunks
    if isinstance(config, dict):
        unknown = set(config) - {"write_empty_chunks", "order", "read_missing_chunks"}
        if unknown:
            raise ValueError(f"unknown array config keys {sorted(unknown)}")
        return config.get("write_empty_chunks", write_empty_chunks)
    return getattr(config, "write_empty_chunks", write_empty_chunks)


def _prepare_path(store: Store, path: str, overwrite: bool) -> None:
    """Refuse to create over an existing node unless ``overwrite``; then clear the path."""
    existing = existing_node_keys(store, path)
    if existing and not overwrite:
        kind = ContainsGroupError if any(k.endswith((".zgroup",)) for k in existing) else ContainsArrayError
        if kind is ContainsArrayError and _is_group(store, path):
            kind = ContainsGroupError
        raise kind(f"a node already exists at path '{path}' in {store!r}; pass overwrite=True to replace it")
    if overwrite:
        store.delete_prefix(f"{path}/" if path else "")


def _is_group(store: Store, path: str) -> bool:
    try:
        return read_node_metadata(store, path).node_type == "group"
    except NodeNotFoundError:
        return False


def create_array(
    store: Any = None,
    *,
    name: str | None = None,
    shape: Any = None,
    dtype: Any = None,
    data: Any = None,
    chunks: Any = AUTO,
    shards: Any = None,
    filters: Any = AUTO,
    compressors: Any = AUTO,
    compressor: Any = AUTO,
    serializer: Any = AUTO,
    fill_value: Any = None,
    order: str | None = None,
    zarr_format: int | None = None,
    attributes: dict[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    dimension_names: Any = None,
    storage_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    config: Any = None,
    write_data: bool = True,
    device: str | None = None,
    codecs: Any = None,
    dimension_separator: str | None = None,
    write_empty_chunks: bool | None = None,
) -> Array:
    """Create an array (Zarr v3 by default) and optionally write ``data`` into it."""
    if shards is not None:
        raise NotImplementedError("sharded arrays (shards=) are not supported by this cuzarr version yet")
    if data is not None:
        data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
        if shape is not None and tuple(shape) != tuple(data.shape):
            raise ValueError(f"shape {tuple(shape)} does not match data of shape {tuple(data.shape)}")
        shape = data.shape
        dtype = dtype if dtype is not None else data.dtype
    if shape is None:
        raise TypeError("create_array() needs shape= (or data=)")
    zarr_format = zarr_format or global_config.get("default_zarr_format")
    metadata = build_metadata(
        shape=shape,
        dtype=dtype,
        chunks=chunks,
        filters=filters,
        compressors=compressors,
        compressor=compressor,
        serializer=serializer,
        codecs=codecs,
        fill_value=fill_value,
        order=order,
        zarr_format=zarr_format,
        attributes=attributes,
        chunk_key_encoding=chunk_key_encoding,
        dimension_separator=dimension_separator,
        dimension_names=dimension_names,
    )
    resolved = make_store(store, mode="w" if overwrite else "a", storage_options=storage_options)
    if resolved.read_only:
        raise ReadOnlyError(f"cannot create an array in read-only store {resolved!r}")
    path = (name or "").strip("/")
    _prepare_path(resolved, path, overwrite)
    write_array_metadata(resolved, path, metadata)
    array = Array(
        resolved,
        path,
        metadata,
        device=device,
        write_empty_chunks=_array_config(config, write_empty_chunks),
    )
    if data is not None and write_data:
        array[...] = data
    return array


def create(
    shape: Any,
    *,
    chunks: Any = AUTO,
    dtype: Any = None,
    compressor: Any = AUTO,
    fill_value: Any = None,
    order: str | None = None,
    store: Any = None,
    overwrite: bool = False,
    path: str | None = None,
    filters: Any = AUTO,
    zarr_format: int | None = None,
    attributes: dict[str, Any] | None = None,
    chunk_key_encoding: Any = None,
    codecs: Any = None,
    dimension_names: Any = None,
    storage_options: dict[str, Any] | None = None,
    config: Any = None,
    mode: str | None = None,
    dimension_separator: str | None = None,
    write_empty_chunks: bool | None = None,
    device: str | None = None,
    **kwargs: Any,
) -> Array:
    """zarr-python's legacy constructor: ``compressor=``, ``path=``, ``mode=`` and friends."""
    for ignored in (
        "synchronizer",
        "chunk_store",
        "cache_metadata",
        "cache_attrs",
        "read_only",
        "meta_array",
    ):
        kwargs.pop(ignored, None)
    if kwargs:
        raise TypeError(f"create() got unexpected keyword arguments {sorted(kwargs)}")
    if mode is not None:
        _check_mode(mode)
        overwrite = overwrite or mode == "w"
    if chunks is True or chunks is None:
        chunks = AUTO
    return create_array(
        store,
        name=path,
        shape=shape,
        dtype=dtype,
        chunks=chunks,
        filters=filters,
        compressor=compressor,
        fill_value=fill_value,
        order=order,
        zarr_format=zarr_format,
        attributes=attributes,
        chunk_key_encoding=chunk_key_encoding,
        codecs=codecs,
        dimension_names=dimension_names,
        storage_options=storage_options,
        overwrite=overwrite,
        config=config,
        dimension_separator=dimension_separator,
        write_empty_chunks=write_empty_chunks,
        device=device,
    )


def zeros(shape: Any, **kwargs: Any) -> Array:
    """An array whose every element reads as 0 (no chunk is written)."""
    return create(shape, fill_value=0, **kwargs)


def ones(shape: Any, **kwargs: Any) -> Array:
    return create(shape, fill_value=1, **kwargs)


def full(shape: Any, fill_value: Any, **kwargs: Any) -> Array:
    return create(shape, fill_value=fill_value, **kwargs)


def empty(shape: Any, **kwargs: Any) -> Array:
    """An array with the default fill value; its contents are unspecified until written."""
    return create(shape, **kwargs)


def array(data: Any, **kwargs: Any) -> Array:
    """A new array holding a copy of ``data``."""
    data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
    kwargs.setdefault("dtype", data.dtype)
    result = create(data.shape, **kwargs)
    result[...] = data
    return result


def open_array(
    store: Any = None,
    *,
    mode: str = "a",
    zarr_format: int | None = None,
    path: str = "",
    storage_options: dict[str, Any] | None = None,
    device: str | None = None,
    config: Any = None,
    write_empty_chunks: bool | None = None,
    **kwargs: Any,
) -> Array:
    """Open an existing array; with mode 'a', 'w' or 'w-' and ``shape=``, create one."""
    _check_mode(mode)
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    path = (path or "").strip("/")
    write_empty = _array_config(config, write_empty_chunks)
    if mode in ("r", "r+", "a"):
        try:
            metadata = read_node_metadata(resolved, path, zarr_format)
        except NodeNotFoundError:
            if mode != "a" or "shape" not in kwargs:
                raise
        else:
            if not isinstance(metadata, (ArrayMetadataV2, ArrayMetadataV3)):
                raise NodeTypeValidationError(
                    f"the node at path '{path}' in {resolved!r} is a group, not an array"
                )
            return Array(
                resolved,
                path,
                metadata,
                device=device,
                read_only=mode == "r",
                write_empty_chunks=write_empty,
            )
    if "shape" not in kwargs:
        raise TypeError(f"open_array(mode={mode!r}) creates a new array and needs shape=")
    return create_array(
        resolved,
        name=path,
        zarr_format=zarr_format,
        overwrite=mode == "w",
        device=device,
        config=config,
        write_empty_chunks=write_empty_chunks,
        **kwargs,
    )


def open(  # noqa: A001 - zarr-python's name
    store: Any = None,
    *,
    mode: str = "a",
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Array:
    """Open the node at ``path``: an existing array, or a new one when ``shape=`` is given."""
    return open_array(
        store, mode=mode, zarr_format=zarr_format, path=path or "", storage_options=storage_options, **kwargs
    )
