"""Zarr v2 documents: ``.zarray`` / ``.zgroup`` plus the separate ``.zattrs``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from ..errors import MetadataError
from ._common import dump_json, is_int, load_json_object, parse_attributes, parse_int_tuple, require
from .chunk_grid import RegularChunkGrid, validate_chunk_shape
from .chunk_keys import ChunkKeyEncoding
from .dtypes import STRING_DTYPE, normalize_dtype
from .dtypes_v2 import object_codec_id, parse_v2_dtype, v2_dtype_json
from .fill_value import cast_fill_value, encode_fill_value_v2, fill_values_equal, parse_fill_value_v2


def _attrs_source(source: str | None, name: str) -> str:
    """``'a/.zattrs'`` next to ``'a/.zarray'``."""
    if not source:
        return ".zattrs"
    return source[: -len(name)] + ".zattrs" if source.endswith(name) else f"{source} (.zattrs)"


def _load_attributes(zattrs: bytes | str | dict | None, source: str) -> dict:
    if zattrs is None:
        return {}
    return parse_attributes(load_json_object(zattrs, source=source), source=source, field="attributes")


def _check_zarr_format(doc: dict, *, source: str | None) -> None:
    value = require(doc, "zarr_format", source=source)
    if not (is_int(value) and value == 2):
        raise MetadataError(f"expected 2, got {value!r}", source=source, field="zarr_format")


def _codec_config(value: Any, *, field: str, source: str | None) -> dict:
    """A numcodecs config: an object with a string ``id``; copied as plain JSON."""
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise MetadataError(
            f'expected an object with a string "id", got {value!r}', source=source, field=field
        )
    if value["id"] == "pickle":  # as a filter or compressor of any dtype, not only of '|O'
        raise MetadataError(
            "the pickle codec is refused: decoding it can run arbitrary code", source=source, field=field
        )
    try:
        return json.loads(json.dumps(value, allow_nan=True))
    except (TypeError, ValueError) as exc:
        raise MetadataError(f"codec configuration is not JSON: {exc}", source=source, field=field) from exc


def _parse_compressor(value: Any, *, source: str | None) -> dict | None:
    return None if value is None else _codec_config(value, field="compressor", source=source)


def _parse_filters(value: Any, *, source: str | None) -> tuple[dict, ...] | None:
    """Null or a list of codec configs; an empty list means none (as zarr-python reads it)."""
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise MetadataError(
            f"expected a list or null, got {type(value).__name__}", source=source, field="filters"
        )
    out = tuple(_codec_config(v, field="filters", source=source) for v in value)
    return out or None


def _parse_order(value: Any, *, source: str | None) -> str:
    if value not in ("C", "F"):
        raise MetadataError(f"expected 'C' or 'F', got {value!r}", source=source, field="order")
    return value


def _parse_separator(value: Any, *, source: str | None) -> str:
    if value not in (".", "/"):
        raise MetadataError(f"expected '.' or '/', got {value!r}", source=source, field="dimension_separator")
    return value


def _check_object_codec(dtype: np.dtype, filters: tuple | None, compressor: dict | None) -> np.dtype:
    """Variable-length dtypes need the object codec that zarr-python resolves ``|O`` with.

    An object dtype with ``vlen-utf8`` becomes ``StringDType``, as zarr-python reads it back.
    """
    if not dtype.hasobject or dtype.fields is not None:
        return dtype
    codec_id = object_codec_id(filters, compressor)
    if codec_id is None:
        raise MetadataError(
            f"data type {dtype} needs an object codec ({'vlen-utf8' if dtype.kind == 'T' else 'vlen-bytes'}) "
            "among the filters",
            field="filters",
        )
    if dtype.kind == "T" and codec_id != "vlen-utf8":
        raise MetadataError(f"string data needs the vlen-utf8 codec, not {codec_id!r}", field="filters")
    if codec_id == "pickle":
        raise MetadataError(
            "the pickle object codec is refused: decoding it can run arbitrary code", field="filters"
        )
    return STRING_DTYPE if codec_id == "vlen-utf8" else dtype


@dataclass(frozen=True, eq=False)
class ArrayMetadataV2:
    """The validated ``.zarray`` (+ ``.zattrs``) of a v2 array; ``dtype`` keeps its byte order."""

    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: np.dtype
    compressor: dict | None = None
    filters: tuple[dict, ...] | None = None
    fill_value: Any = None
    order: str = "C"
    dimension_separator: str = "."
    attributes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = parse_int_tuple(self.shape, field="shape", source=None, minimum=0)
        chunks = validate_chunk_shape(self.chunks, field="chunks", source=None, ndim=len(shape))
        compressor = _parse_compressor(self.compressor, source=None)
        filters = _parse_filters(self.filters, source=None)
        dtype = _check_object_codec(normalize_dtype(self.dtype, allow_object=True), filters, compressor)
        fill = None if self.fill_value is None else cast_fill_value(self.fill_value, dtype)
        sets = {
            "shape": shape,
            "chunks": chunks,
            "dtype": dtype,
            "compressor": compressor,
            "filters": filters,
            "fill_value": fill,
            "order": _parse_order(self.order, source=None),
            "dimension_separator": _parse_separator(self.dimension_separator, source=None),
            "attributes": parse_attributes(self.attributes, source=None),
        }
        for name, value in sets.items():
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArrayMetadataV2):
            return NotImplemented
        return fill_values_equal(self.fill_value, other.fill_value) and all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "fill_value"
        )

    __hash__ = None  # type: ignore[assignment]  # holds dicts

    zarr_format = property(lambda self: 2, doc="Always 2.")
    node_type = property(lambda self: "array", doc="Always 'array'.")

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def chunk_shape(self) -> tuple[int, ...]:
        return self.chunks

    @property
    def chunk_grid(self) -> RegularChunkGrid:
        return RegularChunkGrid(self.chunks)

    @property
    def chunk_key_encoding(self) -> ChunkKeyEncoding:
        return ChunkKeyEncoding("v2", self.dimension_separator)

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return self.chunk_grid.grid_shape(self.shape)

    @classmethod
    def from_json(
        cls,
        zarray: bytes | str | dict,
        zattrs: bytes | str | dict | None = None,
        *,
        source: str = ".zarray",
    ) -> ArrayMetadataV2:
        """Parse and validate a ``.zarray`` and, if given, its ``.zattrs``. Unknown keys are ignored (v2)."""
        doc = load_json_object(zarray, source=source)
        _check_zarr_format(doc, source=source)
        shape = parse_int_tuple(require(doc, "shape", source=source), field="shape", source=source, minimum=0)
        chunks = validate_chunk_shape(
            require(doc, "chunks", source=source), field="chunks", source=source, ndim=len(shape)
        )
        compressor = _parse_compressor(require(doc, "compressor", source=source), source=source)
        filters = _parse_filters(doc.get("filters"), source=source)
        codec_id = object_codec_id(filters, compressor)
        dtype = parse_v2_dtype(require(doc, "dtype", source=source), object_codec_id=codec_id, source=source)
        return cls(
            shape=shape,
            chunks=chunks,
            dtype=dtype,
            compressor=compressor,
            filters=filters,
            fill_value=parse_fill_value_v2(require(doc, "fill_value", source=source), dtype, source=source),
            order=_parse_order(require(doc, "order", source=source), source=source),
            dimension_separator=_parse_separator(doc.get("dimension_separator", "."), source=source),
            attributes=_load_attributes(zattrs, _attrs_source(source, ".zarray")),
        )

    def to_dict(self) -> dict[str, Any]:
        """zarr-python's ``to_dict``: the ``.zarray`` object plus the attributes."""
        return {**self.to_json(), "attributes": self.attributes}

    def to_json(self) -> dict[str, Any]:
        """The ``.zarray`` object (no attributes), keys in zarr-python's order."""
        return {
            "shape": list(self.shape),
            "chunks": list(self.chunks),
            "dtype": v2_dtype_json(self.dtype),
            "fill_value": encode_fill_value_v2(self.fill_value, self.dtype),
            "order": self.order,
            "filters": None if self.filters is None else list(self.filters),
            "dimension_separator": self.dimension_separator,
            "compressor": self.compressor,
            "zarr_format": 2,
        }

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json())

    def attributes_bytes(self) -> bytes:
        """The ``.zattrs`` document."""
        return dump_json(self.attributes)

    def update_attributes(self, attributes: dict) -> ArrayMetadataV2:
        return replace(self, attributes=dict(attributes))

    def with_shape(self, shape: tuple[int, ...]) -> ArrayMetadataV2:
        return replace(self, shape=tuple(shape))


@dataclass(frozen=True)
class GroupMetadataV2:
    """A v2 group: ``.zgroup`` only says ``zarr_format``; attributes live in ``.zattrs``."""

    attributes: dict = field(default_factory=dict)
    #: never stored in ``.zgroup``: ``Group.metadata`` sets it to the ``.zmetadata`` view in use
    consolidated_metadata: Any = field(default=None, compare=False)

    zarr_format = property(lambda self: 2, doc="Always 2.")
    node_type = property(lambda self: "group", doc="Always 'group'.")

    @classmethod
    def from_json(
        cls, zgroup: bytes | str | dict, zattrs: bytes | str | dict | None = None, *, source: str = ".zgroup"
    ) -> GroupMetadataV2:
        doc = load_json_object(zgroup, source=source)
        _check_zarr_format(doc, source=source)
        return cls(_load_attributes(zattrs, _attrs_source(source, ".zgroup")))

    def to_dict(self) -> dict[str, Any]:
        """zarr-python's ``to_dict``: the attributes and the format."""
        return {"attributes": self.attributes, "zarr_format": 2, "node_type": "group"}

    def to_json(self) -> dict[str, Any]:
        """The ``.zgroup`` object."""
        return {"zarr_format": 2}

    def to_bytes(self) -> bytes:
        return dump_json(self.to_json())

    def attributes_bytes(self) -> bytes:
        """The ``.zattrs`` document."""
        return dump_json(self.attributes)

    def update_attributes(self, attributes: dict) -> GroupMetadataV2:
        return replace(self, attributes=dict(attributes))
