"""Exact-size gzip/zlib inflate: libdeflate for one-stream chunks, zlib streaming for the rest."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import numpy as np
import pytest

from cuzarr.codecs import inflate
from cuzarr.errors import CodecError

DATA = (np.sin(np.arange(60_000) / 40) * 1000).astype("<i4").tobytes()  # 240,000 bytes


def _out(n: int = len(DATA)) -> np.ndarray:
    return np.full(n, 0xAA, np.uint8)


def _members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(p, compresslevel=1) for p in parts)


ENCODED = {"gzip": gzip.compress(DATA), "zlib": zlib.compress(DATA)}


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_libdeflate_decodes_one_stream_of_the_expected_size(fmt):
    assert bytes(inflate.libdeflate_exact(fmt, ENCODED[fmt], len(DATA))) == DATA
    assert bytes(inflate.libdeflate_exact(fmt, np.frombuffer(ENCODED[fmt], np.uint8), len(DATA))) == DATA


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
@pytest.mark.parametrize("size", [len(DATA) - 1, len(DATA) + 1, 0])
def test_libdeflate_leaves_other_sizes_to_zlib(fmt, size):
    assert inflate.libdeflate_exact(fmt, ENCODED[fmt], size) is None


def test_libdeflate_leaves_multi_member_gzip_to_zlib():
    half = len(DATA) // 2
    assert inflate.libdeflate_exact("gzip", _members(DATA[:half], DATA[half:]), len(DATA)) is None


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_libdeflate_leaves_corrupt_streams_to_zlib(fmt):
    bad = bytearray(ENCODED[fmt])
    bad[len(bad) // 2] ^= 0xFF
    assert inflate.libdeflate_exact(fmt, bytes(bad), len(DATA)) is None
    assert inflate.libdeflate_exact(fmt, ENCODED[fmt][:-9], len(DATA)) is None


def test_libdeflate_takes_gzip_or_zlib_only():
    with pytest.raises(ValueError, match="'gzip' or 'zlib'"):
        inflate.libdeflate_exact("bz2", b"", 1)


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_small_chunks_go_through_libdeflate(monkeypatch, fmt):
    used = []
    real = inflate.libdeflate_exact
    monkeypatch.setattr(inflate, "libdeflate_exact", lambda *a: used.append(a[0]) or real(*a))
    out = _out()
    assert inflate.inflate_into(fmt, ENCODED[fmt], out, codec=fmt) is out
    assert out.tobytes() == DATA and used == [fmt]


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_big_chunks_stream_without_a_chunk_sized_intermediate(monkeypatch, fmt):
    monkeypatch.setattr(inflate, "WHOLE_BUFFER_MAX_BYTES", 1000)
    monkeypatch.setattr(inflate, "libdeflate_exact", lambda *a: pytest.fail("libdeflate used"))
    big = np.random.default_rng(0).integers(0, 50, 4 << 20, dtype=np.uint8).tobytes()
    encoded = gzip.compress(big, 1) if fmt == "gzip" else zlib.compress(big, 1)
    out = _out(len(big))
    tracemalloc.start()
    try:
        inflate.inflate_into(fmt, encoded, out, codec=fmt)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out.tobytes() == big
    assert peak < len(big) // 4, f"peak {peak} bytes for a {len(big)}-byte chunk"


@pytest.fixture(params=["libdeflate", "stream"])
def path(request, monkeypatch):
    """Run a test through libdeflate (when it takes the stream) and through zlib streaming in tiny pieces."""
    if request.param == "stream":
        monkeypatch.setattr(inflate, "libdeflate_exact", lambda *a: None)
        monkeypatch.setattr(inflate, "_INPUT_PIECE_BYTES", 7)
        monkeypatch.setattr(inflate, "_OUTPUT_PIECE_BYTES", 1000)
    return request.param


def test_multi_member_gzip_fills_out(path):
    cuts = [0, 1, 5000, 5000, 123_457, len(DATA)]  # an empty member too
    encoded = _members(*(DATA[a:b] for a, b in zip(cuts, cuts[1:])))
    out = _out()
    inflate.inflate_into("gzip", encoded, out, codec="gzip")
    assert out.tobytes() == DATA


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_trailing_bytes_after_the_stream_are_ignored(path, fmt):
    out = _out()
    inflate.inflate_into(fmt, ENCODED[fmt] + b"\x00" * 11, out, codec=fmt)
    assert out.tobytes() == DATA


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
@pytest.mark.parametrize(
    ("size", "message"),
    [(len(DATA) + 5, "decoded 240000 bytes, expected 240005"), (len(DATA) - 5, "more than the expected")],
)
def test_wrong_sizes_are_refused(path, fmt, size, message):
    with pytest.raises(CodecError, match=message) as info:
        inflate.inflate_into(fmt, ENCODED[fmt], _out(size), codec="numcodecs.x")
    assert info.value.codec == "numcodecs.x"


@pytest.mark.parametrize("fmt", ["gzip", "zlib"])
def test_truncated_and_corrupt_streams_are_refused(path, fmt):
    with pytest.raises(CodecError, match="truncated"):
        inflate.inflate_into(fmt, ENCODED[fmt][: len(ENCODED[fmt]) // 2], _out(), codec=fmt)
    bad = bytearray(ENCODED[fmt])
    bad[len(bad) // 2 :] = bytes(len(bad) - len(bad) // 2)
    with pytest.raises(CodecError):
        inflate.inflate_into(fmt, bytes(bad), _out(), codec=fmt)


def test_empty_chunks(path):
    out = _out(0)
    inflate.inflate_into("gzip", gzip.compress(b""), out, codec="gzip")
    inflate.inflate_into("zlib", zlib.compress(b""), out, codec="zlib")
    with pytest.raises(CodecError, match="more than the expected 0"):
        inflate.inflate_into("gzip", gzip.compress(b"x"), out, codec="gzip")
