"""What arrays and groups share: where they live (store and path), their h5py-style names, and the
metadata lock every change of their metadata (attributes, shape) is made under."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from ..storage.base import Store
from ..storage.store_path import StorePath
from .metadata_io import metadata_lock_key


class Node:
    """A node of a hierarchy at ``path`` ('' is the root) inside ``store``."""

    _store: Store
    _path: str
    _read_only: bool
    _synchronizer: Any
    _metadata: Any
    #: the attribute by which the asyncio facade (``AsyncArray``/``AsyncGroup``) holds this kind
    _facade_attribute: ClassVar[str]

    def __new__(cls, store: Any = None, *args: Any, **kwargs: Any) -> Any:
        """``Array(async_array)`` / ``Group(async_group)`` is zarr-python's way from the asyncio
        facade to the synchronous API: it gives the very node the facade wraps, so both see
        every change (``__init__`` then sees a node already set up and leaves it alone)."""
        wrapped = getattr(store, cls._facade_attribute, None)
        if (
            not args
            and not kwargs
            and isinstance(wrapped, cls)
            and type(store).__name__ == f"Async{cls.__name__}"
        ):
            return wrapped
        return super().__new__(cls)

    def _wraps_facade_of(self, store: Any, path: Any, metadata: Any) -> bool:
        """In ``__init__``: whether ``__new__`` returned the node a facade ``store`` wraps; else
        ``path`` and ``metadata`` must both be given."""
        if path is None and metadata is None and getattr(store, self._facade_attribute, None) is self:
            return True
        if path is None or metadata is None:
            kind = type(self).__name__
            raise TypeError(
                f"{kind}(store, path, metadata) needs all three (or one Async{kind}); open an "
                f"existing one with cuzarr.open_{kind.lower()}(store, path=...)"
            )
        return False

    @property
    def store(self) -> Store:
        return self._store

    @property
    def path(self) -> str:
        return self._path

    @property
    def store_path(self) -> StorePath:
        """The store and the path in it, as one value (zarr-python's ``StorePath``)."""
        return StorePath(self._store, self._path)

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
        """Locks held around writes (``ThreadSynchronizer``/``ProcessSynchronizer``) or None: per chunk
        (shard) for data, and one on the node's metadata document for attributes, resize and append."""
        return self._synchronizer

    # -- metadata changes -------------------------------------------------------------------
    def _check_writable(self) -> None:
        raise NotImplementedError

    def _reload_metadata(self) -> None:
        """Replace the cached metadata with the stored one."""
        raise NotImplementedError

    def _write_attributes(self, attributes: dict[str, Any]) -> None:
        """Store ``attributes`` as the node's attributes and cache the new metadata."""
        raise NotImplementedError

    @contextmanager
    def _metadata_locked(self) -> Iterator[None]:
        """Hold the node's metadata lock for a read-modify-write of its metadata.

        With a synchronizer, the stored metadata is re-read once the lock is held, so the change
        builds on every other writer's (another process's append, another thread's attribute)
        instead of silently undoing it. Without one, the cached metadata is used, as before.
        """
        self._check_writable()
        if self._synchronizer is None:
            yield
            return
        key = metadata_lock_key(self._path, self._metadata)
        with self._synchronizer.lock([key]):
            self._reload_metadata()
            yield

    @contextmanager
    def _edit_attributes(self) -> Iterator[dict[str, Any]]:
        """A copy of the current attributes to change in place; stored on a normal exit, all while
        the metadata lock is held (see ``Attributes.edit``)."""
        with self._metadata_locked():
            attributes = dict(self._metadata.attributes)
            yield attributes
            self._write_attributes(attributes)
