"""The ``bytes`` serializer and the ``transpose`` filter."""

from __future__ import annotations

import numpy as np
import pytest

from cuzarr.codecs import BytesCodec, CodecChain, Endian, TransposeCodec
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError, MetadataError

from .common import DTYPES, SHAPES, roundtrip_chain, sample


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("endian", ["little", "big"])
def test_bytes_roundtrip_all_dtypes(dtype, endian):
    for shape in SHAPES[:4]:
        encoded = roundtrip_chain([BytesCodec(endian=endian)], dtype, shape)
        expected = sample(shape, dtype, 0).astype(
            np.dtype(dtype).newbyteorder("<" if endian == "little" else ">")
        )
        assert bytes(encoded[0]) == expected.tobytes()


@pytest.mark.parametrize("shape", SHAPES)
def test_bytes_roundtrip_shapes(shape):
    roundtrip_chain([BytesCodec()], "<i4", shape)
    roundtrip_chain([{"name": "bytes", "configuration": {"endian": "big"}}], "<f8", shape)


def test_bytes_evolve_matches_zarr_python():
    one_byte = CodecChain([BytesCodec()], ChunkSpec((4,), np.dtype("u1")))
    assert one_byte.to_json() == [{"name": "bytes"}]
    assert one_byte.serializer.endian is None
    multi = CodecChain([BytesCodec(endian=None)], ChunkSpec((4,), np.dtype("i4")))
    assert multi.to_json() == [{"name": "bytes", "configuration": {"endian": "little"}}]
    structured = np.dtype([("a", "<i4"), ("b", "u1")])
    assert CodecChain([BytesCodec()], ChunkSpec((4,), structured)).to_json() == [{"name": "bytes"}]
    assert BytesCodec(endian=Endian.big).endian == "big"
    with pytest.raises(MetadataError, match="endian"):
        BytesCodec(endian="middle")
    with pytest.raises(MetadataError, match="object"):
        CodecChain([BytesCodec()], ChunkSpec((4,), np.dtype(object)))


def test_bytes_structured_roundtrip():
    dtype = np.dtype([("a", "<i4"), ("b", "<f8"), ("c", "S3")])
    roundtrip_chain([BytesCodec()], dtype, (5, 2))


def test_bytes_encode_and_decode_are_zero_copy_when_possible():
    codec, spec = BytesCodec(), ChunkSpec((3, 4), np.dtype("<f8"))
    chunk = sample((3, 4), "<f8")
    encoded = codec.encode(chunk, spec)
    assert np.shares_memory(encoded, chunk)
    buf = np.frombuffer(chunk.tobytes(), np.uint8).copy()
    decoded = codec.decode(buf, spec)
    assert np.shares_memory(decoded, buf)
    np.testing.assert_array_equal(decoded, chunk)


def test_bytes_decode_in_place_byteswap():
    spec = ChunkSpec((6,), np.dtype("<i4"))
    codec = BytesCodec(endian="big")
    values = np.arange(6, dtype="<i4") * 1000
    out = np.empty(6, "<i4")
    out.view(np.uint8)[:] = np.frombuffer(values.astype(">i4").tobytes(), np.uint8)
    assert codec.decode(out.view(np.uint8), spec, out=out) is out
    np.testing.assert_array_equal(out, values)


def test_bytes_decode_wrong_size():
    with pytest.raises(CodecError, match=r"bytes: chunk is 7 bytes, expected 8"):
        BytesCodec().decode(b"1234567", ChunkSpec((2,), np.dtype("<i4")))


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0), (0, 2, 1)])
def test_transpose_roundtrip(order):
    encoded = roundtrip_chain([TransposeCodec(order=order), BytesCodec()], "<i2", (2, 3, 4))
    chunk = sample((2, 3, 4), "<i2", 0)
    assert bytes(encoded[0]) == np.ascontiguousarray(chunk.transpose(order)).tobytes()


def test_transpose_resolve_spec_and_json():
    codec = TransposeCodec(order=[2, 0, 1])
    spec = codec.resolve_spec(ChunkSpec((2, 3, 4), np.dtype("f4")))
    assert spec.shape == (4, 2, 3)
    assert codec.to_json() == {"name": "transpose", "configuration": {"order": [2, 0, 1]}}
    assert TransposeCodec((1, 0)) == TransposeCodec(order=[1, 0])
    chain = CodecChain([codec, BytesCodec()], ChunkSpec((2, 3, 4), np.dtype("f4")))
    assert chain.has_array_array_codecs


@pytest.mark.parametrize("order", ["C", "F"])
def test_transpose_refuses_legacy_strings(order):
    with pytest.raises(MetadataError, match=r"transpose codec: order '[CF]' is not supported.*permutation"):
        TransposeCodec(order=order)


@pytest.mark.parametrize("order", [[0, 0], [1, 2], [-1, 0], [0.0, 1], 5])
def test_transpose_refuses_non_permutations(order):
    with pytest.raises(MetadataError, match="transpose codec"):
        TransposeCodec(order=order)


def test_transpose_ndim_mismatch_names_codec():
    with pytest.raises(MetadataError, match=r"transpose.*3 entries.*2 dimensions"):
        CodecChain([TransposeCodec(order=(0, 1, 2)), BytesCodec()], ChunkSpec((2, 3), np.dtype("f4")))


def test_big_endian_records_swap_every_field():
    """tensorstore writes ``struct`` arrays with ``endian: big``: each field (nested ones too) is
    stored big-endian. ``little`` means what no endian means for records (zarr-python 3.1)."""
    record = np.dtype([("a", "<i4"), ("q", [("r", "<f4"), ("s", "S2")]), ("b", "u1")])
    chunk = np.array([(1, (2.5, b"x"), 3), (-4, (-0.5, b"yz"), 255)], dtype=record)
    spec = ChunkSpec((2,), record)
    big = CodecChain([{"name": "bytes", "configuration": {"endian": "big"}}], spec)
    assert big.to_json() == [{"name": "bytes", "configuration": {"endian": "big"}}]
    encoded = bytes(big.encode(chunk))
    assert encoded == chunk.astype(record.newbyteorder(">")).tobytes()
    assert encoded[:4] == (1).to_bytes(4, "big")
    decoded = big.decode(encoded)
    assert decoded.dtype == record and decoded.tobytes() == chunk.tobytes()
    little = CodecChain([{"name": "bytes", "configuration": {"endian": "little"}}], spec)
    assert little.to_json() == [{"name": "bytes"}] and bytes(little.encode(chunk)) == chunk.tobytes()
