"""Batch (de)compression of raw streams through ``DeviceOps``, with alignment and size checks.

nvCOMP wants aligned input and output pointers for some codecs; streams inside blosc blocks or
after a container header start anywhere. Misaligned streams are copied to aligned slots (one
``batch_memcpy`` each way) so the codec still sees one batch. Every decoded size is checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import CodecError
from . import descriptors as d
from .ops import DeviceOps, align


class NeedsFallback(Exception):
    """This batch cannot run on the device (e.g. blosclz streams); decode it on the CPU instead."""


def _realign(ops: DeviceOps, addresses: np.ndarray, sizes: np.ndarray, alignment: int):
    """Aligned replacement addresses for misaligned rows, plus the buffer that holds them."""
    off = (addresses % np.uint64(alignment)) != 0
    if alignment <= 1 or not off.any():
        return addresses, off, None
    slot = align(sizes[off].astype(np.int64), max(alignment, 16))
    starts = np.concatenate([[0], np.cumsum(slot)[:-1]]).astype(np.uint64)
    buffer = ops.empty(int(slot.sum()) or 1)
    moved = addresses.copy()
    moved[off] = np.uint64(ops.address(buffer)) + starts
    return moved, off, buffer


def decompress_checked(ops: DeviceOps, codec: str, table: np.ndarray, keys: Sequence[str], what: str) -> None:
    """Decode a ``STREAM`` table in one batch; ``CodecError`` naming ``keys[row]`` for any bad stream."""
    if not len(table):
        return
    in_align, out_align = ops.alignment(codec)
    run = table.copy()
    run["src"], src_moved, src_buffer = _realign(ops, table["src"], table["src_size"], in_align)
    if src_moved.any():
        rows = table[src_moved]
        ops.launch(
            "batch_memcpy",
            d.table(d.COPY, src=rows["src"], dst=run["src"][src_moved], nbytes=rows["src_size"]),
        )
    run["dst"], dst_moved, dst_buffer = _realign(ops, table["dst"], table["dst_size"], out_align)
    sizes = np.asarray(ops.decompress_streams(codec, run), dtype=np.int64)
    bad = sizes != table["dst_size"]
    if bad.any():
        i = int(bad.argmax())
        detail = (
            "corrupt stream" if sizes[i] < 0 else f"decoded {sizes[i]} bytes, expected {table['dst_size'][i]}"
        )
        raise CodecError(f"{codec} {detail}", key=keys[i], codec=what)
    if dst_moved.any():
        rows = table[dst_moved]
        ops.launch(
            "batch_memcpy",
            d.table(d.COPY, src=run["dst"][dst_moved], dst=rows["dst"], nbytes=rows["dst_size"]),
        )
    del src_buffer, dst_buffer  # kept alive until the copies above are queued


def compress_checked(
    ops: DeviceOps, codec: str, table: np.ndarray, level: int, keys: Sequence[str], what: str
) -> np.ndarray:
    """Encode a ``STREAM`` table in one batch; the compressed sizes (``CodecError`` on failure)."""
    if not len(table):
        return np.zeros(0, np.int64)
    sizes = np.asarray(ops.compress_streams(codec, table, level), dtype=np.int64)
    bad = (sizes < 0) | (sizes > table["dst_size"])
    if bad.any():
        i = int(bad.argmax())
        raise CodecError(f"{codec} batch compression failed", key=keys[i], codec=what)
    return sizes
