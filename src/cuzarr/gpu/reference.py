"""NumPy reference implementations of every kernel in ``kernels/*.cu``, with the same tables.

They serve twice: the emulated backend runs them in place of the kernels (so the CPU test suite
exercises the GPU path's batching logic), and the GPU tests compare the real kernels with them.
Addresses in the tables are real host addresses of NumPy memory registered in a ``Memory``,
which bounds-checks every access, so a wrong descriptor fails loudly instead of corrupting memory.
"""

from __future__ import annotations

import ctypes
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import crc32c as _crc32c
import numpy as np
from numpy.lib.array_utils import byte_bounds
from numpy.lib.stride_tricks import as_strided

from .descriptors import ADLER32, CHECKSUM_THREADS, CRC32, CRC32C


class Memory:
    """An emulated device address space over host memory: register arrays, then view by address."""

    def __init__(self) -> None:
        self._thread_state = threading.local()

    @property
    def _regions(self) -> list[tuple[int, int, np.ndarray, Any]]:
        """Per thread, as a device stream would be: concurrent batches never see each other's buffers."""
        regions = getattr(self._thread_state, "regions", None)
        if regions is None:
            regions = self._thread_state.regions = []
        return regions

    def register(self, array: Any) -> int:
        """The address of ``array``'s first element; its whole extent becomes addressable."""
        arr = array if isinstance(array, np.ndarray) else np.frombuffer(array, dtype=np.uint8)
        address = int(arr.__array_interface__["data"][0])
        if arr.size == 0:
            return address
        lo, hi = byte_bounds(arr)
        flat = np.ctypeslib.as_array((ctypes.c_uint8 * (hi - lo)).from_address(lo))
        self._regions.append((lo, hi, flat, arr))
        return address

    def view(self, address: int, nbytes: int) -> np.ndarray:
        """A writable flat uint8 view of ``[address, address + nbytes)``; IndexError outside any region."""
        if nbytes == 0:
            return np.empty(0, np.uint8)
        for lo, hi, flat, _ in reversed(self._regions):
            if lo <= address and address + nbytes <= hi:
                return flat[address - lo : address - lo + nbytes]
        raise IndexError(
            f"emulated device access [{address:#x}, +{nbytes}) is outside every registered buffer"
        )

    @contextmanager
    def scope(self) -> Iterator[Memory]:
        """Forget the regions registered inside the block (they keep their arrays alive until then)."""
        mark = len(self._regions)
        try:
            yield self
        finally:
            del self._regions[mark:]


def _strided(mem: Memory, address: int, shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int):
    low = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
    high = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides)) + itemsize
    flat = mem.view(address + low, high - low)
    return as_strided(flat[-low:], shape=(*shape, itemsize), strides=(*strides, 1), writeable=True)


# -- copies -----------------------------------------------------------------------------------


def batch_memcpy(mem: Memory, table: np.ndarray) -> None:
    """``scatter.cu:batch_memcpy``."""
    for row in table:
        n = int(row["nbytes"])
        mem.view(int(row["dst"]), n)[:] = mem.view(int(row["src"]), n)


def copy_strided(mem: Memory, table: np.ndarray) -> None:
    """``scatter.cu:copy_strided``: per row, an N-d strided element copy (scatter, gather, transpose)."""
    for row in table:
        if row["nelems"] == 0:
            continue
        nd, isz = int(row["ndim"]), int(row["itemsize"])
        shape = tuple(int(x) for x in row["shape"][:nd])
        src = _strided(mem, int(row["src"]), shape, tuple(int(x) for x in row["src_strides"][:nd]), isz)
        dst = _strided(mem, int(row["dst"]), shape, tuple(int(x) for x in row["dst_strides"][:nd]), isz)
        dst[...] = src


# -- shuffles -----------------------------------------------------------------------------------


def _blocks(mem: Memory, table: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, int, int]]:
    for row in table:
        n = int(row["nbytes"])
        yield mem.view(int(row["src"]), n), mem.view(int(row["dst"]), n), n, max(int(row["typesize"]), 1)


def byte_unshuffle(mem: Memory, table: np.ndarray) -> None:
    """``shuffle.cu:byte_unshuffle``: ``out[i*ts + j] = in[j*n + i]``, tail copied."""
    for src, dst, nbytes, ts in _blocks(mem, table):
        n = nbytes // ts
        body = n * ts
        dst[:body] = src[:body].reshape(ts, n).T.reshape(-1)
        dst[body:] = src[body:]


def byte_shuffle(mem: Memory, table: np.ndarray) -> None:
    """``shuffle.cu:byte_shuffle`` (inverse of ``byte_unshuffle``)."""
    for src, dst, nbytes, ts in _blocks(mem, table):
        n = nbytes // ts
        body = n * ts
        dst[:body] = src[:body].reshape(n, ts).T.reshape(-1)
        dst[body:] = src[body:]


def bit_filtered(nbytes: Any, typesize: Any) -> Any:
    """Whether blosc bit-shuffles a block of ``nbytes`` (otherwise it is stored unfiltered);
    elementwise for arrays."""
    return (nbytes >= typesize) & ((nbytes // typesize) % 8 == 0)


def bit_unshuffle(mem: Memory, table: np.ndarray) -> None:
    """``bitshuffle.cu:bit_unshuffle``: bit-planes ``8*j + k`` back to elements."""
    for src, dst, nbytes, ts in _blocks(mem, table):
        if not bit_filtered(nbytes, ts):
            dst[:] = src
            continue
        n = nbytes // ts
        body = n * ts
        bits = np.unpackbits(src[:body].reshape(8 * ts, n // 8), axis=1, bitorder="little")
        planes = np.packbits(bits.reshape(ts, 8, n), axis=1, bitorder="little")  # (ts, 1, n)
        dst[:body] = planes.reshape(ts, n).T.reshape(-1)
        dst[body:] = src[body:]


def bit_shuffle(mem: Memory, table: np.ndarray) -> None:
    """``bitshuffle.cu:bit_shuffle`` (inverse of ``bit_unshuffle``)."""
    for src, dst, nbytes, ts in _blocks(mem, table):
        if not bit_filtered(nbytes, ts):
            dst[:] = src
            continue
        n = nbytes // ts
        body = n * ts
        per_byte = src[:body].reshape(n, ts).T  # (ts, n): byte j of element i
        bits = np.unpackbits(per_byte[:, :, None], axis=2, bitorder="little")  # (ts, n, 8)
        planes = np.packbits(bits.transpose(0, 2, 1).reshape(8 * ts, n), axis=1, bitorder="little")
        dst[:body] = planes.reshape(-1)
        dst[body:] = src[body:]


def byteswap(mem: Memory, table: np.ndarray) -> None:
    """``byteswap.cu:byteswap``: reverse each item's bytes in place."""
    for row in table:
        n, isz = int(row["nitems"]), int(row["itemsize"])
        items = mem.view(int(row["addr"]), n * isz).reshape(n, isz)
        items[:] = items[:, ::-1].copy()


# -- checksums ------------------------------------------------------------------------------------

_POLY = {CRC32C: 0x82F63B78, CRC32: 0xEDB88320}


def _multmodp(a: int, b: int, poly: int) -> int:
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if (a & (m - 1)) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ poly if b & 1 else b >> 1


@lru_cache(maxsize=4096)
def _x8nmodp(n: int, poly: int) -> int:
    """x^(8n) mod p: the operator that shifts a CRC over ``n`` zero bytes."""
    x2n, p = [1 << 30], 1 << 30
    for _ in range(1, 32):
        p = _multmodp(p, p, poly)
        x2n.append(p)
    result, k = 1 << 31, 3
    while n:
        if n & 1:
            result = _multmodp(x2n[k & 31], result, poly)
        n >>= 1
        k += 1
    return result


def crc_combine(crc1: int, crc2: int, len2: int, poly: int) -> int:
    """CRC of ``a + b`` from ``crc(a)``, ``crc(b)`` and ``len(b)`` (zlib's crc32_combine)."""
    return _multmodp(_x8nmodp(len2, poly), crc1, poly) ^ crc2


def adler_combine(a1: int, a2: int, len2: int) -> int:
    """Adler-32 of ``a + b`` from the two checksums and ``len(b)`` (zlib's adler32_combine)."""
    base = 65521
    rem = len2 % base
    sum1 = a1 & 0xFFFF
    sum2 = (rem * sum1) % base
    sum1 += (a2 & 0xFFFF) + base - 1
    sum2 += ((a1 >> 16) & 0xFFFF) + ((a2 >> 16) & 0xFFFF) + base - rem
    sum1 = sum1 - base if sum1 >= base else sum1
    sum1 = sum1 - base if sum1 >= base else sum1
    sum2 = sum2 - 2 * base if sum2 >= 2 * base else sum2
    sum2 = sum2 - base if sum2 >= base else sum2
    return sum1 | (sum2 << 16)


def _segment_checksum(data: np.ndarray, kind: int) -> int:
    if kind == CRC32C:
        return _crc32c.crc32c(data)
    if kind == CRC32:
        return zlib.crc32(data)
    return zlib.adler32(data)


def checksum_of(data: np.ndarray, kind: int, threads: int = CHECKSUM_THREADS) -> int:
    """One region's checksum computed as the kernel does: per-thread segments, then a combine tree."""
    n = data.size
    seg = -(-n // threads)
    vals, lens = [], []
    for t in range(threads):
        begin, end = min(t * seg, n), min(t * seg + seg, n)
        vals.append(_segment_checksum(data[begin:end], kind))
        lens.append(end - begin)
    width = 1
    while width < threads:
        for t in range(0, threads - width, 2 * width):
            if kind == ADLER32:
                vals[t] = adler_combine(vals[t], vals[t + width], lens[t + width])
            else:
                vals[t] = crc_combine(vals[t], vals[t + width], lens[t + width], _POLY[kind])
            lens[t] += lens[t + width]
        width *= 2
    return vals[0]


def checksum_batch(mem: Memory, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
    """``checksum.cu:checksum_batch``: ``(values, ok)``; ``ok`` is 1 where the stored value matches."""
    values = np.zeros(len(table), np.uint32)
    ok = np.zeros(len(table), np.uint8)
    for i, row in enumerate(table):
        values[i] = checksum_of(mem.view(int(row["src"]), int(row["nbytes"])), kind)
        if row["expected"]:
            stored = bytes(mem.view(int(row["expected"]), 4))
            ok[i] = int.from_bytes(stored, "big" if row["big_endian"] else "little") == values[i]
    return values, ok
