"""``resize`` and ``append``: the shape changes of ``Array`` (a mixin).

Both are read-modify-writes of the array's metadata. They run under the array's metadata lock,
which, with a synchronizer, also re-reads the stored shape first: concurrent appends from many
threads or processes each land in their own new block instead of overwriting one another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .creation import normalize_shape
from .metadata_io import write_array_metadata

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from ..buffer import Backend
    from ..storage.base import Store
    from .metadata_io import ArrayMetadata


class ShapeChanges:
    """Mixin of ``Array``: growing and shrinking it."""

    if TYPE_CHECKING:
        _store: Store
        _path: str
        _metadata: ArrayMetadata
        _backend: Backend
        name: str
        shape: tuple[int, ...]
        ndim: int
        fill_value: Any

        def _metadata_locked(self) -> AbstractContextManager[None]: ...
        def _set_metadata(self, metadata: ArrayMetadata) -> None: ...
        def _stored_chunks(self) -> list[tuple[str, tuple[int, ...]]]: ...
        def set_basic_selection(self, selection: Any, value: Any) -> None: ...
        def __setitem__(self, selection: Any, value: Any) -> None: ...

    def resize(self, *shape: Any) -> None:
        """Grow or shrink; chunks outside the new shape are deleted and, on shrinking, the cut-off
        part of boundary chunks is reset to the fill value so a later grow never resurrects it."""
        new_shape = normalize_shape(shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
        with self._metadata_locked():
            self._resize_locked(new_shape)

    def _resize_locked(self, new_shape: tuple[int, ...]) -> None:
        if len(new_shape) != self.ndim:
            raise ValueError(f"array '{self.name}' has {self.ndim} dimensions; cannot resize to {new_shape}")
        new_grid = tuple(-(-s // c) for s, c in zip(new_shape, self._metadata.chunk_shape))
        outside = [
            key for key, coords in self._stored_chunks() if any(c >= g for c, g in zip(coords, new_grid))
        ]
        self._store.delete_many(outside)
        self._reset_cut_regions(new_shape)
        metadata = self._metadata.with_shape(new_shape)
        write_array_metadata(self._store, self._path, metadata)
        self._set_metadata(metadata)

    def _reset_cut_regions(self, new_shape: tuple[int, ...]) -> None:
        """Fill the parts of surviving chunks that lie beyond ``new_shape`` (called before the shape changes)."""
        storage_chunks = self._metadata.chunk_shape  # whole shards survive or go, not inner chunks
        extent = [min(o, -(-n // c) * c) for n, o, c in zip(new_shape, self.shape, storage_chunks)]
        fill = self.fill_value if self.fill_value is not None else 0
        for axis in range(self.ndim):
            if new_shape[axis] < extent[axis]:
                region = tuple(
                    slice(new_shape[axis], extent[axis]) if a == axis else slice(0, extent[a])
                    for a in range(self.ndim)
                )
                self.set_basic_selection(region, fill)

    def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow along ``axis`` and write ``data`` into the new part; returns the new shape.

        The metadata lock is held from reading the current shape until the data is written, so the
        next synchronized appender starts from the grown shape and never writes over this block."""
        data = self._backend.asarray(data)
        with self._metadata_locked():
            if data.ndim != self.ndim:
                raise ValueError(f"cannot append {data.ndim}-d data to {self.ndim}-d array '{self.name}'")
            axis = axis % self.ndim
            for a, (n, m) in enumerate(zip(self.shape, data.shape)):
                if a != axis and n != m:
                    raise ValueError(
                        f"cannot append data of shape {data.shape} to array '{self.name}' of shape "
                        f"{self.shape} along axis {axis}: axis {a} differs"
                    )
            old = self.shape[axis]
            new_shape = tuple(n + data.shape[axis] if a == axis else n for a, n in enumerate(self.shape))
            self._resize_locked(new_shape)
            self[tuple(slice(old, None) if a == axis else slice(None) for a in range(self.ndim))] = data
        return new_shape
