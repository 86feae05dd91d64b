"""Property tests: random valid metadata -> to_json/to_bytes -> from_json gives it back (bitwise fills)."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuzarr.metadata import (
    V3_DATA_TYPES,
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    RegularChunkGrid,
    fill_values_equal,
)

SETTINGS = settings(max_examples=150, deadline=None)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
attributes = st.dictionaries(st.text(max_size=8), json_values, max_size=4)
codecs = st.lists(
    st.sampled_from(
        [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "bytes"},
            {"name": "transpose", "configuration": {"order": [0]}},
            {"name": "zstd", "configuration": {"level": 3, "checksum": False}},
            {"name": "crc32c", "configuration": {}},
            {
                "name": "sharding_indexed",
                "configuration": {"chunk_shape": [2], "codecs": [{"name": "bytes"}]},
            },
        ]
    ),
    min_size=1,
    max_size=3,
)


def float_bits(dtype: np.dtype) -> st.SearchStrategy:
    """Any bit pattern (NaN payloads, signed NaN, subnormals, inf) or a plain float."""
    uint = np.dtype(f"u{dtype.itemsize}")
    raw = st.integers(0, 2 ** (8 * dtype.itemsize) - 1).map(lambda b: np.array(b, dtype=uint).view(dtype)[()])
    plain = st.floats(width=8 * dtype.itemsize).map(dtype.type)
    return raw | plain | st.sampled_from([dtype.type(v) for v in (np.nan, np.inf, -np.inf, 0.0, -0.0)])


def fill_values(dtype: np.dtype) -> st.SearchStrategy:
    dtype = dtype.newbyteorder("=")
    if dtype.kind == "b":
        return st.booleans().map(np.bool_)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return st.integers(int(info.min), int(info.max)).map(dtype.type)
    if dtype.kind == "f":
        return float_bits(dtype)
    part = np.dtype(f"f{dtype.itemsize // 2}")
    return st.tuples(float_bits(part), float_bits(part)).map(lambda p: np.array(p, dtype=part).view(dtype)[0])


@st.composite
def shapes_and_chunks(draw):
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0, 1000), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.lists(st.integers(1, 64), min_size=ndim, max_size=ndim)))
    return shape, chunks


@st.composite
def v3_metadata(draw):
    shape, chunks = draw(shapes_and_chunks())
    dtype = draw(st.sampled_from(list(V3_DATA_TYPES.values())))
    names = draw(
        st.none() | st.lists(st.none() | st.text(max_size=5), min_size=len(shape), max_size=len(shape))
    )
    return ArrayMetadataV3(
        shape=shape,
        data_type=dtype,
        chunk_grid=RegularChunkGrid(chunks),
        chunk_key_encoding=ChunkKeyEncoding(
            *draw(st.sampled_from([("default", "/"), ("default", "."), ("v2", "."), ("v2", "/")]))
        ),
        fill_value=draw(fill_values(dtype)),
        codecs=tuple(draw(codecs)),
        attributes=draw(attributes),
        dimension_names=None if names is None else tuple(names),
    )


def canonical_nan(value: np.generic) -> np.generic:
    """v2 cannot store NaN payloads: zarr-python (and we) write every NaN as "NaN"."""
    arr = np.array(value)
    if arr.dtype.kind == "c":
        parts = arr.reshape(1).view(f"f{arr.dtype.itemsize // 2}").copy()
        parts[np.isnan(parts)] = np.nan
        return parts.view(arr.dtype)[0]
    if arr.dtype.kind == "f" and np.isnan(arr):
        return arr.dtype.type(np.nan)
    return value


@st.composite
def v2_metadata(draw):
    shape, chunks = draw(shapes_and_chunks())
    native = draw(st.sampled_from(list(V3_DATA_TYPES.values())))
    dtype = native.newbyteorder(draw(st.sampled_from(["<", ">"])))
    fill = draw(st.none() | fill_values(native).map(canonical_nan))
    compressor = draw(
        st.none()
        | st.sampled_from(
            [
                {"id": "zstd", "level": 0},
                {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
            ]
        )
    )
    filters = draw(
        st.none()
        | st.lists(
            st.sampled_from([{"id": "delta", "dtype": dtype.str}, {"id": "shuffle", "elementsize": 4}]),
            min_size=1,
            max_size=2,
        )
    )
    return ArrayMetadataV2(
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        compressor=compressor,
        filters=None if filters is None else tuple(filters),
        fill_value=fill,
        order=draw(st.sampled_from(["C", "F"])),
        dimension_separator=draw(st.sampled_from([".", "/"])),
        attributes=draw(attributes),
    )


@SETTINGS
@given(v3_metadata())
def test_v3_round_trip(meta):
    again = ArrayMetadataV3.from_json(meta.to_bytes(), source="rt/zarr.json")
    assert again == meta
    assert fill_values_equal(again.fill_value, meta.fill_value)
    assert again.to_bytes() == meta.to_bytes()
    assert ArrayMetadataV3.from_json(json.loads(json.dumps(meta.to_json()))) == meta


@SETTINGS
@given(v2_metadata())
def test_v2_round_trip(meta):
    again = ArrayMetadataV2.from_json(meta.to_bytes(), meta.attributes_bytes(), source="rt/.zarray")
    assert again == meta
    assert again.dtype.str == meta.dtype.str
    assert fill_values_equal(again.fill_value, meta.fill_value)
    assert again.to_bytes() == meta.to_bytes()
