"""Chunk grid, chunk key encodings and automatic chunk shapes."""

from __future__ import annotations

import warnings

import pytest
import zarr
import zarr.core.chunk_grids as zarr_chunk_grids
from hypothesis import given, settings
from hypothesis import strategies as st

from cuzarr.errors import MetadataError
from cuzarr.metadata import ChunkKeyEncoding, RegularChunkGrid, guess_chunks
from cuzarr.metadata.auto_chunks import auto_chunks_for, auto_shard_shape, fit_in_shard


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
    assert guess_chunks((8192, 8192), 4) == (512, 512)
    assert guess_chunks((1000, 1000), 1) == (500, 500)


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(0, 10**7), max_size=5).map(tuple),
    itemsize=st.sampled_from([0, 1, 2, 3, 4, 8, 16, 40]),
)
def test_guess_chunks_is_zarr_pythons(shape, itemsize):
    """The same create_array call lays out the same chunks as in zarr-python."""
    chunks = guess_chunks(shape, itemsize)
    assert len(chunks) == len(shape)
    if itemsize:
        RegularChunkGrid(chunks)  # always valid
    expected = zarr_chunk_grids._guess_chunks(shape, itemsize)
    assert chunks == tuple(max(1, c) for c in expected)
    sharded = guess_chunks(shape, itemsize, max_bytes=2**20)
    assert sharded == tuple(
        max(1, c) for c in zarr_chunk_grids._guess_chunks(shape, itemsize, max_bytes=2**20)
    )


@settings(max_examples=100, deadline=None)
@given(
    shape=st.lists(st.integers(1, 10**5), min_size=1, max_size=4).map(tuple),
    itemsize=st.sampled_from([1, 2, 4, 8]),
    target=st.sampled_from([None, 2**20, 2**24, 2**27]),
)
def test_auto_shards_are_zarr_pythons(shape, itemsize, target):
    chunks = auto_chunks_for(shape, itemsize, sharded=True)
    shards = auto_shard_shape(shape, chunks, itemsize, target)
    with zarr.config.set({"array.target_shard_size_bytes": target}), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected_shards, expected_chunks = zarr_chunk_grids._auto_partition(
            array_shape=shape, chunk_shape="auto", shard_shape="auto", item_size=itemsize
        )
    assert (shards, chunks) == (tuple(expected_shards), tuple(expected_chunks))


@given(
    chunks=st.lists(st.integers(1, 3000), min_size=1, max_size=4),
    shards=st.lists(st.integers(1, 3000), min_size=4, max_size=4),
)
def test_fit_in_shard_divides_and_keeps_what_divides(chunks, shards):
    shards = tuple(shards[: len(chunks)])
    fitted = fit_in_shard(tuple(chunks), shards)
    for c, f, s in zip(chunks, fitted, shards):
        assert s % f == 0 and 1 <= f <= min(c, s)
        if s % c == 0:
            assert f == c
