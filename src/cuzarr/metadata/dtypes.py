"""Data types: Zarr v3 names and v2 ``typestr`` strings <-> NumPy dtypes.

Only fixed-size numeric types for now. Each supported type is one entry of ``V3_DATA_TYPES``;
adding a type (strings, datetimes, structured) means adding its v3 name/v2 spelling here and its
fill-value encoding in ``fill_value.py``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ..errors import UnknownDataTypeError

V3_DATA_TYPES: dict[str, np.dtype] = {
    name: np.dtype(name)
    for name in (
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}

# native dtype -> v3 name; key is the native-order dtype (``np.dtype`` is hashable).
_NAME_OF: dict[np.dtype, str] = {dt: name for name, dt in V3_DATA_TYPES.items()}
_V2_TYPESTR = re.compile(r"^([<>|])([biufc])([0-9]+)$")


def _supported_list() -> str:
    return ", ".join(V3_DATA_TYPES)


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=")


def _is_supported(dtype: np.dtype) -> bool:
    return dtype.fields is None and dtype.subdtype is None and _native(dtype) in _NAME_OF


def parse_v3_data_type(value: Any, *, source: str | None = None) -> np.dtype:
    """The native-order dtype of a v3 ``data_type`` (a name, or ``{"name": ...}`` without configuration)."""
    name = value
    if isinstance(value, dict):
        name = value.get("name")
        if value.get("configuration"):
            raise UnknownDataTypeError(
                f"data type {value!r} has a configuration, which no supported data type takes; "
                f"supported: {_supported_list()}",
                source=source,
                field="data_type",
            )
    if not isinstance(name, str) or name not in V3_DATA_TYPES:
        raise UnknownDataTypeError(
            f"unknown data type {value!r}; supported: {_supported_list()}", source=source, field="data_type"
        )
    return V3_DATA_TYPES[name]


def v3_data_type_name(dtype: Any) -> str:
    """The v3 name of ``dtype``; the byte order is irrelevant (v3 puts it in the ``bytes`` codec)."""
    dt = normalize_dtype(dtype)
    return _NAME_OF[_native(dt)]


def parse_v2_dtype(value: Any, *, source: str | None = None) -> np.dtype:
    """The dtype of a v2 ``.zarray`` ``dtype`` string, keeping its byte order."""
    match = _V2_TYPESTR.match(value) if isinstance(value, str) else None
    if match is None:
        raise UnknownDataTypeError(
            f"unsupported dtype {value!r}; supported: {_supported_v2_list()}", source=source, field="dtype"
        )
    order, _kind, size = match.groups()
    if order == "|" and int(size) != 1:
        raise UnknownDataTypeError(
            f"dtype {value!r}: a multi-byte type needs a byte order ('<' or '>'), not '|'",
            source=source,
            field="dtype",
        )
    try:
        dt = np.dtype(value)
    except TypeError as exc:
        raise UnknownDataTypeError(
            f"unsupported dtype {value!r}; supported: {_supported_v2_list()}", source=source, field="dtype"
        ) from exc
    if not _is_supported(dt):
        raise UnknownDataTypeError(
            f"unsupported dtype {value!r}; supported: {_supported_v2_list()}", source=source, field="dtype"
        )
    return dt


def _supported_v2_list() -> str:
    return ", ".join(v2_dtype_str(dt.newbyteorder("<")) for dt in V3_DATA_TYPES.values())


def v2_dtype_str(dtype: Any) -> str:
    """The v2 ``dtype`` string as zarr-python writes it ('<f4', '>i8', '|b1', '|u1')."""
    return normalize_dtype(dtype).str


def normalize_dtype(dtype_like: Any) -> np.dtype:
    """A supported ``np.dtype`` from what users pass ('f4', 'float32', np.int16, '>i2', float...).

    The byte order is kept (v2 arrays may be big-endian); v3 metadata stores the native order.
    """
    if dtype_like is None:
        raise UnknownDataTypeError(f"a data type is required; supported: {_supported_list()}")
    if isinstance(dtype_like, str) and dtype_like in V3_DATA_TYPES:
        return V3_DATA_TYPES[dtype_like]
    try:
        dt = np.dtype(dtype_like)
    except (TypeError, ValueError) as exc:
        raise UnknownDataTypeError(
            f"unknown data type {dtype_like!r}; supported: {_supported_list()}"
        ) from exc
    if not _is_supported(dt):
        raise UnknownDataTypeError(
            f"unsupported data type {dt} (from {dtype_like!r}); supported: {_supported_list()}"
        )
    return dt
