"""Fill values: JSON <-> NumPy scalars, per the Zarr v3 spec and as zarr-python 3 writes v2/v3.

Numeric types are handled here; strings, bytes, datetimes and records in ``fill_value_ext.py``.

Float fill values keep their exact bits: a NaN whose payload differs from NumPy's canonical NaN is
written in v3 as the ``"0x..."`` hex form (the only way v3 can express it); canonical NaN and
infinities use the ``"NaN"``/``"Infinity"``/``"-Infinity"`` strings zarr-python writes.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import numpy as np

from ..errors import MetadataError
from .fill_value_ext import cast_fill, default_fill, encode_fill, parse_fill

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
FIELD = "fill_value"


def _numeric(dtype: np.dtype) -> bool:
    return dtype.kind in "biufc"


def default_fill_value(dtype: np.dtype) -> Any:
    """What zarr-python uses when none is given: zero (``False`` for bool), "" / b"" for strings and
    bytes, NaT for datetimes, zero bytes for raw bytes and records."""
    dtype = np.dtype(dtype)
    if not _numeric(dtype):
        return default_fill(dtype)
    return np.zeros((), dtype=dtype)[()]


def fill_value_bits(value: Any) -> bytes | None:
    """The native bytes of a fill value, to compare NaNs (which are never ``==``) exactly."""
    if value is None:
        return None
    return np.asarray(value).tobytes()


def fill_values_equal(a: Any, b: Any) -> bool:
    """Bitwise equality of fill values (distinguishes NaN payloads and -0.0)."""
    if a is None or b is None:
        return a is None and b is None
    return np.asarray(a).dtype == np.asarray(b).dtype and fill_value_bits(a) == fill_value_bits(b)


def _scalar_dtype(dtype: np.dtype) -> np.dtype:
    """Scalars are always native order, whatever the array's byte order."""
    return np.dtype(dtype).newbyteorder("=")


def _error(message: str, source: str | None) -> MetadataError:
    return MetadataError(message, source=source, field=FIELD)


def cast_fill_value(value: Any, dtype: np.dtype, *, source: str | None = None) -> Any:
    """A Python/NumPy scalar as a scalar of ``dtype``, refusing lossy or out-of-range values.

    Strings come back as ``str``, variable-length bytes as ``bytes``, all else as NumPy scalars.
    """
    if not _numeric(np.dtype(dtype)):
        return cast_fill(value, np.dtype(dtype), source)
    dt = _scalar_dtype(dtype)
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.generic) and value.dtype == dt:
        return value
    kind = dt.kind
    if kind == "b":
        if isinstance(value, bool | np.bool_) or (_is_integer(value) and int(value) in (0, 1)):
            return np.bool_(bool(value))
    elif kind in "iu":
        if _is_integer(value) or (_is_real(value) and float(value).is_integer()):
            return _int_scalar(int(value), dt, source)
    elif kind == "f":
        if _is_real(value):
            return _float_scalar(value, dt, source)
    elif kind == "c" and (_is_real(value) or isinstance(value, complex | np.complexfloating)):
        part = np.dtype(f"f{dt.itemsize // 2}")
        c = value if isinstance(value, np.complexfloating) else complex(value)
        re_, im = _float_scalar(c.real, part, source), _float_scalar(c.imag, part, source)
        return _complex_from_parts(re_, im, dt)
    raise _error(f"{value!r} is not a valid fill value for data type {dt}", source)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_real(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _int_scalar(value: int, dt: np.dtype, source: str | None) -> np.generic:
    info = np.iinfo(dt)
    if not info.min <= value <= info.max:
        raise _error(f"{value} is out of range for {dt} [{info.min}, {info.max}]", source)
    return dt.type(value)


def _float_scalar(value: Any, dt: np.dtype, source: str | None) -> np.generic:
    if isinstance(value, np.floating) and value.dtype == dt:
        return value
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = np.asarray(value).astype(dt)[()]
            finite_in = math.isfinite(float(value))
    except OverflowError as exc:
        raise _error(f"{value!r} is out of range for {dt}", source) from exc
    if finite_in and not np.isfinite(out):
        raise _error(f"{value!r} is out of range for {dt}", source)
    return out


def _complex_from_parts(re_: np.generic, im: np.generic, dt: np.dtype) -> np.generic:
    """Assemble bit-exactly (``complex(re, im)`` would route NaN payloads through float64)."""
    parts = np.array([re_, im], dtype=re_.dtype)
    return parts.view(dt)[0]


def _float_from_json(value: Any, dt: np.dtype, *, hex_ok: bool, source: str | None) -> np.generic:
    """One float encoded as a JSON number, a special string, or (v3) ``"0x"`` + big-endian bits."""
    if isinstance(value, str):
        if value in _SPECIAL:
            return dt.type(_SPECIAL[value])
        if hex_ok and _HEX.match(value):
            digits = value[2:]
            if len(digits) != 2 * dt.itemsize:
                raise _error(
                    f"hex fill value {value!r} must have {2 * dt.itemsize} hex digits for {dt}", source
                )
            return np.frombuffer(bytes.fromhex(digits), dtype=dt.newbyteorder(">"))[0].astype(dt)
        allowed = '"NaN", "Infinity", "-Infinity"' + (', or "0x" + hex bits' if hex_ok else "")
        raise _error(f"invalid float fill value {value!r}; a string must be one of {allowed}", source)
    if _is_real(value):
        return _float_scalar(value, dt, source)
    raise _error(f"expected a number for data type {dt}, got {value!r}", source)


def _parse(value: Any, dtype: np.dtype, *, v3: bool, source: str | None) -> Any:
    if not _numeric(np.dtype(dtype)):
        return parse_fill(value, np.dtype(dtype), source)
    dt = _scalar_dtype(dtype)
    kind = dt.kind
    if kind == "b":
        if isinstance(value, bool):
            return np.bool_(value)
        if not v3 and _is_integer(value) and value in (0, 1):  # legacy v2 writers
            return np.bool_(bool(value))
        raise _error(f"expected true or false for data type bool, got {value!r}", source)
    if kind in "iu":
        if _is_integer(value) or (isinstance(value, float) and value.is_integer()):
            return _int_scalar(int(value), dt, source)
        raise _error(f"expected an integer for data type {dt}, got {value!r}", source)
    if kind == "f":
        return _float_from_json(value, dt, hex_ok=v3, source=source)
    if kind == "c":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise _error(f"expected [real, imag] for data type {dt}, got {value!r}", source)
        part = np.dtype(f"f{dt.itemsize // 2}")
        re_, im = (_float_from_json(v, part, hex_ok=v3, source=source) for v in value)
        return _complex_from_parts(re_, im, dt)
    raise _error(f"no fill value encoding for data type {dt}", source)


def parse_fill_value_v3(value: Any, dtype: np.dtype, *, source: str | None = None) -> Any:
    """The fill value of a v3 ``zarr.json`` (required, never null)."""
    if value is None:
        raise _error("must not be null in Zarr v3", source)
    return _parse(value, dtype, v3=True, source=source)


def parse_fill_value_v2(value: Any, dtype: np.dtype, *, source: str | None = None) -> Any:
    """The fill value of a v2 ``.zarray``; null means no fill value (chunks must all exist)."""
    if value is None:
        return None
    return _parse(value, dtype, v3=False, source=source)


def _float_to_json(value: np.generic, *, hex_ok: bool) -> float | str:
    if np.isnan(value):
        canonical = np.asarray(np.nan, dtype=value.dtype).tobytes()
        if hex_ok and np.asarray(value).tobytes() != canonical:
            return "0x" + np.asarray(value).astype(value.dtype.newbyteorder(">")).tobytes().hex()
        return "NaN"
    if np.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return float(value)


def _encode(value: Any, dtype: np.dtype, *, v3: bool) -> Any:
    if not _numeric(np.dtype(dtype)):
        return encode_fill(value, np.dtype(dtype))
    dt = _scalar_dtype(dtype)
    scalar = cast_fill_value(value, dt)
    if dt.kind == "b":
        return bool(scalar)
    if dt.kind in "iu":
        return int(scalar)
    if dt.kind == "f":
        return _float_to_json(scalar, hex_ok=v3)
    if dt.kind == "c":
        return [_float_to_json(scalar.real, hex_ok=v3), _float_to_json(scalar.imag, hex_ok=v3)]
    raise MetadataError(f"no fill value encoding for data type {dt}", field=FIELD)


def encode_fill_value_v3(value: Any, dtype: np.dtype) -> Any:
    """JSON for a v3 fill value, as zarr-python writes it (plus hex for non-canonical NaNs)."""
    return _encode(value, dtype, v3=True)


def encode_fill_value_v2(value: Any, dtype: np.dtype) -> Any:
    """JSON for a v2 fill value, as zarr-python writes it (``None`` stays null; NaN payloads are lost)."""
    if value is None:
        return None
    return _encode(value, dtype, v3=False)
