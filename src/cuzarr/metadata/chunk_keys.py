"""Chunk key encodings: grid coordinates <-> store keys (``c/0/1`` in v3, ``0.1`` in v2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import MetadataError
from ._common import parse_named_object

_DEFAULT_SEPARATOR = {"default": "/", "v2": "."}


@dataclass(frozen=True)
class ChunkKeyEncoding:
    """``default``: ``'c' + sep + sep.join(coords)``; ``v2``: ``sep.join(coords)`` (0-d: ``'0'``)."""

    name: str = "default"
    separator: str = "/"

    def __post_init__(self) -> None:
        if self.name not in _DEFAULT_SEPARATOR:
            raise MetadataError(
                f"unsupported chunk key encoding {self.name!r}; supported: 'default', 'v2'",
                field="chunk_key_encoding",
            )
        if self.separator not in ("/", "."):
            raise MetadataError(
                f"separator must be '/' or '.', got {self.separator!r}", field="chunk_key_encoding"
            )

    @classmethod
    def from_json(cls, data: Any, *, source: str | None = None) -> ChunkKeyEncoding:
        """Parse ``{"name": "default"|"v2", "configuration": {"separator": "/"|"."}}``."""
        name, config = parse_named_object(data, field="chunk_key_encoding", source=source)
        if name not in _DEFAULT_SEPARATOR:
            raise MetadataError(
                f"unsupported chunk key encoding {name!r}; supported: 'default', 'v2'",
                source=source,
                field="chunk_key_encoding",
            )
        sep = config.get("separator", _DEFAULT_SEPARATOR[name])
        if sep not in ("/", "."):
            raise MetadataError(
                f"separator must be '/' or '.', got {sep!r}", source=source, field="chunk_key_encoding"
            )
        return cls(name, sep)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "configuration": {"separator": self.separator}}

    def encode(self, coords: tuple[int, ...]) -> str:
        """The store key (relative to the array) of the chunk at grid ``coords``."""
        joined = self.separator.join(str(int(c)) for c in coords)
        if self.name == "default":
            return "c" + self.separator + joined if coords else "c"
        return joined if coords else "0"

    def decode(self, key: str, *, ndim: int | None = None) -> tuple[int, ...] | None:
        """Grid coordinates of a chunk key, or ``None`` if ``key`` is not one (e.g. ``zarr.json``).

        Only keys ``encode`` produces are accepted (no leading zeros). In v2 ``'0'`` is both the
        0-d chunk and chunk ``(0,)``: pass ``ndim`` to tell them apart (and to check the length).
        """
        sep = self.separator
        if self.name == "default":
            if key == "c":
                parts: list[str] = []
            elif key.startswith("c" + sep):
                parts = key[2:].split(sep)
            else:
                return None
        elif ndim == 0:
            parts = [] if key == "0" else ["invalid"]
        else:
            parts = key.split(sep)
        if not all(p.isascii() and p.isdigit() and (p == "0" or p[0] != "0") for p in parts):
            return None
        coords = tuple(int(p) for p in parts)
        if ndim is not None and len(coords) != ndim:
            return None
        return coords
