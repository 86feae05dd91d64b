"""Staging arenas: the compressed chunks of a batch laid out in one contiguous host buffer.

One buffer per batch means one host-to-device copy. For a ``LocalStore`` the files are read
with parallel ``preadv`` straight into the arena (pinned memory on CUDA); other stores go
through ``get_many`` and one copy. Two arenas alternate so a batch can be staged while the
previous one is still in use.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import wait
from typing import Any

import numpy as np

from ..config import config
from .ops import DeviceOps, align

_READERS_PER_THREAD = 4


class StagedChunks(list):
    """``fetch``'s result: a list of flat uint8 views (``None`` where missing) into one host arena."""

    host: np.ndarray
    offsets: np.ndarray  # int64, arena offset of each chunk (aligned)
    sizes: np.ndarray  # int64, -1 where missing
    used: int  # bytes of the arena in use

    def part(self, start: int, stop: int) -> StagedChunks:
        """Chunks ``start:stop`` as their own batch over the same arena (no copy), for split retries."""
        offsets, sizes = self.offsets[start:stop], self.sizes[start:stop]
        first = int(offsets[0]) if offsets.size else 0
        used = int(offsets[-1] - first + align(max(int(sizes[-1]), 0))) if offsets.size else 0
        part = StagedChunks(self[start:stop])
        part.host, part.offsets, part.sizes, part.used = self.host[first:], offsets - first, sizes, used
        return part


def _layout(sizes: np.ndarray) -> tuple[np.ndarray, int]:
    room = align(np.maximum(sizes, 0))
    offsets = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
    return offsets, int(room.sum())


class StagingArenas:
    """Reusable host arenas, grown on demand, handed out round-robin."""

    def __init__(self, ops: DeviceOps, count: int = 2):
        self._ops = ops
        self._arenas: list[np.ndarray | None] = [None] * count
        self._next = 0

    def _arena(self, nbytes: int) -> np.ndarray:
        i = self._next
        self._next = (i + 1) % len(self._arenas)
        arena = self._arenas[i]
        if arena is None or arena.size < nbytes:
            self._arenas[i] = arena = None  # the outgrown arena's memory may be what the new one needs
            try:
                arena = self._ops.host_empty(max(int(nbytes * 1.25), 1 << 20))
            except Exception as exc:
                if self._ops.as_out_of_memory(exc) is None:
                    raise
            if arena is None:  # no room for headroom: exactly what this batch needs, or the error
                arena = self._ops.host_empty(max(nbytes, 1))
            self._arenas[i] = arena
        return arena

    def _result(self, arena: np.ndarray, offsets: np.ndarray, sizes: np.ndarray, used: int) -> StagedChunks:
        staged = StagedChunks(
            None if size < 0 else arena[off : off + size]
            for off, size in zip(offsets.tolist(), sizes.tolist())
        )
        staged.host, staged.offsets, staged.sizes, staged.used = arena, offsets, sizes, used
        return staged

    def stage(self, values: Sequence[Any]) -> StagedChunks:
        """Copy bytes-like ``values`` (``None`` = missing) into an arena."""
        views = [
            None if v is None else np.frombuffer(v, np.uint8) if not isinstance(v, np.ndarray) else v
            for v in values
        ]
        sizes = np.array([-1 if v is None else v.size for v in views], np.int64)
        offsets, used = _layout(sizes)
        arena = self._arena(used)
        for view, off in zip(views, offsets.tolist()):
            if view is not None:
                arena[off : off + view.size] = view.reshape(-1).view(np.uint8)
        return self._result(arena, offsets, sizes, used)

    def read_files(self, paths: Sequence[str]) -> StagedChunks:
        """Read whole files into an arena with parallel ``preadv``; missing files give ``None``."""
        fds = _run(_open_all, list(paths))
        try:
            sizes = np.array([-1 if fd is None else size for fd, size in fds], np.int64)
            offsets, used = _layout(sizes)
            arena = self._arena(used)
            present = [i for i, (fd, _) in enumerate(fds) if fd is not None]
            jobs = [(fds[i][0], arena[offsets[i] : offsets[i] + sizes[i]]) for i in present]
            sizes[present] = _run(_read_all, jobs)  # a file that shrank meanwhile reads short
        finally:
            for fd, _ in fds:
                if fd is not None:
                    os.close(fd)
        return self._result(arena, offsets, sizes, used)


def _open_all(paths: Sequence[str]) -> list[tuple[int | None, int]]:
    out: list[tuple[int | None, int]] = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            out.append((None, -1))
            continue
        try:
            out.append((fd, os.fstat(fd).st_size))
        except OSError:
            os.close(fd)
            raise
    return out


def _read_all(jobs: Sequence[tuple[int, np.ndarray]]) -> list[int]:
    done = []
    for fd, view in jobs:
        memory, got = memoryview(view), 0
        while got < view.size:
            n = os.preadv(fd, [memory[got:]], got)
            if n <= 0:
                break
            got += n
        done.append(got)
    return done


def _run(function: Any, items: list[Any]) -> list[Any]:
    """``function`` over slices of ``items`` on the shared pool, results in order."""
    threads = config.get("threads") or 1
    if len(items) <= 2 or threads <= 1 or threading.current_thread().name.startswith("cuzarr"):
        return function(items)
    step = -(-len(items) // min(len(items), threads * _READERS_PER_THREAD))
    futures = [config.thread_pool().submit(function, items[i : i + step]) for i in range(0, len(items), step)]
    wait(futures)
    return [value for future in futures for value in future.result()]
