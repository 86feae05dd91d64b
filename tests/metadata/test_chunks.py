"""Chunk grid, chunk key encodings and automatic chunk shapes."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuzarr.errors import MetadataError
from cuzarr.metadata import ChunkKeyEncoding, RegularChunkGrid, guess_chunks


def test_grid_json_round_trip():
    grid = RegularChunkGrid.from_json({"name": "regular", "configuration": {"chunk_shape": [5, 3]}}, ndim=2)
    assert grid == RegularChunkGrid((5, 3))
    assert grid.to_json() == {"name": "regular", "configuration": {"chunk_shape": [5, 3]}}


def test_grid_shape():
    grid = RegularChunkGrid((5, 3))
    assert grid.grid_shape((10, 3)) == (2, 1)
    assert grid.grid_shape((11, 1)) == (3, 1)
    assert grid.grid_shape((0, 7)) == (0, 3)
    assert RegularChunkGrid(()).grid_shape(()) == ()


@pytest.mark.parametrize(
    "data,msg",
    [
        ({"name": "rectilinear", "configuration": {"chunk_shape": [1]}}, "rectilinear"),
        ({"name": "regular", "configuration": {}}, "chunk_shape"),
        ({"name": "regular", "configuration": {"chunk_shape": [0]}}, "positive"),
        ({"name": "regular", "configuration": {"chunk_shape": [-2]}}, "positive"),
        ({"name": "regular", "configuration": {"chunk_shape": [True]}}, "integers"),
        ({"name": "regular", "configuration": {"chunk_shape": [2.0]}}, "integers"),
        ({"name": "regular", "configuration": {"chunk_shape": [1, 2]}}, "1 entries"),
        ({"name": "regular", "configuration": {"chunk_shape": [2**41]}}, "2**40"),
        ({"name": "regular", "configuration": {"chunk_shape": "5"}}, "list"),
        ("regular", "object"),
        ({"configuration": {"chunk_shape": [1]}}, "name"),
    ],
)
def test_grid_errors(data, msg):
    with pytest.raises(MetadataError) as info:
        RegularChunkGrid.from_json(data, ndim=1, source="g/zarr.json")
    assert info.value.source == "g/zarr.json" and info.value.field == "chunk_grid"
    assert msg in str(info.value)


def test_grid_constructor_validates():
    with pytest.raises(MetadataError):
        RegularChunkGrid((0,))
    with pytest.raises(MetadataError):
        RegularChunkGrid((2**20, 2**21))


def test_key_encoding_json():
    assert ChunkKeyEncoding.from_json({"name": "default"}) == ChunkKeyEncoding("default", "/")
    assert ChunkKeyEncoding.from_json({"name": "v2"}) == ChunkKeyEncoding("v2", ".")
    enc = ChunkKeyEncoding.from_json({"name": "default", "configuration": {"separator": "."}})
    assert enc.to_json() == {"name": "default", "configuration": {"separator": "."}}
    assert ChunkKeyEncoding("v2", "/").to_json() == {"name": "v2", "configuration": {"separator": "/"}}


@pytest.mark.parametrize(
    "data", [{"name": "other"}, {"name": "default", "configuration": {"separator": "-"}}, "default", {}]
)
def test_key_encoding_errors(data):
    with pytest.raises(MetadataError) as info:
        ChunkKeyEncoding.from_json(data, source="k/zarr.json")
    assert info.value.source == "k/zarr.json" and info.value.field == "chunk_key_encoding"


def test_key_encoding_constructor_validates():
    with pytest.raises(MetadataError):
        ChunkKeyEncoding("default", "-")
    with pytest.raises(MetadataError):
        ChunkKeyEncoding("nested", "/")


@pytest.mark.parametrize(
    "enc,coords,key",
    [
        (ChunkKeyEncoding("default", "/"), (1, 23), "c/1/23"),
        (ChunkKeyEncoding("default", "."), (0, 0, 4), "c.0.0.4"),
        (ChunkKeyEncoding("default", "/"), (), "c"),
        (ChunkKeyEncoding("v2", "."), (1, 23), "1.23"),
        (ChunkKeyEncoding("v2", "/"), (1, 23), "1/23"),
        (ChunkKeyEncoding("v2", "."), (), "0"),
    ],
)
def test_encode_decode(enc, coords, key):
    assert enc.encode(coords) == key
    assert enc.decode(key, ndim=len(coords)) == coords


@pytest.mark.parametrize(
    "enc,key",
    [
        (ChunkKeyEncoding("default", "/"), "zarr.json"),
        (ChunkKeyEncoding("default", "/"), "c/"),
        (ChunkKeyEncoding("default", "/"), "c/1/x"),
        (ChunkKeyEncoding("default", "/"), "c/-1"),
        (ChunkKeyEncoding("default", "/"), "c/01"),
        (ChunkKeyEncoding("default", "/"), "c.1"),
        (ChunkKeyEncoding("default", "/"), "d/1"),
        (ChunkKeyEncoding("default", "/"), "c/\u0661"),  # a non-ASCII digit
        (ChunkKeyEncoding("v2", "."), ".zarray"),
        (ChunkKeyEncoding("v2", "."), ".zattrs"),
        (ChunkKeyEncoding("v2", "."), ""),
        (ChunkKeyEncoding("v2", "."), "1..2"),
        (ChunkKeyEncoding("v2", "."), "1/2"),
    ],
)
def test_decode_non_chunk_keys(enc, key):
    assert enc.decode(key) is None


def test_decode_checks_ndim():
    assert ChunkKeyEncoding().decode("c/1/2", ndim=3) is None
    assert ChunkKeyEncoding("v2", ".").decode("0") == (0,)
    assert ChunkKeyEncoding("v2", ".").decode("0", ndim=0) == ()
    assert ChunkKeyEncoding("v2", ".").decode("1", ndim=0) is None


@settings(max_examples=60, deadline=None)
@given(
    coords=st.lists(st.integers(0, 10**6), max_size=5).map(tuple),
    name=st.sampled_from(["default", "v2"]),
    sep=st.sampled_from(["/", "."]),
)
def test_encode_decode_property(coords, name, sep):
    enc = ChunkKeyEncoding(name, sep)
    assert enc.decode(enc.encode(coords), ndim=len(coords)) == coords


def test_guess_chunks_examples():
    assert guess_chunks((100,), 8) == (100,)  # small: one chunk
    assert guess_chunks((), 8) == ()
    assert guess_chunks((0, 5), 4) == (1, 5)
    chunks = guess_chunks((10000, 10000), 8)
    assert 1024**2 <= math.prod(chunks) * 8 <= 4 * 1024**2


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(0, 10**7), max_size=5).map(tuple), itemsize=st.sampled_from([1, 2, 4, 8, 16])
)
def test_guess_chunks_property(shape, itemsize):
    chunks = guess_chunks(shape, itemsize)
    RegularChunkGrid(chunks)  # always valid
    assert len(chunks) == len(shape)
    assert all(1 <= c <= max(1, s) for c, s in zip(chunks, shape))
    nbytes = math.prod(chunks) * itemsize
    whole = math.prod(max(1, s) for s in shape) * itemsize
    if whole <= 4 * 1024**2:
        assert chunks == tuple(max(1, s) for s in shape)
    else:
        assert 1024**2 <= nbytes <= 4 * 1024**2
