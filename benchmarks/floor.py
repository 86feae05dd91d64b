"""The codec floor: what the compressor alone costs on this machine, timed in the same run.

A Zarr library cannot read faster than its codec decodes, nor write faster than it encodes
(the bytes must match zarr-python's, so the encoder is fixed: numcodecs; small zstd chunks
decode with the faster python-zstandard, about 1 MiB of chunks per native call, and gzip with
libdeflate, as cuzarr does). The floor times
exactly that, with everything else taken away: every chunk is already a contiguous array in memory (no
store, no slicing, no allocation of the output) and is coded on every core at once (one chunk
for the per-chunk question, as a single read decodes one chunk on one core). ``floor / peer``
is then the best ratio any library could show against that peer here: a target above it
cannot be met by engineering on this machine, only by a faster codec (the GPU engine).

Every question that times the codec over whole chunks has a floor: ``full_read``,
``full_write`` and ``chunk_reads``; windows and strided reads depend on the selection too.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import deflate
import numpy as np
import zstandard

FLOOR = "codec floor"
QUESTIONS = ("full_read", "full_write", "chunk_reads")


def numcodecs_codec(codec: str, dtype: np.dtype) -> Any:
    """The numcodecs codec that produces the benchmark case's chunk bytes (``None``: no compressor)."""
    from numcodecs import GZip, Zstd
    from numcodecs.blosc import SHUFFLE, Blosc

    if codec == "zstd":
        return Zstd(level=0)
    if codec == "blosc-lz4-shuffle":
        return Blosc(cname="lz4", clevel=5, shuffle=SHUFFLE, blocksize=0, typesize=dtype.itemsize)
    if codec == "gzip":
        return GZip(level=1)
    if codec == "none":
        return None
    raise ValueError(f"no codec floor for {codec!r}")


class CodecFloor:
    """Decode/encode timings of one case's (inner) chunks with the codec alone."""

    def __init__(self, data: np.ndarray, chunks: tuple[int, ...], codec: str, threads: int | None = None):
        self._codec = numcodecs_codec(codec, data.dtype)
        self._chunk_shape = tuple(chunks)
        self._grid = tuple(-(-s // c) for s, c in zip(data.shape, chunks))
        self._pieces = [np.ascontiguousarray(data[sel]) for sel in self._selections(data.shape)]
        self._encoded = [self._encode(piece) for piece in self._pieces]
        self._outputs = [np.empty_like(piece) for piece in self._pieces]  # reused: no page faults
        self._pool = ThreadPoolExecutor(threads or os.cpu_count() or 1)
        # decoding has no byte-identity constraint: small zstd chunks decode with the fastest way
        # known, python-zstandard's many-frame call with a reused context per thread (numcodecs
        # makes a context per call); larger ones with numcodecs into reused memory
        chunk_nbytes = int(np.prod(chunks)) * data.dtype.itemsize
        self._small_zstd = codec == "zstd" and chunk_nbytes <= 256 << 10
        self._gzip = codec == "gzip"  # libdeflate, whole-chunk (as cuzarr up to 2 MiB chunks)
        per_run = max(1, (1 << 20) // max(chunk_nbytes, 1))  # ~1 MiB per run: in cache, balanced
        self._runs = [
            range(i, min(i + per_run, len(self._pieces))) for i in range(0, len(self._pieces), per_run)
        ]
        self._local = threading.local()

    def _selections(self, shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
        return [
            tuple(slice(i * c, min((i + 1) * c, s)) for i, c, s in zip(index, self._chunk_shape, shape))
            for index in np.ndindex(*self._grid)
        ]

    def _encode(self, piece: np.ndarray) -> Any:
        return piece.tobytes() if self._codec is None else self._codec.encode(piece)

    def _decode(self, i: int) -> None:
        if self._codec is None:
            self._outputs[i].reshape(-1).view(np.uint8)[:] = np.frombuffer(self._encoded[i], np.uint8)
        elif self._gzip:
            deflate.gzip_decompress(self._encoded[i], self._pieces[i].nbytes)
        else:
            self._codec.decode(self._encoded[i], out=self._outputs[i])

    def _decode_run(self, run: range) -> None:
        if self._small_zstd:  # one native call per run, this thread's reused context
            dctx = getattr(self._local, "dctx", None) or zstandard.ZstdDecompressor()
            self._local.dctx = dctx
            sizes = np.array([self._pieces[i].nbytes for i in run], dtype=np.uint64)
            dctx.multi_decompress_to_buffer([self._encoded[i] for i in run], decompressed_sizes=sizes)
        else:
            for i in run:
                self._decode(i)

    def write(self) -> None:
        """Encode every chunk on every core."""
        list(self._pool.map(self._encode, self._pieces))

    def read(self, selection: Any) -> None:
        """``Ellipsis``: decode every chunk on every core; a chunk's slices: decode that chunk."""
        if selection is Ellipsis:
            list(self._pool.map(self._decode_run, self._runs))
            return
        index = int(
            np.ravel_multi_index(
                tuple(s.start // c for s, c in zip(selection, self._chunk_shape)), self._grid
            )
        )
        self._decode_run(range(index, index + 1))

    def close(self) -> None:
        self._pool.shutdown()
