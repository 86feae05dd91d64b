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


class ThreadSynchronizer(_LockMany):
    """Per-key ``threading.Lock``s; share one instance between the threads writing an array."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    def __getitem__(self, key: str) -> threading.Lock:
        with self._mutex:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            return lock

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
