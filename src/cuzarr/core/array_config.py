"""An array's runtime settings (``Array.config``), as zarr-python's ``ArrayConfig`` holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Reads always return C-ordered arrays: the output is allocated C-contiguous and chunks are
#: scattered into it. A v2 array's ``order`` only sets how its chunks are stored.
READ_ORDER = "C"
_CONFIG_KEYS = frozenset({"write_empty_chunks", "order", "read_missing_chunks"})


@dataclass(frozen=True)
class ArrayConfig:
    """``order``: the memory layout of arrays returned by reads; ``write_empty_chunks``: whether
    chunks equal to the fill value are written (True) or deleted (False)."""

    order: str
    write_empty_chunks: bool


def array_config(config: Any, write_empty_chunks: bool | None) -> bool | None:
    """``write_empty_chunks`` from ``config=`` ({'write_empty_chunks': ...} or an ``ArrayConfig``)
    or the legacy kwarg; None leaves it to ``cuzarr.config`` at each write."""
    if config is None:
        return write_empty_chunks
    if isinstance(config, dict):
        unknown = set(config) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"unknown array config keys {sorted(unknown)}")
        return config.get("write_empty_chunks", write_empty_chunks)
    return getattr(config, "write_empty_chunks", write_empty_chunks)


__all__ = ["READ_ORDER", "ArrayConfig", "array_config"]
