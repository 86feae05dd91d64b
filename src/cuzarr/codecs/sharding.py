"""The v3 ``sharding_indexed`` codec: many inner chunks stored as one object plus an index.

The array pipeline reads and writes sharded arrays inner chunk by inner chunk (core/shards.py);
this module owns the shard format itself: the codec's configuration, the geometry of a shard
(``ShardLayout``), index encoding and validation, and assembling a shard from encoded inner
chunks in one preallocated buffer. ``ShardingCodec.encode``/``decode`` also handle whole shards
on their own, which is what nested sharding uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np

from ..errors import CodecError, MetadataError
from .base import ArrayBytesCodec, BytesLike, ChunkSpec, Codec, as_uint8
from .bytes import BytesCodec
from .chain import CodecChain
from .crc32c import Crc32cCodec
from .registry import codec_from_json, register_codec

EMPTY = np.uint64(2**64 - 1)
MAX_OFFSET = 1 << 62  # no store object is this large; larger offsets are forged
MAX_CHUNKS_PER_SHARD = 1 << 24  # a 256 MiB index; zarr-python and tensorstore shards hold far fewer
#: Decoded shard indexes a layout remembers, in index bytes (e.g. 4096 indexes of 16x16 inner chunks).
_TABLE_CACHE_BYTES = 16 << 20


def morton_order(chunks_per_shard: tuple[int, ...]) -> np.ndarray:
    """C-order linear indices of the inner chunks in (compressed) Morton order, as zarr-python writes them."""
    n = int(np.prod(chunks_per_shard, dtype=np.int64))
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    coords = np.indices(chunks_per_shard).reshape(len(chunks_per_shard), -1)
    bits = [(c - 1).bit_length() for c in chunks_per_shard]
    codes = np.zeros(n, dtype=np.int64)
    out_bit = 0
    for bit in range(max(bits, default=0)):
        for dim, nbits in enumerate(bits):
            if bit < nbits:
                codes |= ((coords[dim] >> bit) & 1) << out_bit
                out_bit += 1
    return np.argsort(codes, kind="stable")


class ShardingCodecIndexLocation(StrEnum):
    """Where a shard keeps its index (zarr-python's enum; plain strings work too)."""

    start = "start"
    end = "end"


class ShardLayout:
    """Geometry and index coding of the shards of one array (or one nesting level)."""

    def __init__(
        self,
        chunks_per_shard: tuple[int, ...],
        index_codecs: Sequence[Any],
        index_location: str,
        max_chunk_nbytes: int = MAX_OFFSET,
    ):
        self.chunks_per_shard = tuple(chunks_per_shard)
        self.max_chunk_nbytes = max_chunk_nbytes  # the most one encoded inner chunk can take
        self.n_chunks = int(np.prod(self.chunks_per_shard, dtype=np.int64))
        # C-order strides of the inner-chunk grid: a position without a NumPy call per chunk
        self._strides = tuple(
            math.prod(self.chunks_per_shard[i + 1 :]) for i in range(len(self.chunks_per_shard))
        )
        self.index_location = index_location
        spec = ChunkSpec((*self.chunks_per_shard, 2), np.dtype("uint64"), EMPTY, "C")
        self.index_chain = CodecChain(index_codecs, spec)
        self.index_nbytes = len(self.index_chain.encode(np.full(spec.shape, EMPTY, dtype="uint64")))
        self._tables: dict[tuple[bytes, int | None], np.ndarray] = {}  # see decode_index

    @cached_property
    def write_order(self) -> np.ndarray:
        return morton_order(self.chunks_per_shard)

    def local_index(self, local_coords: tuple[int, ...]) -> int:
        """C-order position of an inner chunk inside its shard."""
        if len(local_coords) != len(self._strides) or any(
            not 0 <= c < n for c, n in zip(local_coords, self.chunks_per_shard)
        ):
            raise ValueError(
                f"inner chunk {tuple(local_coords)} is outside a shard of {self.chunks_per_shard}"
            )
        return sum(c * s for c, s in zip(local_coords, self._strides))

    def index_range(self) -> tuple[int, int | None]:
        """The byte range of the index inside a shard object."""
        return (0, self.index_nbytes) if self.index_location == "start" else (-self.index_nbytes, None)

    def index_from_shard(self, shard: BytesLike, key: str) -> np.ndarray:
        """The validated ``(n_chunks, 2)`` offset/length table of a whole shard object."""
        data = as_uint8(shard)
        if len(data) < self.index_nbytes:
            raise CodecError(
                f"shard is {len(data)} bytes, shorter than its {self.index_nbytes}-byte index",
                key=key,
                codec="sharding_indexed",
            )
        region = data[: self.index_nbytes] if self.index_location == "start" else data[-self.index_nbytes :]
        return self.decode_index(region, key, shard_nbytes=len(data))

    def decode_index(
        self, index_bytes: BytesLike, key: str, *, shard_nbytes: int | None = None
    ) -> np.ndarray:
        """Decode and check an index: entries inside the shard, not overlapping, empty ones all-ones.

        The read-only table is remembered by the index's bytes (and the shard size it was checked
        against), so reading the same shard again, the common case for windows and loaders, skips
        the decode and the checks; the bytes are compared, so a rewritten shard is never confused
        with the old one."""
        if len(index_bytes) != self.index_nbytes:
            raise CodecError(
                f"shard index is {len(index_bytes)} bytes, expected {self.index_nbytes} (shard too short)",
                key=key,
                codec="sharding_indexed",
            )
        cache_key = (bytes(index_bytes), shard_nbytes)
        table = self._tables.get(cache_key)
        if table is not None:
            return table
        try:
            table = self.index_chain.decode(index_bytes, key=f"{key} (shard index)")
        except CodecError as exc:
            raise CodecError(f"invalid shard index: {exc}", key=key, codec="sharding_indexed") from exc
        table = np.array(table, dtype=np.uint64).reshape(self.n_chunks, 2)
        self._validate(table, key, shard_nbytes)
        table.flags.writeable = False
        if len(self._tables) * self.index_nbytes >= _TABLE_CACHE_BYTES:
            self._tables.clear()
        self._tables[cache_key] = table
        return table

    def _validate(self, table: np.ndarray, key: str, shard_nbytes: int | None) -> None:
        """Few whole-table NumPy operations on the good path (this runs once per shard read);
        only a failing check looks for the first bad entry to name it."""
        offsets, lengths = table[:, 0], table[:, 1]
        empty = offsets == EMPTY
        if (empty != (lengths == EMPTY)).any():
            bad = int(np.flatnonzero(empty != (lengths == EMPTY))[0])
            raise self._entry_error(key, bad, "has only one of offset/length marked empty")
        present = np.flatnonzero(~empty) if empty.any() else None
        starts = offsets if present is None else offsets[present]
        sizes = lengths if present is None else lengths[present]
        if starts.size == 0:
            return

        def entry(i: int) -> int:  # position in the table of the i-th present entry
            return i if present is None else int(present[i])

        if starts.max() >= MAX_OFFSET or sizes.max() > self.max_chunk_nbytes:
            i = entry(int(np.flatnonzero((starts >= MAX_OFFSET) | (sizes > self.max_chunk_nbytes))[0]))
            raise self._entry_error(
                key,
                i,
                f"claims bytes [{int(table[i, 0])}, +{int(table[i, 1])}), more than any inner chunk "
                f"of this array can take ({self.max_chunk_nbytes} bytes)",
            )
        ends = starts + sizes  # both below 2**62: no overflow
        if shard_nbytes is not None:
            low = self.index_nbytes if self.index_location == "start" else 0
            high = shard_nbytes - (self.index_nbytes if self.index_location == "end" else 0)
            if starts.min() < low or ends.max() > high:
                i = entry(int(np.flatnonzero((starts < low) | (ends > high))[0]))
                raise self._entry_error(
                    key,
                    i,
                    f"points to bytes [{int(table[i, 0])}, {int(table[i, 0] + table[i, 1])}) "
                    f"outside the shard's chunk data [{low}, {high})",
                )
        order = np.argsort(starts, kind="stable")
        overlap = starts[order[1:]] < ends[order[:-1]]
        if overlap.any():
            raise self._entry_error(
                key, entry(int(order[np.flatnonzero(overlap)[0] + 1])), "overlaps another inner chunk"
            )

    def _entry_error(self, key: str, position: int, problem: str) -> CodecError:
        coords = tuple(int(c) for c in np.unravel_index(position, self.chunks_per_shard))
        return CodecError(f"index entry of inner chunk {coords} {problem}", key=key, codec="sharding_indexed")

    def assemble(self, encoded: Sequence[BytesLike | None]) -> bytearray | None:
        """One shard object from encoded inner chunks (C-order positions; None or b'' = absent)."""
        table = np.full((self.n_chunks, 2), EMPTY, dtype=np.uint64)
        sizes = np.array([0 if e is None else len(e) for e in encoded], dtype=np.int64)
        if not sizes.any():
            return None
        base = self.index_nbytes if self.index_location == "start" else 0
        out = bytearray(base + int(sizes.sum()) + (self.index_nbytes if self.index_location == "end" else 0))
        view = memoryview(out)
        position = base
        for i in self.write_order:
            size = int(sizes[i])
            if size:
                view[position : position + size] = memoryview(encoded[i]).cast("B")
                table[i] = (position, size)
                position += size
        index = self.index_chain.encode(table.reshape(*self.chunks_per_shard, 2))
        where = slice(0, self.index_nbytes) if self.index_location == "start" else slice(position, None)
        view[where] = memoryview(as_uint8(index))
        return out


class ShardingCodec(ArrayBytesCodec):
    """``sharding_indexed``: the chunk is a shard of inner chunks encoded with their own codecs."""

    codec_name = "sharding_indexed"

    def __init__(
        self,
        chunk_shape: Sequence[int],
        codecs: Sequence[Any] = ({"name": "bytes", "configuration": {"endian": "little"}},),
        index_codecs: Sequence[Any] = (
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "crc32c"},
        ),
        index_location: str = "end",
    ):
        try:
            self.chunk_shape = tuple(int(c) for c in chunk_shape)
        except (TypeError, ValueError) as exc:
            raise MetadataError(f"sharding chunk_shape must be a list of ints, got {chunk_shape!r}") from exc
        if not self.chunk_shape or any(c <= 0 for c in self.chunk_shape):
            raise MetadataError(f"sharding chunk_shape must be positive ints, got {chunk_shape!r}")
        if index_location not in ("start", "end"):
            raise MetadataError(f"sharding index_location must be 'start' or 'end', got {index_location!r}")
        self.codecs = tuple(codec_from_json(c) for c in codecs)
        self.index_codecs = tuple(codec_from_json(c) for c in index_codecs)
        self.index_location = str(ShardingCodecIndexLocation(index_location))

    def get_config(self) -> dict[str, Any]:
        return {
            "chunk_shape": list(self.chunk_shape),
            "codecs": [c.to_json() for c in self.codecs],
            "index_codecs": [c.to_json() for c in self.index_codecs],
            "index_location": self.index_location,
        }

    def chunks_per_shard(self, shard_shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(shard_shape) != len(self.chunk_shape) or any(
            s % c for s, c in zip(shard_shape, self.chunk_shape)
        ):
            raise MetadataError(
                f"shard shape {tuple(shard_shape)} must be a multiple of the inner chunk shape "
                f"{self.chunk_shape} in every dimension",
                field="codecs",
            )
        per_shard = tuple(s // c for s, c in zip(shard_shape, self.chunk_shape))
        if int(np.prod(per_shard, dtype=np.float64)) > MAX_CHUNKS_PER_SHARD:
            raise MetadataError(
                f"shard shape {tuple(shard_shape)} holds {per_shard} inner chunks of {self.chunk_shape}: more "
                f"than {MAX_CHUNKS_PER_SHARD} per shard (its index alone would not fit in memory)",
                field="codecs",
            )
        return per_shard

    def inner_spec(self, spec: ChunkSpec) -> ChunkSpec:
        return ChunkSpec(self.chunk_shape, spec.dtype, spec.fill_value, "C")

    def evolve(self, spec: ChunkSpec) -> ShardingCodec:
        self.chunks_per_shard(tuple(spec.shape))
        inner = CodecChain(self.codecs, self.inner_spec(spec))
        layout_chain = CodecChain(
            self.index_codecs, ChunkSpec((*self.chunks_per_shard(spec.shape), 2), np.dtype("uint64"), EMPTY)
        )
        return ShardingCodec(self.chunk_shape, inner.codecs, layout_chain.codecs, self.index_location)

    def inner_chain(self, spec: ChunkSpec) -> CodecChain:
        return CodecChain(self.codecs, self.inner_spec(spec))

    def layout(self, spec: ChunkSpec) -> ShardLayout:
        return ShardLayout(
            self.chunks_per_shard(tuple(spec.shape)),
            self.index_codecs,
            self.index_location,
            max_chunk_nbytes=max_encoded_nbytes(self.inner_spec(spec)),
        )

    # -- whole-shard encode/decode (nested sharding; the array pipeline uses core/shards.py) --
    def encode(self, chunk: np.ndarray, spec: ChunkSpec) -> BytesLike:
        layout, inner = self.layout(spec), self.inner_chain(spec)
        grid = np.indices(layout.chunks_per_shard).reshape(len(spec.shape), -1).T
        pieces, keep = [], []
        for coords in grid:
            region = tuple(slice(c * n, (c + 1) * n) for c, n in zip(coords, self.chunk_shape))
            piece = chunk[region]
            keep.append(not _all_fill(piece, spec.fill_value))
            pieces.append(piece)
        encoded = inner.encode_batch([p for p, k in zip(pieces, keep) if k], keys=["inner"] * sum(keep))
        it = iter(encoded)
        shard = layout.assemble([next(it) if k else None for k in keep])
        return bytes(shard) if shard is not None else b""

    def decode(self, data: BytesLike, spec: ChunkSpec, out: np.ndarray | None = None) -> np.ndarray:
        layout, inner = self.layout(spec), self.inner_chain(spec)
        result = out if out is not None else np.empty(spec.shape, dtype=spec.dtype)
        raw = as_uint8(data)
        if raw.size == 0:
            result[...] = spec.fill_value
            return result
        table = layout.index_from_shard(raw, "shard")
        for position in range(layout.n_chunks):
            coords = np.unravel_index(position, layout.chunks_per_shard)
            region = tuple(slice(int(c) * n, (int(c) + 1) * n) for c, n in zip(coords, self.chunk_shape))
            offset, length = table[position]
            if offset == EMPTY:
                result[region] = spec.fill_value
            else:
                result[region] = inner.decode(raw[int(offset) : int(offset + length)], key="inner chunk")
        return result


def max_encoded_nbytes(spec: ChunkSpec) -> int:
    """A generous bound on one encoded chunk (compressors may expand incompressible data a little),
    so a forged index entry cannot make a reader allocate or fetch gigabytes."""
    from ..config import config

    if spec.dtype.hasobject or spec.dtype.kind in "OT":
        return int(config.get("max_vlen_chunk_bytes"))
    return 2 * spec.nbytes + (1 << 20)


def _all_fill(piece: np.ndarray, fill: Any) -> bool:
    from ..buffer.base import all_equal_numpy

    return all_equal_numpy(piece, fill)


def default_index_codecs() -> tuple[Codec, ...]:
    return (BytesCodec(endian="little"), Crc32cCodec())


register_codec(ShardingCodec.codec_name, ShardingCodec)
