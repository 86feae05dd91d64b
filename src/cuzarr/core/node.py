"""What arrays and groups share: where they live (store and path) and their h5py-style names."""

from __future__ import annotations

from typing import Any

from ..storage.base import Store


class Node:
    """A node of a hierarchy at ``path`` ('' is the root) inside ``store``."""

    _store: Store
    _path: str
    _read_only: bool
    _synchronizer: Any

    @property
    def store(self) -> Store:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def name(self) -> str:
        """h5py-style absolute name: ``'/'`` for the root, ``'/a/b'`` below it."""
        return "/" + self._path

    @property
    def basename(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def synchronizer(self) -> Any:
        """Per-chunk locks held around writes (``ThreadSynchronizer``/``ProcessSynchronizer``) or None."""
        return self._synchronizer
