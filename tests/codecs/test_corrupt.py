"""Corrupt, truncated and forged chunks: always a CodecError naming key and codec, never a crash."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuzarr.codecs import (
    BloscCodec,
    BytesCodec,
    CodecChain,
    Crc32cCodec,
    GzipCodec,
    V2CodecChain,
    ZstdCodec,
)
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError

from .common import sample

SPEC = ChunkSpec((16, 8), np.dtype("<i4"))
DATA = sample(SPEC.shape, SPEC.dtype)

V3_CHAINS = {
    "bytes": [BytesCodec()],
    "zstd": [BytesCodec(), ZstdCodec()],
    "zstd-checksum": [BytesCodec(), ZstdCodec(checksum=True)],
    "gzip": [BytesCodec(), GzipCodec()],
    "blosc-lz4": [BytesCodec(), BloscCodec(cname="lz4")],
    "blosc-zstd-bit": [BytesCodec(), BloscCodec(cname="zstd", shuffle="bitshuffle")],
    "blosc-noshuffle": [BytesCodec(), BloscCodec(cname="blosclz", shuffle="noshuffle")],
    "crc32c": [BytesCodec(), Crc32cCodec()],
    "zstd+crc32c": [BytesCodec(), ZstdCodec(), Crc32cCodec()],
}
V2_COMPRESSORS = {
    name: config
    for name, config in {
        "v2-blosc": {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1},
        "v2-zstd": {"id": "zstd", "level": 1},
        "v2-gzip": {"id": "gzip", "level": 1},
        "v2-zlib": {"id": "zlib", "level": 1},
        "v2-lz4": {"id": "lz4"},
        "v2-bz2": {"id": "bz2", "level": 1},
        "v2-lzma": {"id": "lzma"},
    }.items()
}
ALL = {
    **{k: lambda v=v: CodecChain(v, SPEC) for k, v in V3_CHAINS.items()},
    **{k: lambda v=v: V2CodecChain(v, None, SPEC) for k, v in V2_COMPRESSORS.items()},
}
NAMES = {
    "bytes": "bytes",
    "zstd": "zstd",
    "zstd-checksum": "zstd",
    "gzip": "gzip",
    "blosc-lz4": "blosc",
    "blosc-zstd-bit": "blosc",
    "blosc-noshuffle": "blosc",
    "crc32c": "crc32c",
    "zstd+crc32c": "crc32c",
}


def expected_codec(name: str) -> str:
    return NAMES.get(name) or V2_COMPRESSORS[name]["id"]


def decode_or_error(chain, data: bytes, out=None) -> None:
    """Either a CodecError naming the key, or (for garbage that happens to be valid) a right-shaped array."""
    try:
        result = chain.decode_batch([data], keys=["c/7/3"], outs=[out])[0]
    except CodecError as exc:
        assert exc.key == "c/7/3" and exc.codec
        assert str(exc).startswith(f"chunk 'c/7/3': {exc.codec}: ")
        return
    assert result.shape == SPEC.shape


@pytest.mark.parametrize("name", ALL)
def test_truncated_chunks(name):
    chain = ALL[name]()
    encoded = bytes(chain.encode(DATA))
    lengths = sorted(
        set(range(0, min(len(encoded), 40))) | set(range(40, len(encoded), 7)) | {len(encoded) - 1}
    )
    for n in lengths:
        for out in (None, np.empty(SPEC.shape, SPEC.dtype)):
            with pytest.raises(CodecError) as info:
                chain.decode_batch([encoded[:n]], keys=["c/0/1"], outs=[out])
            assert info.value.key == "c/0/1"
            assert info.value.codec == expected_codec(name), str(info.value)


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=600))
def test_random_garbage(name, garbage):
    decode_or_error(ALL[name](), garbage)
    decode_or_error(ALL[name](), garbage, np.empty(SPEC.shape, SPEC.dtype))


@pytest.mark.parametrize("name", ALL)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_bit_flips_in_valid_chunks(name, data):
    chain = ALL[name]()
    encoded = bytearray(chain.encode(DATA))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(encoded) - 1))
        encoded[pos] ^= data.draw(st.integers(1, 255))
    decode_or_error(chain, bytes(encoded))
    decode_or_error(chain, bytes(encoded), np.empty(SPEC.shape, SPEC.dtype))


def _blosc_frame() -> bytearray:
    return bytearray(CodecChain(V3_CHAINS["blosc-lz4"], SPEC).encode(DATA))


@pytest.mark.parametrize(
    ("offset", "value", "match"),
    [
        (4, SPEC.nbytes + 1, r"header says 513 decoded bytes, expected 512"),
        (4, SPEC.nbytes - 4, r"header says 508 decoded bytes, expected 512"),
        (4, 2**31 - 1, r"header says 2147483647 decoded bytes"),
        (12, 10**6, r"header says the frame is 1000000 bytes but the input is \d+ bytes"),
        (12, 3, r"header says the frame is 3 bytes"),
    ],
)
def test_blosc_header_lying_about_sizes(offset, value, match):
    frame = _blosc_frame()
    struct.pack_into("<I", frame, offset, value)
    chain = CodecChain(V3_CHAINS["blosc-lz4"], SPEC)
    for out in (None, np.empty(SPEC.shape, SPEC.dtype)):
        with pytest.raises(CodecError, match=rf"chunk 'k': blosc: {match}"):
            chain.decode_batch([bytes(frame)], keys=["k"], outs=[out])


def test_blosc_short_input_never_reaches_c_blosc():
    chain = CodecChain(V3_CHAINS["blosc-lz4"], SPEC)
    for n in range(16):
        with pytest.raises(CodecError, match=rf"input is {n} bytes, shorter than the 16-byte blosc header"):
            chain.decode_batch([bytes(_blosc_frame()[:n])], keys=["k"])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_blosc_forged_header_with_consistent_sizes(data):
    """Random flags/typesize/blocksize and body, but sizes that pass the checks: c-blosc must cope."""
    frame = _blosc_frame()
    frame[0:4] = data.draw(st.binary(min_size=4, max_size=4))
    struct.pack_into("<I", frame, 8, data.draw(st.integers(0, 2**32 - 1)))
    body = data.draw(st.binary(min_size=0, max_size=len(frame) - 16))
    frame[16 : 16 + len(body)] = body
    decode_or_error(CodecChain(V3_CHAINS["blosc-lz4"], SPEC), bytes(frame))
    decode_or_error(V2CodecChain(V2_COMPRESSORS["v2-blosc"], None, SPEC), bytes(frame))


def test_crc_mismatch_reports_stored_and_computed():
    chain = CodecChain(V3_CHAINS["crc32c"], SPEC)
    encoded = bytearray(chain.encode(DATA))
    encoded[5] ^= 1
    with pytest.raises(
        CodecError,
        match=r"chunk 'a/b': crc32c: checksum mismatch: stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8}",
    ):
        chain.decode_batch([bytes(encoded)], keys=["a/b"])
    for n in range(4):
        with pytest.raises(CodecError, match=rf"input is {n} bytes, too short to hold the 4-byte checksum"):
            chain.decode_batch([bytes(encoded[:n])], keys=["a/b"])


def test_zstd_header_declaring_a_huge_size_is_refused_before_decoding():
    frame = bytearray(CodecChain(V3_CHAINS["zstd"], SPEC).encode(DATA))
    assert frame[4] >> 6 in (1, 2)  # 2- or 4-byte content size field
    huge = bytes(frame[:4]) + bytes([0xE0]) + (2**40).to_bytes(8, "little") + bytes(frame[7:])
    chain = CodecChain(V3_CHAINS["zstd"], SPEC)
    for decode in (
        lambda: chain.decode_batch([huge], keys=["k"], outs=[np.empty(SPEC.shape, SPEC.dtype)]),
        lambda: chain.decode_batch([huge], keys=["k"]),
        lambda: chain.decode_for_reading(huge, key="k"),
    ):  # small chunks decode to new memory: the bound is checked before allocating
        with pytest.raises(
            CodecError, match=r"chunk 'k': zstd: .*declares (more than \d+|1099511627776 decoded)"
        ):
            decode()
