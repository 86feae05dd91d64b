"""ZipStore: keys are members of one zip file (compatible with zarr-python's ZipStore).

Modes follow ``zipfile``/zarr-python: ``'r'`` read, ``'w'`` truncate and write, ``'a'`` append
(creates the file when missing), ``'x'`` create exclusively. ``close()`` (or leaving the ``with``
block) is required after writing: it writes the zip's central directory.

A zip member cannot be replaced or deleted in place. Writing an existing key therefore appends a
second member of the same name and emits a ``UserWarning`` starting with ``'Duplicate name'``
(zarr-python's ZipStore behaves the same way through ``zipfile``): readers (zipfile, zarr-python,
this store) return the newest member, and the old bytes stay in the file until it is rewritten.
``delete_many`` raises ``NotImplementedError`` (``supports_deletes`` is False).

Not crash-safe while open for writing: the central directory is written by ``close()``, so a
process killed before then leaves a zip that readers cannot open (its members are still in the
file; ``zip -FF`` can recover them). Members whose names could escape an extraction directory
(``..``, absolute paths, drive letters, backslashes, NUL) make opening the zip fail.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidKeyError, warn_user
from .base import (
    ByteRange,
    BytesLike,
    Store,
    as_memoryview,
    list_dir_of_keys,
    list_prefix_of_keys,
    resolve_byte_range,
    validate_key,
    validate_prefix,
)

_MODES = ("r", "w", "a", "x")


class ZipStore(Store):
    """All access to the underlying ``ZipFile`` holds one lock: zipfile is not thread-safe."""

    supports_deletes = False

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: str = "r",
        read_only: bool | None = None,
        compression: int = zipfile.ZIP_STORED,
        allowZip64: bool = True,
    ):
        if mode not in _MODES:
            raise ValueError(f"ZipStore mode must be one of {_MODES}, got {mode!r}")
        if read_only is None:
            read_only = mode == "r"
        if mode == "r" and not read_only:
            raise ValueError("ZipStore opened with mode='r' cannot be writable; use mode='a'")
        super().__init__(read_only=read_only)
        self._path = os.path.abspath(os.fspath(path))
        self.mode = mode
        self.compression = compression
        self.allowZip64 = allowZip64
        self._lock = threading.RLock()
        self._zf = zipfile.ZipFile(self._path, mode=mode, compression=compression, allowZip64=allowZip64)
        self._owner = True  # views from with_read_only share the ZipFile but never close it
        for name in self._zf.NameToInfo:  # a member named '../x' or '/x' could escape when extracted
            try:
                validate_key(name[:-1] if name.endswith("/") else name)
            except InvalidKeyError as exc:
                self._zf.close()
                raise InvalidKeyError(f"{self._path}: zip entry refused: {exc}") from None

    @property
    def path(self) -> Path:
        return Path(self._path)

    @property
    def closed(self) -> bool:
        return self._zf.fp is None

    def _require_open(self) -> zipfile.ZipFile:
        if self._zf.fp is None:
            raise ValueError(f"{self!r} is closed")
        return self._zf

    # -- reads ----------------------------------------------------------------------
    def _get_many(self, keys: list[str], byte_ranges: list[ByteRange | None] | None) -> list[bytes | None]:
        ranges = byte_ranges or [None] * len(keys)
        with self._lock:
            zf = self._require_open()
            return [self._read(zf, key, byte_range) for key, byte_range in zip(keys, ranges)]

    @staticmethod
    def _read(zf: zipfile.ZipFile, key: str, byte_range: ByteRange | None) -> bytes | None:
        info = zf.NameToInfo.get(key)
        if info is None or info.is_dir():
            return None
        offset, stop = resolve_byte_range(byte_range, info.file_size)
        if offset == 0 and stop == info.file_size:
            return zf.read(info)
        if stop <= offset:
            return b""
        with zf.open(info) as member:  # seekable; deflated members decompress up to offset
            member.seek(offset)
            return member.read(stop - offset)

    def exists(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            return key in self._require_open().NameToInfo

    def getsize(self, key: str) -> int:
        validate_key(key)
        with self._lock:
            info = self._require_open().NameToInfo.get(key)
        if info is None or info.is_dir():
            raise FileNotFoundError(key)
        return info.file_size

    # -- writes ---------------------------------------------------------------------
    def _set_many(self, items: Sequence[tuple[str, BytesLike]]) -> None:
        with self._lock:
            zf = self._require_open()
            for key, value in items:
                if key in zf.NameToInfo:
                    warn_user(
                        f"Duplicate name: {key!r} already exists in {self._path}; zip members cannot be "
                        "overwritten, so a second member is appended (readers use the newest one and the "
                        "old bytes stay in the file)",
                        UserWarning,
                    )
                info = zipfile.ZipInfo(filename=key, date_time=time.localtime(time.time())[:6])
                info.compress_type = self.compression
                info.external_attr = 0o644 << 16
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)
                    zf.writestr(info, as_memoryview(value))  # type: ignore[arg-type]

    def _delete_many(self, keys: Sequence[str]) -> None:
        """Keys not in the zip are already gone (a chunk of fill values never written is deleted
        by writes); removing a member that exists is what the zip format cannot do in place."""
        with self._lock:
            names = self._require_open().NameToInfo
            present = [key for key in keys if key in names]
        if present:
            raise NotImplementedError(
                f"ZipStore cannot delete keys ({len(present)} requested, e.g. {present[0]!r}): the zip "
                "format has no in-place delete; write a new zip without them"
            )

    # -- listing --------------------------------------------------------------------
    def _keys(self) -> list[str]:
        with self._lock:
            return [name for name in self._require_open().NameToInfo if not name.endswith("/")]

    def list_prefix(self, prefix: str) -> list[str]:
        return list_prefix_of_keys(self._keys(), validate_prefix(prefix))

    def list_dir(self, prefix: str) -> list[str]:
        return list_dir_of_keys(self._keys(), validate_prefix(prefix))

    # -- lifecycle ------------------------------------------------------------------
    def close(self) -> None:
        """Write the central directory (when writing) and close the file; idempotent."""
        if self._owner:
            with self._lock:
                self._zf.close()

    def with_read_only(self, read_only: bool = True) -> ZipStore:
        """A view sharing this open zip; closing the view does not close the file."""
        if not read_only and self.mode == "r":
            raise ValueError("a ZipStore opened with mode='r' cannot give a writable view")
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view._read_only = bool(read_only)
        view._owner = False
        return view

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other._path == self._path

    def __hash__(self) -> int:
        return hash((type(self), self._path))

    def __repr__(self) -> str:
        return f"ZipStore({self._path!r}, mode={self.mode!r})"
