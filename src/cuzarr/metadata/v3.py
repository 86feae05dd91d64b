"""Zarr v3 ``zarr.json`` documents for arrays and groups."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..errors import MetadataError
from ._common import (
    check_extension_keys,
    dump_json,
    load_json_object,
    parse_attributes,
    parse_int_tuple,
    parse_named_object,
    require,
)
from .chunk_grid import RegularChunkGrid
from .chunk_keys import ChunkKeyEncoding
from .dtypes import RECORD_TYPE_NAMES, normalize_dtype, parse_v3_data_type, v3_canonical, v3_data_type_json
from .fill_value import cast_fill_value, fill_values_equal
from .records import FILL_FORMS, default_fill_form, encode_v3_fill, fill_form_of, parse_v3_fill

_ARRAY_KEYS = frozenset(
    {
        "zarr_format",
        "node_type",
        "shape",
        "data_type",
        "chunk_grid",
        "chunk_key_encoding",
        "fill_value",
        "codecs",
        "attributes",
        "dimension_names",
        "storage_transformers",
    }
)
_GROUP_KEYS = frozenset({"zarr_format", "node_type", "attributes", "consolidated_metadata"})
# zarr-python writes these codecs with an explicit empty configuration; all others omit it when empty.
_EMPTY_CONFIG_WRITTEN = frozenset({"vlen-utf8", "vlen-bytes"})
NUMCODECS_PREFIX = "numcodecs."  # zarr-python's non-spec codecs (``zarr.codecs.numcodecs``)


def _check_zarr_format(doc: dict, *, source: str | None) -> None:
    value = require(doc, "zarr_format", source=source)
    if not (isinstance(value, int) and not isinstance(value, bool) and value == 3):
        raise MetadataError(f"expected 3, got {value!r}", source=source, field="zarr_format")


def parse_node_type_v3(data: bytes | str | dict, *, source: str | None = "zarr.json") -> str:
    """``'array'`` or ``'group'``: which class parses this ``zarr.json`` (also checks ``zarr_format``)."""
    doc = load_json_object(data, source=source)
    _check_zarr_format(doc, source=source)
    node_type = require(doc, "node_type", source=source)
    if node_type not in ("array", "group"):
        raise MetadataError(
            f"expected 'array' or 'group', got {node_type!r}", source=source, field="node_type"
        )
    return node_type


def _expect_node_type(doc: dict, expected: str, *, source: str | None) -> None:
    node_type = require(doc, "node_type", source=source)
    if node_type != expected:
        raise MetadataError(f"expected {expected!r}, got {node_type!r}", source=source, field="node_type")


def _normalize_codecs(value: Any, *, source: str | None) -> tuple[dict, ...]:
    """A non-empty list of ``{"name", "configuration"}`` objects, configurations as plain JSON."""
    if not isinstance(value, list | tuple):
        raise MetadataError(f"expected a list, got {type(value).__name__}", source=source, field="codecs")
    if not value:
        raise MetadataError(
            "at least one codec (the array->bytes codec) is required", source=source, field="codecs"
        )
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) and callable(getattr(item, "to_json", None)):
            item = item.to_json()
        name, config = parse_named_object(item, field=f"codecs[{i}]", source=source)
        try:
            config = json.loads(json.dumps(config, allow_nan=True))  # own copy, lists not tuples
        except (TypeError, ValueError) as exc:
            raise MetadataError(
                f"configuration is not JSON: {exc}", source=source, field=f"codecs[{i}]"
            ) from exc
        out.append({"name": name, "configuration": config})
    return tuple(out)


def _codec_to_json(codec: dict) -> dict:
    if (
        codec["configuration"]
        or codec["name"] in _EMPTY_CONFIG_WRITTEN
        or codec["name"].startswith(NUMCODECS_PREFIX)  # zarr-python refuses these without one
    ):
        return {"name": codec["name"], "configuration": codec["configuration"]}
    return {"name": codec["name"]}


def _parse_dimension_names(value: Any, ndim: int, *, source: str | None) -> tuple[str | None, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise MetadataError(
            f"expected a list or null, got {type(value).__name__}", source=source, field="dimension_names"
        )
    if not all(v is None or isinstance(v, str) for v in value):
        raise MetadataError(
            f"every entry must be a string or null, got {list(value)!r}",
            source=source,
            field="dimension_names",
        )
    if len(value) != ndim:
        raise MetadataError(
            f"expected {ndim} names (one per dimension), got {len(value)}",
            source=source,
            field="dimension_names",
        )
    return tuple(value)


def _parse_storage_transformers(value: Any, *, source: str | None) -> tuple:
    if not isinstance(value, list | tuple):
        raise MetadataError(
            f"expected a list, got {type(value).__name__}", source=source, field="storage_transformers"
        )
    if value:
        names = [parse_named_object(v, field="storage_transformers", source=source)[0] for v in value]
        raise MetadataError(
            f"storage transformers are not supported (found {names})",
            source=source,
            field="storage_transformers",
        )
    return ()


@dataclass(frozen=True, eq=False)
class ArrayMetadataV3:
    """The validated contents of an array's ``zarr.json``; construction re-checks every invariant.

    ``record_type_name`` (``structured`` or ``struct``) and ``record_fill_form`` (see ``records.py``;
    None: the spelling's own) say how a record data type and its fill value are written: kept from
    the document read, so a rewrite keeps the format its writer chose. Other data types ignore them.
    """

    shape: tuple[int, ...]
    data_type: np.dtype
    chunk_grid: RegularChunkGrid
    chunk_key_encoding: ChunkKeyEncoding
    fill_value: Any
    codecs: tuple[dict, ...]
    attributes: dict = field(default_factory=dict)
    dimension_names: tuple[str | None, ...] | None = None
    storage_transformers: tuple = ()
    record_type_name: str = "structured"
    record_fill_form: str | None = None

    def __post_init__(self) -> None:
        shape = parse_int_tuple(self.shape, field="shape", source=None, minimum=0)
        dtype = normalize_dtype(self.data_type, allow_object=True)
        try:
            dtype = v3_canonical(dtype)
        except ValueError as exc:
            raise MetadataError(str(exc), field="data_type") from exc
        grid = self.chunk_grid
        if not isinstance(grid, RegularChunkGrid):
            grid = RegularChunkGrid(tuple(grid))
        if len(grid.chunk_shape) != len(shape):
            raise MetadataError(
                f"chunk shape {list(grid.chunk_shape)} has {len(grid.chunk_shape)} dimensions, "
                f"the array has {len(shape)}",
                field="chunk_grid",
            )
        if not isinstance(self.chunk_key_encoding, ChunkKeyEncoding):
            raise MetadataError("expected a ChunkKeyEncoding", field="chunk_key_encoding")
        if self.fill_value is None:
            raise MetadataError("must not be None in Zarr v3", field="fill_value")
        record_type_name, record_fill_form = self._record_spelling(dtype)
        sets = {
            "shape": shape,
            "data_type": dtype,
            "chunk_grid": grid,
            "fill_value": cast_fill_value(self.fill_value, dtype),
            "codecs": _normalize_codecs(self.codecs, source=None),
            "attributes": parse_attributes(self.attributes, source=None),
            "dimension_names": _parse_dimension_names(self.dimension_names, len(shape), source=None),
            "storage_transformers": _parse_storage_transformers(self.storage_transformers, source=None),
            "record_type_name": record_type_name,
            "record_fill_form": record_fill_form,
        }
        for name, value in sets.items():
            object.__setattr__(self, name, value)

    def _record_spelling(self, dtype: np.dtype) -> tuple[str, str | None]:
        """Checked (type name, fill form); one fixed value for non-records, so equality ignores them."""
        if self.record_type_name not in RECORD_TYPE_NAMES:
            raise MetadataError(
                f"record type name must be one of {RECORD_TYPE_NAMES}, got {self.record_type_name!r}",
                field="data_type",
            )
        if dtype.fields is None:
            return "structured", None
        form = self.record_fill_form or default_fill_form(self.record_type_name)
        if form not in FILL_FORMS or (form == "bare" and len(dtype.names) != 1):
            raise MetadataError(f"invalid record fill value form {form!r} for {dtype}", field="fill_value")
        return self.record_type_name, form

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadataV3):
            return NotImplemented
        return fill_values_equal(self.fill_value, other.fill_value) and all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "fill_value"
        )

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    zarr_format = property(lambda self: 3, doc="Always 3.")
    node_type = property(lambda self: "array", doc="Always 'array'.")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def chunk_shape(self) -> tuple[int, ...]:
        return self.chunk_grid.chunk_shape

    @property
    def dtype(self) -> np.dtype:
        return self.data_type

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return self.chunk_grid.grid_shape(self.shape)

    @classmethod
    def from_json(cls, data: bytes | str | dict, *, source: str = "zarr.json") -> ArrayMetadataV3:
        """Parse and validate a ``zarr.json`` whose ``node_type`` is ``array``."""
        doc = load_json_object(data, source=source)
        _check_zarr_format(doc, source=source)
        _expect_node_type(doc, "array", source=source)
        check_extension_keys(doc, _ARRAY_KEYS, source=source)
        shape = parse_int_tuple(require(doc, "shape", source=source), field="shape", source=source, minimum=0)
        data_type = require(doc, "data_type", source=source)
        dtype = parse_v3_data_type(data_type, source=source)
        record_type_name = data_type["name"] if dtype.fields is not None else "structured"
        grid = RegularChunkGrid.from_json(
            require(doc, "chunk_grid", source=source), ndim=len(shape), source=source
        )
        cke = ChunkKeyEncoding.from_json(require(doc, "chunk_key_encoding", source=source), source=source)
        fill_json = require(doc, "fill_value", source=source)
        fill = parse_v3_fill(fill_json, dtype, source=source)
        return cls(
            shape=shape,
            data_type=dtype,
            chunk_grid=grid,
            chunk_key_encoding=cke,
            fill_value=fill,
            codecs=_normalize_codecs(require(doc, "codecs", source=source), source=source),
            attributes=parse_attributes(doc.get("attributes", {}), source=source),
            dimension_names=_parse_dimension_names(doc.get("dimension_names"), len(shape), source=source),
            storage_transformers=_parse_storage_transformers(
                doc.get("storage_transformers", []), source=source
            ),
            record_type_name=record_type_name,
            record_fill_form=fill_form_of(fill_json, dtype),
        )

    def to_dict(self) -> dict[str, Any]:
        """zarr-python's name for ``to_json`` (the ``zarr.json`` object)."""
        return self.to_json()

    def to_json(self) -> dict[str, Any]:
        """The ``zarr.json`` object, keys in zarr-python's order."""
        doc: dict[str, Any] = {
            "shape": list(self.shape),
            "data_type": v3_data_type_json(self.data_type, record_type_name=self.record_type_name),
            "chunk_grid": self.chunk_grid.to_json(),
            "chunk_key_encoding": self.chunk_key_encoding.to_json(),
            "fill_value": encode_v3_fill(self.fill_value, self.data_type, self.record_fill_form),
            "codecs": [_codec_to_json(c) for c in self.codecs],
            "attributes": self.attributes,
        }
        if self.dimension_names is not None:
            doc["dimension_names"] = list(self.dimension_names)
        doc.update(zarr_format=3, node_type="array", storage_transformers=list(self.storage_transformers))
        return doc

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json())

    def update_attributes(self, attributes: dict) -> ArrayMetadataV3:
        return replace(self, attributes=dict(attributes))

    def with_shape(self, shape: tuple[int, ...]) -> ArrayMetadataV3:
        return replace(self, shape=tuple(shape))


@dataclass(frozen=True)
class GroupMetadataV3:
    """A group's ``zarr.json``; ``consolidated_metadata`` is kept as the raw JSON object."""

    attributes: dict = field(default_factory=dict)
    consolidated_metadata: Any = None  # the raw JSON object as stored (Group.metadata: a view)

    zarr_format = property(lambda self: 3, doc="Always 3.")
    node_type = property(lambda self: "group", doc="Always 'group'.")

    @classmethod
    def from_json(cls, data: bytes | str | dict, *, source: str = "zarr.json") -> GroupMetadataV3:
        doc = load_json_object(data, source=source)
        _check_zarr_format(doc, source=source)
        _expect_node_type(doc, "group", source=source)
        check_extension_keys(doc, _GROUP_KEYS, source=source)
        consolidated = doc.get("consolidated_metadata")
        if consolidated is not None and not isinstance(consolidated, dict):
            raise MetadataError(
                f"expected an object or null, got {type(consolidated).__name__}",
                source=source,
                field="consolidated_metadata",
            )
        return cls(parse_attributes(doc.get("attributes", {}), source=source), consolidated)

    def to_dict(self) -> dict[str, Any]:
        """zarr-python's name for ``to_json``."""
        return self.to_json()

    def to_json(self) -> dict[str, Any]:
        """Keys in zarr-python's order (``consolidated_metadata`` only when present)."""
        doc: dict[str, Any] = {"attributes": self.attributes, "zarr_format": 3}
        consolidated = self.consolidated_metadata
        if consolidated is not None:  # raw JSON as read, or the nested view of Group.metadata
            doc["consolidated_metadata"] = (
                consolidated if isinstance(consolidated, dict) else consolidated.to_v3_json()
            )
        doc["node_type"] = "group"
        return doc

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json())

    def update_attributes(self, attributes: dict) -> GroupMetadataV3:
        return replace(self, attributes=dict(attributes))
