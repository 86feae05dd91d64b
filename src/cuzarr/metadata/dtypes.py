"""Data types: Zarr v3 ``data_type`` JSON <-> NumPy dtypes, and what users may pass as a dtype.

Numeric types have a bare v3 name (``V3_DATA_TYPES``). The other types use zarr-python 3.1's
spellings (none of them has a Zarr v3 spec yet, so zarr-python is the reference):

* ``"string"``: variable-length UTF-8, in memory NumPy ``StringDType`` (what zarr-python 3.1 returns);
* ``"variable_length_bytes"`` (also read as ``"bytes"``): variable-length bytes, in memory ``object``;
* ``null_terminated_bytes`` / ``fixed_length_utf32`` / ``raw_bytes`` with ``length_bytes``: ``S``/``U``/``V``;
* ``numpy.datetime64`` / ``numpy.timedelta64`` with ``unit`` and ``scale_factor``: ``M8[..]``/``m8[..]``;
* records, packed NumPy record dtypes with fields little-endian (as zarr-python), in two spellings
  (``RECORD_TYPE_NAMES``): ``structured`` with ``[name, data_type]`` fields (zarr-python 3.1) and
  ``struct`` with ``{"name", "data_type"}`` fields (the zarr-extensions spec; tensorstore and newer
  zarr-python). Either field form is read under either name; ``v3_data_type_json`` writes the
  spelling it is asked for (fill values differ too: see ``records.py``).

The v2 ``dtype`` spellings live in ``dtypes_v2.py``.
"""

from __future__ import annotations

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

# zarr-python 3.1 falls back to object arrays for "string" on NumPy < 2 (no StringDType).
STRING_DTYPE: np.dtype = (
    np.dtype(np.dtypes.StringDType()) if hasattr(np.dtypes, "StringDType") else np.dtype(object)
)
VLEN_BYTES_DTYPE: np.dtype = np.dtype(object)
TIME_UNITS = ("Y", "M", "W", "D", "h", "m", "s", "ms", "us", "μs", "ns", "ps", "fs", "as", "generic")
_MAX_SCALE_FACTOR = 2**31
_STRING_ALIASES = ("string", "str")
_VLEN_BYTES_NAMES = ("variable_length_bytes", "bytes")
_LENGTH_TYPES = {"null_terminated_bytes": "S", "fixed_length_utf32": "U", "raw_bytes": "V"}
_TIME_TYPES = {"numpy.datetime64": "M", "numpy.timedelta64": "m"}
RECORD_TYPE_NAMES = ("structured", "struct")  # the first is what zarr-python 3.1 writes

# native dtype -> v3 name; key is the native-order dtype (``np.dtype`` is hashable).
_NAME_OF: dict[np.dtype, str] = {dt: name for name, dt in V3_DATA_TYPES.items()}


def supported_list() -> str:
    """What error messages list as supported."""
    return (
        ", ".join(V3_DATA_TYPES) + ", string (str), variable_length_bytes, fixed-length bytes (S<n>), "
        "fixed-length unicode (U<n>), raw bytes (V<n>), datetime64/timedelta64 with a unit, "
        "structured (struct)"
    )


def _native(dtype: np.dtype) -> np.dtype:
    return dtype.newbyteorder("=")


def is_numeric(dtype: np.dtype) -> bool:
    """One of the fixed-size numeric types of ``V3_DATA_TYPES`` (any byte order)."""
    return dtype.kind in "biufc" and dtype.subdtype is None and _native(dtype) in _NAME_OF


def is_variable_length(dtype: np.dtype) -> bool:
    """Strings (``StringDType``) and object arrays: elements are not raw bytes, codecs must serialize them."""
    return bool(dtype.hasobject)


def _check(dt: np.dtype, *, allow_object: bool, in_struct: bool = False) -> np.dtype:
    """``dt`` if cuzarr can store it (structured dtypes come back packed); ``ValueError`` otherwise."""
    if is_numeric(dt):
        return dt
    if dt.kind == "T":
        if in_struct:
            raise ValueError("a structured data type cannot hold variable-length strings")
        if hasattr(dt, "na_object"):
            raise ValueError("StringDType with an na_object is not supported (zarr-python refuses it too)")
        return dt
    if dt.kind == "O":
        if in_struct:
            raise ValueError("a structured data type cannot hold Python objects")
        if not allow_object:
            raise ValueError(
                "the object dtype is ambiguous: pass 'string' (or str) for text, "
                "'variable_length_bytes' for bytes"
            )
        return dt
    if dt.kind in "SUV" and dt.fields is None and dt.subdtype is None:
        if dt.itemsize == 0:
            raise ValueError(f"{dt} has length 0; give a length such as {dt.kind}10")
        return dt
    if dt.kind in "Mm":
        return dt
    if dt.fields is not None:
        return _packed_struct(dt, allow_object=allow_object)
    raise ValueError("not a supported data type")


def _packed_struct(dt: np.dtype, *, allow_object: bool) -> np.dtype:
    """The record dtype with its fields in order and no padding (what zarr-python stores)."""
    if not dt.names:
        raise ValueError("a structured data type needs at least one field")
    fields = []
    for name in dt.names:
        field_dt = dt.fields[name][0]
        if field_dt.subdtype is not None:
            base, shape = field_dt.subdtype
            fields.append((name, _check(base, allow_object=allow_object, in_struct=True), shape))
        else:
            fields.append((name, _check(field_dt, allow_object=allow_object, in_struct=True)))
    packed = np.dtype(fields)
    return dt if packed == dt else packed


def normalize_dtype(dtype_like: Any, *, allow_object: bool = False) -> np.dtype:
    """A supported ``np.dtype`` from what users pass ('f4', 'float32', str, 'U10', 'M8[ns]', records...).

    The byte order is kept (v2 arrays may be big-endian); v3 metadata canonicalizes it. The plain
    object dtype is refused unless ``allow_object`` (zarr-python also finds it ambiguous): it is
    what the ``variable_length_bytes`` type holds in memory.
    """
    if dtype_like is None:
        raise UnknownDataTypeError(f"a data type is required; supported: {supported_list()}")
    if isinstance(dtype_like, str):
        if dtype_like in V3_DATA_TYPES:
            return V3_DATA_TYPES[dtype_like]
        if dtype_like in _STRING_ALIASES:
            return STRING_DTYPE
        if dtype_like in _VLEN_BYTES_NAMES:
            return VLEN_BYTES_DTYPE
    if dtype_like is str:
        return STRING_DTYPE
    if isinstance(dtype_like, dict):
        return parse_v3_data_type(dtype_like)
    try:
        dt = (
            np.dtype([tuple(f) for f in dtype_like]) if isinstance(dtype_like, list) else np.dtype(dtype_like)
        )
    except (TypeError, ValueError) as exc:
        raise UnknownDataTypeError(
            f"unknown data type {dtype_like!r}; supported: {supported_list()}"
        ) from exc
    try:
        return _check(dt, allow_object=allow_object)
    except ValueError as exc:
        raise UnknownDataTypeError(
            f"unsupported data type {dt} (from {dtype_like!r}): {exc}; supported: {supported_list()}"
        ) from exc


# -- v3 ------------------------------------------------------------------------------------------


def v3_canonical(dtype: np.dtype) -> np.dtype:
    """The in-memory dtype of v3 metadata: native order (the ``bytes`` codec holds the stored order);
    structured fields little-endian, because v3 has no codec setting for them (as zarr-python)."""
    if dtype.fields is not None:
        return np.dtype([_little_field(name, dtype.fields[name][0]) for name in dtype.names])
    if dtype.kind in "biufcUMm":
        return _native(dtype)
    return dtype


def _little_field(name: str, dt: np.dtype) -> tuple:
    if dt.subdtype is not None:
        raise ValueError(f"field {name!r} has shape {dt.subdtype[1]}; Zarr v3 structured types cannot say so")
    if dt.fields is not None:
        return (name, v3_canonical(dt))
    return (name, dt.newbyteorder("<") if dt.kind in "biufcUMm" else dt)


def _error(message: str, source: str | None) -> UnknownDataTypeError:
    return UnknownDataTypeError(message, source=source, field="data_type")


def _length_bytes(name: str, config: dict, source: str | None) -> int:
    length = config.get("length_bytes")
    if set(config) != {"length_bytes"} or not isinstance(length, int) or isinstance(length, bool):
        raise _error(f"{name} needs a configuration {{'length_bytes': <int>}}, got {config!r}", source)
    if length < 1 or (name == "fixed_length_utf32" and length % 4):
        raise _error(f"{name}: invalid length_bytes {length}", source)
    return length


def _time_dtype(name: str, config: dict, source: str | None) -> np.dtype:
    unit, scale = config.get("unit"), config.get("scale_factor")
    if set(config) != {"unit", "scale_factor"}:
        raise _error(f"{name} needs a configuration {{'unit', 'scale_factor'}}, got {config!r}", source)
    if unit not in TIME_UNITS:
        raise _error(f"{name}: unit must be one of {', '.join(TIME_UNITS)}, got {unit!r}", source)
    if not isinstance(scale, int) or isinstance(scale, bool) or not 1 <= scale < _MAX_SCALE_FACTOR:
        raise _error(f"{name}: scale_factor must be an integer in [1, 2**31), got {scale!r}", source)
    kind = _TIME_TYPES[name]
    return np.dtype(f"{kind}8" if unit == "generic" else f"{kind}8[{scale}{unit}]")


def _record_field(name: str, field: Any, source: str | None) -> tuple[str, Any]:
    """(field name, data type JSON) of a ``{"name", "data_type"}`` or ``[name, data_type]`` field."""
    if isinstance(field, dict) and set(field) == {"name", "data_type"}:
        field_name, data_type = field["name"], field["data_type"]
    elif isinstance(field, list | tuple) and len(field) == 2:
        field_name, data_type = field
    else:
        raise _error(
            f'{name}: each field must be {{"name", "data_type"}} or [name, data_type], got {field!r}', source
        )
    if not isinstance(field_name, str) or not field_name:
        raise _error(f"{name}: field names must be non-empty strings, got {field_name!r}", source)
    return field_name, data_type


def _record(name: str, config: dict, source: str | None) -> np.dtype:
    fields = config.get("fields")
    if set(config) != {"fields"} or not isinstance(fields, list) or not fields:
        raise _error(f"{name} needs a configuration {{'fields': [field, ...]}}, got {config!r}", source)
    out = []
    for field in fields:
        field_name, data_type = _record_field(name, field, source)
        dt = parse_v3_data_type(data_type, source=source)
        if is_variable_length(dt):
            raise _error(f"{name}: field {field_name!r} has variable-length type {data_type!r}", source)
        out.append((field_name, dt))
    try:
        return v3_canonical(np.dtype(out))
    except ValueError as exc:  # duplicate names
        raise _error(f"{name}: {exc}", source) from exc


def parse_v3_data_type(value: Any, *, source: str | None = None) -> np.dtype:
    """The in-memory dtype of a v3 ``data_type`` (a name, or ``{"name", "configuration"}``)."""
    name, config = value, None
    if isinstance(value, dict):
        name, config = value.get("name"), value.get("configuration")
        if set(value) - {"name", "configuration"}:
            raise _error(f"unexpected keys in data type {value!r}", source)
    if not isinstance(name, str):
        raise _error(f"unknown data type {value!r}; supported: {supported_list()}", source)
    if name in V3_DATA_TYPES or name == "string" or name in _VLEN_BYTES_NAMES:
        if config:
            raise _error(f"data type {value!r} takes no configuration; supported: {supported_list()}", source)
        return V3_DATA_TYPES.get(name) or (STRING_DTYPE if name == "string" else VLEN_BYTES_DTYPE)
    if not isinstance(config, dict) or name not in (*_LENGTH_TYPES, *_TIME_TYPES, *RECORD_TYPE_NAMES):
        raise _error(f"unknown data type {value!r}; supported: {supported_list()}", source)
    if name in _LENGTH_TYPES:
        length = _length_bytes(name, config, source)
        kind = _LENGTH_TYPES[name]
        return np.dtype(f"{kind}{length // 4 if kind == 'U' else length}")
    if name in _TIME_TYPES:
        return _time_dtype(name, config, source)
    return _record(name, config, source)


def v3_data_type_json(dtype: Any, *, record_type_name: str = "structured") -> str | dict[str, Any]:
    """The v3 ``data_type`` JSON as zarr-python 3.1 writes it (records: as ``record_type_name``
    is written, nested records alike); the byte order is irrelevant here."""
    if record_type_name not in RECORD_TYPE_NAMES:
        raise ValueError(f"record_type_name must be one of {RECORD_TYPE_NAMES}, got {record_type_name!r}")
    dt = normalize_dtype(dtype, allow_object=True)
    if is_numeric(dt):
        return _NAME_OF[_native(dt)]
    if dt.kind == "T":
        return "string"
    if dt.kind == "O":
        return "variable_length_bytes"
    if dt.kind in "Mm":
        unit, scale = np.datetime_data(dt)
        name = "numpy.datetime64" if dt.kind == "M" else "numpy.timedelta64"
        return {"name": name, "configuration": {"unit": unit, "scale_factor": int(scale)}}
    if dt.fields is not None:
        canonical = v3_canonical(dt)
        types = [
            v3_data_type_json(canonical.fields[n][0], record_type_name=record_type_name)
            for n in canonical.names
        ]
        if record_type_name == "struct":
            fields: list[Any] = [{"name": n, "data_type": t} for n, t in zip(canonical.names, types)]
        else:
            fields = [[n, t] for n, t in zip(canonical.names, types)]
        return {"name": record_type_name, "configuration": {"fields": fields}}
    name = {"S": "null_terminated_bytes", "U": "fixed_length_utf32", "V": "raw_bytes"}[dt.kind]
    return {"name": name, "configuration": {"length_bytes": dt.itemsize}}


def v3_data_type_name(dtype: Any) -> str:
    """The v3 name of ``dtype`` (the ``name`` of configured types); byte order is irrelevant."""
    json = v3_data_type_json(dtype)
    return json if isinstance(json, str) else json["name"]
