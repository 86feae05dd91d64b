"""``Array.info`` / ``info_complete()``: the text table zarr-python users know, plus cuzarr's device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
            ("Data type", a.dtype),
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


def human_bytes(n: float) -> str:
    """``1536`` -> ``'1.5KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{int(n)}B" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n}"
