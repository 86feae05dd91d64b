"""Zarr v2 ``dtype`` spellings: NumPy typestrs, lists for records, ``|O`` plus an object codec.

``|O`` alone says nothing about the elements: as in zarr-python 3.1 the object codec among the
filters (or the compressor) decides, ``vlen-utf8`` giving strings (``StringDType``) and the other
object codecs Python objects. ``pickle`` is refused: decoding it runs arbitrary code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import UnknownDataTypeError
from .dtypes import STRING_DTYPE, V3_DATA_TYPES, _check, normalize_dtype

OBJECT_CODEC_IDS = ("vlen-utf8", "vlen-bytes", "vlen-array", "pickle", "json2", "msgpack2")
_NUMERIC = re.compile(r"^([<>|])([biufc])([0-9]+)$")
_FIXED = re.compile(r"^(\|S|\|V|[<>]U)[0-9]+$")
_TIME = re.compile(r"^[<>][Mm]8(\[([1-9][0-9]*)?(Y|M|W|D|h|m|s|ms|us|μs|ns|ps|fs|as|generic)\])?$")


def _error(message: str, source: str | None) -> UnknownDataTypeError:
    return UnknownDataTypeError(message, source=source, field="dtype")


def _supported_v2_list() -> str:
    numeric = ", ".join(dt.newbyteorder("<").str for dt in V3_DATA_TYPES.values())
    return (
        f"{numeric}, |S<n>, <U<n>, |V<n>, <M8[unit], <m8[unit], records ([[name, dtype], ...]), "
        "|O with a vlen-utf8 or vlen-bytes filter"
    )


def object_codec_id(filters: Sequence[Any] | None, compressor: Any) -> str | None:
    """The first object codec id among ``filters`` then ``compressor`` (configs or numcodecs objects)."""
    for codec in (*(filters or ()), compressor):
        codec_id = codec.get("id") if isinstance(codec, Mapping) else getattr(codec, "codec_id", None)
        if codec_id in OBJECT_CODEC_IDS:
            return codec_id
    return None


def _object_dtype(codec_id: str | None, source: str | None) -> np.dtype:
    if codec_id == "vlen-utf8":
        return STRING_DTYPE
    if codec_id == "pickle":
        raise _error(
            "dtype '|O' with the pickle codec is refused: decoding it can run arbitrary code", source
        )
    if codec_id is None:
        raise _error(
            "dtype '|O' needs an object codec (vlen-utf8, vlen-bytes, ...) among the filters or as "
            f"compressor, found none; supported: {_supported_v2_list()}",
            source,
        )
    return np.dtype(object)


def _structured(value: list, source: str | None) -> np.dtype:
    """``[[name, dtype], ...]`` or ``[name, dtype, shape]`` entries (nested records allowed)."""
    fields: list[tuple] = []
    for entry in value:
        if not (isinstance(entry, list | tuple) and len(entry) in (2, 3) and isinstance(entry[0], str)):
            raise _error(f"record field must be [name, dtype] or [name, dtype, shape], got {entry!r}", source)
        dt = parse_v2_dtype(entry[1], source=source)
        if len(entry) == 3:
            shape = entry[2]
            if not (isinstance(shape, list | tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
                raise _error(
                    f"record field {entry[0]!r}: shape must be a list of integers, got {shape!r}", source
                )
            fields.append((entry[0], dt, tuple(shape)))
        else:
            fields.append((entry[0], dt))
    if not fields:
        raise _error("a record dtype needs at least one field", source)
    try:
        return _check(np.dtype(fields), allow_object=False)
    except (TypeError, ValueError) as exc:
        raise _error(f"invalid record dtype {value!r}: {exc}", source) from exc


def parse_v2_dtype(value: Any, *, object_codec_id: str | None = None, source: str | None = None) -> np.dtype:
    """The dtype of a v2 ``.zarray`` ``dtype``, keeping its byte order.

    ``object_codec_id`` (see ``object_codec_id()``) resolves ``|O``.
    """
    if isinstance(value, list):
        return _structured(value, source)
    if not isinstance(value, str):
        raise _error(f"unsupported dtype {value!r}; supported: {_supported_v2_list()}", source)
    if value == "|O":
        return _object_dtype(object_codec_id, source)
    match = _NUMERIC.match(value)
    if match is None and not (_FIXED.match(value) or _TIME.match(value)):
        raise _error(f"unsupported dtype {value!r}; supported: {_supported_v2_list()}", source)
    if match is not None and match.group(1) == "|" and int(match.group(3)) != 1:
        raise _error(f"dtype {value!r}: a multi-byte type needs a byte order ('<' or '>'), not '|'", source)
    try:
        return _check(np.dtype(value), allow_object=False)
    except (TypeError, ValueError) as exc:
        raise _error(
            f"unsupported dtype {value!r} ({exc}); supported: {_supported_v2_list()}", source
        ) from exc


def v2_dtype_json(dtype: Any) -> str | list:
    """The v2 ``dtype`` as zarr-python writes it ('<f4', '|S5', '<M8[ns]', '|O', [['a', '<i4'], ...])."""
    dt = normalize_dtype(dtype, allow_object=True)
    if dt.fields is not None:
        out: list = []
        for name in dt.names:
            field = dt.fields[name][0]
            if field.subdtype is not None:
                out.append([name, v2_dtype_json(field.subdtype[0]), list(field.subdtype[1])])
            else:
                out.append([name, v2_dtype_json(field)])
        return out
    if dt.hasobject:
        return "|O"
    return dt.str


# the historical name: v2 ``dtype`` values were always strings before records were supported
v2_dtype_str = v2_dtype_json
