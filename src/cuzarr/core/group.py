"""``Group``: a node holding arrays and groups, with zarr-python 3's names (and zarr 2's h5py-style
``create_dataset``/``require_dataset``, ``move``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from ..errors import ContainsArrayError, ReadOnlyError
from ..metadata import GroupMetadataV3
from ..metadata.consolidated import ConsolidatedMetadata, NodeMetadata
from ..storage import make_store
from ..storage.base import Store
from ..storage.store_path import split_store_path
from .array import Array
from .attributes import Attributes, check_json_value
from .group_write import GroupWriter
from .hierarchy import (
    GroupMetadata,
    check_format,
    check_max_depth,
    is_group,
    join_path,
    new_group_metadata,
    read_group,
    read_nodes,
    walk,
    write_group_metadata,
)
from .metadata_io import V2_ATTRS_KEY, V3_KEY, node_key, read_node_metadata
from .node import Node
from .nodes import NewNode
from .tree import GroupInfo, TreeRepr, render_tree


class Group(Node, GroupWriter):
    """A Zarr group (v2 or v3). Members are read lazily; with consolidated metadata, never re-read.

    A group opened with consolidated metadata trusts it: members created, changed or deleted by
    other writers afterwards are invisible (and nodes created through this object are only added
    to its in-memory view) until ``consolidate_metadata`` runs again and the group is reopened.
    """

    _facade_attribute = "_group"

    def __init__(
        self,
        store: Store,
        path: str | None = None,
        metadata: GroupMetadata | None = None,
        *,
        consolidated: ConsolidatedMetadata | None = None,
        read_only: bool = False,
        synchronizer: Any = None,
        device: str | None = None,
    ):
        if self._wraps_facade_of(store, path, metadata):
            return
        self._store = store
        self._path = path.strip("/")
        self._metadata = metadata
        self._consolidated = consolidated
        self._read_only = bool(read_only or store.read_only)
        self._synchronizer = synchronizer
        self._device = device

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_store(
        cls,
        store: Any,
        *,
        attributes: dict[str, Any] | None = None,
        zarr_format: int | None = 3,
        overwrite: bool = False,
        path: str = "",
        synchronizer: Any = None,
        device: str | None = None,
    ) -> Group:
        """Create a new group (and any missing parent groups) at ``path``; ``zarr_format=None``
        takes the format of the nearest existing ancestor group, else the configured default.
        ``store`` may be a ``StorePath``: ``path`` is then below its path."""
        store, path = split_store_path(store, path)
        store = make_store(store)
        attributes = _checked_attributes(attributes)
        node = NewNode.plan(store, path, zarr_format, overwrite)
        metadata = new_group_metadata(node.zarr_format, attributes)
        node.prepare()
        write_group_metadata(store, node.path, metadata)
        return cls(store, node.path, metadata, synchronizer=synchronizer, device=device)

    @classmethod
    def open(
        cls,
        store: Any,
        zarr_format: int | None = 3,
        use_consolidated: bool | str | None = None,
        *,
        path: str = "",
        read_only: bool = False,
        synchronizer: Any = None,
        device: str | None = None,
    ) -> Group:
        """Open the existing group at ``path`` (below a ``StorePath``'s own); see ``cuzarr.open_group``
        for ``use_consolidated``."""
        store, path = split_store_path(store, path)
        store = make_store(store, mode="r" if read_only else None)
        metadata, consolidated = read_group(store, path, zarr_format, use_consolidated)
        return cls(
            store,
            path,
            metadata,
            consolidated=consolidated,
            read_only=read_only,
            synchronizer=synchronizer,
            device=device,
        )

    # -- properties -------------------------------------------------------------------------
    @property
    def metadata(self) -> GroupMetadata:
        """The group's metadata as zarr-python shows it: ``consolidated_metadata`` is the snapshot
        this group answers member queries from (children nested, as zarr-python holds them), or
        None when it does not use one (v2 and v3 alike)."""
        view = self._consolidated.nested() if self._consolidated is not None else None
        return replace(self._metadata, consolidated_metadata=view)

    @property
    def consolidated_metadata(self) -> ConsolidatedMetadata | None:
        """The consolidated view this group answers member queries from, or None."""
        return self._consolidated

    @property
    def zarr_format(self) -> int:
        return self._metadata.zarr_format

    @property
    def attrs(self) -> Attributes:
        return Attributes(lambda: self._metadata.attributes, self._edit_attributes)

    def update_attributes(self, new_attributes: dict[str, Any]) -> Group:
        """Set many attributes with one metadata write."""
        self.attrs.update(new_attributes)
        return self

    async def update_attributes_async(self, new_attributes: dict[str, Any]) -> Group:
        """``update_attributes`` as a coroutine: the write runs in a worker thread, so an event
        loop awaiting it keeps running. Merges, as ``update_attributes`` does."""
        return await asyncio.to_thread(self.update_attributes, new_attributes)

    def _write_attributes(self, attributes: dict[str, Any]) -> None:
        metadata = self._metadata.update_attributes(attributes)
        if isinstance(metadata, GroupMetadataV3):
            self._store.set(node_key(self._path, V3_KEY), metadata.to_bytes())
        else:
            self._store.set(node_key(self._path, V2_ATTRS_KEY), metadata.attributes_bytes())
        self._metadata = metadata

    def _reload_metadata(self) -> None:
        metadata = read_node_metadata(self._store, self._path, self.zarr_format)
        if not is_group(metadata):
            raise ContainsArrayError(f"group '{self.name}' in {self._store!r} was replaced by an array")
        self._metadata = metadata  # type: ignore[assignment]

    def _check_writable(self) -> None:
        if self._read_only:
            raise ReadOnlyError(f"group '{self.name}' in {self._store!r} is read-only")

    @property
    def info(self) -> GroupInfo:
        """Name, format and store; member counts only when known without I/O (consolidated)."""
        return self._info(None if self._consolidated is None else self._consolidated.metadata)

    def info_complete(self) -> GroupInfo:
        """``info`` with member counts (walks the hierarchy unless consolidated)."""
        return self._info(self._all_metadata(None))

    def _info(self, members: dict[str, NodeMetadata] | None) -> GroupInfo:
        counts: dict[str, int] = {}
        if members is not None:
            groups = sum(1 for m in members.values() if is_group(m))
            counts = {
                "count_members": len(members),
                "count_arrays": len(members) - groups,
                "count_groups": groups,
            }
        return GroupInfo(self._path, self.zarr_format, self.read_only, type(self._store).__name__, **counts)

    # -- members ------------------------------------------------------------------------------
    def _node(self, relative: str, metadata: NodeMetadata, *, own_consolidated: bool = True) -> Array | Group:
        """The Array or Group object for ``metadata`` found at ``relative`` below this group."""
        path = join_path(self._path, relative)
        if not is_group(metadata):
            return Array(
                self._store,
                path,
                metadata,  # type: ignore[arg-type]
                device=self._device,
                read_only=self._read_only,
                synchronizer=self._synchronizer,
            )
        if self._consolidated is not None:
            consolidated = self._consolidated.subtree(relative)
        elif own_consolidated and getattr(metadata, "consolidated_metadata", None) is not None:
            consolidated = ConsolidatedMetadata.from_v3_json(
                metadata.consolidated_metadata,  # type: ignore[union-attr]
                source=node_key(path, V3_KEY),
            )
        else:
            consolidated = None
        return Group(
            self._store,
            path,
            metadata,  # type: ignore[arg-type]
            consolidated=consolidated,
            read_only=self._read_only,
            synchronizer=self._synchronizer,
            device=self._device,
        )

    def _lookup(self, key: str) -> NodeMetadata | None:
        """Metadata of the member at ``key`` (nested paths allowed) or None."""
        key = key.strip("/")
        if not key:
            return None
        if self._consolidated is not None:
            return self._consolidated.get(key)
        (metadata,), _ = read_nodes(self._store, [join_path(self._path, key)])
        if metadata is not None:
            check_format(join_path(self._path, key), metadata, self.zarr_format)
        return metadata

    def __getitem__(self, key: str) -> Array | Group:
        metadata = self._lookup(key)
        if metadata is None:
            where = " (consolidated metadata)" if self._consolidated is not None else ""
            raise KeyError(f"no array or group '{key}' in group '{self.name}'{where}")
        return self._node(key.strip("/"), metadata)

    def get(self, key: str, default: Any = None) -> Array | Group | Any:
        try:
            return self[key]
        except KeyError:
            return default

    def get_array(self, key: str) -> Array:
        node = self[key]
        if not isinstance(node, Array):
            raise TypeError(f"'{key}' in group '{self.name}' is a group, not an array")
        return node

    def get_group(self, key: str) -> Group:
        node = self[key]
        if not isinstance(node, Group):
            raise TypeError(f"'{key}' in group '{self.name}' is an array, not a group")
        return node

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._lookup(key) is not None

    def _all_metadata(self, max_depth: int | None) -> dict[str, NodeMetadata]:
        check_max_depth(max_depth)
        if self._consolidated is None:
            return walk(self._store, self._path, self.zarr_format, max_depth)
        return {
            k: v
            for k, v in self._consolidated.sorted_items()
            if max_depth is None or k.count("/") <= max_depth
        }

    def members(
        self, max_depth: int | None = 0, *, use_consolidated_for_children: bool = True
    ) -> tuple[tuple[str, Array | Group], ...]:
        """(relative path, node) pairs: immediate children, ``max_depth`` more levels, or all (None)."""
        return tuple(
            (key, self._node(key, metadata, own_consolidated=use_consolidated_for_children))
            for key, metadata in self._all_metadata(max_depth).items()
        )

    def nmembers(self, max_depth: int | None = 0) -> int:
        return len(self._all_metadata(max_depth))

    def keys(self) -> Iterator[str]:
        yield from self._all_metadata(0)

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def __len__(self) -> int:
        return self.nmembers()

    def groups(self) -> Iterator[tuple[str, Group]]:
        for key, node in self.members():
            if isinstance(node, Group):
                yield key, node

    def group_keys(self) -> Iterator[str]:
        for key, _ in self.groups():
            yield key

    def group_values(self) -> Iterator[Group]:
        for _, group in self.groups():
            yield group

    def arrays(self) -> Iterator[tuple[str, Array]]:
        for key, node in self.members():
            if isinstance(node, Array):
                yield key, node

    def array_keys(self) -> Iterator[str]:
        for key, _ in self.arrays():
            yield key

    def array_values(self) -> Iterator[Array]:
        for _, array in self.arrays():
            yield array

    def tree(
        self,
        expand: bool | None = None,
        level: int | None = None,
        *,
        max_nodes: int = 500,
        plain: bool = False,
    ) -> TreeRepr:
        """The hierarchy as a unicode tree (arrays with shape and dtype), ``level`` levels deep
        below the immediate children (None: all). ``expand`` is accepted for zarr 2 code; the
        HTML view is always expanded."""
        return render_tree(self.name, self.members(max_depth=level), max_nodes=max_nodes, plain=plain)

    # -- misc -------------------------------------------------------------------------------
    def __repr__(self) -> str:
        where = f"{self._store!r}" + (f"/{self._path}" if self._path else "")
        return f"<Group {where}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Group):
            return NotImplemented
        return self._path == other._path and (self._store is other._store or self._store == other._store)

    __hash__ = None  # type: ignore[assignment]


def _checked_attributes(attributes: dict[str, Any] | None) -> dict[str, Any]:
    """Attributes must be JSON; refuse bad values before anything is written (names the key)."""
    for key, value in (attributes or {}).items():
        check_json_value(key, value)
    return dict(attributes or {})


__all__ = ["Group"]
