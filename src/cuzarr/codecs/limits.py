"""Decompression limits: a compressed stream is never inflated past what its chunk can hold.

Decoding straight into a chunk-sized output is bounded by construction. The other decodes (an
outer compressor of two, v2 filters after the compressor, variable-length chunks) go through
``decompress_bounded``, which refuses a stream that would produce more than ``limit`` bytes
before (zstd, blosc, lz4 headers) or while (zlib, gzip, bz2, lzma) inflating it, so a forged
chunk of a few kilobytes cannot make a reader allocate gigabytes.
"""

from __future__ import annotations

import bz2
import lzma
import struct
import zlib
from typing import Any

import numpy as np

from ..errors import CodecError
from .base import BytesLike, ChunkSpec, as_uint8

#: Room for headers, checksums and incompressible data between two stages of a chain.
SLACK_BYTES = 256 * 1024
_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_BLOCK_MAX = 128 * 1024
_STEP = 1 << 20  # output per incremental decompress call


def decode_limit(spec: ChunkSpec, factor: int = 2) -> int:
    """Most bytes one compressor stage of a ``spec`` chunk may produce.

    Fixed-size chunks: ``factor`` x the decoded size plus slack (v2 filters such as ``astype`` may
    widen items, so they pass a larger factor). Variable-length (string/object) chunks have no
    size in their metadata: ``config['max_vlen_chunk_bytes']`` bounds them.
    """
    dtype = np.dtype(spec.dtype)
    if dtype.hasobject or dtype.kind == "T":
        from ..config import config

        return int(config.get("max_vlen_chunk_bytes"))
    return factor * spec.nbytes + SLACK_BYTES


def _too_big(codec: str, limit: int, what: str = "inflates to") -> CodecError:
    return CodecError(
        f"stream {what} more than {limit} bytes, past what the chunk can hold (decompression bomb?)",
        codec=codec,
    )


def zstd_bound(data: BytesLike, codec: str = "zstd") -> int:
    """Upper bound of the decoded size of a zstd stream, from frame and block headers alone."""
    buf = bytes(as_uint8(data)) if not isinstance(data, bytes) else data
    total, pos, n = 0, 0, len(buf)
    while pos < n:
        if n - pos < 8:
            raise CodecError("truncated zstd frame header", codec=codec)
        magic = struct.unpack_from("<I", buf, pos)[0]
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # skippable frame
            pos += 8 + struct.unpack_from("<I", buf, pos + 4)[0]
            continue
        if magic != _ZSTD_MAGIC:
            raise CodecError("not a zstd frame (bad magic number)", codec=codec)
        descriptor = buf[pos + 4]
        single = (descriptor >> 5) & 1
        fcs_size = (0, 2, 4, 8)[descriptor >> 6] or (1 if single else 0)
        start = pos + 5 + (0 if single else 1) + (0, 1, 2, 4)[descriptor & 3]
        if start + fcs_size > n:
            raise CodecError("truncated zstd frame header", codec=codec)
        declared = int.from_bytes(buf[start : start + fcs_size], "little") if fcs_size else None
        if declared is not None and fcs_size == 2:
            declared += 256
        pos, blocks = start + fcs_size, 0
        while True:
            if pos + 3 > n:
                raise CodecError("truncated zstd block header", codec=codec)
            header = int.from_bytes(buf[pos : pos + 3], "little")
            kind, size = (header >> 1) & 3, header >> 3
            if kind == 3:
                raise CodecError("reserved zstd block type", codec=codec)
            blocks += size if kind in (0, 1) else _ZSTD_BLOCK_MAX
            pos += 3 + (1 if kind == 1 else size)
            if header & 1:
                break
        pos += 4 if (descriptor >> 2) & 1 else 0
        total += declared if declared is not None else blocks
    return total


def _incremental(decoder: Any, data: bytes, limit: int, codec: str) -> bytes:
    """Run a ``max_length``-capable decompressor (bz2, lzma) with at most ``limit`` output bytes."""
    out = decoder.decompress(data, max_length=limit + 1)
    if len(out) > limit:
        raise _too_big(codec, limit)
    if not decoder.eof:
        raise CodecError("truncated stream", codec=codec)
    return out


def _zlib_like(data: bytes, limit: int, codec: str, wbits: int) -> bytes:
    """zlib or (multi-member) gzip with at most ``limit`` output bytes."""
    out = bytearray()
    while True:
        decoder = zlib.decompressobj(wbits)
        chunk = decoder.decompress(data, limit + 1 - len(out))
        out += chunk
        if len(out) > limit or (decoder.unconsumed_tail and not decoder.eof):
            raise _too_big(codec, limit)
        if not decoder.eof:
            raise CodecError("truncated stream", codec=codec)
        data = decoder.unused_data
        if wbits != 31 or not data.startswith(b"\x1f\x8b"):
            return bytes(out)


def decompress_bounded(codec_id: str, data: BytesLike, limit: int) -> Any:
    """Decompress ``data`` of a known format producing at most ``limit`` bytes; ``None`` when
    ``codec_id`` is not one this module knows (the caller decodes it as before)."""
    from numcodecs.zstd import Zstd

    if codec_id not in ("zstd", "gzip", "zlib", "bz2", "lzma", "lz4", "blosc"):
        return None
    raw = data if isinstance(data, bytes) else bytes(as_uint8(data))
    try:
        if codec_id == "zstd":
            if zstd_bound(raw, codec_id) > limit:
                raise _too_big(codec_id, limit, "declares")
            return Zstd().decode(raw) if raw else b""
        if codec_id == "gzip":
            return _zlib_like(raw, limit, codec_id, 31)
        if codec_id == "zlib":
            return _zlib_like(raw, limit, codec_id, 15)
        if codec_id == "bz2":
            return _incremental(bz2.BZ2Decompressor(), raw, limit, codec_id)
        if codec_id == "lzma":
            return _incremental(lzma.LZMADecompressor(), raw, limit, codec_id)
        if codec_id == "lz4":
            if len(raw) >= 4 and struct.unpack_from("<I", raw)[0] > limit:
                raise _too_big(codec_id, limit, "declares")
            return None  # within the limit: numcodecs decodes it
        # blosc: the header's nbytes is what c-blosc allocates
        if len(raw) >= 16 and struct.unpack_from("<I", raw, 4)[0] > limit:
            raise _too_big(codec_id, limit, "declares")
        return None
    except CodecError:
        raise
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError) as exc:
        raise CodecError(f"decoding failed: {type(exc).__name__}: {exc}", codec=codec_id) from exc


def inflate_bounded(fmt: str, data: BytesLike, limit: int, *, codec: str, **lzma_options: Any) -> bytes:
    """``fmt`` ('zlib', 'gzip', 'bz2' or 'lzma') inflated to at most ``limit`` bytes, errors naming
    ``codec`` (the v3 ``numcodecs.*`` codecs); ``lzma_options`` are the stream's ``format``/``filters``."""
    raw = data if isinstance(data, bytes) else bytes(as_uint8(data))
    try:
        if fmt in ("zlib", "gzip"):
            return _zlib_like(raw, limit, codec, 15 if fmt == "zlib" else 31)
        if fmt == "bz2":
            return _incremental(bz2.BZ2Decompressor(), raw, limit, codec)
        if fmt == "lzma":
            return _incremental(lzma.LZMADecompressor(**lzma_options), raw, limit, codec)
    except CodecError:
        raise
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError, RuntimeError) as exc:
        raise CodecError(f"decoding failed: {type(exc).__name__}: {exc}", codec=codec) from exc
    raise ValueError(f"unknown stream format {fmt!r}")


def check_declared_size(declared: int, limit: int, codec: str, *, exact: bool = False) -> None:
    """Refuse a header's decoded size before a C library allocates it: more than ``limit``
    (a bomb), or with ``exact`` anything but ``limit`` (the caller's output buffer)."""
    if exact and declared != limit:
        raise CodecError(f"header declares {declared} decoded bytes, expected {limit}", codec=codec)
    if declared > limit:
        raise _too_big(codec, limit, "declares")
