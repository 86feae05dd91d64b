"""FsspecStore: any fsspec filesystem (S3, GCS, HTTP, memory, local, ...) through its sync API.

Every batch is one fsspec call (``cat_ranges``, ``pipe``, ``rm``), which async implementations
such as s3fs run concurrently on fsspec's IO loop. Async filesystems are used through their sync
wrappers; an instance created with ``asynchronous=True`` is re-created with ``asynchronous=False``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import fsspec
from fsspec.implementations.local import LocalFileSystem

from .base import (
    ByteRange,
    BytesLike,
    Store,
    as_memoryview,
    resolve_byte_range,
    validate_key,
    validate_prefix,
)
from .retry import retry_batch

#: Exceptions from fsspec backends that mean "no such key".
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError, KeyError)


def _sync_filesystem(fs: fsspec.AbstractFileSystem) -> fsspec.AbstractFileSystem:
    if not getattr(fs, "asynchronous", False):
        return fs
    options = {k: v for k, v in fs.storage_options.items() if k not in ("asynchronous", "loop")}
    try:
        return type(fs)(**options, asynchronous=False)
    except Exception as exc:  # pragma: no cover - depends on the backend
        raise TypeError(
            f"FsspecStore needs a filesystem usable synchronously; re-create {type(fs).__name__} "
            "with asynchronous=False"
        ) from exc


class FsspecStore(Store):
    """Keys live under ``path`` on ``fs``; ``path`` is given without protocol (``'bucket/prefix'``)."""

    def __init__(self, fs: fsspec.AbstractFileSystem, *, path: str = "", read_only: bool = False):
        super().__init__(read_only=read_only)
        self.fs = _sync_filesystem(fs)
        self.path = self.fs._strip_protocol(path).rstrip("/") if path else ""
        # What a key is appended to (the way fsspec.FSMap computes it; '/' for memory:// roots).
        self._prefix = self.fs._strip_protocol((self.path + "/" if self.path else "") + "x")[:-1]

    @classmethod
    def from_url(
        cls, url: str, *, storage_options: dict[str, Any] | None = None, read_only: bool = False
    ) -> FsspecStore:
        """A store for a URL such as ``'s3://bucket/data.zarr'`` or ``'memory://x'``."""
        options = dict(storage_options or {})
        if fsspec.utils.get_protocol(url) in ("file", "local"):
            options.setdefault("auto_mkdir", True)  # writes create parent directories
        fs, path = fsspec.core.url_to_fs(url, **options)
        return cls(fs, path=path, read_only=read_only)

    @classmethod
    def from_mapper(cls, mapper: fsspec.FSMap, read_only: bool = False) -> FsspecStore:
        """A store over the same filesystem and root as an ``fsspec.FSMap``."""
        return cls(mapper.fs, path=mapper.root, read_only=read_only)

    # -- retries: transient faults (timeouts, resets, 5xx) are retried, see storage/retry.py ----
    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        items = list(zip(keys, byte_ranges or [None] * len(keys)))

        def fetch(batch: list[tuple[str, ByteRange | None]]) -> list[bytes | None]:
            ranges = [r for _, r in batch]
            return self._get_many_once(
                [k for k, _ in batch], None if all(r is None for r in ranges) else ranges
            )

        return retry_batch(fetch, items, keys, action="reading", where=repr(self))  # type: ignore[return-value]

    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        retry_batch(
            self._set_many_once, list(items), [k for k, _ in items], action="writing", where=repr(self)
        )

    def _delete_many(self, keys: Sequence[str]) -> None:
        retry_batch(self._delete_many_once, list(keys), keys, action="deleting", where=repr(self))

    # -- reads ----------------------------------------------------------------------
    def _get_many_once(
        self, keys: list[str], byte_ranges: list[ByteRange | None] | None
    ) -> list[bytes | None]:
        paths = [self._prefix + key for key in keys]
        n = len(paths)
        ranges: list[ByteRange | None] = byte_ranges or [None] * n
        starts: list[int | None] = [None] * n
        ends: list[int | None] = [None] * n
        out: list[Any] = [None] * n
        fetch: list[int] = []
        sized = self._sizes([p for p, r in zip(paths, ranges) if _needs_size(r)])
        for i, (path, byte_range) in enumerate(zip(paths, ranges)):
            if byte_range is None:
                # (0, None) rather than (None, None): s3fs would HEAD each object before its GET
                starts[i] = 0
                fetch.append(i)
                continue
            start, end = byte_range
            if _needs_size(byte_range):  # negative end, or negative start with an end: resolve here
                size = sized[path]
                if size is None:
                    continue  # missing -> None
                start, end = resolve_byte_range(byte_range, size)
                if end <= start:
                    out[i] = b""
                    continue
            elif end is not None and end <= start:  # backends mishandle empty ranges (S3 sends all)
                out[i] = b"" if self._size(path) is not None else None
                continue
            starts[i], ends[i] = start, end
            fetch.append(i)
        if fetch:
            results = self.fs.cat_ranges(
                [paths[i] for i in fetch],
                [starts[i] for i in fetch],
                [ends[i] for i in fetch],
                on_error="return",
            )
            for i, result in zip(fetch, results):
                out[i] = self._check(result, paths[i], starts[i], ends[i])
        return out

    def _check(self, result: Any, path: str, start: int | None, end: int | None) -> bytes | None:
        """Map a ``cat_ranges`` result: missing -> None; an empty range -> b''; errors raise."""
        if not isinstance(result, BaseException):
            return bytes(result) if not isinstance(result, bytes) else result
        if isinstance(result, _MISSING):
            return None
        if start is not None:  # e.g. S3's 416 "range not satisfiable" past the end / on b""
            size = self._size(path)
            if size is None:
                return None
            offset, stop = resolve_byte_range((start, end), size)
            if stop <= offset:
                return b""
        raise result

    def _size(self, path: str) -> int | None:
        """Size of the value at ``path``; None when missing or a directory."""
        try:
            info = self.fs.info(path)
        except _MISSING:
            return None
        return None if info.get("type", "file") != "file" else info.get("size")

    def _sizes(self, paths: list[str]) -> dict[str, int | None]:
        return {path: self._size(path) for path in dict.fromkeys(paths)}

    def exists(self, key: str) -> bool:
        return bool(self.fs.isfile(self._prefix + validate_key(key)))

    def getsize(self, key: str) -> int:
        size = self._size(self._prefix + validate_key(key))
        if size is None:
            raise FileNotFoundError(key)
        return int(size)

    # -- writes ---------------------------------------------------------------------
    def _set_many_once(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        payload = {
            self._prefix + key: value if type(value) is bytes else bytes(as_memoryview(value))
            for key, value in items
        }
        if isinstance(self.fs, LocalFileSystem) and not self.fs.auto_mkdir:
            for parent in {self.fs._parent(path) for path in payload}:
                self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe(payload)

    def _delete_many_once(self, keys: Sequence[str]) -> None:
        paths = [self._prefix + key for key in keys]
        try:
            self.fs.rm(paths)
        except _MISSING:  # some backends refuse the whole batch when one path is missing
            for path in paths:
                with contextlib.suppress(_MISSING):
                    self.fs.rm_file(path)
        if isinstance(self.fs, LocalFileSystem):
            self._prune_local_dirs({self.fs._parent(path) for path in paths})

    def _prune_local_dirs(self, dirs: set[str]) -> None:
        """Local directories left empty by a delete would show up in ``list_dir``: remove them."""
        root = self._prefix.rstrip("/")
        for directory in sorted(dirs, key=len, reverse=True):
            while len(directory) > len(root) and directory.startswith(self._prefix):
                try:
                    self.fs.rmdir(directory)
                except OSError:
                    break
                directory = self.fs._parent(directory)

    # -- listing --------------------------------------------------------------------
    def list_prefix(self, prefix: str) -> list[str]:
        dirpart, _, _ = validate_prefix(prefix).rpartition("/")
        base = self._prefix + dirpart if dirpart else self._prefix.rstrip("/")
        try:
            found = self.fs.find(base, withdirs=False)
        except _MISSING:
            return []
        full = self._prefix + prefix
        n = len(self._prefix)
        return sorted(path[n:] for path in found if path.startswith(full) and len(path) > n)

    def list_dir(self, prefix: str) -> list[str]:
        prefix = validate_prefix(prefix).rstrip("/")
        base = self._prefix + prefix + "/" if prefix else self._prefix
        try:
            entries = self.fs.ls(base.rstrip("/"), detail=False)
        except _MISSING:
            return []
        n = len(base)
        names = {path[n:].rstrip("/").split("/", 1)[0] for path in entries if path.startswith(base)}
        names.discard("")
        return sorted(names)

    # -- identity -------------------------------------------------------------------
    def with_read_only(self, read_only: bool = True) -> FsspecStore:
        return type(self)(self.fs, path=self.path, read_only=read_only)

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.fs == self.fs and other.path == self.path

    def __hash__(self) -> int:
        return hash((type(self), self.path))

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        ro = ", read_only=True" if self.read_only else ""
        url = self.path if "://" in self.path else f"{protocol}://{self.path}"  # http paths are URLs
        return f"FsspecStore('{url}'{ro})"


def _needs_size(byte_range: ByteRange | None) -> bool:
    """Ranges the store resolves itself: a negative end, or a negative start with an end.

    ``(-n, None)`` suffixes go to the backend as is (S3/HTTP send ``bytes=-n``; others slice)."""
    if byte_range is None:
        return False
    start, end = byte_range
    return (end is not None and end < 0) or (start < 0 and end is not None)
