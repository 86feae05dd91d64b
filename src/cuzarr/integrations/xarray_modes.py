"""What each ``to_zarr`` mode allows: the default mode, ``region`` checks and auto-detection, the
checks on variables that already exist in the store, and which encoding keys a new array takes.

The rules and error messages are xarray's own (``xarray.backends.zarr``), restated here because
xarray keeps them private: a user moving from ``ds.to_zarr`` gets the same ValueErrors.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from xarray import Dataset, Variable

__all__ = [
    "MODES",
    "check_append_dtype",
    "check_encoding",
    "check_new_sizes",
    "check_new_variables",
    "check_write_empty",
    "choose_mode",
    "encoding_chunks",
    "encoding_shards",
    "resolve_region",
    "transpose_to_existing",
    "zarr_encoding",
]

#: The write modes of ``to_zarr``, as xarray has them ('a-' appends without rewriting the rest).
MODES = ("w", "w-", "a", "a-", "r+")

#: Encoding keys that describe where a variable was read from (``open_dataset`` sets them); xarray
#: drops them silently, even from ``encoding=``.
_SAFE_TO_DROP = frozenset({"source", "original_shape", "preferred_chunks"})

#: The Zarr encoding keys of a new array in xarray's zarr backend, for both formats.
_LAYOUT_KEYS = frozenset(
    {
        "chunks",
        "shards",
        "compressors",
        "filters",
        "serializer",
        "cache_metadata",
        "write_empty_chunks",
        "chunk_key_encoding",
    }
)

#: Per format, the extra keys: v3 keeps the Zarr fill value apart from ``_FillValue``; v2 also takes
#: the single ``compressor`` that xarray accepted (and ``open_dataset`` recorded) with zarr-python 2.
_FORMAT_KEYS = {2: frozenset({"compressor"}), 3: frozenset({"fill_value"})}


def choose_mode(mode: str | None, append_dim: Hashable | None, region: Any) -> str:
    """The mode to write with: 'a' when appending, 'r+' for a region, else 'w-'; refuses bad pairs."""
    if mode is None:
        mode = "a" if append_dim is not None else "r+" if region is not None else "w-"
    if mode not in ("a", "a-") and append_dim is not None:
        raise ValueError("cannot set append_dim unless mode='a' or mode=None")
    if mode not in ("a", "a-", "r+") and region is not None:
        raise ValueError("cannot set region unless mode='a', mode='a-', mode='r+' or mode=None")
    if mode not in MODES:
        raise ValueError(
            f"The only supported options for mode are 'w', 'w-', 'a', 'a-', and 'r+', but mode={mode!r}"
        )
    return mode


def check_encoding(encoding: Mapping[str, Any], existing: Iterable[str], mode: str) -> None:
    """An existing variable keeps its stored encoding, so giving it a new one is an error."""
    if mode in ("a", "a-", "r+"):
        for name in existing:
            if name in encoding:
                raise ValueError(f"variable {name!r} already exists, but encoding was provided")


def zarr_encoding(
    name: str, encoding: Mapping[str, Any], zarr_format: int, *, strict: bool
) -> dict[str, Any]:
    """The Zarr layout keys of a CF-encoded variable's ``encoding``, as xarray extracts them.

    With ``strict`` (the encoding came from ``to_zarr``'s ``encoding=``) an unknown key is a
    ValueError naming the variable, since a typo would otherwise be silently ignored. Without it
    (the variable's own ``.encoding``: what ``open_dataset`` recorded, netCDF options...) unknown
    keys are dropped, so a dataset read from anywhere can be written.
    """
    valid = _LAYOUT_KEYS | _FORMAT_KEYS.get(zarr_format, frozenset())
    kept = {k: v for k, v in encoding.items() if k not in _SAFE_TO_DROP}
    invalid = [k for k in kept if k not in valid]
    if strict and invalid:
        hint = ""
        if zarr_format == 2 and "fill_value" in invalid:
            hint = " Use `_FillValue` to set the Zarr array `fill_value`"
        raise ValueError(
            f"unexpected encoding parameters for zarr backend: {invalid!r} for variable {name!r}.{hint}"
        )
    return {k: v for k, v in kept.items() if k in valid}


def _is_int(value: Any) -> bool:
    """Whether ``value`` is an integer chunk size (NumPy integers included, booleans not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _grid(name: str, key: str, value: Any, ndim: int) -> tuple[int, ...] | None:
    """A ``chunks``/``shards`` encoding as one int per axis (an int applies to every axis);
    None when it does not fit ``ndim`` axes (e.g. recorded before a dimension was dropped)."""
    if _is_int(value):
        return (int(value),) * ndim
    sizes = tuple(value)
    if len(sizes) != ndim:
        return None
    for size in sizes:
        if isinstance(size, list | tuple):
            raise TypeError(
                f"encoding[{key!r}]={sizes!r} for variable {name!r} is a rectilinear (variable-sized) "
                f"grid, which Zarr cannot write. Clear it (`del ds[{name!r}].encoding[{key!r}]`) and "
                "make sure the variable's own chunks are uniform."
            )
        if not _is_int(size):
            raise TypeError(
                f"zarr chunk sizes specified in `encoding[{key!r}]` must be an int or a tuple of ints. "
                f"Instead found encoding[{key!r}]={sizes!r} for variable named {name!r}."
            )
    return tuple(int(s) for s in sizes)


def encoding_chunks(
    name: str, encoding: Mapping[str, Any], ndim: int, dask_chunks: tuple[tuple[int, ...], ...] | None
) -> tuple[int, ...] | None:
    """The chunk shape of a new array: ``encoding['chunks']`` when it fits the variable, else the
    largest dask chunk per axis, else None (Zarr picks), following xarray's rules."""
    wanted = encoding.get("chunks")
    given = _is_int(wanted) or (wanted is not None and not isinstance(wanted, str) and len(wanted) > 0)
    chunks = _grid(name, "chunks", wanted, ndim) if given else None
    if chunks is not None:
        return chunks
    if dask_chunks:
        return tuple(max(axis) if axis else 1 for axis in dask_chunks)
    return None


def encoding_shards(name: str, encoding: Mapping[str, Any], ndim: int) -> tuple[int, ...] | None:
    """The shard shape of a new array from ``encoding['shards']`` (an int applies to every axis)."""
    shards = encoding.get("shards")
    if shards is None:
        return None
    grid = _grid(name, "shards", shards, ndim)
    if grid is None:
        raise ValueError(
            f"encoding['shards']={shards!r} for variable {name!r} does not have one size per "
            f"dimension ({ndim})"
        )
    return grid


def check_write_empty(in_encoding: bool | None, argument: bool | None) -> None:
    """``write_empty_chunks`` given both as an argument and in a new variable's encoding must agree."""
    if argument is not None and in_encoding is not None and bool(in_encoding) != bool(argument):
        raise ValueError(
            'Differing "write_empty_chunks" values in encoding and parameters. '
            f'Got encoding["write_empty_chunks"] = {in_encoding!r} and write_empty_chunks = {argument!r}'
        )


def check_new_variables(names: Iterable[str], existing: Iterable[str], mode: str) -> None:
    """Mode 'r+' only rewrites variables that are already stored."""
    stored = set(existing)
    new = [name for name in names if name not in stored]
    if mode == "r+" and new:
        raise ValueError(
            f"dataset contains non-pre-existing variables {new!r}, which is not allowed in "
            "``xarray.Dataset.to_zarr()`` with ``mode='r+'``. To allow writing new variables, "
            "set ``mode='a'``."
        )


def _auto_region(ds: Dataset, dim: Hashable, stored_index: Callable[[str], pd.Index]) -> slice:
    """The slice of the stored coordinate ``dim`` that ``ds[dim]`` covers (contiguous, all found)."""
    if dim not in ds._variables:
        return slice(0, ds.sizes[dim])
    positions = stored_index(str(dim)).get_indexer(ds[dim].data)
    if (positions == -1).any():
        raise KeyError(
            f"Not all values of coordinate '{dim}' in the new array were found in the original store. "
            "Writing to a zarr region slice requires that no dimensions or metadata are changed by the write."
        )
    if (np.diff(positions) != 1).any():
        raise ValueError(
            f"The auto-detected region of coordinate '{dim}' for writing new data to the original store "
            "had non-contiguous indices. Writing to a zarr region slice requires that the new data "
            "constitute a contiguous subset of the original store."
        )
    return slice(int(positions[0]), int(positions[-1]) + 1)


def resolve_region(
    ds: Dataset,
    region: Any,
    mode: str,
    append_dim: Hashable | None,
    stored_index: Callable[[str], pd.Index],
) -> tuple[Dataset, dict[Hashable, slice] | None]:
    """The dataset to write (indexes dropped) and the region as ``{dim: slice}``.

    ``"auto"`` (for the whole region or one dimension) finds the slice from the stored coordinate,
    which ``stored_index(dim)`` reads and decodes.
    """
    if region is None:
        return ds, None
    if region == "auto":
        region = dict.fromkeys(ds.dims, "auto")
    if not isinstance(region, dict):
        raise TypeError(f"``region`` must be a dict, got {type(region)}")
    region = dict(region)
    if any(isinstance(v, str) and v == "auto" for v in region.values()):
        if mode not in ("r+", "a"):
            raise ValueError(f"``mode`` must be 'r+' or 'a' when using ``region='auto'``, got {mode!r}")
        for dim, value in region.items():
            if isinstance(value, str) and value == "auto":
                region[dim] = _auto_region(ds, dim, stored_index)
    for dim, value in region.items():
        if dim not in ds.dims:
            raise ValueError(
                f"all keys in ``region`` are not in Dataset dimensions, got {list(region)} and {list(ds.dims)}"
            )
        if not isinstance(value, slice):
            raise TypeError(f"all values in ``region`` must be slice objects, got region={region}")
        if value.step not in (1, None):
            raise ValueError(f"step on all slices in ``region`` must be 1 or None, got region={region}")
    unrelated = [k for k, v in ds.variables.items() if not set(region).intersection(v.dims)]
    if region and unrelated:
        raise ValueError(
            "when setting `region` explicitly in to_zarr(), all variables in the dataset to write must "
            f"have at least one dimension in common with the region's dimensions {list(region)}, but that "
            "is not the case for some variables here. To drop these variables from this dataset before "
            f"exporting to zarr, write: .drop_vars({unrelated!r})"
        )
    if append_dim is not None and append_dim in region:
        raise ValueError(
            "cannot list the same dimension in both ``append_dim`` and ``region`` with to_zarr(), "
            f"got {append_dim} in both"
        )
    return ds.drop_vars(ds.indexes), region


def check_append_dtype(name: str, existing: Variable, new: Variable) -> None:
    """Fixed-width strings must keep their width when written into an existing variable."""
    kind = new.dtype
    if (
        np.issubdtype(kind, np.number)
        or np.issubdtype(kind, np.datetime64)
        or np.issubdtype(kind, np.bool_)
        or kind.kind == "O"
        or (kind.kind in ("S", "U") and existing.dtype.kind == "O")
    ):
        return
    if kind != existing.dtype:
        raise ValueError(
            f"Mismatched dtypes for variable {name} between Zarr store on disk and dataset to append. "
            f"Store has dtype {existing.dtype} but dataset to append has dtype {kind}."
        )


def transpose_to_existing(
    name: str,
    new: Variable,
    existing: Variable,
    region: Mapping[Hashable, slice] | None,
    append_dim: Hashable | None,
) -> Variable:
    """``new`` in the stored dimension order; its sizes must match the store (or the region),
    except along ``append_dim``."""
    if new.dims != existing.dims:
        if set(new.dims) != set(existing.dims):
            raise ValueError(
                f"variable {name!r} already exists with different dimension names {existing.dims} != "
                f"{new.dims}, but changing variable dimensions is not supported by to_zarr()."
            )
        new = new.transpose(*existing.dims)
    existing_sizes = {}
    for dim, size in existing.sizes.items():
        if region is not None and dim in region:
            start, stop, _ = region[dim].indices(size)
            size = stop - start
        if dim != append_dim:
            existing_sizes[dim] = size
    new_sizes = {dim: size for dim, size in new.sizes.items() if dim != append_dim}
    if existing_sizes != new_sizes:
        raise ValueError(
            f"variable {name!r} already exists with different dimension sizes: {existing_sizes} != "
            f"{new_sizes}. to_zarr() only supports changing dimension sizes when explicitly appending, "
            f"but append_dim={append_dim!r}. If you are attempting to write to a subset of the existing "
            "store without changing dimension sizes, consider using the region argument in to_zarr()."
        )
    return new


def check_new_sizes(name: str, new: Variable, final_sizes: Mapping[str, int]) -> None:
    """A new variable must agree with the store's dimension lengths after the write.

    xarray writes such a variable and the store then fails to open ("conflicting sizes"); refusing
    it before anything is written keeps the store readable.
    """
    for dim, size in new.sizes.items():
        expected = final_sizes.get(str(dim))
        if expected is not None and expected != size:
            raise ValueError(
                f"new variable {name!r} has length {size} along dimension {dim!r}, but the store has "
                f"length {expected} there after this write; a new variable must match the stored "
                "dimension lengths"
            )
