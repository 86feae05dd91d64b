"""Staging: the compressed chunks of a batch laid out in one contiguous pinned host buffer.

One buffer per batch means one host-to-device copy. For a ``LocalStore`` the files are read
with parallel ``preadv`` straight into the buffer; other stores go through ``get_many`` and one
copy. The buffer is a slot lent by ``StagingSlots`` (``gpu/slots.py``), held by the batch until
its decode gives it back, so batch i+1 can be staged on another thread while batch i decodes.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import wait
from typing import Any

import numpy as np

from ..config import config
from .ops import align
from .slots import SlotLease, StagingSlots

_READERS_PER_THREAD = 4


class StagedChunks(list):
    """``fetch``'s result: a list of flat uint8 views (``None`` where missing) into one host slot."""

    host: np.ndarray
    offsets: np.ndarray  # int64, slot offset of each chunk (aligned)
    sizes: np.ndarray  # int64, -1 where missing
    used: int  # bytes of the slot in use
    lease: SlotLease | None = None  # the batch's hold on its slot (shared by its parts)

    def part(self, start: int, stop: int) -> StagedChunks:
        """Chunks ``start:stop`` as their own batch over the same slot (no copy), for split retries."""
        offsets, sizes = self.offsets[start:stop], self.sizes[start:stop]
        first = int(offsets[0]) if offsets.size else 0
        used = int(offsets[-1] - first + align(max(int(sizes[-1]), 0))) if offsets.size else 0
        part = StagedChunks(self[start:stop])
        part.host, part.offsets, part.sizes, part.used = self.host[first:], offsets - first, sizes, used
        part.lease = self.lease
        return part

    def copied(self, event: Any) -> None:
        """Note the event recorded after a host-to-device copy out of the slot was queued."""
        if self.lease is not None:
            self.lease.copied(event)

    def give_back(self, *, keep: bool = True) -> None:
        """The batch no longer reads its slot (see ``SlotLease.give_back``); idempotent."""
        if self.lease is not None:
            self.lease.give_back(keep=keep)


def _layout(sizes: np.ndarray) -> tuple[np.ndarray, int]:
    room = align(np.maximum(sizes, 0))
    offsets = np.concatenate([[0], np.cumsum(room)[:-1]]).astype(np.int64)
    return offsets, int(room.sum())


def _result(lease: SlotLease, offsets: np.ndarray, sizes: np.ndarray, used: int) -> StagedChunks:
    host = lease.host
    staged = StagedChunks(
        None if size < 0 else host[off : off + size] for off, size in zip(offsets.tolist(), sizes.tolist())
    )
    staged.host, staged.offsets, staged.sizes, staged.used, staged.lease = host, offsets, sizes, used, lease
    return staged


def stage(slots: StagingSlots, values: Sequence[Any]) -> StagedChunks:
    """Copy bytes-like ``values`` (``None`` = missing) into a slot taken from ``slots``."""
    views = [
        None if v is None else np.frombuffer(v, np.uint8) if not isinstance(v, np.ndarray) else v
        for v in values
    ]
    sizes = np.array([-1 if v is None else v.size for v in views], np.int64)
    offsets, used = _layout(sizes)
    lease = slots.take(used)
    try:
        for view, off in zip(views, offsets.tolist()):
            if view is not None:
                lease.host[off : off + view.size] = view.reshape(-1).view(np.uint8)
    except BaseException:
        lease.give_back(keep=False)
        raise
    return _result(lease, offsets, sizes, used)


def read_files(slots: StagingSlots, paths: Sequence[str]) -> StagedChunks:
    """Read whole files into a slot with parallel ``preadv``; missing files give ``None``."""
    opened = _run(_open_all, list(paths))
    try:
        error = next((size for _, size in opened if isinstance(size, OSError)), None)
        if error is not None:
            raise error
        sizes = np.array([-1 if fd is None else size for fd, size in opened], np.int64)
        offsets, used = _layout(sizes)
        lease = slots.take(used)
        try:
            present = [i for i, (fd, _) in enumerate(opened) if fd is not None]
            jobs = [(opened[i][0], lease.host[offsets[i] : offsets[i] + sizes[i]]) for i in present]
            sizes[present] = _run(_read_all, jobs)  # a file that shrank meanwhile reads short
        except BaseException:
            lease.give_back(keep=False)
            raise
    finally:
        for fd, _ in opened:
            if fd is not None:
                os.close(fd)
    return _result(lease, offsets, sizes, used)


def _open_all(paths: Sequence[str]) -> list[tuple[int | None, Any]]:
    """``(fd, size)`` per path, ``(None, -1)`` when missing, ``(None, error)`` when it cannot be
    opened: errors are returned, not raised, so that every descriptor opened gets closed."""
    out: list[tuple[int | None, Any]] = []
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            out.append((None, -1))
            continue
        except OSError as exc:
            out.append((None, exc))
            continue
        try:
            out.append((fd, os.fstat(fd).st_size))
        except OSError as exc:
            os.close(fd)
            out.append((None, exc))
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
    """``function`` over slices of ``items`` on the shared pool, results in order.

    The calling thread works through the slices too, and helpers that have not started when it
    runs out of work are cancelled: nobody waits on a task still queued, so this is safe from a
    pool thread (where a prefetched fetch runs) as well as from the caller.
    """
    threads = config.get("threads") or 1
    if len(items) <= 2 or threads <= 1:
        return function(items)
    step = -(-len(items) // min(len(items), threads * _READERS_PER_THREAD))
    slices = [items[i : i + step] for i in range(0, len(items), step)]
    results: list[Any] = [None] * len(slices)
    next_index = itertools.count().__next__  # atomic under the GIL

    def work() -> None:
        while (i := next_index()) < len(slices):
            results[i] = function(slices[i])

    helpers = [config.thread_pool().submit(work) for _ in range(min(threads, len(slices)) - 1)]
    try:
        work()
    finally:
        for helper in helpers:
            helper.cancel()
        wait(helpers)
    for helper in helpers:
        if not helper.cancelled():
            helper.result()
    return [value for part in results for value in part]
