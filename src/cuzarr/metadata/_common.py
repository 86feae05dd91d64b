"""Shared JSON validation helpers: every failure names the document and the field."""

from __future__ import annotations

import json
from typing import Any

from ..errors import MetadataError

JSON_INDENT = 2  # zarr-python's default ``json_indent``


def load_json_object(data: bytes | bytearray | memoryview | str | dict, *, source: str | None) -> dict:
    """Decode a metadata document; invalid JSON or a non-object names the document."""
    if isinstance(data, dict):
        return data
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes | str):
        raise MetadataError(
            f"expected a JSON document (bytes, str or dict), got {type(data).__name__}", source=source
        )
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MetadataError(f"invalid JSON: {exc}", source=source) from exc
    if not isinstance(doc, dict):
        raise MetadataError(f"expected a JSON object, got {type(doc).__name__}", source=source)
    return doc


def dump_json(doc: Any) -> bytes:
    """Serialize like zarr-python (indent 2, ASCII); NaN in user attributes is allowed as zarr-python does."""
    return json.dumps(doc, indent=JSON_INDENT, allow_nan=True).encode()


def is_int(value: Any) -> bool:
    """A JSON integer (``bool`` is an ``int`` subclass in Python but not a JSON integer)."""
    return isinstance(value, int) and not isinstance(value, bool)


def require(doc: dict, key: str, *, source: str | None) -> Any:
    """The value of a required key."""
    if key not in doc:
        raise MetadataError("required field is missing", source=source, field=key)
    return doc[key]


def parse_int_tuple(
    value: Any, *, field: str, source: str | None, minimum: int, ndim: int | None = None
) -> tuple[int, ...]:
    """A list of JSON integers ``>= minimum`` (optionally of length ``ndim``)."""
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        raise MetadataError(
            f"expected a list of integers, got {type(value).__name__}", source=source, field=field
        )
    for item in value:
        if not is_int(item):
            raise MetadataError(f"expected integers, got {item!r}", source=source, field=field)
        if item < minimum:
            what = "positive" if minimum == 1 else "non-negative"
            raise MetadataError(f"every entry must be {what}, got {item}", source=source, field=field)
    if ndim is not None and len(value) != ndim:
        raise MetadataError(
            f"expected {ndim} entries (one per dimension), got {len(value)}", source=source, field=field
        )
    return tuple(int(v) for v in value)


def parse_named_object(value: Any, *, field: str, source: str | None) -> tuple[str, dict]:
    """A ``{"name": str, "configuration"?: object}`` extension point, as ``(name, configuration)``."""
    if not isinstance(value, dict):
        raise MetadataError(
            f"expected an object with a 'name', got {type(value).__name__}", source=source, field=field
        )
    name = value.get("name")
    if not isinstance(name, str):
        raise MetadataError(f"'name' must be a string, got {name!r}", source=source, field=field)
    config = value.get("configuration", {})
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise MetadataError(
            f"'configuration' of {name!r} must be an object, got {type(config).__name__}",
            source=source,
            field=field,
        )
    return name, config


def parse_attributes(value: Any, *, source: str | None, field: str = "attributes") -> dict:
    """User attributes: any JSON object."""
    if not isinstance(value, dict):
        raise MetadataError(f"expected an object, got {type(value).__name__}", source=source, field=field)
    return value


def check_extension_keys(doc: dict, known: frozenset[str], *, source: str | None) -> None:
    """Zarr v3: an unknown key is an error unless its value is ``{"must_understand": false, ...}``."""
    for key, value in doc.items():
        if key in known:
            continue
        if isinstance(value, dict) and value.get("must_understand") is False:
            continue
        raise MetadataError(
            "unknown metadata key; extensions this reader cannot ignore must not be skipped "
            '(only objects with "must_understand": false may be)',
            source=source,
            field=key,
        )
