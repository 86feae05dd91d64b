"""Encode a batch on the device: one gather, one byteswap, one batch compression, one copy back.

Chunks are gathered into one arena in their stored layout (transposes and v2 ``order='F'`` are
just strides of the gather), compressed as one batch into slots that leave room for container
headers and trailers, and copied to the host once; the few header/trailer bytes (gzip, zlib,
numcodecs LZ4, crc32c) are then written on the host around each payload. Results are views of
one fresh host buffer per batch, so stores may keep them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import descriptors as d
from .chain_plan import DevicePlan, c_strides
from .ops import DeviceOps, align
from .streams import compress_checked

_GZIP_HEADER = bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF])
#: compressor -> (device stream codec, header bytes, trailer bytes)
_CONTAINERS = {
    "zstd": ("zstd", 0, 0),
    "gzip": ("deflate", 10, 8),
    "zlib": ("deflate", 2, 4),
    "lz4": ("lz4", 4, 0),
}


def _level(step: Any) -> int:
    if step.name == "lz4":
        return int(step.get("acceleration", 1))
    default = 0 if step.name == "zstd" else 5 if step.name == "gzip" else 1
    return int(step.get("level", default))


def gather(ops: DeviceOps, chunks: Sequence[Any], plan: DevicePlan, pitch: int, stored: bool) -> Any:
    """All chunks copied into one arena (``pitch`` bytes apart), in stored layout or plain C order."""
    xp = ops.xp
    arena = ops.empty(max(pitch * len(chunks), 1))
    arrays = []
    for chunk in chunks:
        arr = chunk if isinstance(chunk, xp.ndarray) else xp.asarray(chunk)
        arrays.append(arr if arr.dtype == plan.dtype else arr.astype(plan.dtype))
    if not plan.nbytes or not arrays:
        return arena
    # the slots' layout is the same for every chunk: addresses and strides, no view per chunk
    slot_strides = plan.chunk_strides() if stored else c_strides(plan.shape, plan.dtype.itemsize)
    base = np.uint64(ops.address(arena))
    table = d.strided_table(
        [ops.address(a) for a in arrays],
        base + np.arange(len(arrays), dtype=np.uint64) * np.uint64(pitch),
        [a.shape for a in arrays],
        [a.strides for a in arrays],
        [slot_strides] * len(arrays),
        plan.dtype.itemsize,
    )
    ops.launch("copy_strided", table)
    return arena


def encode_batch(
    ops: DeviceOps, plan: DevicePlan, chunks: Sequence[Any], keys: Sequence[str]
) -> list[np.ndarray]:
    """Encoded bytes of every chunk (flat uint8 host views), via device kernels and batch compression."""
    n, raw = len(chunks), plan.nbytes
    if not n:
        return []
    steps = list(reversed(plan.steps))  # encode order
    crcs = sum(s.name == "crc32c" for s in steps)
    compressor = next((s for s in steps if s.name != "crc32c"), None)
    pitch = int(align(max(raw + 4 * crcs, 1)))
    arena = gather(ops, chunks, plan, pitch, stored=True)
    base = np.uint64(ops.address(arena))
    slots = base + np.arange(n, dtype=np.uint64) * np.uint64(pitch)
    if plan.swap and raw:
        ops.launch(
            "byteswap", d.table(d.SWAP, addr=slots, nitems=[raw // plan.swap] * n, itemsize=[plan.swap] * n)
        )
    header = 0
    sizes = np.full(n, raw, np.int64)
    patches: list[
        tuple[int, Any]
    ] = []  # (position relative to payload start or -1 for header, bytes per chunk)
    out_device, out_pitch = arena, pitch
    if compressor is not None:
        codec, header, trailer = _CONTAINERS[compressor.name]
        room = ops.max_compressed_size(codec, raw)
        out_pitch = int(align(header + room + trailer + 4 * crcs))
        out_device = ops.empty(out_pitch * n)
        dst = (
            np.uint64(ops.address(out_device))
            + np.arange(n, dtype=np.uint64) * np.uint64(out_pitch)
            + np.uint64(header)
        )
        if compressor.name in ("gzip", "zlib"):
            kind = d.CRC32 if compressor.name == "gzip" else d.ADLER32
            sums, _ = ops.checksum(d.table(d.CHECKSUM, src=slots, nbytes=sizes), kind)
        table = d.table(d.STREAM, src=slots, src_size=sizes, dst=dst, dst_size=[room] * n)
        sizes = compress_checked(ops, codec, table, _level(compressor), keys, compressor.name)
        slots = dst
        if compressor.name == "gzip":
            patches = [
                (-1, [_GZIP_HEADER] * n),
                (0, [struct.pack("<II", int(s), raw % (1 << 32)) for s in sums]),
            ]
        elif compressor.name == "zlib":
            patches = [(-1, [b"\x78\x9c"] * n), (0, [struct.pack(">I", int(s)) for s in sums])]
        elif compressor.name == "lz4":
            patches = [(-1, [struct.pack("<I", raw)] * n)]
        sizes = sizes + trailer
    host = np.empty(out_pitch * n, np.uint8)
    ops.to_host(out_device, host)
    results = []
    for k in range(n):
        start = k * out_pitch
        payload_end = start + header + int(sizes[k])
        for where, values in patches:
            blob = np.frombuffer(values[k], np.uint8)
            at = start if where < 0 else payload_end - blob.size
            host[at : at + blob.size] = blob
        results.append(host[start:payload_end])
    if crcs:
        results = _append_crc32c(ops, host, results, crcs)
    return results


def _append_crc32c(
    ops: DeviceOps, host: np.ndarray, results: list[np.ndarray], count: int
) -> list[np.ndarray]:
    """crc32c trailers after the compressor, computed on the host copy (a few bytes per chunk)."""
    import crc32c

    out = []
    for view in results:
        start = view.__array_interface__["data"][0] - host.__array_interface__["data"][0]
        end = start + view.size
        for _ in range(count):
            host[end : end + 4] = np.frombuffer(
                crc32c.crc32c(host[start:end]).to_bytes(4, "little"), np.uint8
            )
            end += 4
        out.append(host[start:end])
    return out


def encode_on_cpu(
    ops: DeviceOps, codecs: Any, plan_shape: DevicePlan, chunks: Sequence[Any], keys: Sequence[str]
) -> list[Any]:
    """Gather on the device, one copy to the host, then the chain's own CPU encoder."""
    pitch = int(align(max(plan_shape.nbytes, 1)))
    arena = gather(ops, chunks, plan_shape, pitch, stored=False)
    host = np.empty(arena.size, np.uint8)
    ops.to_host(arena, host)
    raw = plan_shape.nbytes
    host_chunks = [
        host[k * pitch : k * pitch + raw].view(plan_shape.dtype).reshape(plan_shape.shape)
        for k in range(len(chunks))
    ]
    return codecs.encode_batch(host_chunks, keys=keys)
