"""Create, move and delete nodes in a store; shared by the top-level functions and ``Group``.

Creating a node reads the target and all its ancestors in one request, checks everything (an
existing node needs ``overwrite``; ancestors must be groups of the same format) before anything
is written, then creates the missing ancestor groups as zarr-python does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..config import config as global_config
from ..errors import (
    ContainsArrayAndGroupError,
    ContainsArrayError,
    ContainsGroupError,
    NodeTypeValidationError,
    ReadOnlyError,
    ZarrRuntimeWarning,
    warn_user,
)
from ..storage.base import Store
from .array import Array
from .array_config import array_config, check_order, config_order
from .creation import build_metadata, normalize_shape
from .hierarchy import check_format, is_group, new_group_metadata, read_nodes, write_group_metadata
from .metadata_io import holds_array_and_group, write_array_metadata


def ancestors(path: str) -> list[str]:
    """``'a/b/c'`` -> ``['', 'a', 'a/b']``; the root has none."""
    if not path:
        return []
    parts = path.split("/")[:-1]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


@dataclass(frozen=True)
class NewNode:
    """A checked place for a new node: ``plan`` reads and validates, ``prepare`` writes."""

    store: Store
    path: str
    zarr_format: int
    overwrite: bool
    missing_parents: tuple[str, ...]

    @classmethod
    def plan(cls, store: Store, path: str, zarr_format: int | None, overwrite: bool) -> NewNode:
        """Check ``path`` and its ancestors (one ``get_many``). Without ``zarr_format``, a new node
        takes the format of its nearest ancestor group (so it joins a v2 hierarchy as v2)."""
        if store.read_only:
            raise ReadOnlyError(f"cannot create a node in read-only store {store!r}")
        path = path.strip("/")
        parents = ancestors(path)
        nodes, _ = read_nodes(store, [path, *parents])
        existing, parent_nodes = nodes[0], nodes[1:]
        if existing is not None and not overwrite:
            if existing.zarr_format == 2 and holds_array_and_group(store, path):
                raise ContainsArrayAndGroupError(
                    f"array and group metadata (.zarray and .zgroup) are both at path '{path}' in "
                    f"{store!r}; remove one of them, or pass overwrite=True to replace the node"
                )
            kind, what = (
                (ContainsGroupError, "group") if is_group(existing) else (ContainsArrayError, "array")
            )
            raise kind(
                f"a {what} already exists at path '{path}' in {store!r}; pass overwrite=True to replace it"
            )
        if zarr_format is None:
            groups = [m for m in parent_nodes if m is not None and is_group(m)]
            zarr_format = groups[-1].zarr_format if groups else global_config.get("default_zarr_format")
        for parent, metadata in zip(parents, parent_nodes):
            if metadata is None:
                continue
            if not is_group(metadata):
                raise NodeTypeValidationError(
                    f"A parent of '{path}' in {store!r} ('{parent}') is an array - "
                    "only groups may have child nodes."
                )
            check_format(path, new_group_metadata(zarr_format), metadata.zarr_format)
        missing = tuple(p for p, m in zip(parents, parent_nodes) if m is None)
        return cls(store, path, zarr_format, overwrite, missing)

    def prepare(self) -> None:
        """Delete what ``overwrite`` replaces and create the missing ancestor groups."""
        if self.overwrite:
            self.store.delete_prefix(f"{self.path}/" if self.path else "")
        for parent in self.missing_parents:
            write_group_metadata(self.store, parent, new_group_metadata(self.zarr_format))


def stored_order(order: str | None, config: Any, zarr_format: int) -> str | None:
    """The ``order`` a new array's metadata stores, as zarr-python decides it.

    v2 stores one: ``order=``, else ``config={'order': ...}``, else ``cuzarr.config``'s. v3 has
    none; ``order=`` there is ignored with zarr-python's warning (``config=`` sets the layout
    of what reads return instead).
    """
    if zarr_format == 2:
        return check_order(order or config_order(config) or global_config.get("order"))
    if order is not None:
        warn_user(
            "The `order` keyword argument has no effect for Zarr format 3 arrays. To control the "
            "memory layout of the array, either use the `config` keyword argument, as in "
            "`config={'order': 'C'}`, or change the global 'array.order' configuration variable.",
            ZarrRuntimeWarning,
        )
    return None


def create_array_node(
    store: Store,
    path: str,
    *,
    shape: Any = None,
    dtype: Any = None,
    data: Any = None,
    zarr_format: int | None = None,
    overwrite: bool = False,
    config: Any = None,
    write_data: bool = True,
    device: str | None = None,
    write_empty_chunks: bool | None = None,
    synchronizer: Any = None,
    **metadata_kwargs: Any,
) -> Array:
    """Write a new array's metadata at ``path`` (creating parent groups) and optionally ``data``.

    ``metadata_kwargs`` are ``build_metadata``'s (chunks, shards, filters, compressors, ...).
    """
    if data is not None:
        data = data if hasattr(data, "shape") and hasattr(data, "dtype") else np.asarray(data)
        if shape is not None and normalize_shape(shape) != tuple(data.shape):
            raise ValueError(f"shape {shape} does not match data of shape {tuple(data.shape)}")
        shape = data.shape
        dtype = dtype if dtype is not None else data.dtype
    if shape is None:
        raise TypeError("create_array() needs shape= (or data=)")
    node = NewNode.plan(store, path or "", zarr_format, overwrite)
    metadata_kwargs["order"] = stored_order(metadata_kwargs.get("order"), config, node.zarr_format)
    metadata = build_metadata(shape=shape, dtype=dtype, zarr_format=node.zarr_format, **metadata_kwargs)
    node.prepare()
    write_array_metadata(store, node.path, metadata)
    array = Array(
        store,
        node.path,
        metadata,
        device=device,
        write_empty_chunks=array_config(config, write_empty_chunks),
        synchronizer=synchronizer,
        memory_order=config_order(config),
    )
    if data is not None and write_data:
        array[...] = data
    return array


def delete_node(store: Store, path: str) -> None:
    """Delete a node and everything below it (the whole store for the root)."""
    store.delete_prefix(f"{path}/" if path else "")


def move_node(store: Store, source: str, dest: str, zarr_format: int, batch_keys: int = 64) -> None:
    """Re-key every object of the node at ``source`` to ``dest`` (which must not exist), creating
    ``dest``'s missing parents; objects are copied in batches, then the originals deleted."""
    if not source or not dest:
        raise ValueError("cannot move the root of a store, or onto it")
    if dest == source or dest.startswith(source + "/"):
        raise ValueError(f"cannot move '{source}' into itself ('{dest}')")
    NewNode.plan(store, dest, zarr_format, overwrite=False).prepare()
    keys = store.list_prefix(source + "/")
    for start in range(0, len(keys), batch_keys):
        batch = keys[start : start + batch_keys]
        values = store.get_many(batch)
        store.set_many([(dest + key[len(source) :], v) for key, v in zip(batch, values) if v is not None])
    store.delete_many(keys)


__all__ = ["NewNode", "ancestors", "create_array_node", "delete_node", "move_node"]
