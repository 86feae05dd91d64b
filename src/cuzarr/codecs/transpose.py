"""The ``transpose`` codec: permutes chunk axes before serialization (a view, no copy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import MetadataError
from .base import ArrayArrayCodec, ChunkSpec


def _parse_order(order: Any) -> tuple[int, ...]:
    if isinstance(order, str):
        raise MetadataError(
            f"transpose codec: order {order!r} is not supported; Zarr v3 (and zarr-python 3) needs a "
            "permutation of the axes such as [1, 0] (for a 2-D 'F' layout)"
        )
    if not isinstance(order, Iterable):
        raise MetadataError(f"transpose codec: order must be a sequence of ints, got {order!r}")
    items = list(order)
    if not all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in items):
        raise MetadataError(f"transpose codec: order must contain only ints, got {items!r}")
    parsed = tuple(int(i) for i in items)
    if sorted(parsed) != list(range(len(parsed))):
        raise MetadataError(
            f"transpose codec: order must be a permutation of 0..{len(parsed) - 1}, got {list(parsed)}"
        )
    return parsed


class TransposeCodec(ArrayArrayCodec):
    """Stores chunk axis ``order[i]`` as axis ``i``; decoding applies the inverse permutation."""

    codec_name = "transpose"

    def __init__(self, order: Iterable[int]):
        self.order = _parse_order(order)
        self._inverse = tuple(int(i) for i in np.argsort(self.order))

    def get_config(self) -> dict[str, Any]:
        return {"order": list(self.order)}

    def evolve(self, spec: ChunkSpec) -> TransposeCodec:
        if len(self.order) != len(spec.shape):
            raise MetadataError(
                f"transpose codec: order {list(self.order)} has {len(self.order)} entries but the chunk "
                f"has {len(spec.shape)} dimensions"
            )
        return self

    def resolve_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return dataclasses.replace(spec, shape=tuple(spec.shape[i] for i in self.order))

    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return np.asarray(chunk).transpose(self.order)

    def decode(self, chunk: np.ndarray, spec: ChunkSpec) -> np.ndarray:
        return chunk.transpose(self._inverse)
