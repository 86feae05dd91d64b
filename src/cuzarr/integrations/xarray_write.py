"""``to_zarr``: write an xarray Dataset with cuzarr, in the layout xarray's zarr backend reads.

Variables go through xarray's own CF encoder (times, ``scale_factor``/``add_offset``, ``_FillValue``,
the ``coordinates`` attribute), so the result opens equal with ``xr.open_zarr`` (zarr-python) and
with ``engine="cuzarr"``. Dask-backed variables are written in parallel, chunk-aligned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr
from xarray import Variable, conventions

import cuzarr

from .xarray_backend import DIMENSION_KEY, encode_fill_value

__all__ = ["to_zarr"]

#: Encoding keys handed to ``create_array`` when the caller passes them in ``encoding=``.
_CODEC_KEYS = ("compressors", "filters", "serializer")


def _attribute(value: Any) -> Any:
    """A JSON-ready attribute value (NumPy arrays -> lists, NumPy scalars -> Python scalars)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_attribute(v) for v in value]
    return value


def _chunks(var: Variable) -> tuple[int, ...] | None:
    """The chunk shape: the ``chunks`` encoding, else the largest dask chunk per axis, else auto."""
    chunks = var.encoding.get("chunks")
    if chunks is not None:
        return tuple(int(c) for c in chunks)
    if var.chunks is not None:
        return tuple(max(axis) if axis else 1 for axis in var.chunks)
    return None


def _fill_value(var: Variable, attrs: dict[str, Any], zarr_format: int) -> Any:
    """The Zarr fill value, updating ``attrs`` the way xarray does for each format.

    v2 readers take the Zarr fill value as ``_FillValue``; v3 readers keep them apart, so the
    attribute is stored (base64 for floats) and float arrays get NaN as their Zarr fill value.
    """
    if zarr_format == 2:
        return attrs.pop("_FillValue", None)
    fill = var.encoding.get("fill_value")
    if fill is None and var.dtype.kind == "f":
        fill = np.nan
    if "_FillValue" in attrs:
        value = attrs.pop("_FillValue")
        if value is not None:
            attrs["_FillValue"] = encode_fill_value(value, var.dtype)
    return fill


def _encoded_variables(
    ds: xr.Dataset, encoding: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, Variable], dict[str, Any]]:
    """The dataset's variables and attributes after xarray's CF encoding."""
    unknown = set(encoding) - set(ds.variables)
    if unknown:
        raise ValueError(f"encoding given for variables not in the dataset: {sorted(map(str, unknown))}")
    ds = ds.copy(deep=False)
    for name, extra in encoding.items():
        ds[name].encoding = {**ds[name].encoding, **extra}
    variables, attrs = conventions.encode_dataset_coordinates(ds)
    variables, attrs = conventions.cf_encoder(variables, attrs)
    return {str(k): v for k, v in variables.items()}, dict(attrs)


def _write_data(array: cuzarr.Array, var: Variable) -> None:
    data = var.data
    if hasattr(data, "dask"):
        from .dask import from_dask

        from_dask(data, array)
    elif hasattr(data, "__cuda_array_interface__"):
        array[...] = data
    else:
        array[...] = np.asarray(var.values)


def to_zarr(
    ds: xr.Dataset,
    store: Any = None,
    *,
    mode: str = "w-",
    group: str | None = None,
    zarr_format: int | None = None,
    consolidated: bool = True,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> cuzarr.Group:
    """Write ``ds`` as a group of arrays (one per variable) and return the group.

    ``mode``: ``'w-'`` fails when something exists at the group path, ``'w'`` replaces it.
    ``encoding``: per-variable CF encodings (``dtype``, ``scale_factor``, ``_FillValue``, ``units``)
    and Zarr layout (``chunks``, ``shards``, ``compressors``, ``filters``, ``serializer``).
    ``consolidated`` writes consolidated metadata for the group, as xarray does by default.
    """
    if mode not in ("w", "w-"):
        raise ValueError(f"to_zarr supports mode 'w' or 'w-', got {mode!r}")
    encoding = dict(encoding or {})
    variables, attrs = _encoded_variables(ds, encoding)
    root = cuzarr.open_group(
        store,
        mode=mode,
        path=group,
        zarr_format=zarr_format,
        storage_options=storage_options,
        attributes={str(k): _attribute(v) for k, v in attrs.items()},
    )
    fmt = root.zarr_format
    for name, var in variables.items():
        var_attrs = {str(k): _attribute(v) for k, v in var.attrs.items()}
        fill = _fill_value(var, var_attrs, fmt)
        options: dict[str, Any] = {k: encoding[name][k] for k in _CODEC_KEYS if k in encoding.get(name, {})}
        chunks = _chunks(var)
        if chunks is not None:
            options["chunks"] = chunks
        if var.encoding.get("shards") is not None:
            options["shards"] = tuple(var.encoding["shards"])
        if fmt == 3:
            options["dimension_names"] = [str(d) for d in var.dims]
        else:
            var_attrs[DIMENSION_KEY] = [str(d) for d in var.dims]
        array = root.create_array(
            name, shape=var.shape, dtype=var.dtype, fill_value=fill, attributes=var_attrs, **options
        )
        _write_data(array, var)
    if consolidated:
        cuzarr.consolidate_metadata(root.store, path=root.path)
    return root
