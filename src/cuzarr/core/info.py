"""``Array.info`` / ``info_complete()``: the text table zarr-python users know, plus cuzarr's device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..metadata.dtypes import v3_data_type_json

if TYPE_CHECKING:
    from .array import Array


@dataclass(frozen=True)
class ArrayInfo:
    """A snapshot of an array's layout; ``repr`` is an aligned two-column table."""

    rows: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, a: Array, *, complete: bool = False) -> ArrayInfo:
        rows: list[tuple[str, Any]] = [
            ("Type", "Array"),
            ("Zarr format", a.zarr_format),
            ("Data type", data_type_text(a)),
            ("Fill value", a.fill_value),
            ("Shape", a.shape),
            ("Shard shape", a.shards) if a.shards else None,
            ("Chunk shape", a.chunks),
            ("Order", a.order),
            ("Read-only", a.read_only),
            ("Store type", type(a.store).__name__),
            ("Device", a.device),
            ("Filters", a.filters),
            ("Serializer", a.serializer) if a.serializer is not None else None,
            ("Compressors", a.compressors),
            ("No. bytes", f"{a.nbytes} ({human_bytes(a.nbytes)})"),
        ]
        if complete:
            stored = a.nbytes_stored()
            rows.append(("No. bytes stored", f"{stored} ({human_bytes(stored)})"))
            rows.append(("Storage ratio", f"{a.nbytes / stored:.1f}" if stored else "-"))
            rows.append(("Chunks Initialized", f"{a.nchunks_initialized}/{a.nchunks}"))
        return cls(tuple(row for row in rows if row is not None))

    def __getitem__(self, key: str) -> Any:
        return dict(self.rows)[key]

    def __repr__(self) -> str:
        return "\n".join(f"{k:<19}: {v}" for k, v in self.rows)


def data_type_text(a: Array) -> Any:
    """The dtype, except a v3 record's: that shows as stored (``struct`` or ``structured``, which
    decide who can read it) with its fields, e.g. ``struct(a: int32, b: float64)``."""
    metadata = a.metadata
    if metadata.zarr_format != 3 or a.dtype.fields is None:
        return a.dtype
    return _v3_type_text(v3_data_type_json(a.dtype, record_type_name=metadata.record_type_name))


def _v3_type_text(data_type: Any) -> str:
    """A v3 ``data_type`` JSON in one line; records' fields in either spelling, nested alike."""
    if isinstance(data_type, str):
        return data_type
    config = data_type.get("configuration") or {}
    if "fields" in config:
        fields = [(f["name"], f["data_type"]) if isinstance(f, dict) else tuple(f) for f in config["fields"]]
        inner = ", ".join(f"{name}: {_v3_type_text(t)}" for name, t in fields)
    else:
        inner = ", ".join(f"{k}={v}" for k, v in config.items())
    return f"{data_type['name']}({inner})"


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{int(n)}B" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n}"
