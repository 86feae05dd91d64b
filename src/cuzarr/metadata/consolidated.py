"""Consolidated metadata: every descendant's metadata in one document, as zarr-python 3.1.6 writes it.

- Zarr v3: a ``consolidated_metadata`` object inside the group's ``zarr.json`` with *flat* keys
  (``'a'``, ``'a/x'``) sorted by depth then case-folded name; every group entry carries an empty
  ``consolidated_metadata`` marker.
- Zarr v2: a ``.zmetadata`` document (``{"metadata": {"a/.zarray": ..., "a/.zattrs": ...},
  "zarr_consolidated_format": 1}``), as zarr-python 2 and 3 write it.

Consolidated metadata is a snapshot: nodes created, changed or deleted after it was written are
not in it until ``consolidate_metadata`` runs again. Pure: no stores.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import MetadataError
from ._common import load_json_object
from .v2 import ArrayMetadataV2, GroupMetadataV2
from .v3 import ArrayMetadataV3, GroupMetadataV3

NodeMetadata = ArrayMetadataV2 | ArrayMetadataV3 | GroupMetadataV2 | GroupMetadataV3
V2_CONSOLIDATED_KEY = ".zmetadata"
#: What zarr-python 3 writes for "this group's consolidated children are listed elsewhere".
_EMPTY_MARKER_V3 = {"kind": "inline", "must_understand": False, "metadata": {}}
_EMPTY_MARKER_V2 = {"metadata": {}, "must_understand": False, "kind": "inline"}


def _sort_key(path: str) -> tuple[int, str]:
    """zarr-python's order: parents before children, then case-insensitive name."""
    return path.count("/"), unicodedata.normalize("NFKC", path).casefold()


@dataclass(frozen=True)
class ConsolidatedMetadata:
    """The metadata of every node below a group, keyed by path relative to that group."""

    metadata: dict[str, NodeMetadata] = field(default_factory=dict)
    kind: str = "inline"
    must_understand: bool = False

    # -- queries --------------------------------------------------------------------------
    def get(self, path: str) -> NodeMetadata | None:
        return self.metadata.get(path.strip("/"))

    def children(self) -> dict[str, NodeMetadata]:
        """Immediate children, name -> metadata."""
        return {k: v for k, v in self.metadata.items() if "/" not in k}

    def subtree(self, path: str) -> ConsolidatedMetadata:
        """The view from the group at ``path`` (keys made relative to it)."""
        prefix = path.strip("/") + "/"
        return ConsolidatedMetadata(
            {k[len(prefix) :]: v for k, v in self.metadata.items() if k.startswith(prefix)}
        )

    def with_node(self, path: str, metadata: NodeMetadata) -> ConsolidatedMetadata:
        """A copy with ``path`` (and nothing below it) replaced by ``metadata``."""
        return ConsolidatedMetadata({**self.without(path).metadata, path.strip("/"): metadata})

    def without(self, path: str) -> ConsolidatedMetadata:
        """A copy without ``path`` and its descendants."""
        path = path.strip("/")
        return ConsolidatedMetadata(
            {k: v for k, v in self.metadata.items() if k != path and not k.startswith(path + "/")}
        )

    def sorted_items(self) -> list[tuple[str, NodeMetadata]]:
        return sorted(self.metadata.items(), key=lambda item: _sort_key(item[0]))

    def nested(self) -> NestedConsolidatedMetadata:
        """The same snapshot as zarr-python holds it in ``group.metadata.consolidated_metadata``."""
        children: dict[str, NodeMetadata] = {}
        for name, meta in sorted(self.children().items(), key=lambda item: _sort_key(item[0])):
            if isinstance(meta, GroupMetadataV2 | GroupMetadataV3):
                meta = replace(meta, consolidated_metadata=self.subtree(name).nested())
            children[name] = meta
        return NestedConsolidatedMetadata(children)

    # -- Zarr v3 ----------------------------------------------------------------------------
    @classmethod
    def from_v3_json(cls, doc: Any, *, source: str = "zarr.json") -> ConsolidatedMetadata:
        """Parse the ``consolidated_metadata`` object of a v3 group (flat or nested form)."""
        doc = load_json_object(doc, source=source)
        if doc.get("kind", "inline") != "inline":
            raise MetadataError(
                f"consolidated metadata kind {doc.get('kind')!r} is not supported (only 'inline')",
                source=source,
                field="consolidated_metadata.kind",
            )
        entries = doc.get("metadata", {})
        if not isinstance(entries, dict):
            raise MetadataError(
                f"expected an object, got {type(entries).__name__}",
                source=source,
                field="consolidated_metadata.metadata",
            )
        found: dict[str, NodeMetadata] = {}
        _parse_v3_entries(entries, "", found, source)
        return cls(found)

    def to_v3_json(self) -> dict[str, Any]:
        """The ``consolidated_metadata`` object for ``zarr.json``, byte-for-byte zarr-python's."""
        return {
            "kind": self.kind,
            "must_understand": self.must_understand,
            "metadata": {path: _entry_v3(meta, path) for path, meta in self.sorted_items()},
        }

    # -- Zarr v2 ----------------------------------------------------------------------------
    @classmethod
    def from_v2_json(cls, data: Any, *, source: str = V2_CONSOLIDATED_KEY) -> ConsolidatedMetadata:
        """Parse a ``.zmetadata`` document (zarr-python 2 or 3) relative to the group holding it."""
        doc = load_json_object(data, source=source)
        entries = doc.get("metadata")
        if not isinstance(entries, dict):
            raise MetadataError("expected an object", source=source, field="metadata")
        documents: dict[str, dict[str, Any]] = {}
        for key, value in entries.items():
            if key in (".zgroup", ".zattrs", ".zarray") or "/" not in key:
                continue  # the group's own documents: read from the group itself
            path, _, name = key.rpartition("/")
            if name not in (".zarray", ".zgroup", ".zattrs"):
                raise MetadataError(f"unexpected document {key!r}", source=source, field="metadata")
            documents.setdefault(path, {})[name] = value
        found: dict[str, NodeMetadata] = {}
        for path, docs in documents.items():
            where = f"{source} ({path})"
            if ".zarray" in docs:
                found[path] = ArrayMetadataV2.from_json(docs[".zarray"], docs.get(".zattrs"), source=where)
            elif ".zgroup" in docs:
                found[path] = GroupMetadataV2.from_json(docs[".zgroup"], docs.get(".zattrs"), source=where)
        return cls(found)

    def to_v2_json(self, root_attributes: dict[str, Any]) -> bytes:
        """The ``.zmetadata`` document zarr-python 3.1.6 writes (one line, no indent)."""
        documents: dict[str, Any] = {".zgroup": {"zarr_format": 2}, ".zattrs": root_attributes}
        for path, meta in self.sorted_items():
            if meta.zarr_format != 2:
                raise MetadataError(f"node '{path}' is Zarr v3 and cannot be consolidated into .zmetadata")
            documents[f"{path}/.zattrs"] = meta.attributes
            if isinstance(meta, ArrayMetadataV2):
                documents[f"{path}/.zarray"] = meta.to_json()
            else:
                documents[f"{path}/.zgroup"] = {"zarr_format": 2, "consolidated_metadata": _EMPTY_MARKER_V2}
        return json.dumps({"metadata": documents, "zarr_consolidated_format": 1}, allow_nan=True).encode()


@dataclass(frozen=True)
class NestedConsolidatedMetadata:
    """zarr-python's ``ConsolidatedMetadata``: ``metadata`` maps each child's name to its
    metadata, and a child group's ``consolidated_metadata`` lists its own children;
    ``flattened_metadata`` has every descendant by relative path. A read-only view, built by
    ``ConsolidatedMetadata.nested`` (cuzarr's flat form, which groups use)."""

    metadata: dict[str, NodeMetadata] = field(default_factory=dict)
    kind: str = "inline"
    must_understand: bool = False

    @property
    def flattened_metadata(self) -> dict[str, NodeMetadata]:
        flat: dict[str, NodeMetadata] = {}
        for name, meta in self.metadata.items():
            inner = getattr(meta, "consolidated_metadata", None)
            if isinstance(inner, NestedConsolidatedMetadata):
                flat[name] = replace(meta, consolidated_metadata=None)
                flat.update({f"{name}/{k}": v for k, v in inner.flattened_metadata.items()})
            else:
                flat[name] = meta
        return flat

    def to_v3_json(self) -> dict[str, Any]:
        """The ``consolidated_metadata`` object zarr-python writes for this snapshot."""
        return ConsolidatedMetadata(self.flattened_metadata).to_v3_json()


def _entry_v3(meta: NodeMetadata, path: str) -> dict[str, Any]:
    if isinstance(meta, ArrayMetadataV3):
        return meta.to_json()
    if isinstance(meta, GroupMetadataV3):
        return GroupMetadataV3(meta.attributes, dict(_EMPTY_MARKER_V3)).to_json()
    raise MetadataError(f"node '{path}' is Zarr v2 and cannot be consolidated into a Zarr v3 zarr.json")


def _parse_v3_entries(entries: dict, prefix: str, found: dict[str, NodeMetadata], source: str) -> None:
    """Flatten ``entries`` into ``found``; nested groups may list their own children (nested form)."""
    for key, value in entries.items():
        path = f"{prefix}{key}"
        where = f"{source} (consolidated '{path}')"
        if not isinstance(value, dict):
            raise MetadataError(f"expected an object, got {type(value).__name__}", source=where)
        if value.get("zarr_format") == 2:
            if "shape" in value:
                attrs = value.get("attributes", {})
                doc = {k: v for k, v in value.items() if k != "attributes"}
                found[path] = ArrayMetadataV2.from_json(doc, attrs, source=where)
            else:
                found[path] = GroupMetadataV2(attributes=value.get("attributes", {}))
            continue
        if value.get("node_type") == "group":
            inner = value.get("consolidated_metadata") or {}
            group = GroupMetadataV3.from_json({**value, "consolidated_metadata": None}, source=where)
            found[path] = group
            nested = inner.get("metadata") if isinstance(inner, dict) else None
            if nested:
                _parse_v3_entries(nested, path + "/", found, source)
        else:
            found[path] = ArrayMetadataV3.from_json(value, source=where)


__all__ = ["V2_CONSOLIDATED_KEY", "ConsolidatedMetadata", "NestedConsolidatedMetadata", "NodeMetadata"]
