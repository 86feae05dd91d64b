"""Blosc decoded the device way (host parse, batch stream decode, unshuffle kernels), emulated here,
must equal numcodecs.Blosc().decode for every codec, shuffle, typesize and awkward size."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numcodecs import Blosc

from cuzarr.errors import CodecError
from cuzarr.gpu import blosc
from cuzarr.gpu.emulated_ops import EmulatedOps
from cuzarr.gpu.ops import align
from cuzarr.gpu.streams import NeedsFallback


def device_decode(chunks: list[bytes], expected: int, ops: EmulatedOps | None = None) -> list[bytes]:
    """Stage chunks in one arena, copy it to the emulated device, decode all in one batch."""
    ops = ops or EmulatedOps()
    sizes = np.array([len(c) for c in chunks], np.int64)
    offsets = np.concatenate([[0], np.cumsum(align(sizes))[:-1]]).astype(np.int64)
    host = ops.host_empty(int(align(sizes).sum()) or 1)
    for off, chunk in zip(offsets, chunks):
        host[off : off + len(chunk)] = np.frombuffer(chunk, np.uint8)
    device = ops.empty(host.size)
    outs = [np.full(expected, 0xEE, np.uint8) for _ in chunks]
    with ops.scope():
        ops.to_device(host, device)
        dst = np.array([ops.address(o) if o.size else 0 for o in outs], np.uint64)
        keys = [f"c/{i}" for i in range(len(chunks))]
        blosc.decode(ops, host, ops.address(device), offsets, sizes, dst, expected, keys)
    return [o.tobytes() for o in outs]


def _data(kind: str, dtype: np.dtype, n: int) -> np.ndarray:
    rng = np.random.default_rng(n)
    if kind == "random":
        return np.frombuffer(rng.bytes(n * dtype.itemsize), dtype)
    ramp = np.arange(n, dtype=np.float64) / 7
    if dtype.kind == "V":
        return np.frombuffer(np.repeat((ramp % 251).astype(np.uint8), dtype.itemsize).tobytes(), dtype)
    return np.sin(ramp).astype(dtype) if dtype.kind in "fc" else (ramp * 3).astype(dtype)


CNAMES = ["lz4", "lz4hc", "zstd", "zlib"]
DTYPES = ["u1", "<u2", "<f4", "<f8", "V3", "V12", "V17"]


@pytest.mark.parametrize("cname", CNAMES)
@pytest.mark.parametrize("shuffle", [Blosc.NOSHUFFLE, Blosc.SHUFFLE, Blosc.BITSHUFFLE])
def test_matches_numcodecs(cname, shuffle):
    chunks, originals = [], []
    sizes = [1, 100, 1001, 40_000, 70_001]
    for dtype, n, kind in itertools.product(DTYPES, sizes, ["random", "smooth"]):
        data = _data(kind, np.dtype(dtype), n)
        codec = Blosc(cname=cname, clevel=5, shuffle=shuffle)
        chunks.append(codec.encode(data))
        originals.append(data.tobytes())
    by_size: dict[int, list[int]] = {}
    for i, original in enumerate(originals):
        by_size.setdefault(len(original), []).append(i)
    for expected, members in by_size.items():
        decoded = device_decode([chunks[i] for i in members], expected)
        for i, got in zip(members, decoded):
            assert got == Blosc().decode(chunks[i]) == originals[i]


@pytest.mark.parametrize(
    ("cname", "clevel", "blocksize", "typesize"),
    [("lz4", 0, 0, 4), ("lz4", 9, 4096, 4), ("zstd", 1, 256, 8), ("zlib", 9, 0, 16), ("lz4", 1, 0, 300)],
)
@pytest.mark.parametrize("shuffle", [Blosc.SHUFFLE, Blosc.BITSHUFFLE])
def test_levels_blocksizes_and_byte_typesize(cname, clevel, blocksize, typesize, shuffle):
    rng = np.random.default_rng(clevel)
    data = (np.cumsum(rng.integers(0, 3, 200_003)) % 256).astype(np.uint8)  # not a multiple of typesize
    codec = Blosc(cname=cname, clevel=clevel, shuffle=shuffle, blocksize=blocksize, typesize=typesize)
    encoded = codec.encode(data)
    assert device_decode([encoded], data.size) == [data.tobytes()]


def test_misaligned_streams_are_realigned():
    ops = EmulatedOps(alignments={"lz4": (8, 16), "zstd": (16, 8), "deflate": (4, 4)})
    data = np.sin(np.arange(50_001) / 9).astype("<f4")
    chunks = [Blosc(cname=c, shuffle=Blosc.SHUFFLE).encode(data) for c in ("lz4", "zstd", "zlib")]
    assert device_decode(chunks, data.nbytes, ops) == [data.tobytes()] * 3
    assert ops.launches["decompress:lz4"] == 1 and ops.launches["byte_unshuffle"] == 1


def test_one_batch_per_codec_and_filter():
    ops = EmulatedOps()
    data = np.arange(100_000, dtype="<i4")
    chunks = [Blosc(cname="lz4", shuffle=s).encode(data + i) for i, s in enumerate([1, 2, 1, 2, 0])]
    assert device_decode(chunks, data.nbytes, ops) == [(data + i).tobytes() for i in range(5)]
    assert ops.launches["decompress:lz4"] == 1
    assert ops.launches["byte_unshuffle"] == 1 and ops.launches["bit_unshuffle"] == 1


def test_blosclz_needs_fallback():
    data = np.arange(10_000, dtype="<i4")
    with pytest.raises(NeedsFallback, match="blosclz"):
        device_decode([Blosc(cname="blosclz").encode(data)], data.nbytes)


def test_empty_chunk():
    encoded = Blosc().encode(b"")
    assert device_decode([encoded], 0) == [b""]


def _corrupt(data: bytes, position: int, value: int) -> bytes:
    buf = bytearray(data)
    buf[position] = value
    return bytes(buf)


def _shorten_first_stream(data: bytes) -> bytes:
    start = int.from_bytes(data[16:20], "little")
    csize = int.from_bytes(data[start : start + 4], "little")
    return data[:start] + (csize - 7).to_bytes(4, "little") + data[start + 4 :]


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b: b[:10], "shorter than the 16-byte"),
        (lambda b: b[:-5], "frame is"),
        (lambda b: _corrupt(b, 0, 3), "unsupported blosc header"),
        (lambda b: _corrupt(b, 4, 1), "decoded bytes, expected"),
        (lambda b: _corrupt(b, 16, 0xFF), "block start|corrupt stream"),
        (lambda b: _shorten_first_stream(b), "lz4|corrupt stream"),
    ],
)
def test_corrupt_chunks_name_the_key(mutate, match):
    data = np.random.default_rng(0).integers(0, 50, 100_000).astype("<i4")
    good = Blosc(cname="lz4", shuffle=Blosc.SHUFFLE, blocksize=0).encode(data)
    bad = mutate(good)
    with pytest.raises(CodecError, match=match) as info:
        device_decode([good, bad], data.nbytes)
    assert info.value.key == "c/1"


def test_the_first_bad_chunk_is_named_whatever_is_wrong_with_later_ones():
    data = np.random.default_rng(0).integers(0, 50, 100_000).astype("<i4")
    good = Blosc(cname="lz4", shuffle=Blosc.SHUFFLE, blocksize=0).encode(data)
    block_start_bad, header_bad = good[:16] + (1 << 30).to_bytes(4, "little") + good[20:], good[:10]
    with pytest.raises(CodecError, match="block start") as info:
        device_decode([good, block_start_bad, header_bad], data.nbytes)
    assert info.value.key == "c/1"


def test_many_chunks_with_leftover_blocks_and_memcpyed_ones_in_one_batch():
    rng = np.random.default_rng(1)
    datas = [np.sin(np.arange(70_001) / (i + 3)).astype("<f4") for i in range(6)]
    datas.append(rng.integers(0, 2**32, 70_001, dtype=np.uint64).astype("<u4"))  # incompressible
    chunks = [Blosc(cname="zstd", shuffle=s, blocksize=4096).encode(d) for d, s in zip(datas, [0, 1, 2] * 3)]
    assert any(np.frombuffer(c, np.uint8)[2] & blosc.MEMCPYED for c in chunks)  # one stored memcpyed
    assert device_decode(chunks, datas[0].nbytes) == [d.tobytes() for d in datas]


@pytest.mark.parametrize("codec_id", [5, 6, 7])
def test_unknown_codec_ids_are_refused(codec_id):
    data = np.arange(10_000, dtype="<i4")
    good = Blosc(cname="lz4", shuffle=Blosc.SHUFFLE).encode(data)
    bad = _corrupt(good, 2, (good[2] & 0x1F) | codec_id << 5)
    with pytest.raises(CodecError, match=f"unknown blosc codec id {codec_id}") as info:
        device_decode([good, bad], data.nbytes)
    assert info.value.key == "c/1"
