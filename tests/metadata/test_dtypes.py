"""Data type names: v3 names, v2 typestr strings, user-facing normalization."""

from __future__ import annotations

import numpy as np
import pytest

from cuzarr.errors import MetadataError, UnknownDataTypeError
from cuzarr.metadata import (
    V3_DATA_TYPES,
    normalize_dtype,
    parse_v2_dtype,
    parse_v3_data_type,
    v2_dtype_str,
    v3_data_type_name,
)

NAMES = [
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
    "complex64",
    "complex128",
]


def test_v3_table_is_complete_and_native():
    assert list(V3_DATA_TYPES) == NAMES
    for name, dt in V3_DATA_TYPES.items():
        assert dt == np.dtype(name)
        assert dt.isnative


@pytest.mark.parametrize("name", NAMES)
def test_v3_name_round_trip(name):
    dt = parse_v3_data_type(name)
    assert dt == np.dtype(name)
    assert v3_data_type_name(dt) == name
    assert v3_data_type_name(dt.newbyteorder(">")) == name
    assert v3_data_type_name(dt.newbyteorder("<")) == name


def test_v3_object_form():
    assert parse_v3_data_type({"name": "int32"}) == np.dtype("int32")


@pytest.mark.parametrize("bad", ["float128", "bfloat16", "<f4", "", None, 3, {"name": "nope"}])
def test_v3_unknown(bad):
    with pytest.raises(UnknownDataTypeError) as info:
        parse_v3_data_type(bad, source="x/zarr.json")
    err = info.value
    assert isinstance(err, MetadataError)
    assert err.source == "x/zarr.json" and err.field == "data_type"
    assert "supported" in str(err) and "float32" in str(err) and "x/zarr.json" in str(err)


def test_v3_configuration_refused():
    with pytest.raises(UnknownDataTypeError):
        parse_v3_data_type({"name": "int32", "configuration": {"x": 1}})


@pytest.mark.parametrize(
    "s",
    [
        "<f4",
        ">f4",
        "<f2",
        ">f8",
        "<i2",
        ">i2",
        "<i8",
        ">u8",
        "<u2",
        "|b1",
        "|u1",
        "|i1",
        "<c8",
        ">c16",
        "<c16",
    ],
)
def test_v2_round_trip(s):
    dt = parse_v2_dtype(s)
    assert dt == np.dtype(s)
    assert v2_dtype_str(dt) == s


def test_v2_byte_order_kept():
    assert parse_v2_dtype(">i2").byteorder == ">"
    assert v2_dtype_str(np.dtype("float32").newbyteorder(">")) == ">f4"
    assert v2_dtype_str(np.dtype("=f4")) == np.dtype("f4").str


def test_v2_single_byte_spellings_normalize():
    assert v2_dtype_str(parse_v2_dtype("<u1")) == "|u1"
    assert v2_dtype_str(parse_v2_dtype(">b1")) == "|b1"


@pytest.mark.parametrize(
    "bad", ["|f4", "f4", "|U4", "|S0", "|O", "<M8[xs]", "<f16", "<c32", "<V4", 5, None, []]
)
def test_v2_unsupported(bad):
    with pytest.raises(UnknownDataTypeError) as info:
        parse_v2_dtype(bad, source="a/.zarray")
    assert info.value.source == "a/.zarray" and info.value.field == "dtype"
    assert "a/.zarray" in str(info.value)


@pytest.mark.parametrize(
    "given,expected",
    [
        ("f4", np.dtype("float32")),
        ("float32", np.dtype("float32")),
        (np.float32, np.dtype("float32")),
        (np.dtype(">i2"), np.dtype(">i2")),
        ("i8", np.dtype("int64")),
        (bool, np.dtype("bool")),
        (int, np.dtype("int64")),
        (float, np.dtype("float64")),
        (complex, np.dtype("complex128")),
        ("uint16", np.dtype("uint16")),
        ("<c8", np.dtype("complex64")),
    ],
)
def test_normalize(given, expected):
    out = normalize_dtype(given)
    assert out == expected and out.byteorder == expected.byteorder


@pytest.mark.parametrize("bad", [None, "U0", object, "O", "f16", "not-a-type", [("a", "f16")], "S0", bytes])
def test_normalize_refuses(bad):
    with pytest.raises(UnknownDataTypeError) as info:
        normalize_dtype(bad)
    assert "supported" in str(info.value) and "int8" in str(info.value)


def test_name_of_unsupported():
    with pytest.raises(UnknownDataTypeError):
        v3_data_type_name(np.dtype("f16"))
    with pytest.raises(UnknownDataTypeError):
        v2_dtype_str(np.dtype("U0"))
