"""``AsyncArray``: zarr-python's asyncio array API as a facade over the synchronous ``Array``.

The core stays synchronous (DESIGN rule 4): every call that reads or writes the store runs the
``Array`` method in a worker thread with ``asyncio.to_thread``, so the event loop never blocks and
many awaits (``asyncio.gather``) overlap. Properties answer from metadata, without I/O, as
zarr-python's do; ``attrs`` is a plain dict (change attributes with ``update_attributes``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from .array import Array
from .array_legacy import create_legacy_array, v2_compressor, warn_deprecated
from .info import ArrayInfo


def mirrored(source: type, name: str, wrapped: str) -> property:
    """A read-only property giving ``self.<wrapped>.<name>``, documented as ``source.<name>``: the
    async facades answer metadata questions from the wrapped synchronous node, without I/O."""

    def get(self: Any) -> Any:
        return getattr(getattr(self, wrapped), name)

    get.__doc__ = getattr(source, name).__doc__
    return property(get)


def _mirrored(name: str) -> property:
    return mirrored(Array, name, "_array")


class AsyncArray:
    """An ``Array`` whose reads, writes and store listings are coroutines."""

    def __init__(self, array: Array):
        self._array = array

    @classmethod
    def from_dict(cls, store_path: Any, data: dict[str, Any]) -> AsyncArray:
        """zarr-python's constructor from a metadata document; writes nothing (``Array.from_dict``)."""
        return cls(Array.from_dict(store_path, data))

    @classmethod
    async def open(cls, store: Any, zarr_format: int | None = None, **kwargs: Any) -> AsyncArray:
        """The existing array at ``store`` (keywords as ``Array.open``: ``path``, ``read_only``...)."""
        return cls(await asyncio.to_thread(Array.open, store, zarr_format, **kwargs))

    @classmethod
    def create(cls, store: Any, **kwargs: Any) -> Coroutine[Any, Any, AsyncArray]:
        """Deprecated (warns when called, as zarr-python): ``Array.create`` as a coroutine."""
        warn_deprecated("cuzarr.api.asynchronous.create_array")
        return cls._create(store, kwargs)

    @classmethod
    async def _create(cls, store: Any, kwargs: dict[str, Any]) -> AsyncArray:
        return cls(await asyncio.to_thread(lambda: create_legacy_array(store, **kwargs)))

    # -- properties (no I/O) -----------------------------------------------------------------
    metadata = _mirrored("metadata")
    zarr_format = _mirrored("zarr_format")
    shape = _mirrored("shape")
    chunks = _mirrored("chunks")
    shards = _mirrored("shards")
    dtype = _mirrored("dtype")
    fill_value = _mirrored("fill_value")
    order = _mirrored("order")
    ndim = _mirrored("ndim")
    size = _mirrored("size")
    nbytes = _mirrored("nbytes")
    cdata_shape = _mirrored("cdata_shape")
    nchunks = _mirrored("nchunks")
    nshards = _mirrored("nshards")
    dimension_names = _mirrored("dimension_names")
    compressors = _mirrored("compressors")
    filters = _mirrored("filters")
    serializer = _mirrored("serializer")
    store = _mirrored("store")
    store_path = _mirrored("store_path")
    path = _mirrored("path")
    name = _mirrored("name")
    basename = _mirrored("basename")
    read_only = _mirrored("read_only")
    device = _mirrored("device")
    synchronizer = _mirrored("synchronizer")
    config = _mirrored("config")
    info = _mirrored("info")

    @property
    def attrs(self) -> dict[str, Any]:
        """A copy of the attributes (zarr-python's ``AsyncArray.attrs`` is a dict too)."""
        return dict(self._array.metadata.attributes)

    @property
    def compressor(self) -> Any:
        """Deprecated: a v2 array's compressor (None without); TypeError for v3 arrays."""
        warn_deprecated("AsyncArray.compressors")
        return v2_compressor(self._array)

    @property
    def oindex(self) -> AsyncOIndex:
        """``await a.oindex.getitem(selection)``: orthogonal selection."""
        return AsyncOIndex(self._array)

    @property
    def vindex(self) -> AsyncVIndex:
        """``await a.vindex.getitem(selection)``: coordinate or mask selection."""
        return AsyncVIndex(self._array)

    def with_config(self, config: Any) -> AsyncArray:
        """The same array with other runtime settings (no I/O, so not a coroutine)."""
        return AsyncArray(self._array.with_config(config))

    # -- reads and writes -----------------------------------------------------------------------
    async def getitem(self, selection: Any) -> Any:
        """``array[selection]``, routed as ``Array.__getitem__`` routes it."""
        return await asyncio.to_thread(self._array.__getitem__, selection)

    async def setitem(self, selection: Any, value: Any) -> None:
        await asyncio.to_thread(self._array.__setitem__, selection, value)

    async def get_basic_selection(
        self, selection: Any = Ellipsis, *, out: Any = None, fields: Any = None
    ) -> Any:
        return await asyncio.to_thread(self._array.get_basic_selection, selection, out=out, fields=fields)

    async def get_orthogonal_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        return await asyncio.to_thread(
            self._array.get_orthogonal_selection, selection, out=out, fields=fields
        )

    async def get_coordinate_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        return await asyncio.to_thread(
            self._array.get_coordinate_selection, selection, out=out, fields=fields
        )

    async def get_mask_selection(self, mask: Any, *, out: Any = None, fields: Any = None) -> Any:
        return await asyncio.to_thread(self._array.get_mask_selection, mask, out=out, fields=fields)

    async def get_block_selection(self, selection: Any, *, out: Any = None, fields: Any = None) -> Any:
        return await asyncio.to_thread(self._array.get_block_selection, selection, out=out, fields=fields)

    # -- shape, attributes and store listings -------------------------------------------------------
    async def resize(self, new_shape: Any) -> None:
        await asyncio.to_thread(self._array.resize, new_shape)

    async def append(self, data: Any, axis: int = 0) -> tuple[int, ...]:
        """Grow along ``axis`` and write ``data`` there; returns the new shape."""
        return await asyncio.to_thread(self._array.append, data, axis)

    async def update_attributes(self, new_attributes: dict[str, Any]) -> AsyncArray:
        """Set many attributes with one metadata write."""
        await asyncio.to_thread(self._array.update_attributes, new_attributes)
        return self

    async def nchunks_initialized(self) -> int:
        """Number of chunks present in the store (lists it)."""
        return await asyncio.to_thread(lambda: self._array.nchunks_initialized)

    async def nbytes_stored(self) -> int:
        return await asyncio.to_thread(self._array.nbytes_stored)

    async def info_complete(self) -> ArrayInfo:
        return await asyncio.to_thread(self._array.info_complete)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncArray):
            return NotImplemented
        return self._array == other._array

    def __hash__(self) -> int:
        return hash(self._array)

    def __repr__(self) -> str:
        return "<Async" + repr(self._array)[1:]


class AsyncOIndex:
    """Orthogonal indexing of an ``AsyncArray`` (``Array.oindex`` in a worker thread)."""

    def __init__(self, array: Array):
        self._array = array

    async def getitem(self, selection: Any) -> Any:
        return await asyncio.to_thread(self._array.oindex.__getitem__, selection)


class AsyncVIndex:
    """Vectorised (coordinate or mask) indexing of an ``AsyncArray`` (``Array.vindex`` in a worker thread)."""

    def __init__(self, array: Array):
        self._array = array

    async def getitem(self, selection: Any) -> Any:
        return await asyncio.to_thread(self._array.vindex.__getitem__, selection)


__all__ = ["AsyncArray", "AsyncOIndex", "AsyncVIndex", "mirrored"]
