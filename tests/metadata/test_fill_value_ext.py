"""Fill values of strings, bytes, datetimes and records: exactly zarr-python 3.1.6's JSON."""

from __future__ import annotations

import datetime
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuzarr.errors import MetadataError
from cuzarr.metadata import (
    STRING_DTYPE,
    VLEN_BYTES_DTYPE,
    cast_fill_value,
    default_fill_value,
    encode_fill_value_v2,
    encode_fill_value_v3,
    fill_values_equal,
    parse_fill_value_v2,
    parse_fill_value_v3,
)

REC = np.dtype([("a", "<i4"), ("b", "<f8")])
REC_BIG = np.dtype([("a", ">i4"), ("b", "<f8")])
NS, SEC10, DAYS = np.dtype("M8[ns]"), np.dtype("M8[10s]"), np.dtype("m8[D]")


@pytest.mark.parametrize(
    "dtype,expected,json",
    [
        (STRING_DTYPE, "", ""),
        (VLEN_BYTES_DTYPE, b"", ""),
        (np.dtype("S5"), np.bytes_(b""), ""),
        (np.dtype("U4"), np.str_(""), ""),
        (np.dtype("V4"), np.void(b"\0" * 4), "AAAAAA=="),
        (NS, np.datetime64("NaT", "ns"), -(2**63)),
        (DAYS, np.timedelta64("NaT", "D"), -(2**63)),
        (REC, np.zeros((), REC)[()], "AAAAAAAAAAAAAAAA"),
    ],
)
def test_defaults_match_zarr_python(dtype, expected, json):
    fill = default_fill_value(dtype)
    assert fill_values_equal(fill, expected) and type(fill) is type(expected)
    assert encode_fill_value_v3(fill, dtype) == json == encode_fill_value_v2(fill, dtype)


@pytest.mark.parametrize(
    "dtype,value,json",
    [
        (STRING_DTYPE, "héllo", "héllo"),
        (np.dtype("U3"), "abc", "abc"),
        (np.dtype(">U3"), "ab", "ab"),
        (VLEN_BYTES_DTYPE, b"\x00\xff", "AP8="),
        (np.dtype("S3"), b"ab", "YWI="),
        (np.dtype("V2"), b"\x01\x02", "AQI="),
        (np.dtype("V3"), b"\x01", "AQAA"),  # short: zero-padded, as np.void and zarr-python
        (NS, np.datetime64("2020-01-01", "ns"), 1577836800000000000),
        (SEC10, 5, 5),
        (DAYS, -3, -3),
        (REC, (5, 1.5), "BQAAAAAAAAAAAPg/"),
        (REC_BIG, (5, 1.5), "AAAABQAAAAAAAPg/"),
    ],
)
def test_round_trip(dtype, value, json):
    fill = cast_fill_value(value, dtype)
    for encode, parse in (
        (encode_fill_value_v3, parse_fill_value_v3),
        (encode_fill_value_v2, parse_fill_value_v2),
    ):
        assert encode(fill, dtype) == json
        assert fill_values_equal(parse(json, dtype), fill)


def test_read_spellings():
    assert parse_fill_value_v3("NaT", NS) == np.datetime64("NaT", "ns") or np.isnat(
        parse_fill_value_v3("NaT", NS)
    )
    assert parse_fill_value_v2(0, STRING_DTYPE) == "0"  # zarr-python 2 wrote 0 for object arrays
    assert parse_fill_value_v2(None, STRING_DTYPE) is None
    assert parse_fill_value_v3(7, SEC10) == np.datetime64(70, "s")


@pytest.mark.parametrize(
    "dtype,value",
    [
        (STRING_DTYPE, b"x"),
        (np.dtype("U2"), "abc"),
        (np.dtype("S2"), b"abc"),
        (np.dtype("S2"), "é"),
        (np.dtype("V2"), b"\x01\x02\x03"),
        (VLEN_BYTES_DTYPE, 3),
        (NS, 1.5),
        (NS, True),
        (NS, np.timedelta64(1, "D")),
        (DAYS, np.datetime64("2020-01-01")),
        (REC, b"\x00"),
        (REC, (1, 2, 3)),
        (REC, "x"),
    ],
)
def test_cast_refuses(dtype, value):
    with pytest.raises(MetadataError):
        cast_fill_value(value, dtype)


@pytest.mark.parametrize(
    "dtype,json",
    [
        (STRING_DTYPE, None),
        (STRING_DTYPE, [1]),
        (np.dtype("U2"), 1),
        (np.dtype("S2"), "!!not base64"),
        (np.dtype("S2"), 0),
        (VLEN_BYTES_DTYPE, 0),
        (NS, 1.5),
        (NS, "2020-01-01"),
        (REC, "AAAA"),
    ],
)
def test_parse_refuses(dtype, json):
    with pytest.raises(MetadataError) as info:
        parse_fill_value_v3(json, dtype, source="a/zarr.json")
    assert info.value.field == "fill_value"


def test_datetime_inputs():
    assert cast_fill_value(datetime.datetime(2020, 1, 1), np.dtype("M8[s]")) == np.datetime64(
        "2020-01-01", "s"
    )
    assert cast_fill_value("2020-01-01", np.dtype("M8[D]")) == np.datetime64("2020-01-01")
    assert cast_fill_value(datetime.timedelta(days=2), DAYS) == np.timedelta64(2, "D")
    assert np.isnat(cast_fill_value("NaT", np.dtype(">M8[ns]")))
    assert cast_fill_value(np.int64(3), DAYS) == np.timedelta64(3, "D")


def test_record_inputs():
    assert fill_values_equal(cast_fill_value(0, REC), np.zeros((), REC)[()])
    raw = np.array([(1, 2.0)], REC)[0]
    assert fill_values_equal(cast_fill_value(raw.tobytes(), REC), raw)
    assert fill_values_equal(cast_fill_value(raw, REC), raw)
    assert fill_values_equal(cast_fill_value([1, 2.0], REC), raw)


# -- agreement with zarr-python's own dtype classes ----------------------------------------------


def _zarr_dtype(dtype):
    zdt = pytest.importorskip("zarr.core.dtype")
    return zdt.get_data_type_from_native_dtype(dtype) if dtype.kind != "O" else zdt.VariableLengthBytes()


@pytest.mark.parametrize(
    "dtype,value",
    [
        (STRING_DTYPE, "x y"),
        (VLEN_BYTES_DTYPE, b"\x01abc"),
        (np.dtype("S4"), b"ab"),
        (np.dtype("U4"), "ab"),
        (np.dtype("V3"), b"abc"),
        (NS, np.datetime64("NaT", "ns")),
        (SEC10, np.datetime64(30, "s")),
        (DAYS, np.timedelta64(-4, "D")),
        (REC, (3, -0.5)),
        (REC_BIG, (3, -0.5)),
    ],
)
@pytest.mark.parametrize("fmt", [2, 3])
def test_same_json_as_zarr_python(dtype, value, fmt):
    zdtype = _zarr_dtype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = zdtype.to_json_scalar(zdtype.cast_scalar(value), zarr_format=fmt)
        ours = (encode_fill_value_v2 if fmt == 2 else encode_fill_value_v3)(value, dtype)
        assert ours == theirs
        back = zdtype.from_json_scalar(ours, zarr_format=fmt)
    parsed = (parse_fill_value_v2 if fmt == 2 else parse_fill_value_v3)(theirs, dtype)
    assert np.asarray(parsed).tobytes() == np.asarray(back).astype(np.asarray(parsed).dtype).tobytes()


# -- hypothesis ----------------------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
_time_ints = st.integers(-(2**63), 2**63 - 1)


@st.composite
def dtype_and_fill(draw):
    kind = draw(st.sampled_from(["T", "O", "S", "U", "V", "M", "m", "rec"]))
    if kind == "T":
        return STRING_DTYPE, draw(_text)
    if kind == "O":
        return VLEN_BYTES_DTYPE, draw(st.binary(max_size=20))
    if kind in "SV":
        n = draw(st.integers(1, 12))
        size = {"S": (0, n), "V": (n, n)}[kind]
        return np.dtype(f"{kind}{n}"), draw(st.binary(min_size=size[0], max_size=size[1]))
    if kind == "U":
        n = draw(st.integers(1, 8))
        value = draw(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=n)
        )
        return np.dtype(f"{draw(st.sampled_from('<>'))}U{n}"), value
    if kind in "Mm":
        unit = draw(st.sampled_from(["D", "s", "ms", "ns", "generic"]))
        dtype = np.dtype(f"{draw(st.sampled_from('<>'))}{kind}8" + ("" if unit == "generic" else f"[{unit}]"))
        ticks = -(2**63) if unit == "generic" else draw(_time_ints)  # generic: only NaT is usable
        return dtype, np.int64(ticks).view(dtype.newbyteorder("="))
    dtype = np.dtype(
        [("a", draw(st.sampled_from(["<i2", ">u4", "S3"]))), ("b", draw(st.sampled_from(["<f8", ">c8"])))]
    )
    return dtype, draw(st.binary(min_size=dtype.itemsize, max_size=dtype.itemsize))


@given(dtype_and_fill())
def test_hypothesis_round_trip(case):
    dtype, value = case
    fill = cast_fill_value(value, dtype)
    for encode, parse in (
        (encode_fill_value_v3, parse_fill_value_v3),
        (encode_fill_value_v2, parse_fill_value_v2),
    ):
        back = parse(encode(fill, dtype), dtype)
        assert fill_values_equal(back, fill)
        assert encode(back, dtype) == encode(fill, dtype)
