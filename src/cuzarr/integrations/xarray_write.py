"""``to_zarr``: write an xarray Dataset or DataTree with cuzarr, in the layout xarray's zarr backend reads.

Variables go through xarray's own CF encoder (times, ``scale_factor``/``add_offset``, ``_FillValue``,
the ``coordinates`` attribute), so the result opens equal with ``xr.open_zarr`` (zarr-python) and
with ``engine="cuzarr"``. The modes are xarray's: 'w'/'w-' create, 'a' adds or overwrites variables
('a-' with ``append_dim`` rewrites only what grows), 'r+' rewrites existing variables only, and
``append_dim``/``region`` write into part of a stored array. A variable already stored is encoded
with its stored encoding (time units, scale factors), exactly as xarray does.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from xarray import Variable, conventions

import cuzarr

from .xarray_backend import DIMENSION_KEY, CuzarrDataStore, encode_fill_value
from .xarray_modes import (
    check_append_dtype,
    check_encoding,
    check_new_sizes,
    check_new_variables,
    choose_mode,
    resolve_region,
    transpose_to_existing,
)
from .xarray_region import write_variable

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


def _create_array(group: cuzarr.Group, name: str, var: Variable, options: Mapping[str, Any]) -> cuzarr.Array:
    """A new array for ``var`` with its attributes, dimension names, fill value and layout."""
    var_attrs = {str(k): _attribute(v) for k, v in var.attrs.items()}
    fill = _fill_value(var, var_attrs, group.zarr_format)
    kwargs: dict[str, Any] = {k: options[k] for k in _CODEC_KEYS if k in options}
    chunks = _chunks(var)
    if chunks is not None:
        kwargs["chunks"] = chunks
    if var.encoding.get("shards") is not None:
        kwargs["shards"] = tuple(var.encoding["shards"])
    if group.zarr_format == 3:
        kwargs["dimension_names"] = [str(d) for d in var.dims]
    else:
        var_attrs[DIMENSION_KEY] = [str(d) for d in var.dims]
    return group.create_array(
        name, shape=var.shape, dtype=var.dtype, fill_value=fill, attributes=var_attrs, **kwargs
    )


def _stored_index(reader: CuzarrDataStore, dim: str) -> pd.Index:
    """The decoded values of the stored coordinate ``dim`` (for ``region='auto'``)."""
    variable = conventions.decode_cf_variable(dim, reader.open_store_variable(dim).compute())
    return pd.Index(variable.data)


def _encode_existing(
    reader: CuzarrDataStore,
    variables: Mapping[str, Variable],
    region: Mapping[Hashable, slice] | None,
    append_dim: Hashable | None,
) -> dict[str, Variable]:
    """Variables already in the store, encoded with the store's encoding and dimension order."""
    stored, _, _ = conventions.decode_cf_variables(
        {name: reader.open_store_variable(name) for name in variables}, {}
    )
    with_encoding = {}
    for name, var in variables.items():
        check_append_dtype(name, stored[name], var)
        with_encoding[name] = var.copy(deep=False)
        with_encoding[name].encoding = dict(stored[name].encoding)
    encoded, _ = conventions.cf_encoder(with_encoding, {})
    return {
        name: transpose_to_existing(name, var, stored[name], region, append_dim)
        for name, var in encoded.items()
    }


def _final_sizes(
    reader: CuzarrDataStore, ds: xr.Dataset, append_dim: Hashable | None, existing: set[str]
) -> dict[str, int]:
    """The store's dimension lengths once this write is done (for checking new variables)."""
    if not existing:
        return {}
    sizes = reader.get_dimensions()
    if append_dim is not None and str(append_dim) in sizes:
        sizes[str(append_dim)] += ds.sizes[append_dim]
    return sizes


def _encode(
    reader: CuzarrDataStore,
    ds: xr.Dataset,
    *,
    mode: str,
    existing: set[str],
    encoding: Mapping[str, dict[str, Any]],
    append_dim: Hashable | None,
    region: Mapping[Hashable, slice] | None,
) -> tuple[dict[str, Variable], dict[str, Any]]:
    """The variables to write, CF-encoded and checked against the store, and the group attributes."""
    check_encoding(encoding, existing, mode)
    variables, attrs = conventions.encode_dataset_coordinates(ds)
    variables = {str(k): v for k, v in variables.items()}
    for name, extra in encoding.items():
        if name in variables:
            variables[name].encoding = extra  # replaces, as xarray's dump_to_store does
    check_new_variables(variables, existing, mode)
    if append_dim is not None and str(append_dim) not in existing:
        dims = reader.get_dimensions()
        if str(append_dim) not in dims:
            raise ValueError(
                f"append_dim={append_dim!r} does not match any existing dataset dimensions {dims}"
            )
    final_sizes = _final_sizes(reader, ds, append_dim, existing)
    encoded, attrs = conventions.cf_encoder({k: v for k, v in variables.items() if k not in existing}, attrs)
    for name, var in encoded.items():
        check_new_sizes(name, var, final_sizes)
    old = {k: v for k, v in variables.items() if k in existing}
    if old:
        encoded.update(_encode_existing(reader, old, region, append_dim))
    if mode == "a-" and append_dim is not None:
        encoded = {k: v for k, v in encoded.items() if k not in existing or append_dim in v.dims}
    return encoded, {str(k): _attribute(v) for k, v in attrs.items()}


def _target_array(
    group: cuzarr.Group,
    name: str,
    var: Variable,
    existing: set[str],
    options: Mapping[str, Any],
    append_dim: Any,
) -> tuple[cuzarr.Array, int | None]:
    """The array to write ``var`` into, created or grown along ``append_dim`` (the old length returned)."""
    if name not in existing:
        return _create_array(group, name, var, options), None
    array = group.get_array(name)
    if append_dim is None or append_dim not in var.dims:
        return array, None
    axis = var.dims.index(append_dim)
    old = array.shape[axis]
    array.resize(tuple(n + var.shape[axis] if a == axis else n for a, n in enumerate(array.shape)))
    return array, old


def _write_dataset(
    group: cuzarr.Group,
    ds: xr.Dataset,
    *,
    mode: str,
    encoding: Mapping[str, Mapping[str, Any]] | None,
    append_dim: Hashable | None,
    region: Any,
) -> None:
    """Write ``ds`` into the open ``group`` following ``mode``; metadata is consolidated by the caller.

    Everything is checked before the first byte is written, so a refused write leaves the store as it was.
    """
    options = {str(k): dict(v) for k, v in (encoding or {}).items()}
    existing = set() if mode == "w" else set(group.array_keys())
    reader = CuzarrDataStore(group)
    ds, region = resolve_region(ds, region, mode, append_dim, lambda dim: _stored_index(reader, dim))
    encoded, attrs = _encode(
        reader, ds, mode=mode, existing=existing, encoding=options, append_dim=append_dim, region=region
    )
    if mode != "r+":
        group.attrs.put(attrs)
    for name, var in encoded.items():
        selection = {dim: (region or {}).get(dim, slice(None)) for dim in var.dims}
        array, old = _target_array(group, name, var, existing, options.get(name, {}), append_dim)
        if old is not None:
            selection[append_dim] = slice(old, None)
        write_variable(array, var, tuple(selection[dim] for dim in var.dims))


def _is_tree(data: Any) -> bool:
    """Whether ``data`` is a DataTree (part of xarray since 2024.10)."""
    tree_type = getattr(xr, "DataTree", None)
    return tree_type is not None and isinstance(data, tree_type)


def _check_encoding_names(data: xr.Dataset | xr.DataTree, encoding: Mapping[str, Any] | None) -> None:
    """Refuse encodings for variables (or, for a tree, nodes) that ``data`` lacks, before writing."""
    if _is_tree(data):
        unexpected = set(encoding or {}) - set(data.groups)
        if unexpected:
            raise ValueError(f"unexpected encoding group name(s) provided: {unexpected}")
        for path, node_encoding in (encoding or {}).items():
            _check_encoding_names(data[path].to_dataset(), node_encoding)
        return
    unknown = set(encoding or {}) - {str(k) for k in data.variables}
    if unknown:
        raise ValueError(f"encoding given for variables not in the dataset: {sorted(unknown)}")


def _open_target(
    store: Any,
    mode: str,
    group: str | None,
    zarr_format: int | None,
    consolidated: bool | None,
    storage_options: dict[str, Any] | None,
) -> cuzarr.Group:
    """The group to write into; 'a' reads the store itself (never a consolidated snapshot)."""
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    options: dict[str, Any] = {"path": group, "zarr_format": zarr_format, "storage_options": storage_options}
    if mode in ("w", "w-"):
        return cuzarr.open_group(store, mode=mode, **options)
    if mode == "r+":
        return cuzarr.open_group(store, mode="r+", use_consolidated=consolidated, **options)
    return cuzarr.open_group(store, mode="a", use_consolidated=False, **options)


def _write_tree(
    tree: xr.DataTree,
    root: cuzarr.Group,
    *,
    mode: str,
    encoding: Mapping[str, Any] | None,
    region: Any,
    write_inherited_coords: bool,
) -> None:
    """Each node of ``tree`` as a group below ``root`` (the root node in ``root`` itself)."""
    encoding = dict(encoding or {})
    for relative, node in tree.subtree_with_keys:
        at_root = node is tree
        ds = node.to_dataset(inherit=write_inherited_coords or at_root)
        target = root if at_root else root.require_group(relative)
        _write_dataset(
            target, ds, mode=mode, encoding=encoding.get(node.path), append_dim=None, region=region
        )


def to_zarr(
    data: xr.Dataset | xr.DataTree,
    store: Any = None,
    *,
    mode: str | None = None,
    group: str | None = None,
    zarr_format: int | None = None,
    consolidated: bool | None = None,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
    append_dim: Hashable | None = None,
    region: Mapping[Hashable, slice | str] | str | None = None,
    storage_options: dict[str, Any] | None = None,
    write_inherited_coords: bool = False,
) -> cuzarr.Group:
    """Write ``data`` (one group per Dataset, a group per node of a DataTree); returns the group.

    ``mode``: ``'w-'`` (default) fails when something exists at the group path, ``'w'`` replaces
    it, ``'a'`` adds or overwrites variables (the default with ``append_dim``), ``'a-'`` with
    ``append_dim`` writes only the variables that grow, ``'r+'`` writes existing variables only
    (the default with ``region``). ``append_dim`` grows the stored arrays along that dimension;
    ``region`` is ``{dim: slice}`` (or ``"auto"``, per dimension or for all) locating ``data`` in
    the stored arrays. ``encoding``: per-variable CF encodings (``dtype``, ``scale_factor``,
    ``_FillValue``, ``units``) and Zarr layout (``chunks``, ``shards``, ``compressors``,
    ``filters``, ``serializer``); for a DataTree, keyed by node path first. Consolidated metadata
    is written at the store root unless ``consolidated=False`` (never in mode 'r+', which changes
    no metadata), as xarray does.
    """
    mode = choose_mode(mode, append_dim, region)
    is_tree = _is_tree(data)
    if is_tree and append_dim is not None:
        raise NotImplementedError(
            "specifying ``append_dim`` with ``DataTree.to_zarr`` has not been implemented"
        )
    _check_encoding_names(data, encoding)
    root = _open_target(store, mode, group, zarr_format, consolidated, storage_options)
    if is_tree:
        _write_tree(
            data,  # type: ignore[arg-type]
            root,
            mode=mode,
            encoding=encoding,
            region=region,
            write_inherited_coords=write_inherited_coords,
        )
    else:
        _write_dataset(root, data, mode=mode, encoding=encoding, append_dim=append_dim, region=region)  # type: ignore[arg-type]
    if mode != "r+" and consolidated is not False:
        cuzarr.consolidate_metadata(root.store, path="")
    return root
