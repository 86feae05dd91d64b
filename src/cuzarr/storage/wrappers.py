"""Stores that wrap another store: request counting (for tests) and logging (for debugging)."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .base import ByteRange, BytesLike, DependentRead, DependentValue, Store

logger = logging.getLogger("cuzarr.storage")


class WrapperStore(Store):
    """Forwards every call to the wrapped store's public methods (which validate keys and
    enforce read-only); subclasses hook ``_before``/``_after`` to observe calls."""

    def __init__(self, store: Store):
        super().__init__(read_only=store.read_only)
        self._store = store

    @property
    def store(self) -> Store:
        return self._store

    @property
    def read_only(self) -> bool:
        return self._store.read_only

    @property
    def supports_deletes(self) -> bool:  # type: ignore[override]
        return self._store.supports_deletes

    @property
    def snapshot_reads(self) -> bool:  # type: ignore[override]
        return self._store.snapshot_reads

    def _before(self, method: str, nkeys: int | None = None) -> Any:
        return None

    def _after(self, method: str, token: Any, nkeys: int | None = None) -> None:
        return None

    def _call(self, method: str, nkeys: int | None, fn: Any, *args: Any) -> Any:
        token = self._before(method, nkeys)
        try:
            return fn(*args)
        finally:
            self._after(method, token, nkeys)

    def get_many(
        self, keys: Sequence[str], byte_ranges: Sequence[ByteRange | None] | None = None
    ) -> list[bytes | None]:
        keys = list(keys)
        return self._call("get_many", len(keys), self._store.get_many, keys, byte_ranges)

    def get_dependent(self, requests: Sequence[DependentRead]) -> list[DependentValue | None]:
        requests = list(requests)
        return self._call("get_dependent", len(requests), self._store.get_dependent, requests)

    def set_many(self, items: Mapping[str, BytesLike] | Iterable[tuple[str, BytesLike]]) -> None:
        pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
        self._call("set_many", len(pairs), self._store.set_many, pairs)

    def delete_many(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        self._call("delete_many", len(keys), self._store.delete_many, keys)

    # The abstract hooks are never reached (the public methods above forward), but must exist.
    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        return self._store.get_many(keys, byte_ranges)

    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        self._store.set_many(items)

    def _delete_many(self, keys: Sequence[str]) -> None:
        self._store.delete_many(keys)

    def exists(self, key: str) -> bool:
        return self._call("exists", 1, self._store.exists, key)

    def list_prefix(self, prefix: str) -> list[str]:
        return self._call("list_prefix", None, self._store.list_prefix, prefix)

    def list_dir(self, prefix: str) -> list[str]:
        return self._call("list_dir", None, self._store.list_dir, prefix)

    def getsize(self, key: str) -> int:
        return self._call("getsize", 1, self._store.getsize, key)

    def close(self) -> None:
        self._call("close", None, self._store.close)

    def with_read_only(self, read_only: bool = True) -> WrapperStore:
        return type(self)(self._store.with_read_only(read_only))

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._store == self._store  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self._store))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._store!r})"


class CountingStore(WrapperStore):
    """Counts calls per method (``counts['get_many']``) and keys per batched call
    (``counts['get_many_keys']``, ``counts['get_dependent_keys']``), so tests can assert how many requests an operation made."""

    def __init__(self, store: Store):
        super().__init__(store)
        self.counts: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _before(self, method: str, nkeys: int | None = None) -> Any:
        with self._count_lock:
            self.counts[method] += 1
            if nkeys is not None and (method.endswith("_many") or method == "get_dependent"):
                self.counts[method + "_keys"] += nkeys
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_count_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._count_lock = threading.Lock()

    def reset(self) -> None:
        with self._count_lock:
            self.counts.clear()


class LoggingStore(WrapperStore):
    """Logs every call (method, number of keys, duration) to the ``cuzarr.storage`` logger."""

    def __init__(self, store: Store, log_level: str | int = "DEBUG"):
        super().__init__(store)
        self.log_level = logging.getLevelName(log_level) if isinstance(log_level, str) else log_level
        if not isinstance(self.log_level, int):
            raise ValueError(f"unknown log level {log_level!r}")

    def _before(self, method: str, nkeys: int | None = None) -> Any:
        return time.perf_counter()

    def _after(self, method: str, token: Any, nkeys: int | None = None) -> None:
        if not logger.isEnabledFor(self.log_level):
            return
        elapsed_ms = (time.perf_counter() - token) * 1000
        keys = "" if nkeys is None else f"{nkeys} keys, "
        logger.log(self.log_level, "%r.%s(%s%.2f ms)", self._store, method, keys, elapsed_ms)

    def with_read_only(self, read_only: bool = True) -> LoggingStore:
        return type(self)(self._store.with_read_only(read_only), self.log_level)
