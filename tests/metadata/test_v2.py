"""ArrayMetadataV2 / GroupMetadataV2: .zarray/.zgroup/.zattrs parsing and writing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cuzarr.errors import MetadataError, UnknownDataTypeError
from cuzarr.metadata import ArrayMetadataV2, ChunkKeyEncoding, GroupMetadataV2, RegularChunkGrid

SRC = "temp/.zarray"


def zarray(**overrides):
    d = {
        "shape": [10, 3],
        "chunks": [5, 3],
        "dtype": ">i2",
        "fill_value": 5,
        "order": "C",
        "filters": None,
        "dimension_separator": ".",
        "compressor": {"id": "zstd", "level": 0},
        "zarr_format": 2,
    }
    d.update(overrides)
    return {k: v for k, v in d.items() if v is not ...}


def test_parse_basic():
    m = ArrayMetadataV2.from_json(json.dumps(zarray()).encode(), b'{"a": 1}', source=SRC)
    assert m.shape == (10, 3) and m.chunks == (5, 3) and m.chunk_shape == (5, 3) and m.ndim == 2
    assert m.dtype == np.dtype(">i2") and m.dtype.byteorder == ">"
    assert m.fill_value == 5 and m.compressor == {"id": "zstd", "level": 0} and m.filters is None
    assert m.order == "C" and m.dimension_separator == "." and m.attributes == {"a": 1}
    assert m.zarr_format == 2 and m.node_type == "array"
    assert m.chunk_grid == RegularChunkGrid((5, 3)) and m.grid_shape == (2, 1)
    assert m.chunk_key_encoding == ChunkKeyEncoding("v2", ".")


def test_round_trip_and_key_order():
    m = ArrayMetadataV2.from_json(zarray(filters=[{"id": "delta", "dtype": "<i2", "astype": "<i2"}]))
    out = m.to_json()
    assert list(out) == [
        "shape",
        "chunks",
        "dtype",
        "fill_value",
        "order",
        "filters",
        "dimension_separator",
        "compressor",
        "zarr_format",
    ]
    assert out == zarray(filters=[{"id": "delta", "dtype": "<i2", "astype": "<i2"}])
    assert ArrayMetadataV2.from_json(m.to_bytes()) == m
    assert m.to_bytes() == json.dumps(out, indent=2).encode()


def test_defaults_and_legacy_forms():
    m = ArrayMetadataV2.from_json(
        zarray(dimension_separator=..., filters=..., fill_value=None, compressor=None)
    )
    assert (
        m.dimension_separator == "." and m.filters is None and m.fill_value is None and m.compressor is None
    )
    assert m.to_json()["fill_value"] is None
    # an empty filter list means none (zarr-python reads it so)
    assert ArrayMetadataV2.from_json(zarray(filters=[])).filters is None
    # unknown keys are allowed in v2
    assert ArrayMetadataV2.from_json(zarray(extra="x")) == ArrayMetadataV2.from_json(zarray())


def test_attributes_bytes():
    m = ArrayMetadataV2.from_json(zarray(), {"a": [1, 2]})
    assert json.loads(m.attributes_bytes()) == {"a": [1, 2]}
    assert m.attributes_bytes() == json.dumps({"a": [1, 2]}, indent=2).encode()
    assert m.update_attributes({}).attributes == {} and m.attributes == {"a": [1, 2]}


def test_with_shape():
    m = ArrayMetadataV2.from_json(zarray()).with_shape((20, 3))
    assert m.shape == (20, 3) and m.grid_shape == (4, 1)


def test_nan_fill_equality():
    a = ArrayMetadataV2.from_json(zarray(dtype="<f8", fill_value="NaN"))
    assert a == ArrayMetadataV2.from_json(zarray(dtype="<f8", fill_value="NaN"))
    assert a != ArrayMetadataV2.from_json(zarray(dtype=">f8", fill_value="NaN"))


def test_constructor():
    m = ArrayMetadataV2(shape=[4], chunks=[2], dtype="<f4", fill_value=0, order="F", dimension_separator="/")
    assert m.fill_value.dtype == np.dtype("f4") and m.chunk_key_encoding == ChunkKeyEncoding("v2", "/")
    with pytest.raises(MetadataError):
        ArrayMetadataV2(shape=[4], chunks=[2, 2], dtype="<f4")
    with pytest.raises(MetadataError):
        ArrayMetadataV2(shape=[4], chunks=[2], dtype="<f4", order="K")


@pytest.mark.parametrize(
    "overrides,field,msg",
    [
        ({"zarr_format": 3}, "zarr_format", "expected 2"),
        ({"zarr_format": ...}, "zarr_format", "missing"),
        ({"shape": ...}, "shape", "missing"),
        ({"shape": [-1, 3]}, "shape", "non-negative"),
        ({"shape": [None, 3]}, "shape", "integers"),
        ({"chunks": ...}, "chunks", "missing"),
        ({"chunks": [0, 3]}, "chunks", "positive"),
        ({"chunks": [5]}, "chunks", "2 entries"),
        ({"chunks": [2**30, 2**30]}, "chunks", "2**40"),
        ({"dtype": ...}, "dtype", "missing"),
        ({"dtype": "<f16"}, "dtype", "supported"),
        ({"dtype": [["a", "<f16"]]}, "dtype", "supported"),
        ({"fill_value": ...}, "fill_value", "missing"),
        ({"fill_value": 1.5}, "fill_value", "integer"),
        ({"fill_value": 40000}, "fill_value", "out of range"),
        ({"order": "X"}, "order", "'C' or 'F'"),
        ({"order": ...}, "order", "missing"),
        ({"dimension_separator": "-"}, "dimension_separator", "'.' or '/'"),
        ({"compressor": ...}, "compressor", "missing"),
        ({"compressor": {"level": 1}}, "compressor", '"id"'),
        ({"compressor": "zstd"}, "compressor", '"id"'),
        ({"filters": {"id": "delta"}}, "filters", "list"),
        ({"filters": [{"id": 5}]}, "filters", '"id"'),
    ],
)
def test_errors_name_source_and_field(overrides, field, msg):
    with pytest.raises(MetadataError) as info:
        ArrayMetadataV2.from_json(zarray(**overrides), source=SRC)
    err = info.value
    assert err.source == SRC and err.field == field
    assert SRC in str(err) and f"'{field}'" in str(err) and msg in str(err)


def test_unknown_dtype_is_unknown_data_type_error():
    with pytest.raises(UnknownDataTypeError) as info:
        ArrayMetadataV2.from_json(zarray(dtype="|O"), source=SRC)
    assert "<f4" in str(info.value)


@pytest.mark.parametrize("data", [b"{", b"", b"[]", "nope"])
def test_invalid_json(data):
    with pytest.raises(MetadataError) as info:
        ArrayMetadataV2.from_json(data, source=SRC)
    assert info.value.source == SRC


def test_invalid_zattrs_names_zattrs():
    with pytest.raises(MetadataError) as info:
        ArrayMetadataV2.from_json(zarray(), b"{bad", source="a/b/.zarray")
    assert info.value.source == "a/b/.zattrs"
    with pytest.raises(MetadataError) as info:
        ArrayMetadataV2.from_json(zarray(), b"[1]", source="a/b/.zarray")
    assert info.value.source == "a/b/.zattrs"


def test_group():
    g = GroupMetadataV2.from_json(b'{"zarr_format": 2}', b'{"x": 1}', source="g/.zgroup")
    assert g.attributes == {"x": 1} and g.zarr_format == 2 and g.node_type == "group"
    assert g.to_json() == {"zarr_format": 2}
    assert g.to_bytes() == b'{\n  "zarr_format": 2\n}'
    assert g.attributes_bytes() == b'{\n  "x": 1\n}'
    assert GroupMetadataV2.from_json(g.to_bytes(), g.attributes_bytes()) == g
    assert GroupMetadataV2().attributes == {} and GroupMetadataV2().attributes_bytes() == b"{}"
    with pytest.raises(MetadataError) as info:
        GroupMetadataV2.from_json(b'{"zarr_format": 3}', source="g/.zgroup")
    assert info.value.source == "g/.zgroup" and info.value.field == "zarr_format"
    with pytest.raises(MetadataError) as info:
        GroupMetadataV2.from_json(b'{"zarr_format": 2}', b"{x", source="g/.zgroup")
    assert info.value.source == "g/.zattrs"
