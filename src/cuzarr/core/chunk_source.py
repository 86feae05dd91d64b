"""Where encoded chunks live: one store object per chunk (``StoreChunks``) or inner chunks in
shards (``core/shards.py``). The pipeline only talks to this interface, so sharding, caching or a
GPU staging path change how bytes move without touching the plan/decode/scatter logic."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol, overload

from ..storage.base import Store

Coords = tuple[int, ...]
#: Bound on the formatted keys a ``StoreChunks`` remembers (one read's batch is far below it).
_KEY_CACHE_MAX = 1 << 16


class ChunkSource(Protocol):
    """Batched access to the encoded bytes of chunks, addressed by chunk-grid coordinates."""

    store: Store
    #: Whether the CPU path may handle one chunk, or one group (shard), per pool task, store access
    #: included: reading and decoding (encoding and writing) then interleave per task. Ungrouped
    #: chunks then go through ``read_one``/``write_one``, groups through ``fetch``/``put``.
    fused_io: bool

    def key(self, coords: Coords) -> str:
        """A name for the chunk in errors and locks (the store key, or shard key + inner position)."""

    def group(self, coords: Coords) -> Hashable | None:
        """Chunks with the same group must be written in the same batch (their shard)."""

    def lock_key(self, coords: Coords) -> str:
        """The store object a writer must lock to update this chunk (its shard when sharded)."""

    def fetch(self, backend: Any, coords: Sequence[Coords]) -> list[Any]:
        """Encoded bytes per chunk (``None`` where absent), in as few store requests as possible."""

    def read_for_update(
        self, backend: Any, coords: Sequence[Coords], partial: Sequence[int]
    ) -> tuple[list[Any], Any]:
        """Before rewriting the chunks ``coords``: the encoded bytes of ``coords[i]`` for ``i`` in
        ``partial`` (the chunks only partly overwritten), and whatever ``put`` needs to rewrite
        their stored objects, read in the same requests (old shards; ``None`` unsharded)."""

    def put(
        self, backend: Any, coords: Sequence[Coords], encoded: Sequence[Any], previous: Any = None
    ) -> None:
        """Store encoded chunks; ``None`` means the chunk is empty and is deleted. ``previous`` is
        what ``read_for_update`` returned for the same batch, if it was called."""

    def read_one(self, coords: Coords) -> Any:
        """Encoded bytes of one chunk or ``None``; only called when ``fused_io`` is true."""

    def write_one(self, coords: Coords, encoded: Any) -> None:
        """Store one encoded chunk (``None``: delete it); only called when ``fused_io`` is true."""


class StoreChunks:
    """Unsharded arrays: chunk (i, j) is the store object ``chunk_key((i, j))``."""

    def __init__(self, store: Store, chunk_key: Callable[[Coords], str]):
        self.store = store
        self._chunk_key = chunk_key
        #: keys already formatted: the pipeline names a batch's chunks and then fetches them
        self._keys: dict[Coords, str] = {}

    def key(self, coords: Coords) -> str:
        key = self._keys.get(coords)
        if key is None:
            if len(self._keys) >= _KEY_CACHE_MAX:
                self._keys.clear()
            key = self._keys[coords] = self._chunk_key(coords)
        return key

    @property
    def fused_io(self) -> bool:
        return self.store.cheap_single_ops

    def group(self, coords: Coords) -> Hashable | None:
        return None

    def lock_key(self, coords: Coords) -> str:
        return self.key(coords)

    def fetch(self, backend: Any, coords: Sequence[Coords]) -> list[Any]:
        return backend.fetch(self.store, [self.key(c) for c in coords])

    def read_one(self, coords: Coords) -> Any:
        return self.store.get(self.key(coords))

    def write_one(self, coords: Coords, encoded: Any) -> None:
        if encoded is None:
            self.store.delete(self.key(coords))
        else:
            self.store.set(self.key(coords), encoded)

    def read_for_update(
        self, backend: Any, coords: Sequence[Coords], partial: Sequence[int]
    ) -> tuple[list[Any], Any]:
        return (self.fetch(backend, [coords[i] for i in partial]) if partial else []), None

    def put(
        self, backend: Any, coords: Sequence[Coords], encoded: Sequence[Any], previous: Any = None
    ) -> None:
        keys = [self.key(c) for c in coords]
        self.store.set_many([(k, data) for k, data in zip(keys, encoded) if data is not None])
        self.store.delete_many([k for k, data in zip(keys, encoded) if data is None])


class ChunkKeys(Sequence[str]):
    """The names of a batch's chunks, formatted only when asked for: codecs take a key per chunk
    to name it in errors, and a batch of thousands of inner chunks rarely needs one."""

    def __init__(self, source: ChunkSource, coords: Sequence[Coords]):
        self._source = source
        self._coords = coords

    def __len__(self) -> int:
        return len(self._coords)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._source.key(c) for c in self._coords[index]]
        return self._source.key(self._coords[index])
