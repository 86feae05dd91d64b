"""ArrayMetadataV3 / GroupMetadataV3: parsing, validation, serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cuzarr.errors import MetadataError, UnknownDataTypeError
from cuzarr.metadata import (
    ArrayMetadataV3,
    ChunkKeyEncoding,
    GroupMetadataV3,
    RegularChunkGrid,
    parse_node_type_v3,
)

SRC = "temp/zarr.json"


def doc(**overrides):
    d = {
        "shape": [10, 3],
        "data_type": "float32",
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5, 3]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": 0.0,
        "codecs": [{"name": "bytes", "configuration": {"endian": "little"}}],
        "attributes": {"a": 1},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }
    d.update(overrides)
    return {k: v for k, v in d.items() if v is not ...}


def errors_of(data, *, source=SRC):
    with pytest.raises(MetadataError) as info:
        ArrayMetadataV3.from_json(data, source=source)
    return info.value


def test_parse_basic():
    m = ArrayMetadataV3.from_json(json.dumps(doc()).encode(), source=SRC)
    assert m.shape == (10, 3) and m.ndim == 2
    assert m.data_type == np.dtype("f4") and m.dtype == m.data_type
    assert m.chunk_grid == RegularChunkGrid((5, 3)) and m.chunk_shape == (5, 3)
    assert m.grid_shape == (2, 1)
    assert m.chunk_key_encoding == ChunkKeyEncoding("default", "/")
    assert m.fill_value == 0 and m.fill_value.dtype == np.dtype("f4")
    assert m.codecs == ({"name": "bytes", "configuration": {"endian": "little"}},)
    assert m.attributes == {"a": 1} and m.dimension_names is None
    assert m.zarr_format == 3 and m.node_type == "array" and m.storage_transformers == ()


def test_accepts_str_bytes_dict_and_bytearray():
    d = doc()
    for data in (d, json.dumps(d), json.dumps(d).encode(), bytearray(json.dumps(d).encode())):
        assert ArrayMetadataV3.from_json(data) == ArrayMetadataV3.from_json(d)


def test_to_json_key_order_and_round_trip():
    m = ArrayMetadataV3.from_json(doc(dimension_names=["x", None]))
    out = m.to_json()
    assert list(out) == [
        "shape",
        "data_type",
        "chunk_grid",
        "chunk_key_encoding",
        "fill_value",
        "codecs",
        "attributes",
        "dimension_names",
        "zarr_format",
        "node_type",
        "storage_transformers",
    ]
    assert ArrayMetadataV3.from_json(m.to_bytes()) == m
    assert m.to_bytes() == json.dumps(out, indent=2).encode()


def test_optional_keys():
    m = ArrayMetadataV3.from_json(doc(attributes=..., storage_transformers=..., dimension_names=...))
    assert m.attributes == {} and m.storage_transformers == () and "dimension_names" not in m.to_json()
    assert m.to_json()["attributes"] == {} and m.to_json()["storage_transformers"] == []


def test_codecs_normalized():
    m = ArrayMetadataV3.from_json(
        doc(
            codecs=[
                {"name": "bytes"},
                {"name": "crc32c", "configuration": {}},
                {"name": "gzip", "configuration": {"level": 1}},
            ]
        )
    )
    assert m.codecs == (
        {"name": "bytes", "configuration": {}},
        {"name": "crc32c", "configuration": {}},
        {"name": "gzip", "configuration": {"level": 1}},
    )
    # written as zarr-python does: no empty configuration
    assert m.to_json()["codecs"] == [
        {"name": "bytes"},
        {"name": "crc32c"},
        {"name": "gzip", "configuration": {"level": 1}},
    ]


def test_codec_objects_and_tuples_become_json():
    class FakeCodec:
        def to_json(self):
            return {"name": "transpose", "configuration": {"order": (1, 0)}}

    m = ArrayMetadataV3(
        shape=(2, 2),
        data_type=np.dtype("i4"),
        chunk_grid=RegularChunkGrid((2, 2)),
        chunk_key_encoding=ChunkKeyEncoding(),
        fill_value=0,
        codecs=(FakeCodec(), {"name": "bytes", "configuration": {"endian": "little"}}),
    )
    assert m.codecs[0] == {"name": "transpose", "configuration": {"order": [1, 0]}}


def test_constructor_normalizes():
    m = ArrayMetadataV3(
        shape=[4],
        data_type=">f8",
        chunk_grid=(2,),
        chunk_key_encoding=ChunkKeyEncoding(),
        fill_value=1,
        codecs=[{"name": "bytes"}],
        dimension_names=["t"],
    )
    assert m.shape == (4,) and m.data_type == np.dtype("f8") and m.data_type.isnative
    assert isinstance(m.fill_value, np.float64) and m.fill_value == 1.0
    assert m.chunk_grid == RegularChunkGrid((2,)) and m.dimension_names == ("t",)


def test_constructor_validates():
    base = ArrayMetadataV3.from_json(doc())
    with pytest.raises(MetadataError):
        base.with_shape((10,))  # chunk grid has 2 dims
    with pytest.raises(MetadataError):
        ArrayMetadataV3.from_json(doc(data_type="int8", fill_value=0)).__class__(
            shape=(1,),
            data_type="int8",
            chunk_grid=RegularChunkGrid((1,)),
            chunk_key_encoding=ChunkKeyEncoding(),
            fill_value=1000,
            codecs=({"name": "bytes"},),
        )


def test_update_attributes_and_with_shape():
    m = ArrayMetadataV3.from_json(doc())
    m2 = m.update_attributes({"b": [1, 2]})
    assert m2.attributes == {"b": [1, 2]} and m.attributes == {"a": 1}
    m3 = m.with_shape((0, 7))
    assert m3.shape == (0, 7) and m3.grid_shape == (0, 3) and m.shape == (10, 3)
    with pytest.raises(AttributeError):
        m.shape = (1, 1)  # frozen


def test_equality_is_bitwise_on_nan():
    a = ArrayMetadataV3.from_json(doc(fill_value="NaN"))
    assert a == ArrayMetadataV3.from_json(doc(fill_value="0x7fc00000"))
    assert a != ArrayMetadataV3.from_json(doc(fill_value="0x7fc00001"))
    assert a != ArrayMetadataV3.from_json(doc(fill_value="NaN", attributes={}))


def test_must_understand_false_extension_ignored():
    m = ArrayMetadataV3.from_json(doc(my_ext={"must_understand": False, "x": 1}))
    assert "my_ext" not in m.to_json()


@pytest.mark.parametrize(
    "value", [{"must_understand": True}, {"x": 1}, 5, "s", None, {"must_understand": "false"}]
)
def test_unknown_extension_key_refused(value):
    err = errors_of(doc(my_ext=value))
    assert err.source == SRC and err.field == "my_ext" and "my_ext" in str(err) and SRC in str(err)


def test_storage_transformers_refused():
    err = errors_of(doc(storage_transformers=[{"name": "sharding_index"}]))
    assert err.field == "storage_transformers" and "not supported" in str(err)


def test_node_type():
    assert parse_node_type_v3(json.dumps(doc()), source=SRC) == "array"
    assert parse_node_type_v3({"zarr_format": 3, "node_type": "group"}, source=SRC) == "group"
    with pytest.raises(MetadataError) as info:
        parse_node_type_v3({"zarr_format": 3, "node_type": "nope"}, source=SRC)
    assert info.value.field == "node_type"
    with pytest.raises(MetadataError) as info:
        parse_node_type_v3({"zarr_format": 2, "node_type": "array"}, source=SRC)
    assert info.value.field == "zarr_format"
    err = errors_of({"zarr_format": 3, "node_type": "group", "attributes": {}})
    assert err.field == "node_type"


@pytest.mark.parametrize(
    "overrides,field,msg",
    [
        ({"zarr_format": 2}, "zarr_format", "expected 3"),
        ({"zarr_format": "3"}, "zarr_format", "expected 3"),
        ({"zarr_format": ...}, "zarr_format", "missing"),
        ({"node_type": ...}, "node_type", "missing"),
        ({"shape": ...}, "shape", "missing"),
        ({"shape": [-1, 3]}, "shape", "non-negative"),
        ({"shape": [1.5, 3]}, "shape", "integers"),
        ({"shape": [True, 3]}, "shape", "integers"),
        ({"shape": "10"}, "shape", "list"),
        ({"data_type": ...}, "data_type", "missing"),
        ({"data_type": "float128"}, "data_type", "supported"),
        ({"chunk_grid": ...}, "chunk_grid", "missing"),
        (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [0, 3]}}},
            "chunk_grid",
            "positive",
        ),
        (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [5]}}},
            "chunk_grid",
            "2 entries",
        ),
        ({"chunk_key_encoding": ...}, "chunk_key_encoding", "missing"),
        (
            {"chunk_key_encoding": {"name": "v2", "configuration": {"separator": ":"}}},
            "chunk_key_encoding",
            "separator",
        ),
        ({"fill_value": ...}, "fill_value", "missing"),
        ({"fill_value": None}, "fill_value", "null"),
        ({"fill_value": "abc"}, "fill_value", "string"),
        ({"fill_value": [1, 2]}, "fill_value", "number"),
        ({"codecs": ...}, "codecs", "missing"),
        ({"codecs": []}, "codecs", "at least one"),
        ({"codecs": {"name": "bytes"}}, "codecs", "list"),
        ({"codecs": ["bytes"]}, "codecs[0]", "object"),
        ({"codecs": [{"name": 3}]}, "codecs[0]", "name"),
        ({"codecs": [{"name": "bytes"}, {"name": "gzip", "configuration": 5}]}, "codecs[1]", "configuration"),
        ({"attributes": []}, "attributes", "object"),
        ({"dimension_names": ["x"]}, "dimension_names", "2 names"),
        ({"dimension_names": ["x", 3]}, "dimension_names", "string or null"),
        ({"dimension_names": "xy"}, "dimension_names", "list"),
        ({"storage_transformers": None}, "storage_transformers", "list"),
    ],
)
def test_errors_name_source_and_field(overrides, field, msg):
    err = errors_of(doc(**overrides))
    assert err.source == SRC and err.field == field
    assert SRC in str(err) and f"'{field}'" in str(err) and msg in str(err)


def test_unknown_data_type_lists_supported():
    err = errors_of(doc(data_type="bfloat16"))
    assert isinstance(err, UnknownDataTypeError)
    assert "'bfloat16'" in str(err) and "float32" in str(err) and "complex128" in str(err)


@pytest.mark.parametrize("data", [b"{", b"", "not json", b"\xff\xfe", b"[1, 2]", b"null"])
def test_invalid_json(data):
    err = errors_of(data)
    assert err.source == SRC and SRC in str(err)


def test_zero_dim_array():
    m = ArrayMetadataV3.from_json(
        doc(
            shape=[], chunk_grid={"name": "regular", "configuration": {"chunk_shape": []}}, dimension_names=[]
        )
    )
    assert m.ndim == 0 and m.grid_shape == () and m.chunk_key_encoding.encode(()) == "c"


def test_group_round_trip():
    g = GroupMetadataV3.from_json(
        b'{"zarr_format": 3, "node_type": "group", "attributes": {"x": 1}}', source=SRC
    )
    assert g.attributes == {"x": 1} and g.consolidated_metadata is None
    assert g.zarr_format == 3 and g.node_type == "group"
    assert list(g.to_json()) == ["attributes", "zarr_format", "node_type"]
    assert GroupMetadataV3.from_json(g.to_bytes()) == g
    assert GroupMetadataV3.from_json({"zarr_format": 3, "node_type": "group"}).attributes == {}
    assert g.update_attributes({"y": 2}).attributes == {"y": 2}


def test_group_consolidated():
    cm = {"kind": "inline", "must_understand": False, "metadata": {}}
    g = GroupMetadataV3.from_json(
        {"zarr_format": 3, "node_type": "group", "attributes": {}, "consolidated_metadata": cm}
    )
    assert g.consolidated_metadata == cm
    assert list(g.to_json()) == ["attributes", "zarr_format", "consolidated_metadata", "node_type"]


@pytest.mark.parametrize(
    "data,field",
    [
        ({"zarr_format": 3, "node_type": "array"}, "node_type"),
        ({"zarr_format": 2, "node_type": "group"}, "zarr_format"),
        ({"zarr_format": 3, "node_type": "group", "attributes": 5}, "attributes"),
        ({"zarr_format": 3, "node_type": "group", "consolidated_metadata": 5}, "consolidated_metadata"),
        ({"zarr_format": 3, "node_type": "group", "ext": {"must_understand": True}}, "ext"),
    ],
)
def test_group_errors(data, field):
    with pytest.raises(MetadataError) as info:
        GroupMetadataV3.from_json(data, source="g/zarr.json")
    assert info.value.source == "g/zarr.json" and info.value.field == field


def test_group_invalid_json():
    with pytest.raises(MetadataError) as info:
        GroupMetadataV3.from_json(b"{oops", source="g/zarr.json")
    assert "g/zarr.json" in str(info.value)
