"""Corrupt chunks read on the device path: a ``CodecError`` naming the key, never silent garbage.

Each compressor's chunk is truncated, replaced by random bytes, or replaced by a *valid*
stream of the wrong size: fewer or more decoded bytes than the chunk holds (the case a decoder
told the size in advance can miss). Runs on the emulated backend and on ``CudaOps`` over the
CuPy and nvCOMP stand-ins in the CPU suite, and on CuPy with nvCOMP where there is a GPU (both
ways nvCOMP can learn the decoded sizes). After each
failure the array reads again: the process and the backend stay usable.
"""

from __future__ import annotations

from pathlib import Path

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import GzipCodec, ZstdCodec
from cuzarr.errors import CodecError

from . import fake_cupy

SHAPE, CHUNKS = (64, 48), (16, 48)
BAD_KEY = "2.0"  # v2 key of the third chunk (rows 32..47); v3 arrays use c/2/0

#: ``name: (create_array keyword arguments, numcodecs codec that writes the same bytes)``
COMPRESSORS = {
    "v3-zstd": ({"compressors": ZstdCodec(level=1)}, numcodecs.Zstd(level=1)),
    "v3-gzip": ({"compressors": GzipCodec(level=1)}, numcodecs.GZip(level=1)),
    "v2-zstd": ({"zarr_format": 2, "compressors": numcodecs.Zstd(level=1)}, numcodecs.Zstd(level=1)),
    "v2-gzip": ({"zarr_format": 2, "compressors": numcodecs.GZip(level=1)}, numcodecs.GZip(level=1)),
    "v2-zlib": ({"zarr_format": 2, "compressors": numcodecs.Zlib(level=1)}, numcodecs.Zlib(level=1)),
    "v2-lz4": ({"zarr_format": 2, "compressors": numcodecs.LZ4()}, numcodecs.LZ4()),
}
CHUNK_BYTES = CHUNKS[0] * CHUNKS[1] * 4
#: ``name: (encoded good chunk, codec) -> stored bytes``
DAMAGE = {
    "truncated": lambda good, codec: good[: len(good) // 2],
    "random-bytes": lambda good, codec: np.random.default_rng(5).bytes(len(good)),
    "decodes-short": lambda good, codec: codec.encode(np.arange(CHUNK_BYTES // 2, dtype=np.uint8)),
    "decodes-long": lambda good, codec: codec.encode(np.arange(CHUNK_BYTES * 2, dtype=np.uint8)),
}


def _devices() -> list:
    return [
        pytest.param("emulated", "parse", id="emulated"),
        pytest.param("cuda-on-host", "parse", id="cuda-on-host-parse"),
        pytest.param("cuda-on-host", "sizes", id="cuda-on-host-sizes"),
        pytest.param("cuda", "parse", marks=pytest.mark.gpu, id="cuda-parse"),
        pytest.param("cuda", "sizes", marks=pytest.mark.gpu, id="cuda-sizes"),
    ]


def _write(tmp_path: Path, kwargs: dict) -> tuple[str, np.ndarray, Path]:
    data = (np.arange(np.prod(SHAPE), dtype="<f4").reshape(SHAPE) % 97) * 0.5
    path = str(tmp_path / "a.zarr")
    z = cuzarr.create_array(store=path, shape=SHAPE, chunks=CHUNKS, dtype="<f4", **kwargs)
    z[...] = data
    v2 = kwargs.get("zarr_format") == 2
    return path, data, Path(path) / (BAD_KEY if v2 else "c/2/0")


@pytest.mark.parametrize(("device", "mode"), _devices())
@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("compressor", list(COMPRESSORS))
def test_a_damaged_chunk_is_named_and_the_array_still_reads(
    tmp_path, monkeypatch, device, mode, damage, compressor
):
    if device == "cuda-on-host":  # CudaOps over the CuPy and nvCOMP stand-ins (no GPU needed)
        fake_cupy.install(monkeypatch)
        device = "cuda"
    elif device == "cuda":
        pytest.importorskip("cupy")
    kwargs, codec = COMPRESSORS[compressor]
    path, data, chunk_file = _write(tmp_path, kwargs)
    good = chunk_file.read_bytes()
    chunk_file.write_bytes(DAMAGE[damage](good, codec))
    with cuzarr.config.set(nvcomp_decode_config=mode):
        z = cuzarr.open_array(path, mode="r", device=device)
        with pytest.raises(CodecError) as info:
            z[...]
        assert info.value.key is not None and info.value.key.endswith(chunk_file.name)
        assert str(chunk_file.relative_to(path)).replace("\\", "/") in str(info.value)
        # the other chunks still read, and so does the whole array once the chunk is repaired
        np.testing.assert_array_equal(_host(z[:32]), data[:32])
        chunk_file.write_bytes(good)
        np.testing.assert_array_equal(_host(z[...]), data)


def _host(array) -> np.ndarray:
    return array.get() if hasattr(array, "get") else np.asarray(array)
