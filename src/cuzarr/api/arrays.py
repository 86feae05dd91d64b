"""Top-level functions with zarr-python 3's names that create and open arrays: create_array,
create, zeros, ones, full, empty, array, open_array, and ``open`` (an array or a group).

They resolve a store-like value (a ``StorePath`` included), decide whether to create or open
according to ``mode``, and return an ``Array`` or a ``Group``. All logic about nodes lives in
``core``; this module only wires. The group functions are in ``api_group.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.array import Array
from ..core.array_config import array_config
from ..core.creation import AUTO, DEFAULT_FILL, normalize_shape
from ..core.group import Group
from ..core.hierarchy import is_group, read_node_and_consolidated
from ..core.nodes import create_array_node
from ..errors import ArrayNotFoundError, GroupNotFoundError, ZarrRuntimeWarning, warn_user
from ..storage import make_store
from ..storage.store_path import split_store_path

_MODES = ("r", "r+", "a", "w", "w-")


def check_mode(mode: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    return mode


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
    fill_value: Any = DEFAULT_FILL,
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
    synchronizer: Any = None,
    record_type_name: str | None = None,
    record_fill_form: str | None = None,
) -> Array:
    """Create an array (Zarr v3 by default), and any missing parent groups, optionally holding ``data``.

    ``record_type_name`` ('structured' or 'struct') and ``record_fill_form`` ('base64', 'object'
    or 'bare') spell a v3 record data type and its fill value; None: the configured
    ``record_type_name`` and its own form. ``from_array`` and ``copy`` pass their source's.
    """
    store, name = split_store_path(store, name)
    resolved = make_store(store, mode="w" if overwrite else "a", storage_options=storage_options)
    return create_array_node(
        resolved,
        name,
        shape=shape,
        dtype=dtype,
        data=data,
        chunks=chunks,
        shards=shards,
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
        overwrite=overwrite,
        config=config,
        write_data=write_data,
        device=device,
        write_empty_chunks=write_empty_chunks,
        synchronizer=synchronizer,
        record_type_name=record_type_name,
        record_fill_form=record_fill_form,
    )


def create(
    shape: Any,
    *,
    chunks: Any = AUTO,
    dtype: Any = None,
    compressor: Any = AUTO,
    fill_value: Any = DEFAULT_FILL,
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
    compressors: Any = AUTO,
    serializer: Any = AUTO,
    shards: Any = None,
    **kwargs: Any,
) -> Array:
    """zarr-python's legacy constructor: ``compressor=``, ``path=``, ``mode=`` and friends.

    ``chunk_shape`` is another name for ``chunks``; ``compressors``, ``serializer`` and ``shards``
    are ``create_array``'s (zarr-python's ``create`` lacks them; the ``*_like`` functions need them). zarr-python 2's ``chunk_store``,
    ``cache_metadata``, ``cache_attrs``, ``read_only`` and ``meta_array`` are accepted and
    ignored, with zarr-python 3's warning.
    """
    synchronizer = kwargs.pop("synchronizer", None)
    chunk_shape = kwargs.pop("chunk_shape", None)
    if chunk_shape is not None:
        if not (isinstance(chunks, str) and chunks == AUTO) and chunks is not None:
            raise ValueError("Only one of chunk_shape or chunks can be provided.")
        chunks = chunk_shape
    for ignored in ("chunk_store", "cache_metadata", "cache_attrs", "read_only", "meta_array"):
        if kwargs.pop(ignored, None) is not None:
            warn_user(
                f"{ignored} is not yet implemented (a zarr-python 2 argument): it is ignored",
                ZarrRuntimeWarning,
            )
    if kwargs:
        raise TypeError(f"create() got unexpected keyword arguments {sorted(kwargs)}")
    if mode is not None:
        check_mode(mode)
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
        compressors=compressors,
        serializer=serializer,
        shards=shards,
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
        synchronizer=synchronizer,
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
    """A new array holding a copy of ``data``; a ``shape=`` must be ``data``'s (zarr-python
    ignores a different one, which would hide a mistake)."""
    data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
    shape = kwargs.pop("shape", None)
    if shape is not None and normalize_shape(shape) != tuple(data.shape):
        raise ValueError(f"shape {shape} does not match data of shape {tuple(data.shape)}")
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
    synchronizer: Any = None,
    **kwargs: Any,
) -> Array:
    """Open an existing array; with mode 'a', 'w' or 'w-' and ``shape=``, create one."""
    check_mode(mode)
    store, path = split_store_path(store, path)
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    if mode in ("r", "r+", "a"):
        try:
            return Array.open(
                resolved,
                zarr_format,
                path=path,
                read_only=mode == "r",
                device=device,
                config=config,
                write_empty_chunks=write_empty_chunks,
                synchronizer=synchronizer,
            )
        except ArrayNotFoundError:
            if mode != "a" or "shape" not in kwargs:
                raise
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
        synchronizer=synchronizer,
        **kwargs,
    )


def open(  # noqa: A001 - zarr-python's name
    store: Any = None,
    *,
    mode: str | None = None,
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Array | Group:
    """Open the node at ``path``, array or group, whichever is there.

    With ``shape=`` an array is opened or created (``open_array``); otherwise an existing array is
    returned as an ``Array`` and anything else goes to ``open_group`` (which creates a group in
    modes 'a', 'w' and 'w-'). ``mode`` defaults to 'r' for read-only stores, else 'a'.
    """
    if mode is None:
        mode = "r" if getattr(store, "read_only", False) else "a"
    check_mode(mode)
    store, path = split_store_path(store, path)
    if "shape" in kwargs:
        return open_array(
            store, mode=mode, zarr_format=zarr_format, path=path, storage_options=storage_options, **kwargs
        )
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    if mode in ("r", "r+", "a"):
        use_consolidated = kwargs.get("use_consolidated")
        metadata, consolidated = read_node_and_consolidated(resolved, path, zarr_format, use_consolidated)
        if metadata is not None and not is_group(metadata):
            return Array(
                resolved,
                path,
                metadata,  # type: ignore[arg-type]
                device=kwargs.get("device"),
                read_only=mode == "r",
                write_empty_chunks=array_config(kwargs.get("config"), kwargs.get("write_empty_chunks")),
                synchronizer=kwargs.get("synchronizer"),
            )
        if metadata is not None:
            return Group(
                resolved,
                path,
                metadata,  # type: ignore[arg-type]
                consolidated=consolidated,
                read_only=mode == "r",
                synchronizer=kwargs.get("synchronizer"),
                device=kwargs.get("device"),
            )
        if mode != "a":
            raise GroupNotFoundError(f"no array or group found at path '{path}' in {resolved!r}")
    from ..api_group import open_group  # the group functions build on this module's helpers

    return open_group(resolved, mode=mode, zarr_format=zarr_format, path=path, **kwargs)
