"""Strings, bytes, datetimes and records: v3 ``data_type`` JSON and v2 ``dtype`` spellings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuzarr.errors import UnknownDataTypeError
from cuzarr.metadata import (
    STRING_DTYPE,
    VLEN_BYTES_DTYPE,
    is_variable_length,
    normalize_dtype,
    object_codec_id,
    parse_v2_dtype,
    parse_v3_data_type,
    v2_dtype_json,
    v3_data_type_json,
    v3_data_type_name,
)
from cuzarr.metadata.dtypes import TIME_UNITS, v3_canonical

REC = np.dtype([("a", "<i4"), ("b", "<f8")])

# (v3 JSON as zarr-python 3.1.6 writes it, in-memory dtype)
V3_CASES = [
    ("string", STRING_DTYPE),
    ("variable_length_bytes", VLEN_BYTES_DTYPE),
    ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 5}}, np.dtype("S5")),
    ({"name": "fixed_length_utf32", "configuration": {"length_bytes": 16}}, np.dtype("U4")),
    ({"name": "raw_bytes", "configuration": {"length_bytes": 3}}, np.dtype("V3")),
    ({"name": "numpy.datetime64", "configuration": {"unit": "ns", "scale_factor": 1}}, np.dtype("M8[ns]")),
    ({"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 10}}, np.dtype("M8[10s]")),
    ({"name": "numpy.datetime64", "configuration": {"unit": "generic", "scale_factor": 1}}, np.dtype("M8")),
    ({"name": "numpy.timedelta64", "configuration": {"unit": "D", "scale_factor": 1}}, np.dtype("m8[D]")),
    (
        {"name": "structured", "configuration": {"fields": [["a", "int32"], ["b", "float64"]]}},
        REC,
    ),
    (
        {
            "name": "structured",
            "configuration": {
                "fields": [
                    ["s", {"name": "null_terminated_bytes", "configuration": {"length_bytes": 2}}],
                    ["in", {"name": "structured", "configuration": {"fields": [["x", "uint8"]]}}],
                ]
            },
        },
        np.dtype([("s", "S2"), ("in", [("x", "u1")])]),
    ),
]


@pytest.mark.parametrize("json,dtype", V3_CASES)
def test_v3_round_trip(json, dtype):
    assert parse_v3_data_type(json) == dtype
    assert v3_data_type_json(dtype) == json
    assert v3_data_type_name(dtype) == (json if isinstance(json, str) else json["name"])


def test_v3_aliases_read():
    assert parse_v3_data_type("bytes") == VLEN_BYTES_DTYPE
    assert parse_v3_data_type({"name": "string"}) == STRING_DTYPE
    assert parse_v3_data_type(
        {"name": "numpy.datetime64", "configuration": {"unit": "μs", "scale_factor": 1}}
    ) == np.dtype("M8[us]")


def test_string_is_numpy_string_dtype():
    """zarr-python 3.1.6 returns StringDType for the string type on NumPy 2."""
    assert np.dtypes.StringDType() == STRING_DTYPE
    assert is_variable_length(STRING_DTYPE) and is_variable_length(VLEN_BYTES_DTYPE)
    assert not is_variable_length(np.dtype("U3")) and not is_variable_length(REC)


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "null_terminated_bytes"},
        {"name": "null_terminated_bytes", "configuration": {"length_bytes": 0}},
        {"name": "null_terminated_bytes", "configuration": {"length_bytes": "5"}},
        {"name": "fixed_length_utf32", "configuration": {"length_bytes": 6}},
        {"name": "raw_bytes", "configuration": {"length_bytes": 4, "x": 1}},
        {"name": "numpy.datetime64", "configuration": {"unit": "xs", "scale_factor": 1}},
        {"name": "numpy.datetime64", "configuration": {"unit": "s", "scale_factor": 0}},
        {"name": "numpy.timedelta64", "configuration": {"unit": "s", "scale_factor": 2**31}},
        {"name": "numpy.timedelta64", "configuration": {"unit": "s"}},
        {"name": "structured", "configuration": {"fields": []}},
        {"name": "structured", "configuration": {"fields": [["a", "string"]]}},
        {"name": "structured", "configuration": {"fields": [["a", "int8"], ["a", "int8"]]}},
        {"name": "structured", "configuration": {"fields": [["a"]]}},
        {"name": "string", "configuration": {"x": 1}},
        {"name": "int8", "extra": 1},
    ],
)
def test_v3_invalid(bad):
    with pytest.raises(UnknownDataTypeError) as info:
        parse_v3_data_type(bad, source="a/zarr.json")
    assert info.value.field == "data_type" and info.value.source == "a/zarr.json"


def test_v3_canonical_byte_orders():
    assert v3_canonical(np.dtype(">U3")) == np.dtype("=U3")
    assert v3_canonical(np.dtype(">M8[ns]")).isnative
    rec = v3_canonical(np.dtype([("a", ">i4"), ("b", [("c", ">f2")])]))
    assert rec == np.dtype([("a", "<i4"), ("b", [("c", "<f2")])])
    with pytest.raises(ValueError, match="shape"):
        v3_canonical(np.dtype([("a", "<i4", (2,))]))


# (v2 dtype JSON as zarr-python writes it, object codec id, in-memory dtype)
V2_CASES = [
    ("|S5", None, np.dtype("S5")),
    ("<U4", None, np.dtype("<U4")),
    (">U4", None, np.dtype(">U4")),
    ("|V7", None, np.dtype("V7")),
    ("<M8[ns]", None, np.dtype("<M8[ns]")),
    (">m8[10s]", None, np.dtype(">m8[10s]")),
    ("<M8", None, np.dtype("<M8")),
    ("|O", "vlen-utf8", STRING_DTYPE),
    ("|O", "vlen-bytes", VLEN_BYTES_DTYPE),
    ([["a", "<i4"], ["b", ">f8"]], None, np.dtype([("a", "<i4"), ("b", ">f8")])),
    ([["a", "|S2"], ["n", [["x", "|u1"]]]], None, np.dtype([("a", "S2"), ("n", [("x", "u1")])])),
    ([["a", "<f4", [2, 3]]], None, np.dtype([("a", "<f4", (2, 3))])),
]


@pytest.mark.parametrize("json,codec,dtype", V2_CASES)
def test_v2_round_trip(json, codec, dtype):
    parsed = parse_v2_dtype(json, object_codec_id=codec)
    assert parsed == dtype
    assert v2_dtype_json(parsed) == json


@pytest.mark.parametrize("bad,codec", [("|O", None), ("|O", "pickle"), ([], None), ([["a"]], None)])
def test_v2_invalid(bad, codec):
    with pytest.raises(UnknownDataTypeError) as info:
        parse_v2_dtype(bad, object_codec_id=codec, source="a/.zarray")
    assert info.value.field == "dtype"


def test_object_codec_id_search_order():
    assert object_codec_id([{"id": "delta"}, {"id": "vlen-utf8"}], {"id": "zstd"}) == "vlen-utf8"
    assert object_codec_id(None, {"id": "vlen-bytes"}) == "vlen-bytes"
    assert object_codec_id(None, None) is None


@pytest.mark.parametrize(
    "given,expected",
    [
        (str, STRING_DTYPE),
        ("str", STRING_DTYPE),
        ("string", STRING_DTYPE),
        (np.dtypes.StringDType(), STRING_DTYPE),
        ("variable_length_bytes", VLEN_BYTES_DTYPE),
        ("S10", np.dtype("S10")),
        ("U10", np.dtype("U10")),
        ("V4", np.dtype("V4")),
        ("M8[ns]", np.dtype("M8[ns]")),
        ("m8[25ms]", np.dtype("m8[25ms]")),
        ([("a", "i4"), ("b", "f8")], np.dtype([("a", "i4"), ("b", "f8")])),
        ({"name": "null_terminated_bytes", "configuration": {"length_bytes": 3}}, np.dtype("S3")),
        (
            np.dtype({"names": ["a", "b"], "formats": ["u1", "<i4"], "offsets": [0, 4]}),
            np.dtype([("a", "u1"), ("b", "<i4")]),
        ),
    ],
)
def test_normalize_new_types(given, expected):
    assert normalize_dtype(given) == expected


def test_normalize_object_needs_opt_in():
    with pytest.raises(UnknownDataTypeError, match="ambiguous"):
        normalize_dtype(object)
    assert normalize_dtype(object, allow_object=True) == VLEN_BYTES_DTYPE
    with pytest.raises(UnknownDataTypeError, match="na_object"):
        normalize_dtype(np.dtypes.StringDType(na_object=None))
    with pytest.raises(UnknownDataTypeError):
        normalize_dtype([("a", "O")], allow_object=True)


# -- hypothesis: any supported dtype survives v3 and v2 JSON -----------------------------------

_scalar_dtypes = st.sampled_from(["i1", "<u2", ">i8", "<f4", ">c16", "?"]).map(np.dtype)
_fixed = st.builds(lambda k, n: np.dtype(f"{k}{n}"), st.sampled_from("SUV"), st.integers(1, 40))
_time = st.builds(
    lambda k, u, s: np.dtype(f"{k}8[{s}{u}]"),
    st.sampled_from("Mm"),
    st.sampled_from([u for u in TIME_UNITS if u not in ("generic", "μs")]),
    st.integers(1, 1000),
)
_leaf = _scalar_dtypes | _fixed | _time
_field_names = st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=4, unique=True)


@st.composite
def records(draw, depth: int = 2):
    names = draw(_field_names)
    inner = _leaf if depth == 0 else _leaf | records(depth - 1)
    return np.dtype([(n, draw(inner)) for n in names])


any_dtype = _leaf | records() | st.just(STRING_DTYPE) | st.just(VLEN_BYTES_DTYPE)


@given(any_dtype)
def test_hypothesis_v3_round_trip(dtype):
    expected = v3_canonical(dtype)
    assert parse_v3_data_type(v3_data_type_json(dtype)) == expected


@given(any_dtype)
def test_hypothesis_v2_round_trip(dtype):
    codec = {"T": "vlen-utf8", "O": "vlen-bytes"}.get(dtype.kind)
    assert parse_v2_dtype(v2_dtype_json(dtype), object_codec_id=codec) == dtype
