"""Inner chunks of sharded arrays: batched index reads, coalesced ranged reads, whole-shard writes.

Reading a batch of inner chunks is one ``Store.get_dependent`` call whatever the number of
shards: per shard the index (or the whole shard when most of it is wanted), then the needed inner
chunks of the same version of the shard, nearby byte ranges coalesced (two request rounds on
stores without snapshots). Writing assembles every touched shard once, in one preallocated
buffer; shards only partly rewritten keep their other inner chunks as raw bytes (never decoded).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from ..codecs.sharding import EMPTY, ShardLayout
from ..errors import CodecError
from ..storage.base import Store

Coords = tuple[int, ...]


class ShardedChunks:
    """Inner chunk (i, j) lives in shard (i // cps_i, j // cps_j) at C-order position (i % cps_i, ...)."""

    @property
    def fused_io(self) -> bool:
        """On cheap stores one pool task per shard fetches (index, then coalesced chunks) and decodes,
        or assembles, encodes and stores it."""
        return self.store.cheap_single_ops

    def __init__(
        self,
        store: Store,
        shard_key: Callable[[Coords], str],
        layout: ShardLayout,
        grid_shape: tuple[int, ...],
        *,
        max_gap_bytes: int = 1 << 20,
        max_coalesced_bytes: int = 16 << 20,
        whole_shard_fraction: float = 0.5,
    ):
        self.store = store
        self._shard_key = shard_key
        self.layout = layout
        self._cps = layout.chunks_per_shard
        self._grid = grid_shape
        self._max_gap = max_gap_bytes
        self._max_coalesced = max_coalesced_bytes
        self._whole_fraction = whole_shard_fraction

    # -- addressing -------------------------------------------------------------------------
    def shard_of(self, coords: Coords) -> Coords:
        return tuple(c // n for c, n in zip(coords, self._cps))

    def position_in_shard(self, coords: Coords) -> int:
        return self.layout.local_index(tuple(c % n for c, n in zip(coords, self._cps)))

    def key(self, coords: Coords) -> str:
        local = tuple(c % n for c, n in zip(coords, self._cps))
        return f"{self._shard_key(self.shard_of(coords))}[inner chunk {local}]"

    def group(self, coords: Coords) -> Hashable | None:
        return self.shard_of(coords)

    def lock_key(self, coords: Coords) -> str:
        return self._shard_key(self.shard_of(coords))

    def _by_shard(self, coords: Sequence[Coords]) -> dict[Coords, list[tuple[int, int]]]:
        """shard -> [(position in the batch, position in the shard)]."""
        groups: dict[Coords, list[tuple[int, int]]] = defaultdict(list)
        for i, c in enumerate(coords):
            groups[self.shard_of(c)].append((i, self.position_in_shard(c)))
        return groups

    def inner_chunks_in_array(self, shard: Coords) -> int:
        """How many inner chunks of ``shard`` intersect the array (edge shards have fewer)."""
        return int(
            np.prod([min(n, g - s * n) for s, n, g in zip(shard, self._cps, self._grid)], dtype=np.int64)
        )

    # -- reads ------------------------------------------------------------------------------
    def fetch(self, backend: Any, coords: Sequence[Coords]) -> list[Any]:
        """Encoded inner chunks (``None`` when empty), every shard in one ``get_dependent`` call:
        the whole shard when most of its chunks are wanted, else its index, then the chunks it
        points at from the same version of the shard (see ``Store.get_dependent``)."""
        results: list[Any] = [None] * len(coords)
        reads = [
            _ShardRead(
                self.layout,
                self._shard_key(shard),
                members,
                whole=len(members) >= self._whole_fraction * self.layout.n_chunks,
                max_gap=self._max_gap,
                max_coalesced=self._max_coalesced,
            )
            for shard, members in self._by_shard(coords).items()
        ]
        values = self.store.get_dependent([(r.key, r.first_range, r.follow) for r in reads])
        for read, value in zip(reads, values):
            if value is not None:
                read.place(value[0], value[1], results)
        return results

    # -- writes -----------------------------------------------------------------------------
    def _kept_shards(self, groups: dict[Coords, list[tuple[int, int]]]) -> list[Coords]:
        """Shards the batch rewrites only in part: their other inner chunks must be kept."""
        return [s for s, m in groups.items() if len(m) < self.inner_chunks_in_array(s)]

    def read_for_update(
        self, backend: Any, coords: Sequence[Coords], partial: Sequence[int]
    ) -> tuple[list[Any], dict[Coords, Any]]:
        """Shards rewritten in part are read whole, once: they give both the old bytes of the
        partly overwritten inner chunks and the untouched inner chunks ``put`` keeps. Partly
        overwritten chunks of shards rewritten entirely come through ranged reads."""
        groups = self._by_shard(coords)
        kept = self._kept_shards(groups)
        old = dict(zip(kept, self.store.get_many([self._shard_key(s) for s in kept]))) if kept else {}
        encoded: list[Any] = [None] * len(partial)
        elsewhere: list[int] = []  # positions in ``partial`` of chunks in fully rewritten shards
        tables: dict[Coords, Any] = {}
        for j, i in enumerate(partial):
            shard = self.shard_of(coords[i])
            if shard not in old:
                elsewhere.append(j)
                continue
            data = old[shard]
            if data is None:
                continue
            if shard not in tables:
                tables[shard] = self.layout.index_from_shard(data, self._shard_key(shard))
            offset, length = tables[shard][self.position_in_shard(coords[i])]
            if offset != EMPTY:
                encoded[j] = memoryview(data)[int(offset) : int(offset + length)]
        if elsewhere:
            for j, data in zip(elsewhere, self.fetch(backend, [coords[partial[j]] for j in elsewhere])):
                encoded[j] = data
        return encoded, old

    def put(
        self, backend: Any, coords: Sequence[Coords], encoded: Sequence[Any], previous: Any = None
    ) -> None:
        groups = self._by_shard(coords)
        old: dict[Coords, Any] = previous if previous is not None else {}
        missing = [s for s in self._kept_shards(groups) if s not in old]
        if missing:  # no read_for_update: read the shards whose other chunks are kept
            old = {**old, **dict(zip(missing, self.store.get_many([self._shard_key(s) for s in missing])))}
        to_set, to_delete = [], []
        for shard, members in groups.items():
            key = self._shard_key(shard)
            entries: list[Any] = [None] * self.layout.n_chunks
            stored = old.get(shard)
            if stored is not None:
                table = self.layout.index_from_shard(stored, key)
                view = memoryview(stored)
                for position in np.flatnonzero(table[:, 0] != EMPTY):
                    offset, length = table[position]
                    entries[position] = view[int(offset) : int(offset + length)]
            for i, position in members:
                entries[position] = encoded[i]
            shard_bytes = self.layout.assemble(entries)
            if shard_bytes is None:
                to_delete.append(key)
            else:
                to_set.append((key, shard_bytes))
        self.store.set_many(to_set)
        self.store.delete_many(to_delete)


class _ShardRead:
    """One shard's part of a fetch. ``follow`` turns the index into byte ranges (nearby inner
    chunks merged into one range), ``place`` cuts the chunks out of what was read."""

    def __init__(
        self,
        layout: ShardLayout,
        key: str,
        members: list[tuple[int, int]],
        *,
        whole: bool,
        max_gap: int,
        max_coalesced: int,
    ):
        self.layout, self.key, self.members, self.whole = layout, key, members, whole
        self.first_range = None if whole else layout.index_range()
        self._max_gap, self._max_coalesced = max_gap, max_coalesced
        #: (start, end, [(offset, length, batch position)]) per range read after the index
        self._ranges: list[tuple[int, int, list[tuple[int, int, int]]]] = []

    def follow(self, index_bytes: bytes) -> list[tuple[int, int]]:
        if self.whole:
            return []
        table = self.layout.decode_index(index_bytes, self.key)
        ranges: list[tuple[int, int, list[tuple[int, int, int]]]] = []
        wanted = sorted(
            (int(table[p, 0]), int(table[p, 1]), i) for i, p in self.members if table[p, 0] != EMPTY
        )
        for offset, length, i in wanted:
            if ranges:
                start, end, members = ranges[-1]
                if offset - end <= self._max_gap and offset + length - start <= self._max_coalesced:
                    ranges[-1] = (start, max(end, offset + length), [*members, (offset, length, i)])
                    continue
            ranges.append((offset, offset + length, [(offset, length, i)]))
        self._ranges = ranges
        return [(start, end) for start, end, _ in ranges]

    def place(self, first: bytes, datas: list[bytes | None], results: list[Any]) -> None:
        if self.whole:
            table = self.layout.index_from_shard(first, self.key)
            view = memoryview(first)
            for i, position in self.members:
                offset, length = table[position]
                if offset != EMPTY:
                    results[i] = view[int(offset) : int(offset + length)]
            return
        for (start, end, members), data in zip(self._ranges, datas):
            if data is None:
                raise CodecError("shard disappeared between its index read and its chunk read", key=self.key)
            if len(data) < end - start:
                raise CodecError(
                    f"index points past the end of the shard (wanted bytes [{start}, {end}), "
                    f"the shard ends at {start + len(data)})",
                    key=self.key,
                    codec="sharding_indexed",
                )
            view = memoryview(data)
            for offset, length, i in members:
                results[i] = view[offset - start : offset - start + length]
