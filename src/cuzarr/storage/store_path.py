"""``StorePath``: a store and a path inside it, as zarr-python's ``zarr.storage.StorePath``.

Arrays and groups expose theirs as ``store_path``; the top-level functions and ``Array.open`` /
``Group.open`` accept one wherever they take a store, its path prefixed to theirs.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import InvalidKeyError
from .base import Store

_REPEATED_SLASHES = re.compile(r"//+")


def normalize_path(path: str | bytes | os.PathLike | None, *, what: str = "the store path") -> str:
    """``'a/b'`` form: backslashes as slashes, no leading, trailing or repeated slashes; ``'.'``
    and ``'..'`` segments are refused (``InvalidKeyError``, a ValueError, naming ``what`` the
    path is) since they could leave the store."""
    if path is None:
        return ""
    if isinstance(path, bytes):
        path = path.decode("ascii")
    elif isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise TypeError(f"a store path must be a str, bytes or os.PathLike, got {type(path).__name__}")
    result = _REPEATED_SLASHES.sub("/", path.replace("\\", "/").strip("/"))
    if any(segment in (".", "..") for segment in result.split("/")):
        raise InvalidKeyError(f"{what} {path!r} has a '.' or '..' segment")
    return result


def join_path(root: str, path: str) -> str:
    """``root/path`` without doubled or trailing slashes (zarr-python's rule; either may be '')."""
    root = root.rstrip("/")
    return (f"{root}/{path}" if root else path).rstrip("/")


class StorePath:
    """A ``Store`` and a ``/``-separated ``path`` inside it ('' is the root).

    ``sp / 'child'`` is the path one level down; two store paths are equal when their stores are
    equal and their paths are the same. ``str()`` is ``str(store)`` followed by ``/path``.
    """

    store: Store
    path: str

    def __init__(self, store: Store, path: str = "") -> None:
        self.store = store
        self.path = normalize_path(path)

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    def __truediv__(self, other: str) -> StorePath:
        return type(self)(self.store, join_path(self.path, other))

    def __str__(self) -> str:
        return join_path(str(self.store), self.path)

    def __repr__(self) -> str:
        return f"StorePath({type(self.store).__name__}, '{self}')"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StorePath):
            return False
        return self.store == other.store and self.path == other.path

    __hash__ = None  # type: ignore[assignment]  # equality follows the (mutable) store


def split_store_path(store_like: Any, path: str | None) -> tuple[Any, str]:
    """``(store, path)``: a ``StorePath``'s store, with its path put in front of ``path``; anything
    else as is (for ``make_store``), with ``path`` stripped of slashes. Keys are checked at I/O."""
    if isinstance(store_like, StorePath):
        return store_like.store, join_path(store_like.path, normalize_path(path))
    return store_like, (path or "").strip("/")


__all__ = ["StorePath", "join_path", "normalize_path", "split_store_path"]
