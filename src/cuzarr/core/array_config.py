"""An array's runtime settings (``Array.config``), as zarr-python's ``ArrayConfig`` holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_CONFIG_KEYS = frozenset({"write_empty_chunks", "order", "read_missing_chunks"})


@dataclass(frozen=True)
class ArrayConfig:
    """``order``: the memory layout of arrays returned by reads; ``write_empty_chunks``: whether
    chunks equal to the fill value are written (True) or deleted (False)."""

    order: str
    write_empty_chunks: bool

    def to_dict(self) -> dict[str, Any]:
        return {"order": self.order, "write_empty_chunks": self.write_empty_chunks}


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


def config_order(config: Any) -> str | None:
    """The memory order ``config=`` asks for (``{'order': 'C'|'F'}`` or an ``ArrayConfig``)."""
    order = config.get("order") if isinstance(config, dict) else getattr(config, "order", None)
    return None if order is None else check_order(order)


def check_order(order: Any) -> str:
    if not isinstance(order, str) or order.upper() not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    return order.upper()


__all__ = ["ArrayConfig", "array_config", "check_order", "config_order"]
