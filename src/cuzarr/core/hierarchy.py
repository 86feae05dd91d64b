"""Hierarchy metadata in the store: read many nodes in one request, walk a tree level by level, and
consolidate. Store-level only: no Array or Group objects here (creating nodes is ``nodes.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..errors import ContainsArrayError, GroupNotFoundError, MetadataError
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from ..metadata.consolidated import V2_CONSOLIDATED_KEY, ConsolidatedMetadata, NodeMetadata
from ..storage.base import Store
from .metadata_io import (
    V2_ARRAY_KEY,
    V2_ATTRS_KEY,
    V2_GROUP_KEY,
    V3_KEY,
    check_zarr_format,
    node_key,
    warn_if_both_formats,
)

GroupMetadata = GroupMetadataV2 | GroupMetadataV3
NODE_DOCUMENTS = (V3_KEY, V2_ARRAY_KEY, V2_GROUP_KEY, V2_ATTRS_KEY)
#: Names inside a group directory that are never members.
METADATA_NAMES = frozenset({V3_KEY, V2_ARRAY_KEY, V2_GROUP_KEY, V2_ATTRS_KEY, V2_CONSOLIDATED_KEY})


def join_path(*parts: str) -> str:
    """Store paths joined with '/', empty parts (the root) dropped."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def is_group(metadata: Any) -> bool:
    return isinstance(metadata, GroupMetadataV2 | GroupMetadataV3)


def parse_node(path: str, documents: dict[str, Any], zarr_format: int | None = None) -> NodeMetadata | None:
    """The node described by its raw documents (``None`` when there is none); v3 wins over v2."""
    raw_v3 = documents.get(V3_KEY)
    if zarr_format is None:
        warn_if_both_formats(path, documents)
    if raw_v3 is not None and zarr_format in (None, 3):
        source = node_key(path, V3_KEY)
        try:
            doc = json.loads(raw_v3)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MetadataError(f"invalid JSON: {exc}", source=source) from exc
        if isinstance(doc, dict) and doc.get("node_type") == "group":
            return GroupMetadataV3.from_json(doc, source=source)
        return ArrayMetadataV3.from_json(doc, source=source)
    if zarr_format == 3:
        return None
    attrs = documents.get(V2_ATTRS_KEY)
    if documents.get(V2_ARRAY_KEY) is not None:
        return ArrayMetadataV2.from_json(documents[V2_ARRAY_KEY], attrs, source=node_key(path, V2_ARRAY_KEY))
    if documents.get(V2_GROUP_KEY) is not None:
        return GroupMetadataV2.from_json(documents[V2_GROUP_KEY], attrs, source=node_key(path, V2_GROUP_KEY))
    return None


def read_nodes(
    store: Store, paths: Sequence[str], zarr_format: int | None = None, extra: Sequence[str] = ()
) -> tuple[list[NodeMetadata | None], list[list[Any]]]:
    """Metadata of many nodes in one ``get_many`` (both formats), plus the ``extra`` documents
    (e.g. ``.zmetadata``) of each path."""
    names = [*NODE_DOCUMENTS, *extra]
    values = store.get_many([node_key(p, n) for p in paths for n in names]) if paths else []
    nodes, extras = [], []
    for i, path in enumerate(paths):
        documents = dict(zip(names, values[i * len(names) : (i + 1) * len(names)]))
        nodes.append(parse_node(path, documents, zarr_format))
        extras.append([documents[n] for n in extra])
    return nodes, extras


def check_format(path: str, metadata: NodeMetadata, zarr_format: int) -> None:
    """Refuse mixed hierarchies: zarr-python and tensorstore expect one format per tree."""
    if metadata.zarr_format != zarr_format:
        raise MetadataError(
            f"node '{path}' is Zarr v{metadata.zarr_format} but its group is Zarr v{zarr_format}; "
            "one hierarchy must use a single format (convert one side with cuzarr.copy or copy_all)"
        )


def read_node_and_consolidated(
    store: Store, path: str, zarr_format: int | None, use_consolidated: bool | str | None
) -> tuple[NodeMetadata | None, ConsolidatedMetadata | None]:
    """The node at ``path`` (None if absent) and, for a group, the consolidated metadata it holds,
    in one ``get_many``.

    ``use_consolidated``: None uses it when present, True requires it, False ignores it, and a str
    names the v2 consolidated key (zarr-python 2's ``metadata_key``).
    """
    check_zarr_format(zarr_format)
    if isinstance(use_consolidated, str) and zarr_format == 3:
        raise TypeError("use_consolidated must be a bool or None for Zarr format 3")
    v2_key = use_consolidated if isinstance(use_consolidated, str) else V2_CONSOLIDATED_KEY
    want_v2 = use_consolidated is not False and zarr_format != 3
    (metadata,), (extra,) = read_nodes(store, [path], zarr_format, [v2_key] if want_v2 else [])
    if not is_group(metadata) or use_consolidated is False:
        return metadata, None
    consolidated = None
    if isinstance(metadata, GroupMetadataV3) and metadata.consolidated_metadata is not None:
        consolidated = ConsolidatedMetadata.from_v3_json(
            metadata.consolidated_metadata, source=node_key(path, V3_KEY)
        )
    elif isinstance(metadata, GroupMetadataV2) and extra and extra[0] is not None:
        consolidated = ConsolidatedMetadata.from_v2_json(extra[0], source=node_key(path, v2_key))
    if consolidated is None and use_consolidated:
        where = node_key(path, V3_KEY) if metadata.zarr_format == 3 else node_key(path, v2_key)
        raise ValueError(
            f"Consolidated metadata requested with 'use_consolidated=True' but not found in "
            f"'{where}' in {store!r}; "
            "write it with cuzarr.consolidate_metadata(store) or open with use_consolidated=None"
        )
    return metadata, consolidated


def read_group(
    store: Store, path: str, zarr_format: int | None, use_consolidated: bool | str | None
) -> tuple[GroupMetadata, ConsolidatedMetadata | None]:
    """``read_node_and_consolidated`` for a node that must be a group (GroupNotFoundError naming the
    path when nothing is there, ContainsArrayError when an array is)."""
    metadata, consolidated = read_node_and_consolidated(store, path, zarr_format, use_consolidated)
    if metadata is None:
        fmt = f" (zarr_format={zarr_format})" if zarr_format else ""
        raise GroupNotFoundError(f"no group found at path '{path}' in {store!r}{fmt}")
    if not is_group(metadata):
        raise ContainsArrayError(f"an array, not a group, exists at path '{path}' in {store!r}")
    return metadata, consolidated  # type: ignore[return-value]


def check_max_depth(max_depth: int | None) -> None:
    if max_depth is not None and max_depth < 0:
        raise ValueError(f"max_depth must be None or >= 0, got {max_depth}")


def walk(store: Store, path: str, zarr_format: int, max_depth: int | None) -> dict[str, NodeMetadata]:
    """Every node below the group at ``path`` (relative path -> metadata), ordered by depth then name.

    One ``list_dir`` per group and one ``get_many`` per level of the tree. Directory entries with
    no metadata (chunk folders, stray files) are skipped.
    """
    check_max_depth(max_depth)
    found: dict[str, NodeMetadata] = {}
    level = [""]
    depth = 0
    while level:
        candidates = [
            join_path(relative, name)
            for relative in level
            for name in store.list_dir(join_path(path, relative))
            if name not in METADATA_NAMES
        ]
        nodes, _ = read_nodes(store, [join_path(path, c) for c in candidates])
        level = []
        for relative, metadata in sorted(zip(candidates, nodes), key=lambda item: item[0]):
            if metadata is None:
                continue
            check_format(join_path(path, relative), metadata, zarr_format)
            found[relative] = metadata
            if is_group(metadata) and (max_depth is None or depth < max_depth):
                level.append(relative)
        depth += 1
    return found


def write_group_metadata(store: Store, path: str, metadata: GroupMetadata) -> None:
    """Persist group metadata (v3 ``zarr.json``; v2 ``.zgroup`` + ``.zattrs``, as zarr-python writes)."""
    if isinstance(metadata, GroupMetadataV3):
        store.set(node_key(path, V3_KEY), metadata.to_bytes())
    else:
        store.set_many(
            [
                (node_key(path, V2_GROUP_KEY), metadata.to_bytes()),
                (node_key(path, V2_ATTRS_KEY), metadata.attributes_bytes()),
            ]
        )


def new_group_metadata(zarr_format: int, attributes: dict[str, Any] | None = None) -> GroupMetadata:
    if zarr_format == 3:
        return GroupMetadataV3(attributes=dict(attributes or {}))
    if zarr_format == 2:
        return GroupMetadataV2(attributes=dict(attributes or {}))
    check_zarr_format(zarr_format, allow_none=False)
    raise AssertionError("unreachable")


def consolidate(
    store: Store, path: str, zarr_format: int | None
) -> tuple[GroupMetadata, ConsolidatedMetadata]:
    """Gather the metadata of every node below ``path`` into the group's own documents.

    v3: written into the group's ``zarr.json``; v2: ``.zmetadata`` (and ``.zgroup``/``.zattrs``
    rewritten, as zarr-python does). Returns the new group metadata and the consolidated view.
    """
    metadata, _ = read_group(store, path, zarr_format, use_consolidated=False)
    store._check_writable()
    consolidated = ConsolidatedMetadata(walk(store, path, metadata.zarr_format, None))
    if isinstance(metadata, GroupMetadataV3):
        metadata = GroupMetadataV3(metadata.attributes, consolidated.to_v3_json())
        write_group_metadata(store, path, metadata)
    else:
        write_group_metadata(store, path, metadata)
        store.set(node_key(path, V2_CONSOLIDATED_KEY), consolidated.to_v2_json(metadata.attributes))
    return metadata, consolidated


__all__ = [
    "METADATA_NAMES",
    "NODE_DOCUMENTS",
    "GroupMetadata",
    "check_format",
    "consolidate",
    "is_group",
    "join_path",
    "new_group_metadata",
    "parse_node",
    "read_group",
    "read_node_and_consolidated",
    "read_nodes",
    "walk",
]
