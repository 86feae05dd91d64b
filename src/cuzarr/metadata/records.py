"""Fill values of record (struct) data types in Zarr v3: three JSON forms, kept as they were read.

* ``base64``: the raw record bytes, what zarr-python 3.1 writes for ``structured`` (and all it reads);
* ``object``: field name -> that field's own fill value (nested records nest), what the
  zarr-extensions ``struct`` spec and newer zarr-python write;
* ``bare``: the field's fill value alone, what tensorstore writes for a ``struct`` of one field
  (and all it reads there: it refuses the object form for one field).

Any form is read under either type name. A new array writes its spelling's form (``base64`` for
``structured``, ``object`` for ``struct``); an array read keeps its form, so rewriting its metadata
never makes it unreadable to the peer that wrote it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import numpy as np

from ..errors import MetadataError
from .dtypes import RECORD_TYPE_NAMES
from .fill_value import cast_fill_value, default_fill_value, encode_fill_value_v3, parse_fill_value_v3

FILL_FORMS = ("base64", "object", "bare")


def default_fill_form(record_type_name: str) -> str:
    """How a new array of this spelling writes its fill value."""
    if record_type_name not in RECORD_TYPE_NAMES:
        raise ValueError(f"record type name must be one of {RECORD_TYPE_NAMES}, got {record_type_name!r}")
    return "base64" if record_type_name == "structured" else "object"


def fill_form_of(value: Any, dtype: np.dtype) -> str | None:
    """The form of a record fill value's JSON (None for other data types)."""
    if dtype.fields is None:
        return None
    if isinstance(value, dict):
        return "object"
    if len(dtype.names) == 1 and not _is_record_base64(value, dtype):
        return "bare"
    return "base64"


def _is_record_base64(value: Any, dtype: np.dtype) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return len(base64.b64decode(value.encode("ascii"), validate=True)) == dtype.itemsize
    except (binascii.Error, UnicodeEncodeError):
        return False


def parse_v3_fill(value: Any, dtype: np.dtype, *, source: str | None = None) -> Any:
    """A v3 ``fill_value`` of any data type; records in any of their three forms."""
    form = fill_form_of(value, dtype)
    if form == "object":
        return _record_from_object(value, dtype, source)
    if form == "bare":
        return _record_from_object({dtype.names[0]: value}, dtype, source)
    return parse_fill_value_v3(value, dtype, source=source)  # base64 (or what other types read)


def _record_from_object(value: dict, dtype: np.dtype, source: str | None) -> np.void:
    """Fields missing from the object take their type's default, as zarr-python reads them."""
    unknown = sorted(set(value) - set(dtype.names))
    if unknown:
        raise MetadataError(
            f"fill value names fields {unknown} that data type {dtype} does not have",
            source=source,
            field="fill_value",
        )
    out = np.zeros((), dtype=dtype)
    for name in dtype.names:
        field_dtype = dtype.fields[name][0]
        if name in value:
            out[name] = parse_v3_fill(value[name], field_dtype, source=source)
        else:
            out[name] = default_fill_value(field_dtype)
    return out[()]


def encode_v3_fill(value: Any, dtype: np.dtype, form: str | None = None) -> Any:
    """The v3 ``fill_value`` JSON; records in ``form`` (default ``base64``), other types as usual."""
    if dtype.fields is None or form in (None, "base64"):
        return encode_fill_value_v3(value, dtype)
    if form not in FILL_FORMS:
        raise ValueError(f"record fill value form must be one of {FILL_FORMS}, got {form!r}")
    record = cast_fill_value(value, dtype)
    fields = {name: encode_v3_fill(record[name], dtype.fields[name][0], form) for name in dtype.names}
    if form == "bare":
        (only,) = fields.values()
        return only
    return fields


__all__ = ["FILL_FORMS", "default_fill_form", "encode_v3_fill", "fill_form_of", "parse_v3_fill"]
