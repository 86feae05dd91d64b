"""Exact-size inflate of gzip and zlib chunks into the memory the chunk belongs in.

A Zarr chunk's decoded size is known before it is read, which is what libdeflate's whole-buffer
decoder wants: it inflates about 1.5x faster than zlib on this project's benchmark data, and
the ``deflate`` binding releases the GIL. libdeflate only takes a stream that is exactly one
gzip member or one zlib stream of exactly the expected size (CRC32/Adler-32 and the gzip size
field checked), and only for chunks up to ``WHOLE_BUFFER_MAX_BYTES``: its binding returns a new
buffer, copied into ``out``. Bigger chunks, and anything libdeflate refuses (multi-member gzip,
short or corrupt streams), stream through zlib into ``out`` piece by piece, which needs no
chunk-sized intermediate and names what is wrong.
"""

from __future__ import annotations

import zlib

import numpy as np

from ..errors import CodecError
from .base import BytesLike, as_uint8, check_decoded_size, codec_errors

try:
    import deflate as _libdeflate
except ImportError:  # pragma: no cover - a dependency; zlib stays correct without it
    _libdeflate = None

_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_MIN_SIZE = 18  # 10-byte header, an empty deflate block, 8-byte trailer
_MAX_SIZE = 1 << 32  # libdeflate's binding takes the size as a C unsigned int
#: Chunks up to this size are inflated whole by libdeflate (one transient copy per thread).
WHOLE_BUFFER_MAX_BYTES = 2 << 20
#: Streaming into ``out``: zlib's output per call (it peaks near twice that while assembling
#: its result) and the input fed per call (it copies the unconsumed rest of what it is fed).
_OUTPUT_PIECE_BYTES = 256 << 10
_INPUT_PIECE_BYTES = 64 << 10
_WBITS = {"gzip": 31, "zlib": 15}


def libdeflate_exact(fmt: str, data: BytesLike, nbytes: int) -> bytearray | None:
    """``data`` ('gzip' or 'zlib') inflated by libdeflate when it is one stream of exactly
    ``nbytes``; ``None`` means "decode it with zlib instead" (not necessarily bad data)."""
    if _libdeflate is None or not 0 < nbytes < _MAX_SIZE:
        return None
    source = as_uint8(data)
    if fmt == "gzip":
        # the trailer's size field is the last member's: anything else than ``nbytes`` means
        # several members (libdeflate would stop after the first) or a stream that is wrong anyway
        if (
            source.size < _GZIP_MIN_SIZE
            or source[:2].tobytes() != _GZIP_MAGIC
            or int.from_bytes(source[-4:].tobytes(), "little") != nbytes
        ):
            return None
        decode = _libdeflate.gzip_decompress
    elif fmt == "zlib":
        decode = _libdeflate.zlib_decompress
    else:
        raise ValueError(f"libdeflate_exact decodes 'gzip' or 'zlib', not {fmt!r}")
    try:
        decoded = decode(source, nbytes)
    except (_libdeflate.DeflateError, ValueError):
        return None
    return decoded if len(decoded) == nbytes else None


def inflate_into(fmt: str, data: BytesLike, out: np.ndarray, *, codec: str) -> np.ndarray:
    """Inflate a 'gzip' (possibly multi-member) or 'zlib' stream into ``out`` (flat uint8),
    which it must fill exactly; ``CodecError`` naming ``codec`` otherwise."""
    decoded = libdeflate_exact(fmt, data, out.size) if out.size <= WHOLE_BUFFER_MAX_BYTES else None
    if decoded is not None:
        out[:] = np.frombuffer(decoded, np.uint8)
        return out
    with codec_errors(codec):
        filled = _stream_into(fmt, data if isinstance(data, bytes) else as_uint8(data), out, codec)
    check_decoded_size(filled, out.size, codec)
    return out


def _stream_into(fmt: str, data: BytesLike, out: np.ndarray, codec: str) -> int:
    """zlib-inflate ``data`` into ``out`` a piece at a time; the bytes filled (refuses more than fit).

    Input is fed in pieces too: zlib hands back the unconsumed rest of its input as a new bytes
    object, which must not be the whole stream each time.
    """
    source, start, filled = memoryview(data).cast("B"), 0, 0
    while True:
        inflater, pending, end = zlib.decompressobj(_WBITS[fmt]), b"", start
        while not inflater.eof:
            if not pending:
                if end >= len(source):
                    raise CodecError("truncated stream", codec=codec)
                pending, end = source[end : end + _INPUT_PIECE_BYTES], end + _INPUT_PIECE_BYTES
            room = out.size - filled
            piece = inflater.decompress(pending, min(_OUTPUT_PIECE_BYTES, room) or 1)  # 1: is there more?
            if len(piece) > room:
                raise CodecError(f"decoded more than the expected {out.size} bytes", codec=codec)
            out[filled : filled + len(piece)] = np.frombuffer(piece, np.uint8)
            filled += len(piece)
            pending = inflater.unconsumed_tail
        start = min(end, len(source)) - len(inflater.unused_data)  # where this stream ended
        if fmt != "gzip" or source[start : start + 2].tobytes() != _GZIP_MAGIC:
            return filled  # further gzip members follow only with their magic; the rest is ignored


def gzip_decode(data: BytesLike, out: np.ndarray, *, codec: str = "gzip") -> np.ndarray:
    """Decode a (possibly multi-member) gzip stream into ``out`` (flat uint8), which it must fill
    exactly. Without an exact size callers use ``limits.inflate_bounded``, which stops at a limit."""
    return inflate_into("gzip", data, out, codec=codec)


def zlib_decode(data: BytesLike, out: np.ndarray, *, codec: str = "zlib") -> np.ndarray:
    """Decode a zlib stream into ``out`` (flat uint8), which it must fill exactly."""
    return inflate_into("zlib", data, out, codec=codec)
