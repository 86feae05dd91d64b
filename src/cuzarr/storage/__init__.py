"""Stores: where array bytes live. ``make_store`` turns anything store-like into a ``Store``."""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from typing import Any

from fsspec import FSMap

from .base import ByteRange, Store, apply_byte_range, validate_key, validate_prefix
from .fsspec import FsspecStore
from .local import LocalStore
from .memory import MemoryStore
from .store_path import StorePath
from .wrappers import CountingStore, LoggingStore, WrapperStore
from .zip import ZipStore

__all__ = [
    "ByteRange",
    "CountingStore",
    "FsspecStore",
    "LocalStore",
    "LoggingStore",
    "MemoryStore",
    "Store",
    "StoreLike",
    "StorePath",
    "WrapperStore",
    "ZipStore",
    "apply_byte_range",
    "is_url",
    "make_store",
    "validate_key",
    "validate_prefix",
]

StoreLike = Store | StorePath | MutableMapping | str | os.PathLike | FSMap | None

_MODES = (None, "r", "r+", "a", "w", "w-")
#: ``scheme://`` (two or more letters, so ``C:\\data`` stays a path) or a chained ``a::b`` URL.
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://|::")
#: zarr-style mode -> zipfile mode; everything that may write appends ('a' creates a missing file).
_ZIP_MODES = {"r": "r", "w": "w", "w-": "x", "r+": "a", "a": "a", None: "a"}


def is_url(path: str) -> bool:
    """Whether ``path`` names an fsspec URL (``s3://...``, ``memory://...``, ``zip::...``)."""
    return bool(_URL_RE.search(path))


def make_store(
    store_like: Any, *, mode: str | None = None, storage_options: dict[str, Any] | None = None
) -> Store:
    """A ``Store`` for ``store_like``; ``mode='r'`` gives a read-only store.

    - ``None``: a new ``MemoryStore``; a ``Store``: itself (a read-only view when ``mode='r'``);
      a ``StorePath`` at the root: its store (one below the root needs a caller that takes a path);
      a ``dict`` (any ``MutableMapping``): a ``MemoryStore`` over it; an ``fsspec.FSMap``: an
      ``FsspecStore`` over its filesystem and root.
    - ``str``/``PathLike``: a URL (``s3://``, ``memory://``, ``gcs://``, ...) gives
      ``FsspecStore.from_url``, except ``file://`` without ``storage_options`` which gives a
      ``LocalStore``; a path ending in ``.zip`` gives a ``ZipStore`` (mode ``'r'`` reads, ``'w'``
      truncates, ``'w-'`` creates exclusively, anything else appends, creating a missing file;
      close it when done); any other path gives a ``LocalStore``.

    ``mode`` only chooses read-only-ness (and the zip mode): it never deletes existing data.
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
    read_only = mode == "r"
    path = os.fspath(store_like) if isinstance(store_like, (str, os.PathLike)) else None
    if storage_options and not (isinstance(path, str) and is_url(path)):
        raise TypeError(
            f"storage_options is only valid with a URL (e.g. 's3://bucket/x'), not with {store_like!r}"
        )
    if store_like is None:
        return MemoryStore(read_only=read_only)
    if isinstance(store_like, StorePath):
        if store_like.path:
            raise TypeError(
                f"{store_like!r} points below its store's root; pass its .store and path={store_like.path!r}"
            )
        return make_store(store_like.store, mode=mode)
    if isinstance(store_like, Store):
        if read_only and not store_like.read_only:
            try:
                return store_like.with_read_only(True)
            except NotImplementedError:
                return store_like
        return store_like
    if isinstance(store_like, FSMap):
        return FsspecStore.from_mapper(store_like, read_only=read_only)
    if isinstance(store_like, MutableMapping):
        return MemoryStore(store_like, read_only=read_only)
    if isinstance(path, str):
        if is_url(path):
            if path.startswith("file://") and not storage_options:
                return LocalStore(path[len("file://") :], read_only=read_only)
            return FsspecStore.from_url(path, storage_options=storage_options, read_only=read_only)
        if path.lower().endswith(".zip"):
            return ZipStore(path, mode=_ZIP_MODES[mode], read_only=read_only)
        return LocalStore(path, read_only=read_only)
    raise TypeError(
        f"cannot make a store from {type(store_like).__name__}: expected None, a cuzarr Store or StorePath, a dict "
        "(MutableMapping), a str or os.PathLike (local path, '.zip' path or fsspec URL) or an fsspec.FSMap"
    )
