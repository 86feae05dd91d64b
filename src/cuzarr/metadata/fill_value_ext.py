"""Fill values of the non-numeric data types, encoded exactly as zarr-python 3.1 does (v2 and v3 alike).

* ``string`` / ``U<n>``: the JSON string (zarr-python also reads numbers for strings, as ``str(n)``);
* ``variable_length_bytes`` / ``S<n>`` / ``V<n>`` / records: base64 of the raw bytes (records in
  the array's own field byte orders);
* datetime64 / timedelta64: the int64 count of units; NaT is ``-2**63`` (``"NaT"`` is also read).

Casting user values refuses lossy ones (too-long strings, wrong byte counts) instead of truncating.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from typing import Any

import numpy as np

from ..errors import MetadataError

FIELD = "fill_value"


def _error(message: str, source: str | None) -> MetadataError:
    return MetadataError(message, source=source, field=FIELD)


def _time_unit(dt: np.dtype) -> str | None:
    """NumPy's unit argument for a datetime/timedelta dtype (``None`` for the generic unit)."""
    unit, scale = np.datetime_data(dt)
    return None if unit == "generic" else f"{scale}{unit}"


def default_fill(dt: np.dtype) -> Any:
    """zarr-python's default: empty string/bytes, NaT for times, zero bytes for raw bytes, and for
    records the integer 0 cast to the record."""
    if dt.kind == "T":
        return ""
    if dt.kind == "O":
        return b""
    if dt.kind == "S":
        return np.bytes_(b"")
    if dt.kind == "U":
        return np.str_("")
    if dt.kind in "Mm":
        return _time(None, dt, None)
    if dt.fields is not None:
        # zarr-python casts the integer 0, which NumPy turns into b"0" / "0" in S/U fields
        return np.array([0], dtype=dt)[0]
    return np.zeros((), dtype=dt)[()]


def _time(value: Any, dt: np.dtype, source: str | None) -> np.generic:
    native = dt.newbyteorder("=")
    scalar_type = np.datetime64 if dt.kind == "M" else np.timedelta64
    wrong = np.timedelta64 if dt.kind == "M" else np.datetime64
    allowed = (str, int, np.integer, scalar_type, datetime.datetime if dt.kind == "M" else datetime.timedelta)
    if not (value is None or isinstance(value, allowed)) or isinstance(value, bool | np.bool_ | wrong):
        raise _error(f"{value!r} is not a valid fill value for data type {dt}", source)
    if isinstance(value, scalar_type) and value.dtype == native:
        return value
    if isinstance(value, np.integer) and not isinstance(value, np.timedelta64):  # timedelta64 is an integer
        value = int(value)
    unit = _time_unit(dt)
    if isinstance(value, int):  # a count of units; exact, and works for NaT in the generic unit too
        if not -(2**63) <= value < 2**63 or (unit is None and value != -(2**63)):
            raise _error(f"{value} is not a valid fill value for data type {dt}", source)
        return np.int64(value).view(native)
    try:
        scalar = scalar_type("NaT" if value is None else value, *([unit] if unit else []))
    except (TypeError, ValueError, OverflowError) as exc:
        raise _error(f"{value!r} is not a valid fill value for data type {dt}: {exc}", source) from exc
    return np.asarray(scalar).astype(native)[()]


def _fixed(data: bytes, dt: np.dtype, source: str | None) -> np.generic:
    """``S``: at most ``itemsize`` bytes; ``V``: at most ``itemsize``, zero-padded (as NumPy's
    ``np.void`` and zarr-python do); records: exactly ``itemsize`` bytes."""
    if dt.kind == "S":
        if len(data.rstrip(b"\x00")) > dt.itemsize:
            raise _error(f"{data!r} is longer than the {dt.itemsize} bytes of data type {dt}", source)
        return np.bytes_(data[: dt.itemsize])
    if dt.kind == "V" and dt.names is None and len(data) < dt.itemsize:
        data = data + b"\x00" * (dt.itemsize - len(data))
    if len(data) != dt.itemsize:
        raise _error(f"expected {dt.itemsize} bytes for data type {dt}, got {len(data)}", source)
    return np.frombuffer(data, dtype=dt)[0]


def cast_fill(value: Any, dt: np.dtype, source: str | None) -> Any:
    """A user value as the fill-value scalar of a non-numeric ``dt``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    kind = dt.kind
    if kind in "TU":
        if not isinstance(value, str):
            raise _error(f"expected a string for data type {dt}, got {value!r}", source)
        if kind == "T":
            return str(value)
        if len(value) > dt.itemsize // 4:
            raise _error(f"{value!r} is longer than the {dt.itemsize // 4} characters of {dt}", source)
        return np.str_(value)
    if kind in "Mm":
        return _time(value, dt, source)
    if kind == "V" and dt.fields is not None:
        return _record(value, dt, source)
    if isinstance(value, str) and kind in "OS":
        try:
            value = value.encode("utf-8" if kind == "O" else "ascii")
        except UnicodeEncodeError as exc:
            raise _error(f"{value!r} is not ASCII, as data type {dt} needs", source) from exc
    if isinstance(value, np.void) and value.dtype.fields is None:
        value = value.tobytes()
    if not isinstance(value, bytes | bytearray):
        raise _error(f"expected bytes for data type {dt}, got {value!r}", source)
    return bytes(value) if kind == "O" else _fixed(bytes(value), dt, source)


def _record(value: Any, dt: np.dtype, source: str | None) -> np.void:
    """A record from a matching ``np.void``, a tuple/list of field values, raw bytes or an int."""
    if isinstance(value, bytes | bytearray):
        return _fixed(bytes(value), dt, source)
    if isinstance(value, bool | np.bool_) or not isinstance(value, np.void | tuple | list | int | np.integer):
        raise _error(f"{value!r} is not a valid fill value for data type {dt}", source)
    try:
        if isinstance(value, np.void):
            return np.asarray(value).astype(dt)[()]
        return np.array([tuple(value) if isinstance(value, list | tuple) else value], dtype=dt)[0]
    except (TypeError, ValueError, OverflowError) as exc:
        raise _error(f"{value!r} is not a valid fill value for data type {dt}: {exc}", source) from exc


def _b64(value: Any, dt: np.dtype, source: str | None) -> bytes:
    if not isinstance(value, str):
        raise _error(f"expected a base64 string for data type {dt}, got {value!r}", source)
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise _error(f"invalid base64 {value!r} for data type {dt}: {exc}", source) from exc


def parse_fill(value: Any, dt: np.dtype, source: str | None) -> Any:
    """The fill value JSON of a non-numeric ``dt`` (same rules in v2 and v3, as zarr-python)."""
    kind = dt.kind
    if kind == "T":
        if isinstance(value, int | float | str):  # numbers: zarr-python 2 wrote 0 for object arrays
            return str(value)
        raise _error(f"expected a string for data type {dt}, got {value!r}", source)
    if kind == "U":
        if not isinstance(value, str):
            raise _error(f"expected a string for data type {dt}, got {value!r}", source)
        return cast_fill(value, dt, source)
    if kind in "Mm":
        if not ((isinstance(value, int) and not isinstance(value, bool)) or value == "NaT"):
            raise _error(f'expected an integer or "NaT" for data type {dt}, got {value!r}', source)
        return _time(value, dt, source)
    data = _b64(value, dt, source)
    return data if kind == "O" else _fixed(data, dt, source)


def encode_fill(value: Any, dt: np.dtype) -> Any:
    """JSON of a non-numeric fill value (after ``cast_fill``)."""
    scalar = cast_fill(value, dt, None)
    if dt.kind in "TU":
        return str(scalar)
    if dt.kind in "Mm":
        return int(np.asarray(scalar).view(np.int64))
    raw = scalar if dt.kind == "O" else bytes(scalar) if dt.kind == "S" else scalar.tobytes()
    return base64.b64encode(raw).decode("ascii")
