"""MemoryStore: a dict of bytes; the default store, and the reference behaviour for tests."""

from __future__ import annotations

import threading
from collections.abc import MutableMapping, Sequence
from typing import Any

from .base import (
    ByteRange,
    BytesLike,
    DependentRead,
    DependentValue,
    Store,
    apply_byte_range,
    as_memoryview,
    list_dir_of_keys,
    list_prefix_of_keys,
    validate_key,
    validate_prefix,
)


class MemoryStore(Store):
    """Keys map to immutable ``bytes`` copies, so callers may reuse their buffers after ``set``.

    ``with_read_only`` views share the dict and the lock; mutations hold the lock so that
    parallel writers (and listings during writes) never see a dict changing size mid-iteration.
    """

    cheap_single_ops = True
    snapshot_reads = True

    def __init__(self, store_dict: MutableMapping[str, bytes] | None = None, *, read_only: bool = False):
        super().__init__(read_only=read_only)
        self._store_dict: MutableMapping[str, bytes] = {} if store_dict is None else store_dict
        self._lock = threading.Lock()

    @property
    def store_dict(self) -> MutableMapping[str, bytes]:
        return self._store_dict

    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        data = self._store_dict
        values = [data.get(key) for key in keys]
        out: list[bytes | None] = [v if v is None or type(v) is bytes else bytes(v) for v in values]
        if byte_ranges is not None:
            out = [v if v is None or r is None else v[r[0] : r[1]] for v, r in zip(out, byte_ranges)]
        return out

    def _get_dependent(self, requests: list[DependentRead]) -> list[DependentValue | None]:
        """Both steps from the one immutable ``bytes`` object a key held at the first step."""
        data = self._store_dict
        results: list[DependentValue | None] = []
        for key, first, follow in requests:
            value = data.get(key)
            if value is None:
                results.append(None)
                continue
            value = value if type(value) is bytes else bytes(value)
            head = apply_byte_range(value, first)
            results.append((head, [apply_byte_range(value, r) for r in follow(head)]))
        return results

    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        copies = [
            (key, value if type(value) is bytes else bytes(as_memoryview(value))) for key, value in items
        ]
        with self._lock:
            self._store_dict.update(copies)

    def _delete_many(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                self._store_dict.pop(key, None)

    def exists(self, key: str) -> bool:
        return validate_key(key) in self._store_dict

    def _keys(self) -> list[str]:
        with self._lock:
            return list(self._store_dict)

    def list_prefix(self, prefix: str) -> list[str]:
        return list_prefix_of_keys(self._keys(), validate_prefix(prefix))

    def list_dir(self, prefix: str) -> list[str]:
        return list_dir_of_keys(self._keys(), validate_prefix(prefix))

    def getsize(self, key: str) -> int:
        value = self._store_dict.get(validate_key(key))
        if value is None:
            raise FileNotFoundError(key)
        return len(value)

    def with_read_only(self, read_only: bool = True) -> MemoryStore:
        view = MemoryStore(self._store_dict, read_only=read_only)
        view._lock = self._lock
        return view

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (e.g. for dask): the copy gets its own lock."""
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._store_dict is self._store_dict  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), id(self._store_dict)))

    def __repr__(self) -> str:
        ro = ", read_only=True" if self.read_only else ""
        return f"MemoryStore(<dict at {id(self._store_dict):#x}, {len(self._store_dict)} keys>{ro})"
