"""LocalStore: one file per key under a root directory.

Reads use raw ``os.open``/``os.pread`` (no file objects) and run on the shared thread pool in
batches when there are several keys, because chunk reads are dominated by syscall latency.
Writes go to a temp file next to the target and are ``os.replace``-d onto it, so readers never
see a half-written value and a failed write leaves the old value intact. A writer killed between
the two leaves its temp file behind: ``remove_stale_temp_files`` deletes old ones. With the
``fsync`` config key, the temp file is fsynced before the rename and its directory after, so the
write also survives a power loss.

Symlinks are never followed out of the root: a key whose directory or file resolves outside it
raises ``InvalidKeyError`` (directories are checked once and cached; files open with
``O_NOFOLLOW`` so only symlinked files take the slow path), and listings skip such links.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..config import config
from ..errors import InvalidKeyError
from ..parallel import in_pool_work, map_in_pool
from .base import (
    ByteRange,
    BytesLike,
    DependentRead,
    DependentValue,
    Store,
    as_memoryview,
    resolve_byte_range,
    validate_key,
    validate_prefix,
)
from .local_durability import fsync_dir, make_parents, temp_files

_T = TypeVar("_T")
_R = TypeVar("_R")

#: Temp files are ``.{name}.{32 hex}.partial``; listings skip them.
_TEMP_RE = re.compile(r"\..*\.[0-9a-f]{32}\.partial")
#: Errors that mean "no value at this key" (a directory, or a file where a directory is expected).
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)
#: O_NOFOLLOW: a symlinked file fails with ELOOP, and LocalStore checks where it leads (slow path).
_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
_O_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
#: Up to this many keys are handled on the calling thread; pool overhead would dominate (a
#: page-cache read takes ~10-20 us, waking a pool worker ~50-100 us).
_SERIAL_MAX = 4
#: Chunk of a single ``os.pread``/``os.write`` (Linux caps one call at ~2 GiB).
_IO_MAX = 1 << 30


def _pread(fd: int, n: int, offset: int) -> bytes:
    """Up to ``n`` bytes at ``offset`` (fewer at end of file)."""
    if n <= 0:
        return b""
    data = os.pread(fd, min(n, _IO_MAX), offset)
    if len(data) == n or not data:
        return data
    parts, got = [data], len(data)
    while got < n:
        chunk = os.pread(fd, min(n - got, _IO_MAX), offset + got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _pread_range(fd: int, byte_range: ByteRange | None) -> bytes:
    """A byte range (``None``: everything) of the open file ``fd``."""
    if byte_range is not None:
        start, end = byte_range
        if start >= 0 and end is not None and end >= 0:
            return _pread(fd, end - start, start)  # no fstat needed: short reads stop at EOF
        offset, stop = resolve_byte_range(byte_range, os.fstat(fd).st_size)
        return _pread(fd, stop - offset, offset)
    return _pread(fd, os.fstat(fd).st_size, 0)


def _with_file(path: str, read: Callable[[int], _R]) -> _R | None:
    """``read(fd)`` on ``path`` opened for reading; ``None`` when no file holds it (missing, or a
    directory, which opens but fails to read)."""
    try:
        fd = os.open(path, _O_READ)
    except _MISSING:
        return None
    try:
        return read(fd)
    except _MISSING:
        return None
    finally:
        os.close(fd)


def _read_file(path: str, byte_range: ByteRange | None) -> bytes | None:
    return _with_file(path, lambda fd: _pread_range(fd, byte_range))


def _read_file_dependent(path: str, first: ByteRange | None, follow: Any) -> DependentValue | None:
    """Both steps of a dependent read from one open file: one inode, so one version of the value
    even if a writer renames a new file over ``path`` meanwhile."""

    def read(fd: int) -> DependentValue:
        head = _pread_range(fd, first)
        return head, [_pread_range(fd, byte_range) for byte_range in follow(head)]

    return _with_file(path, read)


def _read_batch(batch: Sequence[tuple[str, ByteRange | None]]) -> list[bytes | None]:
    return [_read_file(path, byte_range) for path, byte_range in batch]


def _write_file(path: str, value: BytesLike, fsync: bool = False) -> None:
    """Write to ``.{name}.{uuid}.partial`` next to ``path``, then ``os.replace`` it into place.

    With ``fsync`` the data reaches the disk before the rename, so a crash can never leave the
    new name pointing at an empty or partial file; the caller fsyncs the directory afterwards.
    """
    view = as_memoryview(value)
    dirname, name = os.path.split(path)
    tmp = f"{dirname}{os.sep}.{name[:128]}.{uuid.uuid4().hex}.partial"
    for attempt in range(8):
        try:
            fd = os.open(tmp, _O_WRITE, 0o666)
            break
        except FileNotFoundError:  # parent missing, or removed by a concurrent delete: retry
            if attempt == 7:
                raise
            make_parents(dirname, fsync)
    try:
        try:
            written, total = 0, len(view)
            while written < total:
                written += os.write(fd, view[written : written + _IO_MAX])
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_batch(batch: Sequence[tuple[str, BytesLike]], fsync: bool = False) -> None:
    for path, value in batch:
        _write_file(path, value, fsync)
    if fsync:  # once per directory: the renames above are durable once their directory is
        for directory in {os.path.dirname(path) for path, _ in batch}:
            fsync_dir(directory)


def _run_batched(fn: Callable[[Sequence[_T]], _R], items: list[_T]) -> list[_R]:
    """``fn`` over contiguous slices of ``items`` (a few per thread), the caller working too."""
    threads = config.get("threads") or 1
    if len(items) <= _SERIAL_MAX or threads <= 1 or in_pool_work():
        return [fn(items)]
    step = -(-len(items) // min(len(items), threads * 8))
    slices = [items[start : start + step] for start in range(0, len(items), step)]
    return map_in_pool(fn, slices, caller_works=True)


class LocalStore(Store):
    """Keys are files under ``root`` (``'a/c/0'`` -> ``root/a/c/0``); the root is created lazily."""

    cheap_single_ops = True
    snapshot_reads = True

    def __init__(self, root: str | os.PathLike[str], *, read_only: bool = False):
        super().__init__(read_only=read_only)
        root = os.fspath(root)
        if isinstance(root, str) and root.startswith("file://"):
            root = root[len("file://") :]
        self._root = os.path.abspath(root)
        self._prefix = self._root.rstrip(os.sep) + os.sep
        self._real_prefix = os.path.realpath(self._root).rstrip(os.sep) + os.sep
        self._inside_dirs: set[str] = set()  # directories known to resolve inside the root

    @property
    def root(self) -> Path:
        return Path(self._root)

    def _path(self, key: str) -> str:
        return self._prefix + key if os.sep == "/" else self._prefix + key.replace("/", os.sep)

    # -- reads ----------------------------------------------------------------------
    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        items = list(zip(map(self._path, keys), byte_ranges or [None] * len(keys)))
        self._check_inside(keys, [path for path, _ in items])
        try:
            results = _run_batched(_read_batch, items)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            return [_read_file(self._resolve_link(k, p), r) for k, (p, r) in zip(keys, items)]
        return results[0] if len(results) == 1 else [value for batch in results for value in batch]

    def _get_dependent(self, requests: list[DependentRead]) -> list[DependentValue | None]:
        """Each value's two steps from one open file (``snapshot_reads``), values in parallel."""
        paths = [self._path(key) for key, _, _ in requests]
        keys = [key for key, _, _ in requests]
        self._check_inside(keys, paths)

        def read(batch: Sequence[tuple[str, str, ByteRange | None, Any]]) -> list[DependentValue | None]:
            results = []
            for key, path, first, follow in batch:
                try:
                    results.append(_read_file_dependent(path, first, follow))
                except OSError as exc:
                    if exc.errno != errno.ELOOP:
                        raise
                    results.append(_read_file_dependent(self._resolve_link(key, path), first, follow))
            return results

        items = [(key, path, first, follow) for (key, first, follow), path in zip(requests, paths)]
        return [value for batch in _run_batched(read, items) for value in batch]

    def get(self, key: str, byte_range: ByteRange | None = None) -> bytes | None:
        """One whole value with the least Python work (the fused CPU read path calls this per
        chunk from pool threads); same checks as ``get_many``."""
        if byte_range is not None:
            return super().get(key, byte_range)
        path = self._path(validate_key(key))
        if path[: path.rfind(os.sep)] not in self._inside_dirs:
            self._check_inside([key], [path])
        try:
            return _read_file(path, None)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            return _read_file(self._resolve_link(key, path), None)

    # -- symlinks: never followed out of the root -------------------------------------
    def _is_inside(self, path: str) -> bool:
        real = os.path.realpath(path) + os.sep
        if real.startswith(self._real_prefix):
            return True
        self._real_prefix = os.path.realpath(self._root).rstrip(os.sep) + os.sep  # the root link moved?
        return real.startswith(self._real_prefix)

    def _check_inside(self, keys: Sequence[str], paths: Sequence[str]) -> None:
        """Refuse keys whose directory leads out of the root through a symlink (cached per directory)."""
        checked: set[str] = set()  # directories that do not exist yet are checked once per call
        for key, path in zip(keys, paths):
            directory = path[: path.rfind(os.sep)]
            if directory in self._inside_dirs or directory in checked:
                continue
            if not self._is_inside(directory):
                raise InvalidKeyError(f"store key {key!r} leads out of {self._root} through a symlink")
            checked.add(directory)
            if os.path.isdir(directory):
                if len(self._inside_dirs) > 65536:
                    self._inside_dirs.clear()
                self._inside_dirs.add(directory)

    def _resolve_link(self, key: str, path: str) -> str:
        """The target of a symlinked key when it stays inside the root; else ``InvalidKeyError``."""
        if not os.path.islink(path):
            return path
        if not self._is_inside(path):
            raise InvalidKeyError(f"store key {key!r} is a symlink leading out of {self._root}")
        return os.path.realpath(path)

    def path_of(self, key: str) -> str:
        """The file that holds ``key`` (for readers that ``pread`` into their own buffers, e.g. a pinned arena)."""
        path = self._path(validate_key(key))
        self._check_inside([key], [path])
        return self._resolve_link(key, path)

    def exists(self, key: str) -> bool:
        path = self._path(validate_key(key))
        return os.path.isfile(path) and self._is_inside(path)

    def getsize(self, key: str) -> int:
        path = self._path(validate_key(key))
        if not os.path.isfile(path) or not self._is_inside(path):
            raise FileNotFoundError(key)
        return os.stat(path).st_size

    # -- writes ---------------------------------------------------------------------
    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        self._check_inside([key for key, _ in items], [self._path(key) for key, _ in items])
        write = partial(_write_batch, fsync=bool(config.get("fsync")))
        _run_batched(write, [(self._path(key), value) for key, value in items])

    def _delete_many(self, keys: Sequence[str]) -> None:
        self._check_inside(keys, [self._path(key) for key in keys])
        parents = set()
        for key in keys:
            path = self._path(key)
            try:
                os.unlink(path)
            except _MISSING:
                continue
            parents.add(os.path.dirname(path))
        self._prune_empty_dirs(parents)

    def _prune_empty_dirs(self, dirs: set[str]) -> None:
        """Remove now-empty directories between the deleted files and the root (kept)."""
        for directory in sorted(dirs, key=len, reverse=True):
            while len(directory) > len(self._root) and directory.startswith(self._prefix):
                try:
                    os.rmdir(directory)
                except OSError:
                    break
                directory = os.path.dirname(directory)

    # -- maintenance ----------------------------------------------------------------
    def remove_stale_temp_files(self, min_age_s: float = 3600) -> int:
        """Delete temp files that killed writers left behind; returns how many were removed.

        Only files named like this store's temp files (``.{name}.{32 hex}.partial``) and last
        modified at least ``min_age_s`` seconds ago: a live writer's temp file is younger, so the
        default hour never races one. Symlinks are neither followed nor removed, so nothing
        outside the root is touched. Directories left empty are removed (the root is kept).
        """
        self._check_writable()
        if not min_age_s >= 0:
            raise ValueError(f"min_age_s must be >= 0 seconds, got {min_age_s!r}")
        cutoff = time.time() - min_age_s
        removed, parents = 0, set()
        for entry in temp_files(self._root, _TEMP_RE):
            try:
                if entry.stat(follow_symlinks=False).st_mtime > cutoff:
                    continue
                os.unlink(entry.path)
            except FileNotFoundError:  # its writer finished (renamed it) or another cleaner won
                continue
            removed += 1
            parents.add(os.path.dirname(entry.path))
        self._prune_empty_dirs(parents)
        return removed

    # -- listing --------------------------------------------------------------------
    def list_prefix(self, prefix: str) -> list[str]:
        dirpart, _, namepart = validate_prefix(prefix).rpartition("/")
        out: list[str] = []
        self._walk(
            self._path(dirpart) if dirpart else self._root, dirpart + "/" if dirpart else "", namepart, out
        )
        return sorted(out)

    def _walk(self, directory: str, rel: str, namepart: str, out: list[str]) -> None:
        try:
            entries = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return
        with entries:
            for entry in entries:
                name = entry.name
                if namepart and not name.startswith(namepart):
                    continue
                if entry.is_symlink() and (entry.is_dir() or not self._is_inside(entry.path)):
                    continue  # never descend into linked directories (loops) nor list links out of the root
                if entry.is_dir():
                    self._walk(entry.path, rel + name + "/", "", out)
                elif not _TEMP_RE.fullmatch(name):
                    out.append(rel + name)

    def list_dir(self, prefix: str) -> list[str]:
        prefix = validate_prefix(prefix).rstrip("/")
        try:
            with os.scandir(self._path(prefix) if prefix else self._root) as entries:
                return sorted(e.name for e in entries if e.is_dir() or not _TEMP_RE.fullmatch(e.name))
        except (FileNotFoundError, NotADirectoryError):
            return []

    # -- identity -------------------------------------------------------------------
    def with_read_only(self, read_only: bool = True) -> LocalStore:
        return type(self)(self._root, read_only=read_only)

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other._root == self._root

    def __hash__(self) -> int:
        return hash((type(self), self._root))

    def __repr__(self) -> str:
        ro = ", read_only=True" if self.read_only else ""
        return f"LocalStore({self._root!r}{ro})"
