"""``V2CodecChain`` against zarr-python 3.1 ``zarr_format=2`` arrays (byte-identical chunks)."""

from __future__ import annotations

import lzma
import tracemalloc

import numcodecs
import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

import cuzarr
from cuzarr.codecs import V2CodecChain
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError, MetadataError, UnknownCodecError

from .common import check_chain, mask_gzip_mtime, sample

COMPRESSORS = [
    None,
    {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0},
    {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
    {"id": "blosc", "cname": "zlib", "clevel": 1, "shuffle": 0, "blocksize": 0},
    {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": -1, "blocksize": 0},
    {"id": "zstd", "level": 1},
    {"id": "zstd", "level": 5, "checksum": True},
    {"id": "gzip", "level": 5},
    {"id": "zlib", "level": 1},
    {"id": "lz4", "acceleration": 1},
    {"id": "bz2", "level": 1},
    {"id": "lzma"},
]


def zarr_v2_chunk(data: np.ndarray, order: str, compressor, filters) -> tuple[bytes, dict, np.ndarray]:
    """Raw bytes of chunk '0.0...' as zarr-python writes it, the .zarray fields, and zarr's read-back."""
    store: dict = {}
    array = zarr.create_array(
        store=MemoryStore(store),
        shape=data.shape,
        chunks=data.shape,
        dtype=data.dtype,
        zarr_format=2,
        order=order,
        compressors=numcodecs.get_codec(dict(compressor)) if compressor else None,
        filters=[numcodecs.get_codec(dict(f)) for f in filters] if filters else None,
        fill_value=None,
    )
    array[...] = data
    meta = array.metadata.to_dict()
    return store[".".join("0" * data.ndim) or "0"].to_bytes(), meta, array[...]


def same_chunk(ours: bytes, theirs: bytes, compressor) -> bool:
    if compressor and compressor["id"] == "gzip":  # numcodecs stamps the current time
        ours, theirs = mask_gzip_mtime(ours), mask_gzip_mtime(theirs)
    return ours == theirs


def compare_with_zarr(
    data: np.ndarray, order: str, compressor, filters, *, exact: bool = True
) -> V2CodecChain:
    theirs, meta, zarr_read = zarr_v2_chunk(data, order, compressor, filters)
    chain = V2CodecChain(meta["compressor"], meta["filters"], ChunkSpec(data.shape, data.dtype, 0, order))
    ours = bytes(chain.encode_batch([data], keys=["0.0"])[0])
    assert same_chunk(ours, theirs, compressor)
    decoded = chain.decode_batch([theirs], keys=["0.0"])[0]
    assert decoded.dtype == data.dtype
    np.testing.assert_array_equal(decoded, zarr_read)
    if exact:
        np.testing.assert_array_equal(decoded, data)
    return chain


@pytest.mark.parametrize("compressor", COMPRESSORS, ids=lambda c: "none" if c is None else f"{c['id']}")
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<f8", ">f4", ">i2", "u1"])
def test_v2_matches_zarr_python(compressor, order, dtype):
    data = sample((6, 7), dtype)
    chain = compare_with_zarr(data, order, compressor, None)
    check_chain(chain, [data, sample((6, 7), dtype, 1), sample((6, 7), dtype, 2)])


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", ["<i4", ">i8", "<u2"])
def test_v2_delta_filter(order, dtype):
    filters = [{"id": "delta", "dtype": dtype}]
    data = sample((5, 4, 3), dtype)
    for compressor in (None, COMPRESSORS[1], COMPRESSORS[5]):
        chain = compare_with_zarr(data, order, compressor, filters)
        check_chain(chain, [data, sample((5, 4, 3), dtype, 3)])


@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_fixedscaleoffset_and_shuffle_filters(order):
    data = sample((8, 9), "<f8")
    fso = [{"id": "fixedscaleoffset", "offset": -1000, "scale": 10, "dtype": "<f8", "astype": "<u2"}]
    chain = compare_with_zarr(data, order, COMPRESSORS[5], fso, exact=False)
    np.testing.assert_allclose(chain.decode(chain.encode(data)), data, atol=1e-9)
    quantize = [{"id": "quantize", "digits": 2, "dtype": "<f8"}, {"id": "shuffle", "elementsize": 8}]
    compare_with_zarr(data, order, COMPRESSORS[2], quantize, exact=False)


def test_v2_object_strings():
    data = np.array([["a", "bb", ""], ["ccc", "é", "x"]], dtype=object)
    store: dict = {}
    array = zarr.create_array(
        store=MemoryStore(store), shape=data.shape, chunks=data.shape, dtype=str, zarr_format=2
    )
    array[...] = data
    meta = array.metadata.to_dict()
    chain = V2CodecChain(
        meta["compressor"], meta["filters"], ChunkSpec(data.shape, np.dtype(object), "", "C")
    )
    assert bytes(chain.encode(data)) == store["0.0"].to_bytes()
    np.testing.assert_array_equal(chain.decode(store["0.0"].to_bytes()), data)
    out = np.empty(data.shape, object)
    assert chain.decode_batch([store["0.0"].to_bytes()], keys=["0.0"], outs=[out])[0] is out
    plain = V2CodecChain(None, None, ChunkSpec((2,), np.dtype(object), None, "C"))
    with pytest.raises(CodecError, match="object codec"):
        plain.encode(np.array(["a", "b"], dtype=object))


def test_v2_fortran_fast_path_has_no_intermediate():
    spec = ChunkSpec((512, 256, 4), np.dtype(">f8"), 0, "F")
    data = np.asfortranarray(np.round(np.random.default_rng(0).normal(size=spec.shape), 2).astype(">f8"))
    for compressor in COMPRESSORS[1], COMPRESSORS[5], COMPRESSORS[7]:
        chain = V2CodecChain(compressor, None, spec)
        encoded = bytes(chain.encode(data))
        out = np.zeros(spec.shape, spec.dtype, order="F")
        tracemalloc.start()
        try:
            assert chain.decode(encoded, out=out) is out
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_array_equal(out, data)
        assert peak < spec.nbytes // 3


def test_v2_properties_and_json():
    chain = V2CodecChain(
        {"id": "zstd", "level": 1}, [{"id": "delta", "dtype": "<i4"}], ChunkSpec((4,), np.dtype("<i4"))
    )
    assert chain.to_json() == {
        "compressor": {"id": "zstd", "level": 1, "checksum": False},
        "filters": [{"id": "delta", "dtype": "<i4", "astype": "<i4"}],
    }
    assert chain.compressors == (numcodecs.Zstd(level=1),)
    assert chain.has_array_array_codecs and chain.serializer is None
    bare = V2CodecChain(None, None, ChunkSpec((4,), np.dtype("<i4"), 0, "c"))
    assert bare.to_json() == {"compressor": None, "filters": None} and bare.compressors == ()
    assert (
        V2CodecChain(numcodecs.Zlib(), None, ChunkSpec((4,), np.dtype("u1"))).compressor == numcodecs.Zlib()
    )


def test_v2_config_errors():
    spec = ChunkSpec((4,), np.dtype("<i4"))
    with pytest.raises(
        UnknownCodecError, match=r"unknown numcodecs codec id 'snappy9' in compressor; available: .*zstd"
    ):
        V2CodecChain({"id": "snappy9"}, None, spec)
    with pytest.raises(UnknownCodecError, match="in filters"):
        V2CodecChain(None, [{"id": "nope"}], spec)
    with pytest.raises(MetadataError, match="'id'"):
        V2CodecChain({"level": 1}, None, spec)
    with pytest.raises(MetadataError, match="invalid compressor config"):
        V2CodecChain({"id": "zstd", "bogus": 1}, None, spec)
    with pytest.raises(MetadataError, match="order"):
        V2CodecChain(None, None, ChunkSpec((4,), np.dtype("<i4"), 0, "K"))


def test_v2_size_mismatch_is_an_error():
    spec = ChunkSpec((10,), np.dtype("<i4"))
    for compressor in COMPRESSORS:
        chain = V2CodecChain(compressor, None, spec)
        other = V2CodecChain(compressor, None, ChunkSpec((11,), np.dtype("<i4")))
        wrong = other.encode(np.arange(11, dtype="<i4"))
        with pytest.raises(CodecError, match=r"chunk '0': "):
            chain.decode_batch([wrong], keys=["0"])
        with pytest.raises(CodecError, match=r"chunk '0': "):
            chain.decode_batch([wrong], keys=["0"], outs=[np.empty(10, "<i4")])


@pytest.mark.parametrize(
    ("fmt", "filters"),
    [
        (lzma.FORMAT_RAW, [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2, "preset": 1}]),
        (lzma.FORMAT_XZ, None),
        (lzma.FORMAT_ALONE, None),
    ],
)
def test_v2_lzma_reads_every_format_zarr_python_writes(tmp_path, fmt, filters):
    """The bounded lzma decoder must use the compressor's format and, for raw streams, filters."""
    data = np.arange(1000, dtype="<i4").reshape(10, 100)
    written = zarr.create_array(
        store=str(tmp_path),
        shape=data.shape,
        chunks=(5, 50),
        dtype="<i4",
        zarr_format=2,
        compressors=numcodecs.LZMA(format=fmt, filters=filters),
    )
    written[...] = data
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path), mode="r")[...], data)
