"""An xarray backend (``engine="cuzarr"``): lazy variables over the arrays of a cuzarr group.

It reads what xarray's zarr backend writes: dimension names from v3 ``dimension_names`` or the v2
``_ARRAY_DIMENSIONS`` attribute, the Zarr fill value as ``_FillValue`` (v2) or the base64-encoded
``_FillValue`` attribute (v3), and consolidated metadata when the group has it. CF decoding
(masking, scaling, times) is left to xarray, so results match ``xr.open_zarr``; with a device,
``xarray_device`` says which variables stay on the host and masks the others itself.
"""

from __future__ import annotations

import base64
import os
import posixpath
import struct
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from xarray import Dataset, Variable, coding
from xarray.backends import BackendArray, BackendEntrypoint
from xarray.backends.common import AbstractDataStore
from xarray.backends.store import StoreBackendEntrypoint
from xarray.core import indexing
from xarray.core.utils import FrozenDict

import cuzarr

from .xarray_device import DeviceMask, plan_mask, stays_on_host

if TYPE_CHECKING:
    from xarray import DataTree

__all__ = [
    "DIMENSION_KEY",
    "CuzarrBackendArray",
    "CuzarrBackendEntrypoint",
    "CuzarrDataStore",
    "decode_fill_value",
    "encode_fill_value",
    "open_dataset",
]

#: The v2 attribute (and v3 fallback) naming an array's dimensions, as xarray writes it.
DIMENSION_KEY = "_ARRAY_DIMENSIONS"


def encode_fill_value(value: Any, dtype: np.dtype) -> Any:
    """A ``_FillValue`` attribute as xarray stores it in v3 (floats as base64 of a little-endian double)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return base64.standard_b64encode(struct.pack("<d", float(value))).decode()
    if dtype.kind == "c":
        return [encode_fill_value(value.real, np.float64), encode_fill_value(value.imag, np.float64)]
    if dtype.kind == "S":
        return base64.standard_b64encode(bytes(value)).decode()
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iuMm":
        return int(value)
    return str(value)


def decode_fill_value(value: Any, dtype: np.dtype) -> Any:
    """The inverse of ``encode_fill_value``."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f" and isinstance(value, str | bytes):
        return struct.unpack("<d", base64.standard_b64decode(value))[0]
    if dtype.kind == "c" and isinstance(value, list | tuple) and len(value) == 2:
        return complex(decode_fill_value(value[0], np.float64), decode_fill_value(value[1], np.float64))
    if dtype.kind == "S" and isinstance(value, str):
        return base64.standard_b64decode(value)
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu" and isinstance(value, int | float | np.integer | np.floating):
        return int(value)
    return value


class CuzarrBackendArray(BackendArray):
    """Lazy access to one array: basic keys -> ``[]``, outer keys -> ``oindex``, vectorized -> ``vindex``."""

    def __init__(self, array: cuzarr.Array, transform: DeviceMask | None = None):
        self.array = array
        self.shape = tuple(array.shape)
        dtype = array.dtype
        self.dtype = coding.strings.create_vlen_dtype(str) if dtype.hasobject else dtype
        #: CF masking done here for device arrays (xarray's mask coder needs NumPy)
        self.transform = transform
        if transform is not None:
            self.dtype = transform.dtype
        # Device reads run one at a time (see integrations/dask.py ``_device_lock`` for why).
        self._lock = threading.Lock() if array.device != "cpu" else None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock() if self.array.device != "cpu" else None

    def _basic(self, key: tuple[Any, ...]) -> Any:
        return self.array[key]

    def _outer(self, key: tuple[Any, ...]) -> Any:
        return self.array.oindex[key]

    def _vectorized(self, key: tuple[Any, ...]) -> Any:
        return self.array.vindex[key]

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        if isinstance(key, indexing.VectorizedIndexer):
            method = self._vectorized
        elif isinstance(key, indexing.OuterIndexer):
            method = self._outer
        else:
            method = self._basic
        if self._lock is None:
            data = indexing.explicit_indexing_adapter(
                key, self.shape, indexing.IndexingSupport.VECTORIZED, method
            )
        else:
            with self._lock:
                data = indexing.explicit_indexing_adapter(
                    key, self.shape, indexing.IndexingSupport.VECTORIZED, method
                )
        return data if self.transform is None else self.transform(data)


def _dimensions(name: str, array: cuzarr.Array) -> tuple[tuple[str, ...], dict[str, Any]]:
    """Dimension names and the attributes left for xarray (the dimension attribute hidden)."""
    attributes = {k: v for k, v in dict(array.attrs).items() if not k.lower().startswith("_nc")}
    from_attrs = attributes.pop(DIMENSION_KEY, None)
    names = array.dimension_names
    if names is None or any(n is None for n in names):
        names = from_attrs
    if names is None or len(names) != array.ndim:
        raise ValueError(
            f"array '{name}' ({array!r}) has no dimension names: xarray needs v3 dimension_names or "
            f"the '{DIMENSION_KEY}' attribute"
        )
    return tuple(str(n) for n in names), attributes


def _codec_encoding(array: cuzarr.Array) -> dict[str, Any]:
    """The array's codecs as xarray's zarr backend records them, so writing the variable again
    (with cuzarr's ``to_zarr`` or xarray's) keeps them: v3 codecs as JSON objects, which both
    writers accept, v2 ones as the numcodecs objects they are."""
    if array.zarr_format == 2:
        return {"compressors": tuple(array.compressors), "filters": tuple(array.filters)}
    return {
        "compressors": tuple(c.to_json() for c in array.compressors),
        "filters": tuple(f.to_json() for f in array.filters),
        "serializer": array.serializer.to_json(),
    }


class CuzarrDataStore(AbstractDataStore):
    """The arrays directly under one group, as xarray variables (read-only)."""

    def __init__(
        self,
        group: cuzarr.Group,
        *,
        use_zarr_fill_value_as_mask: bool | None = None,
        decoding: dict[str, Any] | None = None,
    ):
        self.group = group
        #: xarray's CF options (``mask_and_scale``, ``decode_times``...): device reads need them
        self._decoding = decoding or {}
        if use_zarr_fill_value_as_mask is None:
            use_zarr_fill_value_as_mask = group.zarr_format == 2
        self._fill_as_mask = use_zarr_fill_value_as_mask
        self._arrays = dict(group.arrays())

    def open_store_variable(self, name: str) -> Variable:
        array = self._arrays[name]
        dims, attributes = _dimensions(name, array)
        encoding: dict[str, Any] = {"chunks": array.chunks, "preferred_chunks": dict(zip(dims, array.chunks))}
        encoding.update(shards=array.shards, **_codec_encoding(array))
        if self._fill_as_mask:
            if array.fill_value is not None:
                attributes["_FillValue"] = array.fill_value
        else:
            if array.zarr_format == 3:
                encoding["fill_value"] = array.fill_value
            if "_FillValue" in attributes:
                attributes["_FillValue"] = decode_fill_value(attributes["_FillValue"], array.dtype)
        mask = None
        if array.device != "cpu":  # see xarray_device: what xarray can decode on a device
            plan = None
            if not stays_on_host(name, dims, attributes, self._decoding):
                plan = plan_mask(name, array.dtype, attributes, encoding, self._decoding)
            if plan is None:
                array = array.with_device("cpu")
            else:
                mask, attributes, encoding = plan
        data = indexing.LazilyIndexedArray(CuzarrBackendArray(array, mask))
        return Variable(dims, data, attributes, encoding)

    def get_variables(self) -> FrozenDict:
        return FrozenDict((name, self.open_store_variable(name)) for name in self._arrays)

    def get_attrs(self) -> dict[str, Any]:
        return {k: v for k, v in dict(self.group.attrs).items() if not k.lower().startswith("_nc")}

    def get_dimensions(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for name, array in self._arrays.items():
            for dim, size in zip(_dimensions(name, array)[0], array.shape):
                if sizes.setdefault(dim, size) != size:
                    raise ValueError(f"dimension {dim!r} has conflicting lengths {size} and {sizes[dim]}")
        return sizes

    def close(self) -> None:
        """Stores hold no open handles that xarray must release (a ZipStore is closed by its owner)."""


def open_group(
    store: Any,
    *,
    group: str | None = None,
    consolidated: bool | None = None,
    storage_options: dict[str, Any] | None = None,
    zarr_format: int | None = None,
    device: str | None = None,
) -> cuzarr.Group:
    """The group to read: ``store`` may be a path, URL, cuzarr store or an open ``cuzarr.Group``."""
    if isinstance(store, cuzarr.Group):
        return store[group] if group else store  # type: ignore[return-value]
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    return cuzarr.open_group(
        store,
        mode="r",
        path=group,
        storage_options=storage_options,
        zarr_format=zarr_format,
        use_consolidated=consolidated,
        device=device,
    )


class CuzarrBackendEntrypoint(BackendEntrypoint):
    """``xr.open_dataset(path, engine="cuzarr", device="cuda")`` reads Zarr v2/v3 through cuzarr."""

    description = "Open Zarr v2/v3 stores with cuzarr (NumPy on CPU, CuPy with device='cuda')"
    url = "https://github.com/cuzarr/cuzarr"
    supports_groups = True

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        """Claim ``*.zarr`` paths only when zarr-python is absent, so installing cuzarr never
        changes which engine xarray picks by itself."""
        if isinstance(filename_or_obj, cuzarr.Group):
            return True
        if not isinstance(filename_or_obj, str | os.PathLike):
            return False
        if os.path.splitext(os.fspath(filename_or_obj).rstrip("/"))[1] != ".zarr":
            return False
        try:
            import zarr  # noqa: F401
        except ImportError:
            return True
        return False

    def open_dataset(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        mask_and_scale: bool = True,
        decode_times: bool = True,
        concat_characters: bool = True,
        decode_coords: bool = True,
        drop_variables: str | Iterable[str] | None = None,
        use_cftime: bool | None = None,
        decode_timedelta: bool | None = None,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: dict[str, Any] | None = None,
        zarr_format: int | None = None,
        device: str | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
    ) -> Dataset:
        root = open_group(
            filename_or_obj,
            group=group,
            consolidated=consolidated,
            storage_options=storage_options,
            zarr_format=zarr_format,
            device=device,
        )
        return _decode_group(
            root,
            use_zarr_fill_value_as_mask,
            mask_and_scale=mask_and_scale,
            decode_times=decode_times,
            concat_characters=concat_characters,
            decode_coords=decode_coords,
            drop_variables=drop_variables,
            use_cftime=use_cftime,
            decode_timedelta=decode_timedelta,
        )

    def open_datatree(  # type: ignore[override]
        self, filename_or_obj: Any, *, group: str | None = None, **kwargs: Any
    ) -> DataTree:
        """``xr.open_datatree(path, engine="cuzarr")``: every group below ``group`` as a tree node."""
        from xarray.backends.common import datatree_from_dict_with_io_cleanup  # xarray >= 2024.10

        return datatree_from_dict_with_io_cleanup(
            self.open_groups_as_dict(filename_or_obj, group=group, **kwargs)
        )

    def open_groups_as_dict(  # type: ignore[override]
        self,
        filename_or_obj: Any,
        *,
        group: str | None = None,
        consolidated: bool | None = None,
        storage_options: dict[str, Any] | None = None,
        zarr_format: int | None = None,
        device: str | None = None,
        use_zarr_fill_value_as_mask: bool | None = None,
        **decoding: Any,
    ) -> dict[str, Dataset]:
        """``xr.open_groups(path, engine="cuzarr")``: one Dataset per group, keyed as xarray's zarr
        engine keys them (``"/"``, ``"/a"``, ``"/a/b"``; relative to ``group`` when given).
        ``decoding`` takes ``open_dataset``'s CF options (``mask_and_scale``, ``decode_times``...)."""
        root = open_group(
            filename_or_obj,
            group=group,
            consolidated=consolidated,
            storage_options=storage_options,
            zarr_format=zarr_format,
            device=device,
        )
        groups: dict[str, Dataset] = {}
        for path, node in _iter_groups(root, "/"):
            name = posixpath.relpath(path, "/") if group else path
            groups[name] = _decode_group(node, use_zarr_fill_value_as_mask, **decoding)
        return groups


def _decode_group(group: cuzarr.Group, use_zarr_fill_value_as_mask: bool | None, **decoding: Any) -> Dataset:
    """The variables of one group as a CF-decoded Dataset (xarray's own store decoding)."""
    store = CuzarrDataStore(group, use_zarr_fill_value_as_mask=use_zarr_fill_value_as_mask, decoding=decoding)
    return StoreBackendEntrypoint().open_dataset(store, **decoding)


def _iter_groups(group: cuzarr.Group, path: str) -> Iterator[tuple[str, cuzarr.Group]]:
    """``group`` and every group below it, parents first, with their tree paths."""
    yield path, group
    for name, child in group.groups():
        yield from _iter_groups(child, posixpath.join(path, name))


def open_dataset(store: Any, **kwargs: Any) -> Dataset:
    """``xr.open_dataset(store, engine=CuzarrBackendEntrypoint, **kwargs)`` without the entry point."""
    import xarray as xr

    return xr.open_dataset(store, engine=CuzarrBackendEntrypoint, **kwargs)
