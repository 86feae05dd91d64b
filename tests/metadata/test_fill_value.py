"""Fill values: JSON encodings of v3 (spec + zarr-python) and v2 (zarr-python), bit-exact floats."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cuzarr.errors import MetadataError
from cuzarr.metadata import (
    V3_DATA_TYPES,
    cast_fill_value,
    default_fill_value,
    encode_fill_value_v2,
    encode_fill_value_v3,
    fill_values_equal,
    parse_fill_value_v2,
    parse_fill_value_v3,
)

F4, F8, F2, C8, C16 = (np.dtype(n) for n in ("f4", "f8", "f2", "c8", "c16"))


def bits(x) -> str:
    return np.asarray(x).tobytes().hex()


@pytest.mark.parametrize("dtype", list(V3_DATA_TYPES.values()))
def test_default(dtype):
    fv = default_fill_value(dtype)
    assert isinstance(fv, np.generic) and fv.dtype == dtype and fv == 0
    if dtype.kind == "b":
        assert fv is np.False_ or fv == np.False_


def test_default_big_endian_gives_native_scalar():
    fv = default_fill_value(np.dtype(">i2"))
    assert fv == 0 and fv.dtype == np.dtype("int16")


@pytest.mark.parametrize(
    "value,dtype,expected",
    [
        (True, "bool", True),
        (False, "bool", False),
        (-128, "int8", -128),
        (255, "uint8", 255),
        (2**64 - 1, "uint64", 2**64 - 1),
        (-(2**63), "int64", -(2**63)),
        (5.0, "int32", 5),  # integral floats are accepted (zarr-python does)
        (1.5, "float32", 1.5),
        (3, "float64", 3.0),
        ("Infinity", "float16", math.inf),
        ("-Infinity", "float64", -math.inf),
        ([1.0, -2.5], "complex64", complex(1, -2.5)),
        (["Infinity", 0], "complex128", complex(math.inf, 0)),
    ],
)
def test_parse_v3_values(value, dtype, expected):
    fv = parse_fill_value_v3(value, np.dtype(dtype))
    assert isinstance(fv, np.generic) and fv.dtype == np.dtype(dtype)
    assert fv == expected


@pytest.mark.parametrize("dtype", [F2, F4, F8])
def test_nan_canonical(dtype):
    fv = parse_fill_value_v3("NaN", dtype)
    assert np.isnan(fv) and bits(fv) == bits(np.asarray(np.nan, dtype))
    assert encode_fill_value_v3(fv, dtype) == "NaN"
    assert encode_fill_value_v2(fv, dtype) == "NaN"


@pytest.mark.parametrize(
    "hexstr,dtype",
    [("0x7fc00000", F4), ("0x7e00", F2), ("0x7ff8000000000000", F8)],
)
def test_hex_canonical_nan_equals_nan(hexstr, dtype):
    fv = parse_fill_value_v3(hexstr, dtype)
    assert bits(fv) == bits(parse_fill_value_v3("NaN", dtype))
    assert encode_fill_value_v3(fv, dtype) == "NaN"


@pytest.mark.parametrize(
    "hexstr,dtype",
    [("0x7fc00001", F4), ("0xffc00000", F4), ("0x7f800001", F4), ("0x7e01", F2), ("0x7ff0000000000001", F8)],
)
def test_hex_payload_nan_round_trips(hexstr, dtype):
    fv = parse_fill_value_v3(hexstr, dtype)
    assert np.isnan(fv)
    assert bits(fv) == bytes.fromhex(hexstr[2:])[::-1].hex()  # little-endian host
    assert encode_fill_value_v3(fv, dtype) == hexstr
    # v2 has no way to say it: zarr-python writes "NaN"
    assert encode_fill_value_v2(fv, dtype) == "NaN"


def test_hex_non_nan_and_uppercase():
    assert parse_fill_value_v3("0x3f800000", F4) == 1.0
    assert parse_fill_value_v3("0x3F800000", F4) == 1.0
    assert encode_fill_value_v3(parse_fill_value_v3("0x3f800000", F4), F4) == 1.0


def test_complex_hex_parts():
    fv = parse_fill_value_v3(["0x7fc00001", "0x3f800000"], C8)
    assert bits(fv.real) == bits(np.frombuffer(bytes.fromhex("7fc00001"), ">f4")[0].astype("f4"))
    assert fv.imag == 1.0
    assert encode_fill_value_v3(fv, C8) == ["0x7fc00001", 1.0]


@pytest.mark.parametrize(
    "value,dtype,json_v3,json_v2",
    [
        (np.float32(0), F4, 0.0, 0.0),
        (np.float32(0.1), F4, float(np.float32(0.1)), float(np.float32(0.1))),
        (np.float64(-0.0), F8, -0.0, -0.0),
        (np.float16(np.inf), F2, "Infinity", "Infinity"),
        (np.float64(-np.inf), F8, "-Infinity", "-Infinity"),
        (np.complex64(complex(np.nan, 1)), C8, ["NaN", 1.0], ["NaN", 1.0]),
        (np.int16(-3), np.dtype(">i2"), -3, -3),
        (np.uint64(2**64 - 1), np.dtype("u8"), 2**64 - 1, 2**64 - 1),
        (np.True_, np.dtype("bool"), True, True),
        (7, np.dtype("i1"), 7, 7),
        (2.5, F8, 2.5, 2.5),
    ],
)
def test_encode(value, dtype, json_v3, json_v2):
    got3, got2 = encode_fill_value_v3(value, dtype), encode_fill_value_v2(value, dtype)
    assert got3 == json_v3 and type(got3) is type(json_v3)
    assert got2 == json_v2 and type(got2) is type(json_v2)
    if isinstance(json_v3, float):
        assert math.copysign(1, got3) == math.copysign(1, json_v3)


def test_v2_null_and_legacy_forms():
    assert parse_fill_value_v2(None, F4) is None
    assert encode_fill_value_v2(None, F4) is None
    assert parse_fill_value_v2(0, np.dtype("bool")) == np.False_
    assert parse_fill_value_v2(["NaN", "-Infinity"], C16).imag == -math.inf
    assert parse_fill_value_v2(float("nan"), F8) is not None  # bare NaN token (json.loads accepts it)
    assert parse_fill_value_v2(3, np.dtype(">f8")).dtype == F8


@pytest.mark.parametrize(
    "value,dtype,msg",
    [
        (1, "bool", "true or false"),
        ("true", "bool", "true or false"),
        (256, "uint8", "out of range"),
        (-1, "uint32", "out of range"),
        (2**63, "int64", "out of range"),
        (1.5, "int16", "integer"),
        (True, "int16", "integer"),
        ("5", "int16", "integer"),
        ("nan", "float32", "NaN"),
        ("0x7fc0", "float32", "8 hex digits"),
        ("0x7fc0000000", "float32", "8 hex digits"),
        ("0xzz", "float32", "string must be one of"),
        ("1.5", "float64", "string must be one of"),
        (True, "float32", "number"),
        ([1.0], "float64", "number"),
        (1e300, "float16", "out of range"),
        (10**400, "float64", "out of range"),
        (1.0, "complex64", "[real, imag]"),
        ([1.0, 2.0, 3.0], "complex128", "[real, imag]"),
        (["x", 0], "complex64", "string must be one of"),
        (None, "float32", "null"),
    ],
)
def test_parse_v3_errors(value, dtype, msg):
    with pytest.raises(MetadataError) as info:
        parse_fill_value_v3(value, np.dtype(dtype), source="p/zarr.json")
    err = info.value
    assert err.source == "p/zarr.json" and err.field == "fill_value"
    assert msg in str(err) and "p/zarr.json" in str(err) and "fill_value" in str(err)


def test_v2_refuses_hex():
    with pytest.raises(MetadataError) as info:
        parse_fill_value_v2("0x7fc00000", F4, source="q/.zarray")
    assert info.value.source == "q/.zarray" and info.value.field == "fill_value"


def test_cast():
    assert cast_fill_value(3, np.dtype("f4")).dtype == F4
    assert cast_fill_value(np.int64(3), np.dtype(">i2")).dtype == np.dtype("i2")
    assert cast_fill_value(np.array(2.0), F8) == 2.0
    assert cast_fill_value(2 + 1j, C8) == np.complex64(2 + 1j)
    payload = parse_fill_value_v3("0x7fc00001", F4)
    assert bits(cast_fill_value(payload, F4)) == bits(payload)
    with pytest.raises(MetadataError):
        cast_fill_value(np.nan, np.dtype("i4"))
    with pytest.raises(MetadataError):
        cast_fill_value(300, np.dtype("u1"))
    with pytest.raises(MetadataError):
        cast_fill_value("a", F4)
    with pytest.raises(MetadataError):
        cast_fill_value(1j, F4)


def test_fill_values_equal():
    a = parse_fill_value_v3("NaN", F4)
    assert fill_values_equal(a, np.float32(np.nan))
    assert not fill_values_equal(a, parse_fill_value_v3("0x7fc00001", F4))
    assert not fill_values_equal(np.float64(0.0), np.float64(-0.0))
    assert not fill_values_equal(np.float32(1), np.float64(1))
    assert fill_values_equal(None, None) and not fill_values_equal(None, np.float32(0))
