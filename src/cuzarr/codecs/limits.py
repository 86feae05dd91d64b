"""Decompression limits: a compressed stream is never inflated past what its chunk can hold.

Decoding straight into a chunk-sized output is bounded by construction. The other decodes (an
outer compressor of two, v2 filters after the compressor, variable-length chunks) go through
``decompress_bounded``, which refuses a stream that would produce more than ``limit`` bytes
before (zstd, blosc, lz4 headers) or while (zlib, gzip, bz2, lzma) inflating it, so a forged
chunk of a few kilobytes cannot make a reader allocate gigabytes. lzma decoders also allocate the
dictionary their stream header (or raw filter chain) declares, up to 4 GiB: ``lzma_decoder`` caps it.
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


#: liblzma's coder state beside the dictionary (``memlimit`` headroom).
_LZMA_STATE_BYTES = 1 << 20
#: Dictionary sizes of the lzma presets 0-9 (a raw filter spec without ``dict_size``).
_LZMA_PRESET_DICT = (1 << 18, 1 << 20, 1 << 21, 1 << 22, 1 << 22, 1 << 23, 1 << 23, 1 << 24, 1 << 25, 1 << 26)
_XZ_MAGIC = b"\xfd7zXZ\x00"
_XZ_LZMA2 = 0x21


def _read_varint(buf: bytes | bytearray, pos: int) -> tuple[int, int]:
    """An xz multibyte integer at ``pos``: (value, next position); ``ValueError`` when malformed."""
    value = 0
    for i in range(9):
        if pos + i >= len(buf):
            raise ValueError("truncated integer")
        value |= (buf[pos + i] & 0x7F) << (7 * i)
        if not buf[pos + i] & 0x80:
            return value, pos + i + 1
    raise ValueError("integer longer than 9 bytes")


def _xz_capped(buf: bytes, cap_code: int) -> bytes:
    """An xz stream whose LZMA2 dictionary codes are at most ``cap_code``, block header CRCs redone.

    Only headers whose CRC holds are touched (a corrupt one stays corrupt); the walk follows blocks
    whose header gives their compressed size and stops at the first that does not (the last of a
    single-threaded writer's, the only one of numcodecs')."""
    out = bytearray(buf)
    check = out[7] & 0x0F
    check_nbytes = 0 if check == 0 else 4 << ((check - 1) // 3)
    pos = 12
    try:
        while pos < len(out) and out[pos] != 0:  # 0: the index follows the last block
            end = pos + (out[pos] + 1) * 4
            header = out[pos:end]
            if (
                end > len(out)
                or zlib.crc32(header[:-4]) != struct.unpack_from("<I", header, len(header) - 4)[0]
            ):
                return bytes(out)
            flags, at = header[1], 2
            compressed = None
            if flags & 0x40:
                compressed, at = _read_varint(header, at)
            if flags & 0x80:
                _, at = _read_varint(header, at)
            for _ in range((flags & 3) + 1):
                filter_id, at = _read_varint(header, at)
                n_props, at = _read_varint(header, at)
                if filter_id == _XZ_LZMA2 and n_props == 1 and at < len(header) - 4 and header[at] <= 40:
                    header[at] = min(header[at], cap_code)  # codes past 40 are invalid: left to liblzma
                at += n_props
            header[-4:] = struct.pack("<I", zlib.crc32(header[:-4]))
            out[pos:end] = header
            if compressed is None:
                return bytes(out)
            pos = end + compressed + (-compressed % 4) + check_nbytes
    except ValueError:
        pass
    return bytes(out)


def _capped_filter(spec: Any, cap: int) -> Any:
    """A raw LZMA1/LZMA2 filter spec with its dictionary (given or its preset's) at most ``cap``."""
    if not isinstance(spec, dict) or spec.get("id") not in (lzma.FILTER_LZMA1, lzma.FILTER_LZMA2):
        return spec
    size = spec.get("dict_size")
    if size is None:
        preset = spec.get("preset", lzma.PRESET_DEFAULT)
        if not isinstance(preset, int) or isinstance(preset, bool):
            return spec
        level = preset & ~lzma.PRESET_EXTREME
        if not 0 <= level <= 9:
            return spec
        size = _LZMA_PRESET_DICT[level]
    if not isinstance(size, int) or isinstance(size, bool) or size <= cap:
        return spec
    return {**spec, "dict_size": cap}


def _capped_header(data: bytes, fmt: int, cap: int) -> bytes:
    """``data`` with the dictionary size in its xz, lzip or .lzma header lowered to ``cap`` (2**n)."""
    n = cap.bit_length() - 1
    if data.startswith(_XZ_MAGIC) and fmt in (lzma.FORMAT_AUTO, lzma.FORMAT_XZ):
        return _xz_capped(data, min(40, 2 * (n - 12))) if len(data) > 12 else data  # code 2k: 2**(k+12)
    if data.startswith(b"LZIP") and fmt == lzma.FORMAT_AUTO:
        if len(data) < 6 or n > 29:  # lzip dictionaries end at 2**29
            return data
        base = 1 << (data[5] & 0x1F)
        return data[:5] + bytes([n]) + data[6:] if base - (data[5] >> 5) * (base >> 4) > cap else data
    if fmt not in (lzma.FORMAT_AUTO, lzma.FORMAT_ALONE) or len(data) < 13 or cap > 0xFFFFFFFF:
        return data
    # .lzma: a properties byte, then the dictionary size
    return (
        data[:1] + struct.pack("<I", cap) + data[5:] if struct.unpack_from("<I", data, 1)[0] > cap else data
    )


def lzma_decoder(
    data: bytes, limit: int, fmt: int = lzma.FORMAT_AUTO, filters: Any = None
) -> tuple[lzma.LZMADecompressor, bytes]:
    """A decompressor for ``data`` that allocates a dictionary of at most about ``limit`` bytes;
    ``filters`` only count for ``FORMAT_RAW`` (numcodecs writes xz with them, then cannot read it).

    liblzma allocates the dictionary a stream declares (xz block header, .lzma or lzip header, raw
    filter spec: up to 4 GiB) before decoding a byte. A stream producing at most ``limit`` bytes never
    reaches further back than that, so the declared size is lowered to the smallest power of two
    above ``limit`` (same output); ``memlimit`` refuses a dictionary left past the 64 MiB of preset 9
    (one in an xz block after a block without a compressed size, where the header walk stops).
    Returns the decompressor and the (header-patched) data to feed it."""
    cap = max(4096, 1 << limit.bit_length())  # > limit; a power of two, as .lzma and lzip want
    if fmt == lzma.FORMAT_RAW:
        if isinstance(filters, (list, tuple)):
            filters = [_capped_filter(spec, cap) for spec in filters]
        return lzma.LZMADecompressor(format=fmt, filters=filters), data
    # the other formats carry their filter chain in the stream: liblzma refuses one given beside it
    data = _capped_header(data, fmt, cap)
    # an xz block the header walk cannot reach keeps its size: up to the largest preset's is let through
    memlimit = max(cap, _LZMA_PRESET_DICT[-1]) + _LZMA_STATE_BYTES
    return lzma.LZMADecompressor(format=fmt, memlimit=memlimit), data


def _lzma_bounded(
    data: bytes, limit: int, codec: str, fmt: int = lzma.FORMAT_AUTO, filters: Any = None
) -> bytes:
    """``data`` inflated to at most ``limit`` bytes through ``lzma_decoder``'s capped dictionary."""
    decoder, data = lzma_decoder(data, limit, fmt, filters)
    try:
        return _incremental(decoder, data, limit, codec)
    except lzma.LZMAError as exc:
        if "memory usage limit" not in str(exc).lower():
            raise
        raise CodecError(
            f"stream declares a larger dictionary than {limit} decoded bytes need (decompression bomb?)",
            codec=codec,
        ) from exc


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


def decompress_bounded(codec_id: str, data: BytesLike, limit: int, **lzma_options: Any) -> Any:
    """Decompress ``data`` of a known format producing at most ``limit`` bytes; ``None`` when
    ``codec_id`` is not one this module knows (the caller decodes it as before). ``lzma_options``
    (``format``/``filters``) describe raw lzma streams, which carry neither."""
    from numcodecs.zstd import Zstd

    if codec_id in _INFLATED:
        return inflate_bounded(codec_id, data, limit, codec=codec_id, **lzma_options)
    if codec_id not in ("zstd", "lz4", "blosc"):
        return None
    raw = data if isinstance(data, bytes) else bytes(as_uint8(data))
    try:
        if codec_id == "zstd":
            if zstd_bound(raw, codec_id) > limit:
                raise _too_big(codec_id, limit, "declares")
            return Zstd().decode(raw) if raw else b""
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


#: Streams inflated incrementally, stopping at the limit (``inflate_bounded``).
_INFLATED = ("zlib", "gzip", "bz2", "lzma")


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
            fmt_id = lzma_options.get("format", lzma.FORMAT_AUTO)
            return _lzma_bounded(raw, limit, codec, fmt_id, lzma_options.get("filters"))
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
