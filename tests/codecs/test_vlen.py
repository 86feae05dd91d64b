"""``vlen-utf8`` / ``vlen-bytes`` serializers, fixed-size non-numeric types through ``bytes``, and the
v2 chain with object codecs."""

from __future__ import annotations

import numcodecs
import numpy as np
import pytest

from cuzarr.codecs import (
    BytesCodec,
    CodecChain,
    GzipCodec,
    TransposeCodec,
    V2CodecChain,
    VLenBytesCodec,
    VLenUTF8Codec,
    ZstdCodec,
    codec_from_json,
    default_serializer,
    default_v2_filters,
    get_codec_class,
)
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError, MetadataError
from cuzarr.metadata import STRING_DTYPE

from .common import check_chain, roundtrip_chain

T = STRING_DTYPE
O = np.dtype(object)  # noqa: E741


def strings(shape, seed=0, dtype=T) -> np.ndarray:
    rng = np.random.default_rng(seed)
    words = ["", "a", "héllo", "日本語", "x" * 300, "tab\tnew\nline", "\x00nul"]
    flat = [words[i] for i in rng.integers(0, len(words), int(np.prod(shape)))]
    return np.array(flat, dtype=dtype).reshape(shape)


def blobs(shape, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    flat = np.empty(int(np.prod(shape)), dtype=object)
    for i in range(flat.size):
        flat[i] = rng.integers(0, 256, rng.integers(0, 40), dtype=np.uint8).tobytes()
    return flat.reshape(shape)


def test_registry_and_json():
    assert get_codec_class("vlen-utf8") is VLenUTF8Codec
    assert get_codec_class("vlen-bytes") is VLenBytesCodec
    assert VLenUTF8Codec().to_json() == {"name": "vlen-utf8", "configuration": {}}
    assert codec_from_json({"name": "vlen-bytes"}) == VLenBytesCodec()
    assert codec_from_json(numcodecs.VLenUTF8()) == VLenUTF8Codec()
    with pytest.raises(MetadataError, match="no configuration"):
        codec_from_json({"name": "vlen-utf8", "configuration": {"x": 1}})


def test_defaults_like_zarr_python():
    assert default_serializer(T) == VLenUTF8Codec()
    assert default_serializer(O) == VLenBytesCodec()
    assert default_serializer(np.dtype("S3")) == BytesCodec()
    assert default_v2_filters(T) == [{"id": "vlen-utf8"}]
    assert default_v2_filters(O) == [{"id": "vlen-bytes"}]
    assert default_v2_filters(np.dtype("<M8[ns]")) is None


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("compressors", [[], [ZstdCodec()], [GzipCodec(level=1)]])
def test_utf8_chain(shape, compressors):
    chain = CodecChain([VLenUTF8Codec(), *compressors], ChunkSpec(shape, T, ""))
    arrays = [strings(shape, i) for i in range(3)]
    if shape:
        arrays[1] = np.asfortranarray(arrays[1])
    check_chain(chain, arrays)


def test_utf8_matches_numcodecs_and_accepts_objects():
    data = strings((3, 4))
    chain = CodecChain([VLenUTF8Codec()], ChunkSpec(data.shape, T, ""))
    expected = numcodecs.VLenUTF8().encode(data.astype(object).reshape(-1))
    assert bytes(chain.encode(data)) == bytes(expected)
    assert bytes(chain.encode(data.astype(object))) == bytes(expected)
    assert bytes(chain.encode(np.asfortranarray(data))) == bytes(expected)  # always C order
    decoded = chain.decode(bytes(expected))
    assert decoded.dtype == T and np.array_equal(decoded, data)


def test_utf8_with_transpose():
    data = strings((3, 5))
    chain = CodecChain([TransposeCodec((1, 0)), VLenUTF8Codec()], ChunkSpec(data.shape, T, ""))
    encoded = chain.encode(data)
    assert bytes(encoded) == bytes(numcodecs.VLenUTF8().encode(data.T.astype(object).reshape(-1)))
    assert np.array_equal(chain.decode(encoded), data)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3)])
def test_bytes_chain(shape):
    chain = CodecChain([VLenBytesCodec(), ZstdCodec()], ChunkSpec(shape, O, b""))
    arrays = [blobs(shape, i) for i in range(3)]
    encoded = chain.encode_batch(arrays, keys=["a", "b", "c"])
    for e, a in zip(encoded, arrays):
        decoded = chain.decode(bytes(e))
        assert decoded.dtype == O and decoded.shape == a.shape
        assert decoded.tolist() == a.tolist()
    out = np.empty(shape, O)
    assert chain.decode(bytes(encoded[0]), out=out) is out and out.tolist() == arrays[0].tolist()


@pytest.mark.parametrize(
    "codecs,dtype,match",
    [
        ([VLenUTF8Codec()], np.dtype("f4"), "cannot serialize"),
        ([VLenUTF8Codec()], np.dtype("U3"), "cannot serialize"),
        ([VLenBytesCodec()], T, "cannot serialize"),
        ([BytesCodec()], T, "vlen-utf8"),
        ([BytesCodec()], O, "vlen-bytes"),
    ],
)
def test_wrong_serializer_for_dtype(codecs, dtype, match):
    with pytest.raises(MetadataError, match=match):
        CodecChain(codecs, ChunkSpec((2,), dtype, 0))


def test_corrupt_and_wrong_count():
    chain = CodecChain([VLenUTF8Codec()], ChunkSpec((3,), T, ""))
    two = bytes(numcodecs.VLenUTF8().encode(np.array(["a", "b"], dtype=object)))
    with pytest.raises(CodecError, match="declares 2 items, expected 3") as info:
        chain.decode(two, key="c/0")
    assert info.value.key == "c/0" and info.value.codec == "vlen-utf8"
    for bad in (b"", b"\x01", b"\x05\x00\x00\x00\xff\xff\xff\x7f", two[:-1]):
        with pytest.raises(CodecError):
            chain.decode(bad, key="c/0")
    invalid_utf8 = b"\x01\x00\x00\x00\x01\x00\x00\x00\xff"
    with pytest.raises(CodecError):
        CodecChain([VLenUTF8Codec()], ChunkSpec((1,), T, "")).decode(invalid_utf8)


@pytest.mark.parametrize("codec,data", [(VLenBytesCodec(), blobs((4,))), (VLenUTF8Codec(), strings((4,)))])
def test_read_only_and_broadcast_input(codec, data):
    """The write path hands broadcast (read-only) views; numcodecs' vlen encoders need writable input."""
    chain = CodecChain([codec], ChunkSpec((3, 4), data.dtype, b"" if data.dtype == O else ""))
    view = np.broadcast_to(data, (3, 4))
    assert not view.flags.writeable
    assert chain.decode(bytes(chain.encode(view))).tolist() == view.tolist()


def test_bytes_codec_refuses_non_bytes():
    chain = CodecChain([VLenBytesCodec()], ChunkSpec((2,), O, b""))
    with pytest.raises(CodecError):
        chain.encode(np.array([1, 2], dtype=object))


# -- fixed-size non-numeric types through the bytes codec -----------------------------------


@pytest.mark.parametrize("dtype", ["S7", "<U3", ">U3", "V5", "<M8[ns]", ">m8[10s]", "<M8[D]"])
def test_fixed_size_types_through_bytes(dtype):
    roundtrip_chain([BytesCodec(), ZstdCodec()], dtype, (4, 3))


@pytest.mark.parametrize(
    "dtype,json",
    [
        ("S7", [{"name": "bytes"}]),
        ("V5", [{"name": "bytes"}]),
        ("<U3", [{"name": "bytes", "configuration": {"endian": "little"}}]),
        ("<M8[ns]", [{"name": "bytes", "configuration": {"endian": "little"}}]),
        ([("a", "<i4"), ("b", "S2")], [{"name": "bytes"}]),
    ],
)
def test_bytes_config_like_zarr_python(dtype, json):
    """zarr-python writes ``endian`` only for types with a byte order (U, datetimes), not S/V/records."""
    assert CodecChain([BytesCodec()], ChunkSpec((2,), np.dtype(dtype), 0)).to_json() == json


def test_big_endian_unicode_wire_format():
    data = np.array(["ab", "é"], dtype="<U2")
    chain = CodecChain([BytesCodec("big")], ChunkSpec((2,), data.dtype, ""))
    assert bytes(chain.encode(data)) == data.astype(">U2").tobytes()
    assert np.array_equal(chain.decode(data.astype(">U2").tobytes()), data)


# -- v2 chains with object codecs -------------------------------------------------------------


@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_string_dtype(order):
    data = strings((3, 4))
    chain = V2CodecChain(
        {"id": "zstd", "level": 0}, [{"id": "vlen-utf8"}], ChunkSpec(data.shape, T, "", order)
    )
    encoded = chain.encode(data)
    expected = numcodecs.Zstd(level=0).encode(
        numcodecs.VLenUTF8().encode(np.asarray(data, order=order).astype(object, order=order))
    )
    assert bytes(encoded) == bytes(expected)
    decoded = chain.decode(bytes(encoded))
    assert decoded.dtype == T and np.array_equal(decoded, data)
    out = np.empty(data.shape, T)
    assert chain.decode_batch([bytes(encoded)], keys=["0.0"], outs=[out])[0] is out
    assert np.array_equal(out, data)


def test_v2_object_codec_as_compressor():
    """zarr-python finds the object codec in the compressor slot too."""
    data = strings((4,))
    chain = V2CodecChain({"id": "vlen-utf8"}, None, ChunkSpec(data.shape, T, ""))
    encoded = chain.encode(data)
    assert bytes(encoded) == bytes(numcodecs.VLenUTF8().encode(data.astype(object)))
    assert np.array_equal(chain.decode(bytes(encoded)), data)


def test_v2_vlen_bytes():
    data = blobs((5,))
    chain = V2CodecChain(None, [{"id": "vlen-bytes"}], ChunkSpec(data.shape, O, b""))
    decoded = chain.decode(bytes(chain.encode(data)))
    assert decoded.tolist() == data.tolist()


@pytest.mark.parametrize("dtype,filters", [(O, [{"id": "vlen-bytes"}]), (T, [{"id": "vlen-utf8"}])])
def test_v2_read_only_input(dtype, filters):
    data = blobs((4,)) if dtype == O else strings((4,))
    chain = V2CodecChain(None, filters, ChunkSpec((3, 4), dtype, None))
    view = np.broadcast_to(data, (3, 4))
    assert chain.decode(bytes(chain.encode(view))).tolist() == view.tolist()


def test_v2_string_without_object_codec_fails_cleanly():
    chain = V2CodecChain(None, None, ChunkSpec((2,), T, ""))
    with pytest.raises(CodecError, match="object codec"):
        chain.encode(np.array(["a", "b"], dtype=T))
    with pytest.raises(CodecError, match="object codec"):
        chain.decode(b"\x00" * 32)


@pytest.mark.parametrize("dtype", ["|S4", ">U2", "<M8[s]", "|V3", [("a", ">i2"), ("b", "S3")]])
@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_fixed_size_types(dtype, order):
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(1)
    data = rng.integers(0, 100, 12 * dtype.itemsize, dtype=np.uint8).view(dtype).reshape(3, 4)
    if dtype.kind == "U":
        data = np.array([["a", "bc", "", "é"]] * 3, dtype=dtype)
    chain = V2CodecChain({"id": "zstd", "level": 1}, None, ChunkSpec(data.shape, dtype, None, order))
    encoded = chain.encode(data)
    assert bytes(encoded) == bytes(numcodecs.Zstd(level=1).encode(np.asarray(data, order=order)))
    assert chain.decode(bytes(encoded)).tobytes() == data.tobytes()
