"""Copying helpers with zarr-python's names: ``*_like``, ``open_like``, ``from_array``, ``save``/``load``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from .api.arrays import AUTO, create, create_array, open_array
from .api.arrays import open as open_node
from .api_group import open_group
from .config import config
from .core.array import Array
from .core.copy import record_spelling
from .core.group import Group
from .core.like import like_kwargs
from .errors import ZarrUserWarning, warn_user

KEEP = "keep"


def _like_kwargs(a: Any) -> dict[str, Any]:
    return like_kwargs(a)


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
    shards: Any = KEEP,
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
    record_type_name: str | None = None,
) -> Array:
    """A new array holding a copy of ``data`` (NumPy or cuzarr); ``'keep'`` reuses the source's settings.

    A v3 record array copied to v3 keeps its data type's spelling unless ``record_type_name`` says.
    """
    source_is_array = isinstance(data, Array)
    if source_is_array and zarr_format == 3 and getattr(data.metadata, "order", "C") == "F":
        warn_user(
            "The 'order' attribute of a Zarr format 2 array does not have a direct analogue in Zarr "
            "format 3. The existing order='F' of the source Zarr format 2 array will be ignored.",
            ZarrUserWarning,
        )
    if not source_is_array:
        data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
    same_format = source_is_array and (zarr_format in (None, data.zarr_format))
    kwargs: dict[str, Any] = {
        "chunks": _keep(chunks, data.chunks if source_is_array else AUTO),
        # Zarr v2 has no sharding: a kept layout drops it when converting to v2
        "shards": _keep(shards, data.shards if source_is_array and zarr_format != 2 else None),
        "fill_value": fill_value
        if fill_value is not None
        else (data.fill_value if source_is_array else None),
        "zarr_format": zarr_format or (data.zarr_format if source_is_array else None),
        "attributes": attributes
        if attributes is not None
        else (dict(data.attrs) if source_is_array else None),
        # a v2 source's order carries over to v2 (v3 stores none)
        "order": order
        or (getattr(data.metadata, "order", None) if source_is_array and zarr_format != 3 else None),
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
    chosen = {"record_type_name": record_type_name} if record_type_name is not None else {}
    if same_format:
        kwargs.update(record_spelling(data, chosen))
    kwargs.update(chosen)
    if kwargs.get("filters") == []:
        kwargs["filters"] = None
    if chunk_key_encoding is None and same_format:  # keep the source's chunk keys (v2: its separator)
        chunk_key_encoding = data.metadata.chunk_key_encoding
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
    """The array at ``path`` as a NumPy (or device) array; for a group, a read-only mapping of its
    arrays' names to their data, each read only when looked up (zarr-python 2's ``LazyLoader``)."""
    node = open_node(store, mode="r", path=path, zarr_format=zarr_format)
    if isinstance(node, Group):
        return LazyLoader(node)
    return node[...]


class LazyLoader(Mapping[str, Any]):
    """The arrays of a group, loaded into memory on access."""

    def __init__(self, group: Group):
        self._group = group

    def __getitem__(self, key: str) -> Any:
        node = self._group[key]
        if not isinstance(node, Array):
            raise KeyError(f"'{key}' in group '{self._group.name}' is a group, not an array")
        return node[...]

    def __iter__(self) -> Iterator[str]:
        return self._group.array_keys()

    def __len__(self) -> int:
        return sum(1 for _ in self._group.array_keys())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and isinstance(self._group.get(key), Array)

    def __repr__(self) -> str:
        return f"<LazyLoader: {', '.join(self)}>"


def save(
    store: Any,
    *args: Any,
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """``save(store, arr)`` writes one array; several (``save(store, a, b, name=c)``) write a group
    holding ``arr_0``, ``arr_1`` and ``name``."""
    if not args and not kwargs:
        raise ValueError("save() needs at least one array")
    if len(args) == 1 and not kwargs:
        save_array(store, args[0], zarr_format=zarr_format, path=path, storage_options=storage_options)
        return
    save_group(store, *args, zarr_format=zarr_format, path=path, storage_options=storage_options, **kwargs)


def save_group(
    store: Any,
    *args: Any,
    zarr_format: int | None = None,
    path: str | None = None,
    storage_options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Replace whatever is at ``path`` by a group of arrays: positional ones as ``arr_0``, ``arr_1``...,
    keyword ones under their names."""
    if not args and not kwargs:
        raise ValueError("save_group() needs at least one array")
    arrays = {f"arr_{i}": a for i, a in enumerate(args)} | kwargs
    for name, value in arrays.items():
        if not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(f"save_group(): {name!r} must be a NumPy-like array, got {type(value).__name__}")
    group = open_group(store, mode="w", path=path, zarr_format=zarr_format, storage_options=storage_options)
    for name, value in arrays.items():
        group.create_array(name, data=value, overwrite=True)
