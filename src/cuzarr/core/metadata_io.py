"""Load and store node metadata documents (``zarr.json``; ``.zarray``/``.zgroup``/``.zattrs``)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import MetadataError, NodeNotFoundError, ZarrUserWarning, warn_user
from ..metadata import ArrayMetadataV2, ArrayMetadataV3, GroupMetadataV2, GroupMetadataV3
from ..storage.base import Store


def check_zarr_format(zarr_format: Any, *, allow_none: bool = True) -> int | None:
    """``zarr_format`` as given, or ``MetadataValidationError`` (zarr-python's class) when it is
    not 2, 3 (or None where the format may be detected)."""
    allowed = (2, 3, None) if allow_none else (2, 3)
    if zarr_format is True or zarr_format is False or zarr_format not in allowed:
        expected = "2, 3, or None" if allow_none else "2 or 3"
        raise MetadataError(
            f"Invalid value for 'zarr_format'. Expected {expected}. Got {zarr_format!r}.", field="zarr_format"
        )
    return zarr_format


ArrayMetadata = ArrayMetadataV2 | ArrayMetadataV3
NodeMetadata = ArrayMetadataV2 | ArrayMetadataV3 | GroupMetadataV2 | GroupMetadataV3
V3_KEY, V2_ARRAY_KEY, V2_GROUP_KEY, V2_ATTRS_KEY = "zarr.json", ".zarray", ".zgroup", ".zattrs"


def node_key(path: str, name: str) -> str:
    """The store key of ``name`` inside the node at ``path`` ('' is the root)."""
    return f"{path}/{name}" if path else name


def warn_if_both_formats(path: str, documents: dict[str, Any], where: Any = None) -> None:
    """zarr-python's warning when a node has both v3 and v2 metadata (v3 is used)."""
    if documents.get(V3_KEY) is None:
        return
    for v2_name in (V2_ARRAY_KEY, V2_GROUP_KEY):
        if documents.get(v2_name) is not None:
            location = f"path '{path}' in {where!r}" if where is not None else f"path '{path}'"
            warn_user(
                f"Both zarr.json (Zarr format 3) and {v2_name} (Zarr format 2) metadata objects "
                f"exist at {location}. Zarr v3 will be used.",
                ZarrUserWarning,
            )
            return


def read_node_metadata(
    store: Store, path: str, zarr_format: int | None = None
) -> ArrayMetadataV3 | ArrayMetadataV2 | GroupMetadataV3 | GroupMetadataV2:
    """The metadata of the node at ``path``; v3 wins when both formats are present."""
    names = {3: [V3_KEY], 2: [V2_ARRAY_KEY, V2_GROUP_KEY, V2_ATTRS_KEY]}
    wanted = names[zarr_format] if zarr_format in names else names[3] + names[2]
    check_zarr_format(zarr_format)
    keys = [node_key(path, n) for n in wanted]
    found = dict(zip(wanted, store.get_many(keys)))
    warn_if_both_formats(path, found, store)
    if found.get(V3_KEY) is not None:
        source = node_key(path, V3_KEY)
        document = _parse_json(found[V3_KEY], source)
        node_type = document.get("node_type") if isinstance(document, dict) else None
        if node_type == "group":
            return GroupMetadataV3.from_json(document, source=source)
        return ArrayMetadataV3.from_json(document, source=source)
    attrs = found.get(V2_ATTRS_KEY)
    if found.get(V2_ARRAY_KEY) is not None:
        return ArrayMetadataV2.from_json(found[V2_ARRAY_KEY], attrs, source=node_key(path, V2_ARRAY_KEY))
    if found.get(V2_GROUP_KEY) is not None:
        attributes = _parse_json(attrs, node_key(path, V2_ATTRS_KEY)) if attrs is not None else {}
        return GroupMetadataV2(attributes=attributes)
    fmt = f" (zarr_format={zarr_format})" if zarr_format else ""
    raise NodeNotFoundError(f"no array or group found at path '{path}' in {store!r}{fmt}")


def node_documents(path: str, metadata: NodeMetadata) -> list[tuple[str, bytes]]:
    """(key, bytes) of the documents that store a node's metadata: v3 ``zarr.json``; v2
    ``.zarray``/``.zgroup`` plus ``.zattrs`` (zarr-python writes it even when empty; so do we)."""
    if isinstance(metadata, ArrayMetadataV3 | GroupMetadataV3):
        return [(node_key(path, V3_KEY), metadata.to_bytes())]
    name = V2_ARRAY_KEY if isinstance(metadata, ArrayMetadataV2) else V2_GROUP_KEY
    return [
        (node_key(path, name), metadata.to_bytes()),
        (node_key(path, V2_ATTRS_KEY), metadata.attributes_bytes()),
    ]


def metadata_lock_key(path: str, metadata: NodeMetadata) -> str:
    """The synchronizer key guarding a node's metadata: its first document (``zarr.json``,
    ``.zarray`` or ``.zgroup``), one lock for its attributes and shape alike."""
    return node_documents(path, metadata)[0][0]


def write_array_metadata(store: Store, path: str, metadata: ArrayMetadata) -> None:
    """Persist array metadata in its format's documents."""
    documents = node_documents(path, metadata)
    if len(documents) == 1:
        store.set(*documents[0])
    else:
        store.set_many(documents)


def existing_node_keys(store: Store, path: str) -> list[str]:
    """Metadata documents present at ``path`` (to refuse or overwrite existing nodes)."""
    keys = [node_key(path, n) for n in (V3_KEY, V2_ARRAY_KEY, V2_GROUP_KEY)]
    return [k for k in keys if store.exists(k)]


def holds_array_and_group(store: Store, path: str) -> bool:
    """Whether ``path`` has both ``.zarray`` and ``.zgroup``: a v2 node that is neither, which
    zarr-python refuses to create anything over (``ContainsArrayAndGroupError``)."""
    return all(store.exists(node_key(path, name)) for name in (V2_ARRAY_KEY, V2_GROUP_KEY))


def _parse_json(data: Any, source: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"invalid JSON: {exc}", source=source) from exc
