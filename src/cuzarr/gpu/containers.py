"""Device decoding of the compressors' container formats: gzip, zlib, numcodecs LZ4, zstd, blosc.

Headers and trailers are read on the host from the staging arena (which mirrors the device
arena byte for byte); the bare streams are decoded as one batch on the device, and gzip CRC32 /
zlib Adler-32 trailers are verified by the checksum kernel over the decoded output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import CodecError
from . import blosc
from . import descriptors as d
from .ops import DeviceOps
from .streams import decompress_checked

_FTEXT, _FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 1, 2, 4, 8, 16


def gzip_payload(host: np.ndarray, offset: int, size: int, key: str) -> tuple[int, int]:
    """``(start, length)`` of the raw deflate data of a single-member gzip stream (RFC 1952)."""
    end = offset + size
    if size < 18 or host[offset] != 0x1F or host[offset + 1] != 0x8B or host[offset + 2] != 8:
        raise CodecError("not a gzip stream (bad magic or method)", key=key, codec="gzip")
    flags, pos = int(host[offset + 3]), offset + 10
    if flags & _FEXTRA:
        pos += 2 + int(host[pos]) + (int(host[pos + 1]) << 8) if pos + 2 <= end else size
    for flag in (_FNAME, _FCOMMENT):
        if flags & flag:
            zero = np.flatnonzero(host[pos : end - 8] == 0)
            if not zero.size:
                raise CodecError("unterminated gzip header field", key=key, codec="gzip")
            pos += int(zero[0]) + 1
    if flags & _FHCRC:
        pos += 2
    if pos > end - 8:
        raise CodecError("gzip header longer than the stream", key=key, codec="gzip")
    return pos, end - 8 - pos


def _le32(host: np.ndarray, at: int) -> int:
    return int.from_bytes(host[at : at + 4].tobytes(), "little")


def decode(
    ops: DeviceOps,
    name: str,
    host: np.ndarray,
    device_base: int,
    offsets: np.ndarray,
    sizes: np.ndarray,
    dst: np.ndarray,
    expected: int,
    keys: Sequence[str],
) -> None:
    """Decode ``name``-compressed chunks staged at ``offsets`` into addresses ``dst`` (``expected`` bytes each)."""
    base = np.uint64(device_base)
    if name == "blosc":
        blosc.decode(ops, host, device_base, offsets, sizes, dst, expected, keys)
        return
    if name == "zstd":
        table = d.table(
            d.STREAM,
            src=base + offsets.astype(np.uint64),
            src_size=sizes,
            dst=dst,
            dst_size=[expected] * len(dst),
        )
        decompress_checked(ops, "zstd", table, keys, "zstd")
        return
    if name == "lz4":
        for off, size, key in zip(offsets.tolist(), sizes.tolist(), keys):
            if size < 4 or _le32(host, off) != expected:
                got = _le32(host, off) if size >= 4 else None
                raise CodecError(
                    f"LZ4 size prefix says {got} bytes, expected {expected}", key=key, codec="lz4"
                )
        table = d.table(
            d.STREAM,
            src=base + offsets.astype(np.uint64) + np.uint64(4),
            src_size=sizes - 4,
            dst=dst,
            dst_size=[expected] * len(dst),
        )
        decompress_checked(ops, "lz4", table, keys, "lz4")
        return
    if name == "gzip":
        spans = [gzip_payload(host, o, s, k) for o, s, k in zip(offsets.tolist(), sizes.tolist(), keys)]
        trailer = offsets + sizes - 8
        for at, key in zip(trailer.tolist(), keys):
            if _le32(host, at + 4) != expected % (1 << 32):
                raise CodecError(
                    f"gzip trailer says {_le32(host, at + 4)} bytes, expected {expected}",
                    key=key,
                    codec="gzip",
                )
        starts = np.array([s for s, _ in spans], np.uint64)
        lengths = np.array([n for _, n in spans], np.int64)
        kind, expected_at, big = d.CRC32, base + trailer.astype(np.uint64), 0
    elif name == "zlib":
        cmf, flg = host[offsets].astype(np.int64), host[offsets + 1].astype(np.int64)
        bad = (sizes < 6) | ((cmf & 0x0F) != 8) | ((cmf * 256 + flg) % 31 != 0) | ((flg & 0x20) != 0)
        if bad.any():
            raise CodecError("not a zlib stream (bad header)", key=keys[int(bad.argmax())], codec="zlib")
        starts, lengths = offsets.astype(np.uint64) + np.uint64(2), sizes - 6
        kind, expected_at, big = d.ADLER32, base + (offsets + sizes - 4).astype(np.uint64), 1
    else:
        raise ValueError(f"no device decoder for {name!r}")
    table = d.table(d.STREAM, src=base + starts, src_size=lengths, dst=dst, dst_size=[expected] * len(dst))
    decompress_checked(ops, "deflate", table, keys, name)
    checks = d.table(
        d.CHECKSUM, src=dst, nbytes=[expected] * len(dst), expected=expected_at, big_endian=[big] * len(dst)
    )
    _, ok = ops.checksum(checks, kind)
    if not ok.all():
        what = "CRC32" if kind == d.CRC32 else "Adler-32"
        raise CodecError(f"{what} mismatch (data is corrupt)", key=keys[int(np.argmin(ok))], codec=name)
