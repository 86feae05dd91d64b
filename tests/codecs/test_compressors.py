"""gzip, zstd, blosc and crc32c: round trips, numcodecs interop, exact-size decoding into ``out``."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest
import zstandard
from numcodecs.checksum32 import CRC32C

from cuzarr.codecs import (
    BloscCname,
    BloscCodec,
    BloscShuffle,
    BytesCodec,
    CodecChain,
    Crc32cCodec,
    GzipCodec,
    ZstdCodec,
)
from cuzarr.codecs.base import ChunkSpec
from cuzarr.codecs.zstd import frame_content_size
from cuzarr.errors import CodecError, MetadataError

from .common import DTYPES, mask_gzip_mtime, roundtrip_chain, sample

SPEC = ChunkSpec((1000,), np.dtype("<f8"))
DATA = np.round(np.random.default_rng(1).normal(size=1000), 2)

COMPRESSORS = [
    GzipCodec(),
    GzipCodec(level=0),
    GzipCodec(level=9),
    ZstdCodec(),
    ZstdCodec(level=-3),
    ZstdCodec(level=7, checksum=True),
    BloscCodec(),
    BloscCodec(cname="lz4", shuffle="bitshuffle"),
    BloscCodec(cname="lz4hc", shuffle="noshuffle", clevel=9),
    BloscCodec(cname="blosclz", typesize=2, blocksize=256),
    BloscCodec(cname="zlib", clevel=1),
    Crc32cCodec(),
]


@pytest.mark.parametrize("codec", COMPRESSORS, ids=repr)
@pytest.mark.parametrize("dtype", ["u1", "<i2", ">f4", "<c16", "<U3"])
def test_compressor_roundtrip(codec, dtype):
    roundtrip_chain([BytesCodec(), codec], dtype, (7, 9))


@pytest.mark.parametrize("dtype", DTYPES)
def test_stacked_compressors_all_dtypes(dtype):
    roundtrip_chain(
        [BytesCodec(), BloscCodec(cname="lz4"), ZstdCodec(), GzipCodec(level=1), Crc32cCodec()], dtype, (3, 4)
    )


@pytest.mark.parametrize("shape", [(), (1,), (0,), (1000,)])
def test_compressor_edge_shapes(shape):
    for codec in (GzipCodec(), ZstdCodec(), BloscCodec(), Crc32cCodec()):
        roundtrip_chain([BytesCodec(), codec], "<i4", shape, n=2)


# -- numcodecs interop -------------------------------------------------------------------------

NUMCODECS_EQUIVALENTS = [
    (ZstdCodec(level=3), numcodecs.Zstd(level=3)),
    (ZstdCodec(level=1, checksum=True), numcodecs.Zstd(level=1, checksum=True)),
    (GzipCodec(level=6), numcodecs.GZip(level=6)),
    (BloscCodec(cname="lz4", shuffle="shuffle", typesize=8), numcodecs.Blosc("lz4", 5, 1, typesize=8)),
    (BloscCodec(cname="zstd", shuffle="bitshuffle", typesize=8), numcodecs.Blosc("zstd", 5, 2, typesize=8)),
    (BloscCodec(cname="lz4", shuffle="noshuffle", clevel=3), numcodecs.Blosc("lz4", 3, 0, typesize=1)),
    (Crc32cCodec(), CRC32C()),
]


@pytest.mark.parametrize(("ours", "theirs"), NUMCODECS_EQUIVALENTS, ids=lambda c: repr(c))
def test_numcodecs_interop(ours, theirs):
    raw = DATA.view(np.uint8)
    encoded = ours.encode(raw, SPEC)
    np.testing.assert_array_equal(np.frombuffer(theirs.decode(encoded), np.uint8), raw)
    theirs_encoded = theirs.encode(raw)
    np.testing.assert_array_equal(np.frombuffer(ours.decode(theirs_encoded, SPEC), np.uint8), raw)
    if isinstance(ours, GzipCodec):  # the header's mtime is the current time
        encoded, theirs_encoded = mask_gzip_mtime(encoded), mask_gzip_mtime(theirs_encoded)
    assert bytes(encoded) == bytes(theirs_encoded)


# -- decoding into out: exact sizes only -------------------------------------------------------


@pytest.mark.parametrize("codec", [GzipCodec(), ZstdCodec(), BloscCodec(typesize=8), Crc32cCodec()], ids=repr)
def test_decode_into_out_requires_exact_size(codec):
    raw = DATA.view(np.uint8)
    encoded = codec.encode(raw, SPEC)
    out = np.empty(raw.size, np.uint8)
    assert codec.decode(encoded, SPEC, out=out) is out
    np.testing.assert_array_equal(out, raw)
    for size in (raw.size - 1, raw.size + 1, raw.size * 2):
        with pytest.raises(CodecError, match=codec.codec_name):
            codec.decode(encoded, SPEC, out=np.empty(size, np.uint8))


def test_zstd_frame_content_size_matches_zstandard():
    for n in (0, 1, 255, 256, 257, 65791, 65792, 70000, 1 << 20):
        data = bytes(np.arange(n, dtype=np.uint8))
        for level in (-1, 0, 3, 19):
            frame = numcodecs.Zstd(level=level).encode(data)
            assert frame_content_size(frame) == zstandard.frame_content_size(frame) == n
    assert frame_content_size(b"not zstd") is None


def test_zstd_frames_without_content_size_and_concatenated():
    raw = DATA.view(np.uint8)
    streamed = zstandard.ZstdCompressor(write_content_size=False).compress(raw.tobytes())
    assert frame_content_size(streamed) is None
    codec = ZstdCodec()
    out = np.empty(raw.size, np.uint8)
    np.testing.assert_array_equal(codec.decode(streamed, SPEC, out=out), raw)
    with pytest.raises(CodecError):
        codec.decode(streamed, SPEC, out=np.empty(raw.size + 8, np.uint8))
    half = raw.size // 2
    two = numcodecs.Zstd().encode(raw[:half]) + numcodecs.Zstd().encode(raw[half:])
    np.testing.assert_array_equal(codec.decode(two, SPEC, out=np.empty(raw.size, np.uint8)), raw)
    with pytest.raises(CodecError, match="zstd"):
        codec.decode(two + two, SPEC, out=np.empty(raw.size, np.uint8))


def test_gzip_multi_member():
    raw = DATA.view(np.uint8)
    two = numcodecs.GZip().encode(raw[:100]) + numcodecs.GZip().encode(raw[100:])
    np.testing.assert_array_equal(GzipCodec().decode(two, SPEC, out=np.empty(raw.size, np.uint8)), raw)


# -- configuration -----------------------------------------------------------------------------


def test_blosc_evolve_like_zarr_python():
    import zarr

    for dtype, typesize, shuffle in (("u1", 1, "bitshuffle"), ("<f8", 8, "shuffle"), ("<i2", 2, "shuffle")):
        chain = CodecChain([BytesCodec(), BloscCodec()], ChunkSpec((10,), np.dtype(dtype)))
        blosc = chain.compressors[0]
        assert (blosc.typesize, blosc.shuffle) == (typesize, BloscShuffle(shuffle))
        zarr_json = zarr.create_array(
            {}, shape=(10,), dtype=dtype, compressors=zarr.codecs.BloscCodec()
        ).metadata
        assert chain.to_json()[-1] == zarr_json.to_dict()["codecs"][-1]
    explicit = BloscCodec(typesize=4, shuffle="noshuffle")
    assert explicit.evolve(ChunkSpec((10,), np.dtype("u1"))) == explicit
    # unevolved JSON is what zarr-python writes for an unevolved codec
    assert BloscCodec().to_json() == zarr.codecs.BloscCodec().to_dict()
    assert BloscCodec() != BloscCodec(typesize=1, shuffle="bitshuffle")
    assert len({BloscCodec(), BloscCodec()}) == 1


def test_blosc_unset_settings_read_as_zarr_pythons_defaults():
    """Before it meets a dtype, zarr-python reports typesize 1 and bitshuffle (what it would
    write), and lists the settings it will still tune in ``_tunable_attrs``."""
    import zarr

    for kwargs in ({}, {"typesize": 4}, {"shuffle": "noshuffle"}, {"typesize": 2, "shuffle": "shuffle"}):
        ours, theirs = BloscCodec(**kwargs), zarr.codecs.BloscCodec(**kwargs)
        assert (ours.typesize, ours.shuffle.value) == (theirs.typesize, theirs.shuffle.value)
        assert ours._tunable_attrs == theirs._tunable_attrs
        assert f"typesize={theirs.typesize}," in repr(ours) and f"shuffle='{theirs.shuffle.value}'" in repr(
            ours
        )
        tuned = ours.evolve(ChunkSpec((10,), np.dtype("<f8")))
        assert tuned.typesize == kwargs.get("typesize", 8)
        assert tuned.shuffle.value == kwargs.get("shuffle", "shuffle") and not tuned._tunable_attrs


def test_blosc_matches_numcodecs_with_typesize():
    raw = DATA.view(np.uint8)
    for shuffle, number in (("shuffle", 1), ("bitshuffle", 2), ("noshuffle", 0)):
        ours = BloscCodec(cname="zstd", clevel=3, shuffle=shuffle).evolve(SPEC)
        theirs = numcodecs.Blosc(cname="zstd", clevel=3, shuffle=number, typesize=8)
        assert ours.encode(raw, SPEC) == theirs.encode(raw)


def test_blosc_enums_and_zarr_style_construction():
    import zarr

    import cuzarr as cz

    codec = cz.codecs.BloscCodec(cname="zstd", clevel=3, shuffle=cz.codecs.BloscShuffle.shuffle)
    assert codec.shuffle == "shuffle" and codec.cname == BloscCname.zstd
    assert (
        BloscCodec(shuffle=zarr.codecs.BloscShuffle.bitshuffle, cname=zarr.codecs.BloscCname.lz4).cname
        == "lz4"
    )
    assert BloscShuffle.from_int(2) is BloscShuffle.bitshuffle
    assert BloscCodec(shuffle=0).shuffle is BloscShuffle.noshuffle
    for kwargs in (
        {"cname": "snappyy"},
        {"shuffle": "byte"},
        {"clevel": 10},
        {"typesize": 0},
        {"blocksize": -1},
    ):
        with pytest.raises(MetadataError, match="blosc codec"):
            BloscCodec(**kwargs)


def test_blosc_unavailable_cname_is_a_clear_encode_error():
    if "snappy" in numcodecs.blosc.list_compressors():
        pytest.skip("this blosc build has snappy")
    with pytest.raises(CodecError, match="snappy.*not compiled"):
        BloscCodec(cname="snappy").encode(DATA, SPEC)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (GzipCodec, {"level": 10}),
        (GzipCodec, {"level": "5"}),
        (ZstdCodec, {"level": 23}),
        (ZstdCodec, {"checksum": 1}),
    ],
)
def test_invalid_levels(cls, kwargs):
    with pytest.raises(MetadataError, match=cls.codec_name):
        cls(**kwargs)


def test_json_round_trip():
    for codec in COMPRESSORS:
        again = type(codec).from_config(codec.get_config())
        assert again.to_json() == codec.to_json()
    assert Crc32cCodec().to_json() == {"name": "crc32c"}
    assert ZstdCodec().to_json() == {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
    assert GzipCodec().to_json() == {"name": "gzip", "configuration": {"level": 5}}


def test_sample_helper_covers_dtypes():
    for dtype in DTYPES:
        assert sample((3,), dtype).dtype == np.dtype(dtype)
