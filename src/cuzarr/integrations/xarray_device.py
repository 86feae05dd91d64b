"""CF decoding of variables read on a device (``engine="cuzarr", device="cuda"``).

xarray decodes lazily, but its mask coder builds the masked array with ``numpy.array(data,
copy=True)``, which CuPy refuses, and its time coders and pandas indexes need NumPy. So, for an
array read on a device:

- dimension coordinates and time-like variables are read on the host (xarray turns them into
  pandas indexes and datetimes, which live there anyway);
- masking (``_FillValue`` / ``missing_value``) is applied by the backend array itself, with the
  array's own methods, as xarray's ``CFMaskCoder`` would: the coder runs on a small NumPy probe
  holding the fill values, and what it decides (decoded dtype, decoded fill value, attributes
  moved into ``encoding``) is what the device transform does. xarray's scale/offset coder then
  runs as usual (it only uses array methods), and sees the encoding it expects.

Anything the probe cannot settle (``_Unsigned``, a coder error) is read on the host, so results
always equal a CPU read; only where they live differs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from xarray import Variable

logger = logging.getLogger("cuzarr.xarray")

_FILL_ATTRIBUTES = ("_FillValue", "missing_value")
_TIMEDELTA_UNITS = {"days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"}


@dataclass(frozen=True)
class DeviceMask:
    """``out = data.astype(dtype); out[data == f] = fill`` for every encoded fill value ``f``
    (what xarray's ``_apply_mask`` does, on any array type)."""

    encoded: tuple[Any, ...]
    dtype: np.dtype
    fill: Any

    def __call__(self, data: Any) -> Any:
        out = data.astype(self.dtype, copy=True)
        masked = None
        for value in self.encoded:  # compared after the cast, as xarray does
            match = out == value
            masked = match if masked is None else masked | match
        if masked is not None:
            out[masked] = self.fill
        return out


def stays_on_host(name: str, dims: tuple[str, ...], attrs: dict[str, Any], decoding: dict[str, Any]) -> bool:
    """Whether xarray needs this variable as NumPy: an index (dimension coordinate), or times."""
    if dims == (name,):
        return True
    units = attrs.get("units")
    if not isinstance(units, str):
        return False
    if " since " in units and decoding.get("decode_times", True) is not False:
        return True
    return units.strip().lower() in _TIMEDELTA_UNITS and decoding.get("decode_timedelta") is not False


def plan_mask(
    name: str, dtype: np.dtype, attrs: dict[str, Any], encoding: dict[str, Any], decoding: dict[str, Any]
) -> tuple[DeviceMask | None, dict[str, Any], dict[str, Any]] | None:
    """``(mask or None, attrs, encoding)`` as xarray's mask coder leaves them, or ``None`` when
    only a host read can decode the variable exactly."""
    if not decoding.get("mask_and_scale", True) or not any(
        a in attrs for a in (*_FILL_ATTRIBUTES, "_Unsigned")
    ):
        return None, attrs, encoding
    if "_Unsigned" in attrs or dtype.kind not in "iufc":
        return None
    try:
        from xarray.coding.variables import CFMaskCoder

        candidates = [v for a in _FILL_ATTRIBUTES if a in attrs for v in np.ravel(attrs[a])]
        probe_values = np.array(candidates, dtype=dtype)
        probe = Variable(("probe",), probe_values, dict(attrs), dict(encoding))
        coder = CFMaskCoder(
            decode_times=decoding.get("decode_times", True) is not False,
            decode_timedelta=bool(decoding.get("decode_timedelta")),
        )
        decoded = coder.decode(probe, name=name)
        values = np.asarray(decoded.values)
    except Exception as exc:  # an xarray without this coder, or fill values it refuses
        logger.info("variable %r: CF masking is left to a host read (%s)", name, exc)
        return None
    if decoded is probe:
        return None, attrs, encoding
    decoded_dtype = np.dtype(decoded.dtype)
    if decoded_dtype.kind not in "iufc":  # e.g. bool promoted to object: not a device array
        return None
    changed = [(v, d) for v, d in zip(probe_values.tolist(), values.tolist()) if not _same(v, d)]
    if changed:  # the probe values xarray masked, and what it put in their place
        mask = DeviceMask(tuple(v for v, _ in changed), decoded_dtype, changed[0][1])
    else:
        mask = DeviceMask((), decoded_dtype, None) if decoded_dtype != dtype else None
    # xarray records the stored dtype as encoding["dtype"] (setdefault): the one before masking
    return mask, dict(decoded.attrs), {**decoded.encoding, "dtype": np.dtype(dtype)}


def _same(a: Any, b: Any) -> bool:
    """Equal, or both NaN: the probe value came through the mask unchanged."""
    if a == b:
        return True
    try:
        return bool(np.isnan(a) and np.isnan(b))
    except TypeError:
        return False
