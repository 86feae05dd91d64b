"""``AsyncGroup``: zarr-python's asyncio group API as a facade over the synchronous ``Group``.

As with ``AsyncArray``, each call that touches the store runs the ``Group`` method in a worker
thread (``asyncio.to_thread``); members come back as ``AsyncArray`` / ``AsyncGroup``. The member
iterators (``members``, ``keys``, ``arrays``...) are async generators, as in zarr-python: the
listing is done in one worker call, then yielded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from ..metadata import GroupMetadataV2, GroupMetadataV3
from ..storage import make_store
from ..storage.store_path import split_store_path
from .array import Array
from .async_array import AsyncArray, mirrored
from .group import Group
from .metadata_io import check_zarr_format


def as_async(value: Any) -> Any:
    """An ``Array`` as ``AsyncArray``, a ``Group`` as ``AsyncGroup``; anything else unchanged."""
    if isinstance(value, Array):
        return AsyncArray(value)
    if isinstance(value, Group):
        return AsyncGroup(value)
    return value


def as_sync(value: Any) -> Any:
    """The ``Array`` / ``Group`` behind an async node; anything else unchanged."""
    if isinstance(value, AsyncArray):
        return value._array
    if isinstance(value, AsyncGroup):
        return value._group
    return value


async def run_async(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``function`` in a worker thread, async nodes among the arguments unwrapped and nodes in the
    result wrapped: a synchronous cuzarr call as a coroutine of the asyncio API."""
    args = tuple(as_sync(a) for a in args)
    kwargs = {k: as_sync(v) for k, v in kwargs.items()}
    return as_async(await asyncio.to_thread(function, *args, **kwargs))


async def async_nodes(
    list_them: Callable[[], Iterable[tuple[str, Any]]],
) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
    """``(path, node)`` pairs that ``list_them`` gives, listed in one worker call and then yielded
    with async nodes: the member listings and ``create_hierarchy`` of the asyncio API."""
    for path, node in await asyncio.to_thread(lambda: list(list_them())):
        yield path, as_async(node)


def _mirrored(name: str) -> property:
    return mirrored(Group, name, "_group")


class AsyncGroup:
    """A ``Group`` whose member lookups, creations and listings are coroutines."""

    def __init__(self, group: Group):
        self._group = group

    @classmethod
    async def open(
        cls,
        store: Any,
        zarr_format: int | None = 3,
        use_consolidated: bool | str | None = None,
        **kwargs: Any,
    ) -> AsyncGroup:
        """The existing group at ``store`` (keywords as ``Group.open``: ``path``, ``read_only``...)."""
        return cls(await asyncio.to_thread(Group.open, store, zarr_format, use_consolidated, **kwargs))

    @classmethod
    def from_dict(cls, store_path: Any, data: dict[str, Any]) -> AsyncGroup:
        """zarr-python's constructor from a metadata document (``zarr_format``, ``attributes``...):
        a group object over ``store_path`` that writes nothing (the document is not stored)."""
        store, path = split_store_path(store_path, None)
        zarr_format = check_zarr_format(data.get("zarr_format"), allow_none=False)
        if zarr_format == 3:
            metadata: Any = GroupMetadataV3.from_json({**data, "node_type": data.get("node_type", "group")})
        else:
            metadata = GroupMetadataV2(attributes=dict(data.get("attributes") or {}))
        return cls(Group(make_store(store), path, metadata))

    @classmethod
    async def from_store(cls, store: Any, **kwargs: Any) -> AsyncGroup:
        """A new group (keywords as ``Group.from_store``: ``attributes``, ``overwrite``...)."""
        return cls(await asyncio.to_thread(Group.from_store, store, **kwargs))

    # -- properties (no I/O) -----------------------------------------------------------------
    metadata = _mirrored("metadata")
    consolidated_metadata = _mirrored("consolidated_metadata")
    zarr_format = _mirrored("zarr_format")
    store = _mirrored("store")
    store_path = _mirrored("store_path")
    path = _mirrored("path")
    name = _mirrored("name")
    basename = _mirrored("basename")
    read_only = _mirrored("read_only")
    synchronizer = _mirrored("synchronizer")
    info = _mirrored("info")

    @property
    def attrs(self) -> dict[str, Any]:
        """A copy of the attributes (zarr-python's ``AsyncGroup.attrs`` is a dict too)."""
        return dict(self._group.metadata.attributes)

    # -- members ------------------------------------------------------------------------------
    async def getitem(self, key: str) -> AsyncArray | AsyncGroup:
        """The member at ``key`` (nested paths allowed); KeyError when there is none."""
        return await run_async(self._group.__getitem__, key)

    async def get(self, key: str, default: Any = None) -> Any:
        return await run_async(self._group.get, key, default)

    async def contains(self, member: str) -> bool:
        return await asyncio.to_thread(self._group.__contains__, member)

    async def setitem(self, key: str, value: Any) -> None:
        """Write ``value`` as a new array at ``key`` (replacing whatever was there)."""
        await run_async(self._group.__setitem__, key, value)

    async def delitem(self, key: str) -> None:
        await asyncio.to_thread(self._group.__delitem__, key)

    async def move(self, source: str, dest: str) -> None:
        await asyncio.to_thread(self._group.move, source, dest)

    async def nmembers(self, max_depth: int | None = 0) -> int:
        return await asyncio.to_thread(self._group.nmembers, max_depth)

    async def members(
        self, max_depth: int | None = 0, *, use_consolidated_for_children: bool = True
    ) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
        async for key, node in async_nodes(
            lambda: self._group.members(
                max_depth, use_consolidated_for_children=use_consolidated_for_children
            )
        ):
            yield key, node

    async def keys(self) -> AsyncIterator[str]:
        async for key, _ in self.members():
            yield key

    async def arrays(self) -> AsyncIterator[tuple[str, AsyncArray]]:
        async for key, node in self.members():
            if isinstance(node, AsyncArray):
                yield key, node

    async def array_keys(self) -> AsyncIterator[str]:
        async for key, _ in self.arrays():
            yield key

    async def array_values(self) -> AsyncIterator[AsyncArray]:
        async for _, array in self.arrays():
            yield array

    async def groups(self) -> AsyncIterator[tuple[str, AsyncGroup]]:
        async for key, node in self.members():
            if isinstance(node, AsyncGroup):
                yield key, node

    async def group_keys(self) -> AsyncIterator[str]:
        async for key, _ in self.groups():
            yield key

    async def group_values(self) -> AsyncIterator[AsyncGroup]:
        async for _, group in self.groups():
            yield group

    async def tree(self, expand: bool | None = None, level: int | None = None, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._group.tree, expand, level, **kwargs)

    # -- creation ---------------------------------------------------------------------------------
    async def create_group(self, name: str, **kwargs: Any) -> AsyncGroup:
        return await run_async(self._group.create_group, name, **kwargs)

    async def require_group(self, name: str, overwrite: bool = False) -> AsyncGroup:
        return await run_async(self._group.require_group, name, overwrite)

    async def require_groups(self, *names: str) -> tuple[AsyncGroup, ...]:
        groups = await asyncio.to_thread(self._group.require_groups, *names)
        return tuple(AsyncGroup(group) for group in groups)

    async def create_array(self, name: str, **kwargs: Any) -> AsyncArray:
        """A new array at ``name``; keywords as ``Group.create_array``."""
        return await run_async(self._group.create_array, name, **kwargs)

    async def require_array(self, name: str, *, shape: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.require_array, name, shape=shape, **kwargs)

    async def create_dataset(self, name: str, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.create_dataset, name, **kwargs)

    async def require_dataset(self, name: str, *, shape: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.require_dataset, name, shape=shape, **kwargs)

    async def empty(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.empty, name=name, shape=shape, **kwargs)

    async def zeros(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.zeros, name=name, shape=shape, **kwargs)

    async def ones(self, *, name: str, shape: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.ones, name=name, shape=shape, **kwargs)

    async def full(self, *, name: str, shape: Any, fill_value: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.full, name=name, shape=shape, fill_value=fill_value, **kwargs)

    async def empty_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.empty_like, name=name, data=data, **kwargs)

    async def zeros_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.zeros_like, name=name, data=data, **kwargs)

    async def ones_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.ones_like, name=name, data=data, **kwargs)

    async def full_like(self, *, name: str, data: Any, **kwargs: Any) -> AsyncArray:
        return await run_async(self._group.full_like, name=name, data=data, **kwargs)

    async def create_hierarchy(
        self, nodes: dict[str, Any], *, overwrite: bool = False
    ) -> AsyncIterator[tuple[str, AsyncArray | AsyncGroup]]:
        """Create many nodes below this group at once; yields ``(relative path, node)``, parents first."""
        async for path, node in async_nodes(lambda: self._group.create_hierarchy(nodes, overwrite=overwrite)):
            yield path, node

    # -- metadata -----------------------------------------------------------------------------------
    async def update_attributes(self, new_attributes: dict[str, Any]) -> AsyncGroup:
        """Set many attributes with one metadata write."""
        await asyncio.to_thread(self._group.update_attributes, new_attributes)
        return self

    async def info_complete(self) -> Any:
        """``info`` with member counts (walks the hierarchy unless consolidated)."""
        return await asyncio.to_thread(self._group.info_complete)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AsyncGroup):
            return NotImplemented
        return self._group == other._group

    __hash__ = None  # type: ignore[assignment]  # as Group: equality follows the (mutable) store

    def __repr__(self) -> str:
        return "<Async" + repr(self._group)[1:]


__all__ = ["AsyncGroup", "as_async", "as_sync", "async_nodes", "run_async"]
