"""v3 chunks: byte-identical to zarr-python 3.1, and readable by zarr-python and tensorstore both ways."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from zarr.core.buffer.cpu import Buffer
from zarr.storage import LocalStore, MemoryStore

from cuzarr.codecs import CodecChain
from cuzarr.codecs.base import ChunkSpec

from .common import mask_gzip_mtime, sample

CHUNKS = (4, 6)
SHAPE = (8, 12)  # 2 x 2 full chunks

CONFIGS = {
    "default": {},
    "none": {"compressors": None},
    "big": {"compressors": None, "serializer": zarr.codecs.BytesCodec(endian="big")},
    "zstd3-checksum": {"compressors": [zarr.codecs.ZstdCodec(level=3, checksum=True)]},
    "gzip": {"compressors": [zarr.codecs.GzipCodec(level=6)]},
    "crc32c": {"compressors": [zarr.codecs.Crc32cCodec()]},
    "zstd+crc32c": {"compressors": [zarr.codecs.ZstdCodec(), zarr.codecs.Crc32cCodec()]},
    "blosc-default": {"compressors": [zarr.codecs.BloscCodec()]},
    "blosc-lz4-shuffle": {"compressors": [zarr.codecs.BloscCodec(cname="lz4", shuffle="shuffle")]},
    "blosc-lz4-bitshuffle": {"compressors": [zarr.codecs.BloscCodec(cname="lz4", shuffle="bitshuffle")]},
    "blosc-zstd-noshuffle": {
        "compressors": [zarr.codecs.BloscCodec(cname="zstd", shuffle="noshuffle", clevel=9)]
    },
    "blosc-typesize2": {"compressors": [zarr.codecs.BloscCodec(typesize=2, cname="blosclz", blocksize=64)]},
    "transpose+blosc": {
        "filters": [zarr.codecs.TransposeCodec(order=(1, 0))],
        "compressors": [zarr.codecs.BloscCodec(cname="lz4")],
    },
    "transpose+big+gzip+crc": {
        "filters": [zarr.codecs.TransposeCodec(order=(1, 0))],
        "serializer": zarr.codecs.BytesCodec(endian="big"),
        "compressors": [zarr.codecs.GzipCodec(), zarr.codecs.Crc32cCodec()],
    },
}


def _chunk_keys() -> list[str]:
    return [f"c/{i}/{j}" for i in range(SHAPE[0] // CHUNKS[0]) for j in range(SHAPE[1] // CHUNKS[1])]


def _chunks_of(data: np.ndarray) -> list[np.ndarray]:
    return [
        data[i * CHUNKS[0] : (i + 1) * CHUNKS[0], j * CHUNKS[1] : (j + 1) * CHUNKS[1]]
        for i in range(SHAPE[0] // CHUNKS[0])
        for j in range(SHAPE[1] // CHUNKS[1])
    ]


def _normalized(chain: CodecChain, raw: bytes) -> bytes:
    """Chunk bytes with the gzip mtime zeroed (gzip is last, or just before crc32c, in these configs)."""
    names = [c.codec_name for c in chain.compressors]
    if "gzip" not in names:
        return raw
    return mask_gzip_mtime(raw, crc32c_after=names[-1] == "crc32c")


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("dtype", ["<i4", "<f8", "u1", "<i2", "<c8"])
def test_chunks_byte_identical_to_zarr_python(config, dtype):
    data = sample(SHAPE, dtype)
    store: dict = {}
    array = zarr.create_array(store=MemoryStore(store), shape=SHAPE, chunks=CHUNKS, dtype=dtype, **config)
    array[...] = data
    codecs_json = json.loads(json.dumps(array.metadata.to_dict()["codecs"]))
    chain = CodecChain(codecs_json, ChunkSpec(CHUNKS, np.dtype(dtype), 0))
    assert chain.to_json() == codecs_json  # evolved JSON matches what zarr-python stores

    keys = _chunk_keys()
    ours = [bytes(e) for e in chain.encode_batch(_chunks_of(data), keys=keys)]
    theirs = [store[k].to_bytes() for k in keys]
    assert [_normalized(chain, b) for b in ours] == [_normalized(chain, b) for b in theirs]

    # zarr-python's chunks decode with cuzarr, cuzarr's chunks decode with zarr-python
    decoded = chain.decode_batch([store[k].to_bytes() for k in keys], keys=keys)
    for got, expected in zip(decoded, _chunks_of(data)):
        np.testing.assert_array_equal(got, expected)
    array[...] = 0
    for key, value in zip(keys, ours):
        store[key] = Buffer.from_bytes(value)
    np.testing.assert_array_equal(array[...], data)


TS_CODECS = [
    [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "zstd", "configuration": {"level": 1, "checksum": True}},
    ],
    [
        {"name": "transpose", "configuration": {"order": [1, 0]}},
        {"name": "bytes", "configuration": {"endian": "big"}},
        {
            "name": "blosc",
            "configuration": {
                "cname": "lz4",
                "clevel": 5,
                "shuffle": "shuffle",
                "typesize": 4,
                "blocksize": 0,
            },
        },
        {"name": "crc32c"},
    ],
    [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {"name": "gzip", "configuration": {"level": 5}},
    ],
    [
        {"name": "bytes", "configuration": {"endian": "little"}},
        {
            "name": "blosc",
            "configuration": {
                "cname": "zstd",
                "clevel": 3,
                "shuffle": "bitshuffle",
                "typesize": 4,
                "blocksize": 0,
            },
        },
    ],
]


@pytest.mark.parametrize("codecs", TS_CODECS, ids=lambda cs: "+".join(c["name"] for c in cs))
def test_tensorstore_interop(tmp_path, codecs):
    ts = pytest.importorskip("tensorstore")
    data = sample(SHAPE, "<i4")
    chain = CodecChain(codecs, ChunkSpec(CHUNKS, np.dtype("<i4"), 0))
    keys = _chunk_keys()
    spec = {
        "driver": "zarr3",
        "kvstore": {"driver": "file", "path": str(tmp_path)},
        "metadata": {
            "shape": list(SHAPE),
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(CHUNKS)}},
            "data_type": "int32",
            "codecs": codecs,
        },
        "create": True,
    }
    written = ts.open(spec).result()
    written[...] = data
    # tensorstore's chunks decode with cuzarr
    stored = [(tmp_path / key).read_bytes() for key in keys]
    for got, expected in zip(chain.decode_batch(stored, keys=keys), _chunks_of(data)):
        np.testing.assert_array_equal(got, expected)
    # cuzarr's chunks decode with tensorstore (and zarr-python)
    flipped = -data
    for key, value in zip(keys, chain.encode_batch(_chunks_of(flipped), keys=keys)):
        (tmp_path / key).write_bytes(bytes(value))
    reopened = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": str(tmp_path)}}).result()
    np.testing.assert_array_equal(reopened.read().result(), flipped)
    np.testing.assert_array_equal(zarr.open_array(LocalStore(tmp_path), mode="r")[...], flipped)
