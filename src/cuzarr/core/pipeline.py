"""Execute chunk plans: one ``get_many``, one ``decode_batch`` and one scatter per batch.

Reads decode whole interior chunks straight into the output; edge and partial chunks are
decoded to temporaries and scattered. Writes read-modify-write only partial chunks, drop
chunks equal to the fill value (unless ``write_empty_chunks``), encode in one batch and store
in one ``set_many``. Batches are bounded in decoded bytes so memory stays flat.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..buffer.base import Backend
from ..codecs.base import run_batch
from ..parallel import map_in_pool, min_parallel_items, split_for_pool
from ..storage.base import Store
from .chunk_source import ChunkKeys, ChunkSource
from .plan import ChunkProjection, iter_batches
from .prefetch import can_prefetch, fetched_batches

#: Unsharded chunks up to this size are read in runs of about 1 MiB per pool task (see
#: ``_read_fused``): per-chunk Python work would otherwise rival their decode time.
SMALL_CHUNK_BYTES = 256 << 10


class ChunkCodecs(Protocol):
    """What the pipeline needs from a codec chain (``CodecChain`` or ``V2CodecChain``)."""

    def decode(self, data: Any, *, key: str | None = None, out: Any = None) -> Any: ...

    def decode_for_reading(self, data: Any, *, key: str | None = None) -> Any: ...

    def decode_batch(
        self,
        encoded: Sequence[Any],
        *,
        keys: Sequence[str],
        outs: Sequence[Any] | None = None,
        writable: bool = True,
    ) -> list[Any]: ...

    def encode_batch(self, chunks: Sequence[Any], *, keys: Sequence[str]) -> list[Any]: ...


@dataclass
class ChunkIO:
    """Everything needed to move the chunks of one array between a store and memory."""

    source: ChunkSource
    codecs: ChunkCodecs
    chunk_shape: tuple[int, ...]
    dtype: np.dtype
    fill_value: Any
    backend: Backend
    write_empty_chunks: bool
    batch_bytes: int
    order: str = "C"
    #: ``lock(keys)`` context manager (core/sync.py) held around each batch's read-modify-write.
    synchronizer: Any = None

    @property
    def chunk_nbytes(self) -> int:
        return math.prod(self.chunk_shape) * self.dtype.itemsize  # per read: no NumPy call

    @property
    def store(self) -> Store:
        return self.source.store

    def batches(self, projections: list[ChunkProjection]):
        return iter_batches(projections, self.chunk_nbytes, self.batch_bytes, group=self.source.group)

    def empty_chunk(self) -> Any:
        return self.backend.full(self.chunk_shape, self.fill_value, self.dtype, order=self.order)


def read_chunks(io: ChunkIO, projections: list[ChunkProjection], out: Any) -> None:
    """Fill ``out`` (full-rank selection shape) from the chunks of ``projections``."""
    if io.backend.fuses_chunk_io and io.source.fused_io:
        _read_fused(io, projections, out)
        return
    prefetch = io.backend.prefetches_batches and can_prefetch()
    # with prefetching two batches of encoded bytes are alive at once: halve them (same memory)
    batches = list(
        iter_batches(
            projections,
            io.chunk_nbytes,
            io.batch_bytes // 2 if prefetch else io.batch_bytes,
            group=io.source.group,
        )
    )

    def fetch(batch: list[ChunkProjection]) -> Any:
        return io.backend.fetch_chunks(io.source, [p.coords for p in batch])

    discard = io.backend.discard_fetched
    with closing(fetched_batches(batches, fetch, prefetch=prefetch, discard=discard)) as fetched:
        for batch, encoded in fetched:
            try:
                _decode_and_place(io, batch, encoded, out)
            except BaseException:
                discard(encoded)  # nothing to do when the decode already gave it back
                raise


def _decode_and_place(io: ChunkIO, batch: list[ChunkProjection], encoded: Any, out: Any) -> None:
    """One batch: decode whole chunks straight into ``out``, the others to temporaries, then scatter."""
    keys = ChunkKeys(io.source, [p.coords for p in batch])
    outs = [out[p.out_selection + (Ellipsis,)] if p.is_whole_chunk else None for p in batch]
    # chunks not decoded into ``out`` are only copied from: they may be read-only (no extra copy)
    decoded = io.backend.decode_chunks(io.codecs, encoded, keys=keys, outs=outs, writable=False)
    scatter_chunks, scatter_chunk_sel, scatter_out_sel = [], [], []
    for projection, chunk, target in zip(batch, decoded, outs):
        if chunk is None:
            out[projection.out_selection] = io.fill_value
        elif target is None:
            scatter_chunks.append(chunk)
            scatter_chunk_sel.append(projection.chunk_selection)
            scatter_out_sel.append(projection.out_selection)
    if scatter_chunks:
        io.backend.scatter(out, scatter_chunks, scatter_chunk_sel, scatter_out_sel)


def _read_fused(io: ChunkIO, projections: list[ChunkProjection], out: Any) -> None:
    """Host path for stores with cheap single reads: one pool task per chunk, or per shard for
    sharded arrays, reads its bytes, decodes (straight into ``out`` when a chunk maps onto a view
    of it) and places at once. The compressed and decoded bytes are used while still in cache, no
    batch waits for its slowest read, and the only memory beyond ``out`` is one chunk (or one
    shard) per thread. A shard's inner chunks go through ``decode_batch`` together, which decodes
    small ones in one native call."""
    source, codecs, fill_value = io.source, io.codecs, io.fill_value

    def place(projection: ChunkProjection, data: Any) -> None:
        if data is None:
            out[projection.out_selection] = fill_value
        elif projection.is_whole_chunk:
            codecs.decode(data, key=source.key(projection.coords), out=out[projection.out_selection + (...,)])
        else:
            chunk = codecs.decode_for_reading(data, key=source.key(projection.coords))
            out[projection.out_selection] = chunk[projection.chunk_selection]

    def read_one(projection: ChunkProjection) -> None:
        place(projection, source.read_one(projection.coords))

    def read_group(group: list[ChunkProjection]) -> None:
        _decode_and_place(io, group, source.fetch(io.backend, [p.coords for p in group]), out)

    groups = _groups(io, projections)
    if groups is None and io.chunk_nbytes <= SMALL_CHUNK_BYTES and len(projections) > 1:
        # small chunks: a run of them per task, read together and decoded in one codec call
        groups = [list(run) for run in split_for_pool(projections, io.chunk_nbytes)]
    if groups is None:
        map_in_pool(read_one, projections, min_parallel=min_parallel_items(io.chunk_nbytes))
    else:
        map_in_pool(read_group, groups, min_parallel=_min_parallel_groups(io, projections, groups))


def _groups(io: ChunkIO, projections: list[ChunkProjection]) -> list[list[ChunkProjection]] | None:
    """Projections by store object (shard), in first-seen order; ``None`` when unsharded."""
    if not projections or io.source.group(projections[0].coords) is None:
        return None
    groups: dict[Any, list[ChunkProjection]] = {}
    for projection in projections:
        groups.setdefault(io.source.group(projection.coords), []).append(projection)
    return list(groups.values())


def _min_parallel_groups(
    io: ChunkIO, projections: list[ChunkProjection], groups: list[list[ChunkProjection]]
) -> int:
    """Spread groups over the pool only when the whole read is worth waking it for."""
    enough = len(projections) >= min_parallel_items(io.chunk_nbytes)
    return 2 if enough else len(groups) + 1


def write_chunks(io: ChunkIO, projections: list[ChunkProjection], value: Any) -> None:
    """Write ``value`` (full-rank selection shape, or broadcastable to it) into the chunks."""
    if io.backend.fuses_chunk_io and io.source.fused_io and io.synchronizer is None:
        groups = _groups(io, projections)
        if groups is None:
            _write_fused(io, projections, value)
        else:
            _write_groups_fused(io, projections, groups, value)
        return
    for batch in io.batches(projections):
        _write_batch(io, batch, value)


def _write_batch(io: ChunkIO, batch: list[ChunkProjection], value: Any) -> None:
    """Assemble, drop fill-value chunks, encode and store one batch (whole shards when sharded)."""
    keys = ChunkKeys(io.source, [p.coords for p in batch])
    with _chunk_locks(io, batch):
        chunks, previous = _assemble_chunks(io, batch, keys, value)
        if io.write_empty_chunks:
            empty = [False] * len(chunks)
        else:
            empty = run_batch(lambda c: _is_fill(io, c), chunks)
        kept = [i for i, is_empty in enumerate(empty) if not is_empty]
        kept_keys = ChunkKeys(io.source, [batch[i].coords for i in kept])
        encoded = io.backend.encode_chunks(io.codecs, [chunks[i] for i in kept], keys=kept_keys)
        by_position: list[Any] = [None] * len(batch)  # None: empty chunk, deleted
        for i, data in zip(kept, encoded):
            by_position[i] = data
        io.source.put(io.backend, [p.coords for p in batch], by_position, previous=previous)


def _write_groups_fused(
    io: ChunkIO, projections: list[ChunkProjection], groups: list[list[ChunkProjection]], value: Any
) -> None:
    """Sharded arrays on cheap stores: one pool task per shard assembles, encodes and stores it,
    so one shard's encoding overlaps another's assembly and file write (batches left the pool
    idle while a batch's shards were assembled and written). Each shard is replaced atomically;
    after the first failure no further shard is stored."""
    write_group = _stop_after_first_failure(lambda group: _write_batch(io, group, value))
    map_in_pool(write_group, groups, min_parallel=_min_parallel_groups(io, projections, groups))


def _stop_after_first_failure(function: Any) -> Any:
    """``function`` for ``map_in_pool``, skipped for the items not yet started once one has failed."""
    failed = threading.Event()

    def run(item: Any) -> None:
        if failed.is_set():
            return
        try:
            function(item)
        except BaseException:
            failed.set()
            raise

    return run


def _write_fused(io: ChunkIO, projections: list[ChunkProjection], value: Any) -> None:
    """Host path for stores with cheap single operations: one pool task per chunk assembles it
    (reading the old chunk only when partly overwritten), drops it if it is all fill value,
    encodes it and stores it, so encoding overlaps the file writes and each chunk is encoded
    while its bytes are in cache. Each chunk is replaced atomically by the store; a failure
    stops the chunks not yet stored (those already stored hold the new data, as with batches)."""
    source, codecs = io.source, io.codecs

    def write_one(projection: ChunkProjection) -> None:
        key = source.key(projection.coords)
        existing = None
        if not projection.covers_chunk:
            data = source.read_one(projection.coords)
            existing = None if data is None else codecs.decode(data, key=key)
        chunk = _chunk_contents(io, projection, value, existing)
        if not io.write_empty_chunks and _is_fill(io, chunk):
            source.write_one(projection.coords, None)
        else:
            source.write_one(projection.coords, codecs.encode(chunk, key=key))

    write = _stop_after_first_failure(write_one)
    map_in_pool(write, projections, min_parallel=min_parallel_items(io.chunk_nbytes))


def _chunk_contents(io: ChunkIO, projection: ChunkProjection, value: Any, existing: Any) -> Any:
    """A chunk's new contents: the written piece itself when it covers the whole chunk, else the
    old chunk (``existing``, decoded) or the fill value with the piece written over it."""
    piece = value[projection.out_selection]
    if projection.is_whole_chunk:
        return piece
    chunk = existing
    if chunk is None:
        chunk = io.empty_chunk()
    elif not getattr(chunk, "flags", None) or not chunk.flags.writeable:
        chunk = chunk.copy()
    chunk[projection.chunk_selection] = piece
    return chunk


def _is_fill(io: ChunkIO, chunk: Any) -> bool:
    """Whether a chunk equals the fill value everywhere; real data is rejected on its first element
    without a full pass (and without the chunk-sized boolean temporary of the full comparison)."""
    first = chunk[(slice(0, 1),) * chunk.ndim] if isinstance(chunk, np.ndarray) and chunk.size else None
    if first is not None and not io.backend.all_equal(first, io.fill_value):
        return False
    return io.backend.all_equal(chunk, io.fill_value)


def _chunk_locks(io: ChunkIO, batch: list[ChunkProjection]) -> AbstractContextManager[Any]:
    """With a synchronizer, the locks of every stored object the batch rewrites (sorted, so no
    deadlock). Whole-chunk writes are locked too: one landing between another writer's read and
    store of that chunk would otherwise be silently undone."""
    if io.synchronizer is None:
        return nullcontext()
    return io.synchronizer.lock({io.source.lock_key(p.coords) for p in batch})


def _assemble_chunks(
    io: ChunkIO, batch: list[ChunkProjection], keys: list[str], value: Any
) -> tuple[list[Any], Any]:
    """New contents of every chunk in the batch (only partially written chunks are read), and
    what the source read to rewrite its objects (``put(previous=...)``: old shards, read once)."""
    partial = [i for i, p in enumerate(batch) if not p.covers_chunk]
    encoded, previous = io.source.read_for_update(io.backend, [p.coords for p in batch], partial)
    existing: dict[int, Any] = {}
    if partial:
        partial_keys = [keys[i] for i in partial]
        decoded = io.backend.decode_chunks(io.codecs, encoded, keys=partial_keys)
        existing = dict(zip(partial, decoded))
    chunks = [_chunk_contents(io, p, value, existing.get(i)) for i, p in enumerate(batch)]
    return chunks, previous
