"""Create a whole hierarchy from metadata in one batched write (``create_hierarchy``).

The input maps node paths to metadata. Planning is pure: paths are normalized, every ancestor not
given becomes an implicit group (the root too), and the hierarchy is checked (one format; arrays
have no children). Writing reads every planned path in one ``get_many``, refuses what would
replace an existing node unless ``overwrite`` (an existing group where only an implicit one is
planned is kept, as zarr-python does), then deletes what ``overwrite`` replaces and stores all
metadata documents in one ``set_many``. Store-level only: no Array or Group objects here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import ContainsArrayError, ContainsGroupError, MetadataError, ReadOnlyError
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from ..metadata.consolidated import NodeMetadata
from ..storage.base import Store
from ..storage.store_path import normalize_path
from .hierarchy import is_group, new_group_metadata, read_nodes
from .metadata_io import node_documents


def normalize_node_path(path: str) -> str:
    """A node path as zarr-python normalizes it: '/' separators, none leading, trailing or repeated;
    '.' and '..' segments are refused."""
    if not isinstance(path, str):
        raise TypeError(f"node paths must be str, got {path!r}")
    return normalize_path(path, what="node path")


def as_node_metadata(value: Any, path: str = "") -> NodeMetadata:
    """cuzarr metadata as is; zarr-python's ``GroupMetadata``/``ArrayV2Metadata``/``ArrayV3Metadata``
    (or their ``to_dict()``) converted through their JSON, so both libraries' objects are accepted."""
    if isinstance(value, ArrayMetadataV2 | ArrayMetadataV3 | GroupMetadataV2 | GroupMetadataV3):
        return value
    doc = value.to_dict() if callable(getattr(value, "to_dict", None)) else value
    if not isinstance(doc, Mapping):
        raise TypeError(f"node '{path}': expected array or group metadata, got {type(value).__name__}")
    try:
        doc = json.loads(json.dumps(doc, allow_nan=True, default=_codec_config))  # tuples -> lists, a copy
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"metadata is not JSON: {exc}", source=path or "/") from exc
    source = f"{path or '/'} (given metadata)"
    node_type, zarr_format = doc.get("node_type"), doc.get("zarr_format")
    if zarr_format == 3:
        return (GroupMetadataV3 if node_type == "group" else ArrayMetadataV3).from_json(doc, source=source)
    if zarr_format == 2:
        attributes = doc.pop("attributes", None) or {}
        if node_type == "group":
            return GroupMetadataV2(attributes=attributes)
        return ArrayMetadataV2.from_json(doc, attributes, source=source)
    raise MetadataError(f"expected zarr_format 2 or 3, got {zarr_format!r}", source=source)


def _codec_config(value: Any) -> Any:
    """JSON of a codec object inside metadata (numcodecs' ``get_config``, zarr-python's ``to_dict``)."""
    for method in ("get_config", "to_dict"):
        if callable(getattr(value, method, None)):
            return getattr(value, method)()
    raise TypeError(f"{type(value).__name__} is not JSON")


def plan_hierarchy(nodes: Mapping[str, Any]) -> dict[str, NodeMetadata | None]:
    """Normalized path -> metadata, parents before children; ``None`` marks an implicit group.

    Empty input plans nothing. ValueError on paths that collide once normalized, mixed formats, or
    a node below an array.
    """
    planned: dict[str, NodeMetadata | None] = {}
    spelled: dict[str, str] = {}
    for raw_path, value in nodes.items():
        path = normalize_node_path(raw_path)
        if path in spelled:
            raise ValueError(f"node paths {spelled[path]!r} and {raw_path!r} are the same path {path!r}")
        spelled[path] = raw_path
        planned[path] = as_node_metadata(value, path)
    formats = {m.zarr_format for m in planned.values() if m is not None}
    if len(formats) > 1:
        by_format = {f: sorted(p for p, m in planned.items() if m.zarr_format == f) for f in formats}
        raise ValueError(
            f"a hierarchy has one Zarr format; got v2 nodes {by_format[2]} and v3 nodes {by_format[3]}"
        )
    for path in list(planned):
        parts = path.split("/") if path else []
        for depth in range(len(parts)):
            parent = "/".join(parts[:depth])
            metadata = planned.setdefault(parent, None)
            if metadata is not None and not is_group(metadata):
                raise ValueError(f"node '{path}' is below '{parent}', an array; only groups have children")
    return dict(sorted(planned.items(), key=lambda item: (item[0].count("/") + bool(item[0]), item[0])))


def write_hierarchy(
    store: Store, nodes: Mapping[str, Any], *, overwrite: bool = False
) -> dict[str, NodeMetadata]:
    """Create the planned hierarchy; returns path -> metadata of every node written (parents first).

    ``overwrite`` deletes everything below each given node first (as zarr-python does), and
    replaces an array or other-format node where an implicit group is planned; without it any of
    these raises ``ContainsArrayError``/``ContainsGroupError`` before anything is written.
    """
    plan = plan_hierarchy(nodes)
    if not plan:
        return {}
    if store.read_only:
        raise ReadOnlyError(f"cannot create a hierarchy in read-only store {store!r}")
    zarr_format = next(m.zarr_format for m in plan.values() if m is not None)
    existing, _ = read_nodes(store, list(plan))
    found = dict(zip(plan, existing))
    clear = [p for p, m in plan.items() if overwrite and m is not None]
    written: dict[str, NodeMetadata] = {}
    for path, metadata in plan.items():
        there = found[path]
        cleared = any(_below(path, c) for c in clear)
        if metadata is None:  # implicit group: keep a group of this format that stays
            if there is not None and not cleared and is_group(there) and there.zarr_format == zarr_format:
                continue
            if there is not None and not cleared:
                if not overwrite:
                    raise _exists(store, path, there, "an implicit group of this hierarchy")
                clear.append(path)
            written[path] = new_group_metadata(zarr_format)
        else:
            if there is not None and not overwrite:
                raise _exists(store, path, there, "a node of this hierarchy")
            written[path] = metadata
    for path in _outermost(clear):
        store.delete_prefix(f"{path}/" if path else "")
    store.set_many([doc for path, metadata in written.items() for doc in node_documents(path, metadata)])
    return written


def _below(path: str, ancestor: str) -> bool:
    """Whether ``path`` is ``ancestor`` or inside it ('' contains everything)."""
    return not ancestor or path == ancestor or path.startswith(ancestor + "/")


def _outermost(paths: list[str]) -> list[str]:
    """``paths`` without those inside another one (deleting the outer prefix deletes them)."""
    return [p for p in paths if not any(q != p and _below(p, q) for q in paths)]


def _exists(store: Store, path: str, there: NodeMetadata, wanted: str) -> Exception:
    kind, what = (ContainsGroupError, "group") if is_group(there) else (ContainsArrayError, "array")
    return kind(
        f"a v{there.zarr_format} {what} exists at path '{path}' in {store!r}, where {wanted} would go; "
        "pass overwrite=True to replace it"
    )


__all__ = ["as_node_metadata", "normalize_node_path", "plan_hierarchy", "write_hierarchy"]
