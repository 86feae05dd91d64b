"""``to_zarr``: write an xarray Dataset or DataTree with cuzarr, in the layout xarray's zarr backend reads.

Variables go through xarray's own CF encoder (times, ``scale_factor``/``add_offset``, ``_FillValue``,
the ``coordinates`` attribute), so the result opens equal with ``xr.open_zarr`` (zarr-python) and
with ``engine="cuzarr"``. The modes are xarray's: 'w'/'w-' create, 'a' adds or overwrites variables
('a-' with ``append_dim`` rewrites only what grows), 'r+' rewrites existing variables only, and
``append_dim``/``region`` write into part of a stored array. A variable already stored is encoded
with its stored encoding (time units, scale factors), exactly as xarray does. ``compute=False``
writes the metadata and in-memory data now and returns a dask ``Delayed`` for the dask-backed data.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    check_write_empty,
    choose_mode,
    encoding_chunks,
    encoding_shards,
    resolve_region,
    transpose_to_existing,
    zarr_encoding,
)
from .xarray_region import check_chunks, write_variable

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = ["to_zarr"]

#: Encoding keys handed to ``create_array`` as they are (None included: no compressor, no filters).
_PASSED_KEYS = ("compressors", "compressor", "filters", "serializer", "chunk_key_encoding")


def _attribute(value: Any) -> Any:
    """A JSON-ready attribute value (NumPy arrays -> lists, NumPy scalars -> Python scalars)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_attribute(v) for v in value]
    return value


def _chunks(name: str, var: Variable) -> tuple[int, ...] | None:
    """The chunk shape: the ``chunks`` encoding, else the largest dask chunk per axis, else auto."""
    return encoding_chunks(name, var.encoding, var.ndim, var.chunks)


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


def _create_array(group: cuzarr.Group, name: str, var: Variable, write_empty: bool | None) -> cuzarr.Array:
    """A new array for ``var`` with its attributes, dimension names, fill value and the layout and
    codecs of its (already checked, see ``zarr_encoding``) encoding."""
    var_attrs = {str(k): _attribute(v) for k, v in var.attrs.items()}
    fill = _fill_value(var, var_attrs, group.zarr_format)
    kwargs: dict[str, Any] = {k: var.encoding[k] for k in _PASSED_KEYS if k in var.encoding}
    if write_empty is None:
        write_empty = var.encoding.get("write_empty_chunks")
    if write_empty is not None:
        kwargs["config"] = {"write_empty_chunks": bool(write_empty)}
    chunks = _chunks(name, var)
    if chunks is not None:
        kwargs["chunks"] = chunks
    shards = encoding_shards(name, var.encoding, var.ndim)
    if shards is not None:
        kwargs["shards"] = shards
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
    zarr_format: int,
) -> tuple[dict[str, Variable], dict[str, Any]]:
    """The variables to write, CF-encoded and checked against the store, and the group attributes.

    A new variable keeps the Zarr keys of its encoding (``encoding=`` when given, else its own
    ``.encoding``, as in xarray); an existing one is written with the store's layout."""
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
        var.encoding = zarr_encoding(name, var.encoding, zarr_format, strict=name in encoding)
    old = {k: v for k, v in variables.items() if k in existing}
    if old:
        encoded.update(_encode_existing(reader, old, region, append_dim))
    if mode == "a-" and append_dim is not None:
        encoded = {k: v for k, v in encoded.items() if k not in existing or append_dim in v.dims}
    return encoded, {str(k): _attribute(v) for k, v in attrs.items()}


@dataclass(frozen=True)
class _DataWrite:
    """How array data is written, the same for every variable and node of one ``to_zarr`` call."""

    align: bool  # rechunk dask data onto the stored chunks (shards)
    safe: bool  # refuse dask chunks that would share a stored chunk (xarray's safe_chunks)
    write_empty: bool | None  # store chunks equal to the fill value; None: encoding, else default


def _placement(
    group: cuzarr.Group,
    name: str,
    var: Variable,
    existing: set[str],
    region: Mapping[Hashable, slice] | None,
    append_dim: Hashable | None,
) -> tuple[tuple[int, ...], tuple[slice, ...], tuple[int, ...] | None]:
    """Where ``var`` lands, worked out before anything is written: the array's shape after this
    write, the integer region written, and the stored chunk (shard) shape, None when Zarr picks it."""
    if name in existing:
        array = group.get_array(name)
        shape, unit = list(array.shape), array.shards or array.chunks
    else:
        shards = encoding_shards(name, var.encoding, var.ndim)
        shape, unit = list(var.shape), shards if shards is not None else _chunks(name, var)
    selection = []
    for axis, dim in enumerate(var.dims):
        if dim == append_dim and name in existing:
            start = shape[axis]
            shape[axis] += var.shape[axis]
            selection.append(slice(start, shape[axis]))
        else:
            start, stop, _ = (region or {}).get(dim, slice(None)).indices(shape[axis])
            selection.append(slice(start, stop))
    return tuple(shape), tuple(selection), unit


def _check_data_write(
    encoded: Mapping[str, Variable],
    places: Mapping[str, tuple[tuple[int, ...], tuple[slice, ...], tuple[int, ...] | None]],
    existing: set[str],
    mode: str,
    how: _DataWrite,
) -> None:
    """The ``write_empty_chunks`` and ``safe_chunks`` checks, before the first byte is written."""
    for name, var in encoded.items():
        if name not in existing:
            check_write_empty(var.encoding.get("write_empty_chunks"), how.write_empty)
        shape, selection, unit = places[name]
        if how.safe and unit is not None and var.chunks is not None:
            check_chunks(name, var.dims, var.chunks, selection, shape, unit, partial_edges=mode != "r+")


def _check_new_arrays(
    group: cuzarr.Group, encoded: Mapping[str, Variable], existing: set[str], write_empty: bool | None
) -> None:
    """Create every new array once in memory first, so that codecs or a layout the target format
    refuses (e.g. a v3 ``serializer`` read from another store, written as v2) fail before the
    first byte reaches the store."""
    scratch = cuzarr.open_group(None, mode="w", zarr_format=group.zarr_format)
    for name, var in encoded.items():
        if name not in existing:
            _create_array(scratch, name, var, write_empty)


def _target_array(
    group: cuzarr.Group,
    name: str,
    var: Variable,
    existing: set[str],
    shape: tuple[int, ...],
    write_empty: bool | None,
) -> cuzarr.Array:
    """The array to write ``var`` into: a new one, or the stored one grown to ``shape``."""
    if name not in existing:
        return _create_array(group, name, var, write_empty)
    array = group.get_array(name)
    if array.shape != shape:
        array.resize(shape)
    return array if write_empty is None else array.with_config({"write_empty_chunks": write_empty})


def _write_dataset(
    group: cuzarr.Group,
    ds: xr.Dataset,
    *,
    mode: str,
    encoding: Mapping[str, Mapping[str, Any]] | None,
    append_dim: Hashable | None,
    region: Any,
    how: _DataWrite,
) -> list[Any]:
    """Write ``ds`` into the open ``group`` following ``mode``; metadata is consolidated by the caller.

    Everything is checked before the first byte is written, so a refused write leaves the store as
    it was. Metadata and in-memory data are written now; the dask writes are returned pending.
    """
    options = {str(k): dict(v) for k, v in (encoding or {}).items()}
    existing = set() if mode == "w" else set(group.array_keys())
    reader = CuzarrDataStore(group)
    ds, region = resolve_region(ds, region, mode, append_dim, lambda dim: _stored_index(reader, dim))
    encoded, attrs = _encode(
        reader,
        ds,
        mode=mode,
        existing=existing,
        encoding=options,
        append_dim=append_dim,
        region=region,
        zarr_format=group.zarr_format,
    )
    places = {
        name: _placement(group, name, var, existing, region, append_dim) for name, var in encoded.items()
    }
    _check_data_write(encoded, places, existing, mode, how)
    _check_new_arrays(group, encoded, existing, how.write_empty)
    if mode != "r+":
        group.attrs.put(attrs)
    pending = []
    for name, var in encoded.items():
        shape, selection, _ = places[name]
        array = _target_array(group, name, var, existing, shape, how.write_empty)
        write = write_variable(array, var, selection, align=how.align)
        if write is not None:
            pending.append(write)
    return pending


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
    how: _DataWrite,
) -> list[Any]:
    """Each node of ``tree`` as a group below ``root`` (the root node in ``root`` itself); the
    dask writes of every node are returned pending."""
    encoding = dict(encoding or {})
    pending = []
    for relative, node in tree.subtree_with_keys:
        at_root = node is tree
        ds = node.to_dataset(inherit=write_inherited_coords or at_root)
        target = root if at_root else root.require_group(relative)
        pending += _write_dataset(
            target, ds, mode=mode, encoding=encoding.get(node.path), append_dim=None, region=region, how=how
        )
    return pending


def _finish(writes: list[Any]) -> None:
    """The last task of a ``compute=False`` write: it runs once every pending write is done."""
    del writes


def _delayed(pending: list[Any]) -> Delayed:
    """One ``dask.delayed`` object whose ``compute()`` runs the pending writes (and returns None,
    as xarray's does)."""
    import dask

    return dask.delayed(_finish, pure=False)(pending)


def _run(pending: list[Any]) -> None:
    """Run the pending dask writes as one graph, so that shared inputs are computed once."""
    if pending:
        import dask

        dask.compute(*pending)


def to_zarr(
    data: xr.Dataset | xr.DataTree,
    store: Any = None,
    *,
    mode: str | None = None,
    group: str | None = None,
    zarr_format: int | None = None,
    consolidated: bool | None = None,
    encoding: Mapping[str, Mapping[str, Any]] | None = None,
    compute: bool = True,
    append_dim: Hashable | None = None,
    region: Mapping[Hashable, slice | str] | str | None = None,
    safe_chunks: bool = True,
    align_chunks: bool | None = None,
    write_empty_chunks: bool | None = None,
    storage_options: dict[str, Any] | None = None,
    write_inherited_coords: bool = False,
) -> cuzarr.Group | Delayed:
    """Write ``data`` (one group per Dataset, a group per node of a DataTree); returns the group,
    or with ``compute=False`` a ``dask.delayed`` object that writes the dask-backed data.

    ``mode``: ``'w-'`` (default) fails when something exists at the group path, ``'w'`` replaces
    it, ``'a'`` adds or overwrites variables (the default with ``append_dim``), ``'a-'`` with
    ``append_dim`` writes only the variables that grow, ``'r+'`` writes existing variables only
    (the default with ``region``). ``append_dim`` grows the stored arrays along that dimension;
    ``region`` is ``{dim: slice}`` (or ``"auto"``, per dimension or for all) locating ``data`` in
    the stored arrays. ``encoding``: per-variable CF encodings (``dtype``, ``scale_factor``,
    ``_FillValue``, ``units``) and Zarr layout (``chunks``, ``shards``, ``compressors``,
    ``filters``, ``serializer``, ``write_empty_chunks``, ``chunk_key_encoding``; v3 also
    ``fill_value``, v2 also zarr-python 2's single ``compressor``); for a DataTree, keyed by node
    path first. As in xarray, a variable named there uses that dict instead of its own
    ``.encoding`` (the two are not merged), and any other key is a ValueError naming the variable
    and the keys; a variable not named there uses its own ``.encoding`` (e.g. the codecs, chunks
    and shards ``xr.open_dataset(..., engine="zarr")`` recorded), keys Zarr does not know dropped.
    Consolidated metadata is written at the store root unless ``consolidated=False`` (never in
    mode 'r+', which changes no metadata), as xarray does.

    ``compute=False``, as in xarray: groups, arrays, attributes, resizes, consolidated metadata
    and every variable not backed by dask (index coordinates among them) are written now; the
    returned ``Delayed``'s ``compute()`` writes the dask-backed variables, in parallel, and
    returns None. ``write_empty_chunks``: whether chunks equal to the fill value are stored
    (True) or skipped and deleted (False); None keeps the variable's ``encoding`` or cuzarr's
    default (False). It applies to existing arrays too; a new variable whose encoding says
    otherwise is a ValueError, as in xarray.

    Dask chunks and stored chunks (shards when sharded): by default (``align_chunks=None``)
    cuzarr rechunks dask data so that no two tasks write the same stored chunk, which keeps
    parallel writes correct wherever a region or append starts; xarray instead refuses such data.
    ``align_chunks=True`` does the same, as in xarray. ``align_chunks=False`` writes the dask
    chunks as they are: with ``safe_chunks=True`` (xarray's default) a dask chunk boundary inside
    a stored chunk is a ValueError naming the variable and dimension, and in mode 'r+' so is a
    region that starts or ends inside a stored chunk (another process could be writing the
    neighbouring region), all before anything is written; with ``safe_chunks=False`` the tasks
    that share a stored chunk write one at a time (xarray would let them race). No combination
    loses data written by this call; concurrent writers of overlapping chunks in other calls or
    processes are the caller's to coordinate.
    """
    mode = choose_mode(mode, append_dim, region)
    is_tree = _is_tree(data)
    if is_tree and append_dim is not None:
        raise NotImplementedError(
            "specifying ``append_dim`` with ``DataTree.to_zarr`` has not been implemented"
        )
    if not compute:
        import dask  # noqa: F401 - compute=False needs dask: fail before writing anything
    _check_encoding_names(data, encoding)
    align = align_chunks is not False
    how = _DataWrite(align=align, safe=bool(safe_chunks) and not align, write_empty=write_empty_chunks)
    root = _open_target(store, mode, group, zarr_format, consolidated, storage_options)
    if is_tree:
        pending = _write_tree(
            data,  # type: ignore[arg-type]
            root,
            mode=mode,
            encoding=encoding,
            region=region,
            write_inherited_coords=write_inherited_coords,
            how=how,
        )
    else:
        pending = _write_dataset(
            root,
            data,  # type: ignore[arg-type]
            mode=mode,
            encoding=encoding,
            append_dim=append_dim,
            region=region,
            how=how,
        )
    if mode != "r+" and consolidated is not False:
        cuzarr.consolidate_metadata(root.store, path="")
    if not compute:
        return _delayed(pending)
    _run(pending)
    return root
