"""Decompression bombs: a chunk whose stream claims (or inflates to) more than the chunk's
declared size is refused before the memory is spent."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import struct
import tracemalloc
import zlib

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.errors import CodecError
from cuzarr.storage import MemoryStore

_BOMB = 64 << 20  # what a forged chunk inflates to
_BUDGET = 32 << 20  # peak traced allocation allowed while refusing it
_VLEN_CAP = 8 << 20  # max_vlen_chunk_bytes during these tests
_ZEROS = bytes(_BOMB)


def _zstd(data: bytes) -> bytes:
    return numcodecs.Zstd(level=1).encode(data)


def _blosc(data: bytes) -> bytes:
    return numcodecs.Blosc(cname="lz4", clevel=1).encode(np.frombuffer(data, np.uint8))


_COMPRESS = {
    "gzip": gzip.compress,
    "zstd": _zstd,
    "blosc": _blosc,
    "zlib": zlib.compress,
    "bz2": bz2.compress,
    "lzma": lzma.compress,
    "lz4": lambda d: numcodecs.LZ4().encode(d),
}
_BOMBS = {name: fn(_ZEROS) for name, fn in _COMPRESS.items()}

V3_CASES = {
    "zstd": [{"name": "zstd"}],
    "gzip": [{"name": "gzip"}],
    "blosc": [{"name": "blosc"}],
    "zstd-outer-of-two": [{"name": "gzip"}, {"name": "zstd"}],
    "gzip-outer-of-two": [{"name": "zstd"}, {"name": "gzip"}],
}


def _refuses(arr, key: str) -> None:
    cuzarr.config.set(max_vlen_chunk_bytes=_VLEN_CAP)  # reset after each test by tests/conftest.py
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with pytest.raises(CodecError) as info:
            arr[...]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert key in str(info.value)
    assert peak < _BUDGET, f"refusing the bomb allocated {peak >> 20} MiB"


@pytest.mark.parametrize("case", list(V3_CASES))
@pytest.mark.parametrize("dtype", ["<f8", "str"])
def test_v3_bomb_refused(case: str, dtype: str) -> None:
    store = MemoryStore()
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype=str if dtype == "str" else dtype, compressors=V3_CASES[case]
    )
    outer = V3_CASES[case][-1]["name"]
    store.set("c/0", _BOMBS[outer])
    _refuses(arr, "c/0")


@pytest.mark.parametrize("compressor", list(_COMPRESS))
@pytest.mark.parametrize("filters", [None, [{"id": "delta", "dtype": "<i8"}], "vlen"])
def test_v2_bomb_refused(compressor: str, filters: object) -> None:
    store = MemoryStore()
    dtype = "|O" if filters == "vlen" else "<i8"
    config = {"id": compressor} if compressor != "blosc" else {"id": "blosc", "cname": "lz4"}
    doc = {
        "zarr_format": 2,
        "shape": [16],
        "chunks": [16],
        "dtype": dtype,
        "compressor": config,
        "filters": [{"id": "vlen-utf8"}] if filters == "vlen" else filters,
        "fill_value": None,
        "order": "C",
    }
    store.set(".zarray", json.dumps(doc).encode())
    store.set("0", _BOMBS[compressor])
    _refuses(cuzarr.open_array(store, mode="r"), "0")


# zarr-python's non-spec v3 codecs (``numcodecs.<id>``) share the numcodecs stream formats above
NUMCODECS_V3_CASES = {
    **{f"numcodecs.{name}": [{"name": f"numcodecs.{name}", "configuration": {}}] for name in _COMPRESS},
    "numcodecs.zlib-outer-of-two": [{"name": "zstd"}, {"name": "numcodecs.zlib", "configuration": {}}],
    "numcodecs.lz4-outer-of-two": [{"name": "gzip"}, {"name": "numcodecs.lz4", "configuration": {}}],
    "numcodecs.bz2-after-shuffle": [
        {"name": "numcodecs.shuffle", "configuration": {}},
        {"name": "numcodecs.bz2", "configuration": {}},
    ],
}


@pytest.mark.parametrize("case", list(NUMCODECS_V3_CASES))
@pytest.mark.parametrize("dtype", ["<f8", "str"])
def test_v3_numcodecs_bomb_refused(case: str, dtype: str) -> None:
    store = MemoryStore()
    codecs = NUMCODECS_V3_CASES[case]
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype=str if dtype == "str" else dtype, compressors=codecs
    )
    store.set("c/0", _BOMBS[codecs[-1]["name"].removeprefix("numcodecs.")])
    _refuses(arr, "c/0")


@pytest.mark.parametrize(
    ("codec_id", "config", "match"),
    [
        ("zfpy", {"mode": 4, "tolerance": 0.5}, f"header declares {_BOMB} decoded bytes, expected 128"),
        ("pcodec", {"level": 0}, "stream holds other than the 16 items of the chunk"),
    ],
)
def test_v3_numcodecs_serializer_bomb_refused(codec_id: str, config: dict, match: str) -> None:
    """zfpy allocates what its header declares, pcodec what its stream holds: neither past the chunk.

    Their allocations are native (invisible to tracemalloc): the message says where it was refused."""
    if codec_id not in numcodecs.registry.codec_registry:
        pytest.skip(f"numcodecs' {codec_id} codec is not installed")
    store = MemoryStore()
    serializer = {"name": f"numcodecs.{codec_id}", "configuration": config}
    arr = cuzarr.create_array(
        store, shape=(16,), chunks=(16,), dtype="<f8", serializer=serializer, compressors=None
    )
    bomb = numcodecs.get_codec({"id": codec_id, **config}).encode(np.zeros(_BOMB // 8))
    assert len(bomb) < _BUDGET
    store.set("c/0", bomb)
    with pytest.raises(CodecError, match=match) as info:
        arr[...]
    assert info.value.key == "c/0"


# -- lzma dictionaries: liblzma allocates what a header declares (up to 4 GiB) before decoding -----


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes([*out, value])


def _xz(blocks: list[bytes], dict_code: int, sizes: bool) -> bytes:
    """An xz stream (CRC32 check) of one LZMA2 block per item, each header declaring ``dict_code``
    (40: 4 GiB), with or without the compressed sizes that let a reader find the next block."""
    flags = b"\x00\x01"
    out = bytearray(b"\xfd7zXZ\x00" + flags + struct.pack("<I", zlib.crc32(flags)))
    records = []
    for data in blocks:
        body = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}])
        fields = (_varint(len(body)) if sizes else b"") + b"\x21\x01" + bytes([dict_code])
        size = -(-(6 + len(fields)) // 4) * 4
        header = bytes([size // 4 - 1, 0x40 if sizes else 0]) + fields
        header += bytes(size - 4 - len(header))
        header += struct.pack("<I", zlib.crc32(header))
        out += header + body + bytes(-len(body) % 4) + struct.pack("<I", zlib.crc32(data))
        records.append(_varint(len(header) + len(body) + 4) + _varint(len(data)))
    index = b"\x00" + _varint(len(records)) + b"".join(records)
    index += bytes(-len(index) % 4)
    index += struct.pack("<I", zlib.crc32(index))
    backward = struct.pack("<I", len(index) // 4 - 1) + flags
    return bytes(out + index + struct.pack("<I", zlib.crc32(backward)) + backward + b"YZ")


def _lzip(data: bytes, dict_byte: int) -> bytes:
    """An lzip member (liblzma reads them as ``FORMAT_AUTO``) declaring dictionary ``dict_byte`` (29: 512 MiB)."""
    props = {"id": lzma.FILTER_LZMA1, "dict_size": 1 << 16, "lc": 3, "lp": 0, "pb": 2}
    body = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[props])
    head = b"LZIP\x01" + bytes([dict_byte])
    return head + body + struct.pack("<IQQ", zlib.crc32(data), len(data), len(head) + len(body) + 20)


def _alone(data: bytes) -> bytes:
    """A .lzma stream declaring a 4 GiB - 1 dictionary (no header checksum to redo)."""
    raw = lzma.compress(data, format=lzma.FORMAT_ALONE, preset=1)
    return raw[:1] + b"\xff\xff\xff\xff" + raw[5:]


_PAYLOAD = np.arange(1024, dtype="<i4")
_HALF = _PAYLOAD.nbytes // 2
_DICT_BOMBS = {
    "xz": lambda b: _xz([b], 40, sizes=False),
    "xz-blocks": lambda b: _xz([b[:_HALF], b[_HALF:]], 40, sizes=True),  # the walk reaches both
    ".lzma": _alone,
    "lzip": lambda b: _lzip(b, 29),
}


def _traced_peak(read) -> tuple[object, int]:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = read()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("case", list(_DICT_BOMBS))
def test_lzma_declared_dictionary_is_not_allocated(case: str, fmt: int) -> None:
    """A valid stream declaring a huge dictionary reads as before, with one the chunk's size."""
    raw = _DICT_BOMBS[case](_PAYLOAD.tobytes())
    assert lzma.decompress(raw) == _PAYLOAD.tobytes()
    if fmt == 3 and case in (".lzma", "lzip"):
        pytest.skip("numcodecs.lzma reads one format, xz by default")
    store = MemoryStore()
    compressor = {"compressor": {"id": "lzma"}} if fmt == 2 else {"compressors": [{"name": "numcodecs.lzma"}]}
    arr = cuzarr.create_array(store, shape=_PAYLOAD.shape, dtype="<i4", zarr_format=fmt, **compressor)
    store.set("0" if fmt == 2 else "c/0", raw)
    out, peak = _traced_peak(lambda: arr[...])
    np.testing.assert_array_equal(out, _PAYLOAD)
    assert peak < _BUDGET, f"decoding allocated {peak >> 20} MiB"


def test_lzma_raw_filter_dictionary_is_not_allocated() -> None:
    """numcodecs.lzma's raw filter chain comes from the metadata: its dictionary is capped too."""
    store = MemoryStore()
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 1, "dict_size": 1 << 31}]
    config = {"format": lzma.FORMAT_RAW, "filters": filters}
    arr = cuzarr.create_array(
        store,
        shape=_PAYLOAD.shape,
        dtype="<i4",
        compressors=[{"name": "numcodecs.lzma", "configuration": config}],
    )
    written = [{"id": lzma.FILTER_LZMA2, "preset": 1}]  # a raw stream does not say its dictionary
    store.set("c/0", lzma.compress(_PAYLOAD.tobytes(), format=lzma.FORMAT_RAW, filters=written))
    out, peak = _traced_peak(lambda: arr[...])
    np.testing.assert_array_equal(out, _PAYLOAD)
    assert peak < _BUDGET, f"decoding allocated {peak >> 20} MiB"


def test_lzma_unreachable_block_dictionary_refused() -> None:
    """Past a block without a compressed size the walk stops: ``memlimit`` refuses what it left."""
    store = MemoryStore()
    arr = cuzarr.create_array(
        store, shape=_PAYLOAD.shape, dtype="<i4", zarr_format=2, compressor={"id": "lzma"}
    )
    raw = _xz([_PAYLOAD.tobytes()[:_HALF], _PAYLOAD.tobytes()[_HALF:]], 40, sizes=False)
    assert lzma.decompress(raw) == _PAYLOAD.tobytes()
    store.set("0", raw)
    _refuses(arr, "0")
