"""Top-level group functions with zarr-python 3's names: group, open_group, create_group,
create_hierarchy, open_consolidated, consolidate_metadata (arrays and ``open`` are in ``api/arrays.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .api.arrays import check_mode
from .core.array import Array
from .core.group import Group
from .core.hierarchy import consolidate, is_group, join_path, read_group, walk
from .core.hierarchy_create import write_hierarchy
from .core.metadata_io import metadata_lock_key
from .errors import (
    GroupNotFoundError,
    ZarrDeprecationWarning,
    ZarrUserWarning,
    warn_user,
)
from .storage import make_store
from .storage.base import Store
from .storage.store_path import split_store_path


def open_group(
    store: Any = None,
    *,
    mode: str = "a",
    cache_attrs: Any = None,
    synchronizer: Any = None,
    path: str | None = None,
    chunk_store: Any = None,
    storage_options: dict[str, Any] | None = None,
    zarr_format: int | None = None,
    meta_array: Any = None,
    attributes: dict[str, Any] | None = None,
    use_consolidated: bool | str | None = None,
    device: str | None = None,
) -> Group:
    """Open a group with file-like ``mode``: 'r'/'r+' must exist, 'a' opens or creates, 'w' replaces,
    'w-' creates and fails if something exists.

    ``use_consolidated``: None (default) uses consolidated metadata when the group has it (v3:
    inside ``zarr.json``; v2: ``.zmetadata``), True requires it, False ignores it, and a str names
    a v2 consolidated key other than ``.zmetadata``. Consolidated metadata is a snapshot: it does
    not see nodes written after the last ``consolidate_metadata`` (see ``Group``).
    ``cache_attrs``, ``chunk_store`` and ``meta_array`` are accepted for zarr 2 code and ignored.
    """
    check_mode(mode)
    store, path = split_store_path(store, path)
    resolved = make_store(store, mode=mode, storage_options=storage_options)
    if mode in ("r", "r+", "a"):
        try:
            return Group.open(
                resolved,
                zarr_format,
                use_consolidated,
                path=path,
                read_only=mode == "r",
                synchronizer=synchronizer,
                device=device,
            )
        except GroupNotFoundError:
            if mode != "a":
                raise
    return Group.from_store(
        resolved,
        path=path,
        attributes=attributes,
        zarr_format=zarr_format,
        overwrite=mode == "w",
        synchronizer=synchronizer,
        device=device,
    )


def group(
    store: Any = None,
    *,
    overwrite: bool = False,
    chunk_store: Any = None,
    cache_attrs: Any = None,
    synchronizer: Any = None,
    path: str | None = None,
    zarr_format: int | None = None,
    meta_array: Any = None,
    attributes: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
    device: str | None = None,
) -> Group:
    """Open or create a group (mode 'a'); ``overwrite=True`` replaces whatever is at ``path``."""
    return open_group(
        store,
        mode="w" if overwrite else "a",
        synchronizer=synchronizer,
        path=path,
        storage_options=storage_options,
        zarr_format=zarr_format,
        attributes=attributes,
        device=device,
    )


def create_group(
    store: Any,
    *,
    path: str | None = None,
    zarr_format: int | None = None,
    overwrite: bool = False,
    attributes: dict[str, Any] | None = None,
    storage_options: dict[str, Any] | None = None,
) -> Group:
    """Create a new group; ``ContainsGroupError``/``ContainsArrayError`` if a node exists (unless ``overwrite``)."""
    store, path = split_store_path(store, path)
    resolved = make_store(store, mode="a", storage_options=storage_options)
    return Group.from_store(
        resolved,
        path=path,
        attributes=attributes,
        zarr_format=zarr_format,
        overwrite=overwrite,
    )


def create_hierarchy(
    *, store: Any, nodes: dict[str, Any], overwrite: bool = False
) -> Iterator[tuple[str, Array | Group]]:
    """Create many arrays and groups at once from their metadata: ``{path: metadata}``, paths from
    the store's root ('' is the root). Yields ``(path, node)`` for every node written, parents first.

    Metadata may be cuzarr's (``cuzarr.metadata.ArrayMetadataV3``, ``GroupMetadataV3``, v2 alike) or
    zarr-python's (``GroupMetadata``, ``ArrayV3Metadata``, ``ArrayV2Metadata``); all of one format.
    Missing parent groups are created (an existing group there is kept). A node already at a given
    path raises ``ContainsArrayError``/``ContainsGroupError`` unless ``overwrite``, which first
    deletes everything below each given path. All metadata is written in one ``set_many``, when
    this is called (zarr-python writes as the iterator is consumed).
    """
    resolved = make_store(store, mode="a")
    written = write_hierarchy(resolved, nodes, overwrite=overwrite)
    return iter(
        [
            (path, Group(resolved, path, metadata) if is_group(metadata) else Array(resolved, path, metadata))  # type: ignore[arg-type]
            for path, metadata in written.items()
        ]
    )


def open_consolidated(*args: Any, use_consolidated: bool = True, **kwargs: Any) -> Group:
    """``open_group`` that requires consolidated metadata (ValueError naming the document if absent)."""
    if use_consolidated is not True:
        raise TypeError("open_consolidated requires use_consolidated=True; use open_group to bypass it")
    return open_group(*args, use_consolidated=True, **kwargs)


def consolidate_metadata(
    store: Any, path: str | None = None, zarr_format: int | None = None, *, synchronizer: Any = None
) -> Group:
    """Write the metadata of every node below the group at ``path`` into that group, so that opening
    the hierarchy and walking all of it costs one metadata read.

    v3: into the group's ``zarr.json`` (``consolidated_metadata``); v2: ``.zmetadata``; both as
    zarr-python 3.1.6 writes them. The result is a snapshot: run this again after changing the
    hierarchy, or readers using consolidated metadata will not see the changes.

    With a synchronizer (``synchronizer=``, else that of a ``Group`` passed as ``store``), the
    metadata locks of the group and of every node below it are held from reading the nodes to
    writing the document, so no attribute update, resize or append is half in the snapshot or
    undone by the group's rewrite. Without one nothing is locked: a concurrent change of the
    group's own attributes may be lost, and of other nodes may be missing from the snapshot.
    """
    if isinstance(store, Group):
        synchronizer = synchronizer if synchronizer is not None else store.synchronizer
        store, path = store.store, path if path is not None else store.path
    store, path = split_store_path(store, path)
    resolved = make_store(store, mode="a")
    with _hierarchy_locked(resolved, path, zarr_format, synchronizer):
        metadata, consolidated = consolidate(resolved, path, zarr_format)
    if metadata.zarr_format == 3:
        warn_user(
            "Consolidated metadata is currently not part in the Zarr format 3 specification. It may "
            "not be supported by other zarr implementations and may change in the future.",
            ZarrUserWarning,
        )
    return Group(resolved, path, metadata, consolidated=consolidated, synchronizer=synchronizer)


@contextmanager
def _hierarchy_locked(store: Store, path: str, zarr_format: int | None, synchronizer: Any) -> Iterator[None]:
    """Hold the metadata locks of the group at ``path`` and all nodes below it (one sorted
    acquisition, so two consolidations cannot deadlock). Nodes found only once locked (created
    meanwhile) are added and everything is locked again, until the locks cover the whole tree."""
    if synchronizer is None:
        yield
        return
    keys = _metadata_lock_keys(store, path, zarr_format)
    while True:
        with synchronizer.lock(sorted(keys)):
            found = _metadata_lock_keys(store, path, zarr_format)
            if found <= keys:
                yield
                return
        keys |= found


def _metadata_lock_keys(store: Store, path: str, zarr_format: int | None) -> set[str]:
    """The metadata lock key of the group at ``path`` and of every node below it."""
    metadata, _ = read_group(store, path, zarr_format, use_consolidated=False)
    nodes = walk(store, path, metadata.zarr_format, None)
    return {metadata_lock_key(path, metadata)} | {
        metadata_lock_key(join_path(path, relative), node) for relative, node in nodes.items()
    }


def tree(grp: Group, expand: bool | None = None, level: int | None = None) -> Any:
    """zarr-python's deprecated ``zarr.tree(group)``: the same as ``group.tree()``."""
    warn_user("Use Group.tree instead.", ZarrDeprecationWarning)
    return grp.tree(expand=expand, level=level)
