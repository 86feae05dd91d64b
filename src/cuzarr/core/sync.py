"""Synchronizers: per-key locks so that concurrent writers never lose each other's updates.

A write that covers only part of a chunk reads the old chunk, merges and stores it. Two writers
doing that at once on one chunk would each store a chunk missing the other's part. With a
synchronizer, ``write_chunks`` holds the lock of every chunk (shard, when sharded) of a batch from
the read of its old value until the new value is stored. Locks are taken in sorted key order so
writers whose batches overlap cannot deadlock.

Metadata changes are read-modify-writes too: attribute updates, ``resize`` and ``append`` hold the
lock of the node's metadata document (``zarr.json``, ``.zarray`` or ``.zgroup``) and re-read it
first (``Node._metadata_locked``). Chunk locks may be taken inside a metadata lock (``append``
writes its data under it), never the reverse, so the two kinds cannot deadlock either.

``ThreadSynchronizer`` serves threads of one process; ``ProcessSynchronizer(path)`` serves any
process that can see ``path`` (one lock file per chunk, via the ``filelock`` package).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, Protocol
from urllib.parse import quote


class Synchronizer(Protocol):
    """What arrays need from a synchronizer: a lock (context manager) per store key."""

    def __getitem__(self, key: str) -> Any: ...

    def lock(self, keys: Iterable[str]) -> Any: ...


class _LockMany:
    """``lock(keys)`` for any synchronizer that maps a key to a lock."""

    @contextmanager
    def lock(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the locks of all ``keys`` (deduplicated, acquired in sorted order)."""
        with ExitStack() as stack:
            for key in sorted(set(keys)):
                stack.enter_context(self[key])  # type: ignore[index]
            yield


class _KeyLock:
    """The lock of one key of a ``ThreadSynchronizer``: re-entrant, and forgotten by the
    synchronizer once no thread holds or waits for it, so writing millions of chunks does not
    leave millions of locks behind."""

    def __init__(self, owner: ThreadSynchronizer, key: str):
        self._owner, self._key = owner, key

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        entry = self._owner._enter(self._key)
        if entry[0].acquire(blocking, timeout):
            return True
        self._owner._leave(self._key)
        return False

    def release(self) -> None:
        self._owner._locks[self._key][0].release()
        self._owner._leave(self._key)

    def locked(self) -> bool:
        """Whether some thread holds (or is waiting for) this key's lock."""
        return self._key in self._owner._locks

    def __enter__(self) -> _KeyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ThreadSynchronizer(_LockMany):
    """Per-key re-entrant locks; share one instance between the threads writing an array."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        #: key -> [lock, holders and waiters]; entries go when their count drops to zero
        self._locks: dict[str, list[Any]] = {}

    def __getitem__(self, key: str) -> _KeyLock:
        return _KeyLock(self, key)

    def _enter(self, key: str) -> list[Any]:
        with self._mutex:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = [threading.RLock(), 0]
            entry[1] += 1
            return entry

    def _leave(self, key: str) -> None:
        with self._mutex:
            entry = self._locks[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]

    def __getstate__(self) -> dict[str, Any]:
        return {}  # locks do not cross processes; a copy starts with fresh ones

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def __repr__(self) -> str:
        return "ThreadSynchronizer()"


class ProcessSynchronizer(_LockMany):
    """Per-key file locks under ``path``; every process must use the same directory.

    Works across threads too (each acquisition opens its own lock file handle). The directory
    must be on a file system with working ``flock``/``fcntl`` locks (local disks; not every NFS).
    """

    def __init__(self, path: str | os.PathLike[str]):
        try:
            import filelock
        except ImportError as exc:  # pragma: no cover - filelock is a dependency
            raise ImportError(
                "ProcessSynchronizer needs the 'filelock' package: pip install filelock"
            ) from exc
        self._filelock = filelock
        self.path = os.fspath(path)
        os.makedirs(self.path, exist_ok=True)

    def __getitem__(self, key: str) -> Any:
        """A lock for ``key``; its file name is the key percent-encoded (no sub-directories)."""
        return self._filelock.FileLock(os.path.join(self.path, quote(key, safe="") + ".lock"))

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"ProcessSynchronizer({self.path!r})"


__all__ = ["ProcessSynchronizer", "Synchronizer", "ThreadSynchronizer"]
