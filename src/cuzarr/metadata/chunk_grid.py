"""The regular chunk grid: the only grid Zarr v3 core (and v2) defines."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import MetadataError
from ._common import parse_int_tuple, parse_named_object

# A chunk is decoded whole in memory; more elements than this is a corrupt or hostile document.
MAX_CHUNK_ELEMENTS = 2**40


@dataclass(frozen=True)
class RegularChunkGrid:
    """Chunks of one fixed shape tiling the array; edge chunks are stored padded to full size."""

    chunk_shape: tuple[int, ...]

    def __post_init__(self) -> None:
        shape = validate_chunk_shape(self.chunk_shape, field="chunk_grid", source=None)
        object.__setattr__(self, "chunk_shape", shape)

    @classmethod
    def from_json(cls, data: Any, *, ndim: int, source: str | None = None) -> RegularChunkGrid:
        """Parse ``{"name": "regular", "configuration": {"chunk_shape": [...]}}``."""
        name, config = parse_named_object(data, field="chunk_grid", source=source)
        if name != "regular":
            raise MetadataError(
                f"unsupported chunk grid {name!r}; only 'regular' is supported",
                source=source,
                field="chunk_grid",
            )
        if "chunk_shape" not in config:
            raise MetadataError("configuration.chunk_shape is missing", source=source, field="chunk_grid")
        shape = validate_chunk_shape(config["chunk_shape"], field="chunk_grid", source=source, ndim=ndim)
        return cls(shape)

    def to_json(self) -> dict[str, Any]:
        return {"name": "regular", "configuration": {"chunk_shape": list(self.chunk_shape)}}

    def grid_shape(self, array_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Chunks per dimension (ceil-div; a zero-length dimension has no chunks)."""
        if len(array_shape) != len(self.chunk_shape):
            raise ValueError(f"array shape {array_shape} does not match chunk shape {self.chunk_shape}")
        return tuple(-(-s // c) for s, c in zip(array_shape, self.chunk_shape))


def validate_chunk_shape(
    value: Any, *, field: str, source: str | None, ndim: int | None = None
) -> tuple[int, ...]:
    """Positive integer chunk sizes, one per dimension, with a sane total element count."""
    shape = parse_int_tuple(value, field=field, source=source, minimum=1, ndim=ndim)
    if math.prod(shape) > MAX_CHUNK_ELEMENTS:
        raise MetadataError(
            f"chunk shape {list(shape)} has more than 2**40 elements per chunk", source=source, field=field
        )
    return shape
