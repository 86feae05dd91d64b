"""Decode a staged batch on the device following a ``DevicePlan``: one batched call per step.

Chunks whose output view has exactly the stored layout decode straight into it; the others
decode into one result arena (returned as views) or are copied into their output views by a
single ``copy_strided`` launch at the end. The CPU fallback decodes into one host arena and
moves it with one host-to-device copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import CodecError
from . import containers
from . import descriptors as d
from .chain_plan import DevicePlan
from .ops import DeviceOps, align
from .staging import StagedChunks


def fits_in_place(ops: DeviceOps, out: Any, dtype: np.dtype, strides: tuple[int, ...]) -> bool:
    """Whether ``out`` is a device view whose memory is laid out exactly like the stored chunk."""
    if out is None or not isinstance(out, ops.xp.ndarray) or out.dtype != dtype:
        return False
    return all(n == 1 or s == e for n, s, e in zip(out.shape, out.strides, strides))


def copy_into(ops: DeviceOps, pairs: Sequence[tuple[Any, Any]]) -> None:
    """``dst[...] = src`` for every pair in one ``copy_strided`` launch (same shapes and dtypes)."""
    pairs = [(s, t) for s, t in pairs if s.size]
    if not pairs:
        return
    table = np.zeros(len(pairs), d.STRIDED)
    for row, (src, dst) in zip(table, pairs):
        d.strided_row(
            row, ops.address(src), ops.address(dst), src.shape, src.strides, dst.strides, src.dtype.itemsize
        )
    ops.launch("copy_strided", table)


def _views(ops: DeviceOps, arena: Any, count: int, pitch: int, plan: DevicePlan) -> list[Any]:
    stored = plan.stored_shape
    return [
        arena[k * pitch : k * pitch + plan.nbytes].view(plan.dtype).reshape(stored).transpose(plan.inverse)
        for k in range(count)
    ]


def decode_batch(
    ops: DeviceOps, plan: DevicePlan, staged: StagedChunks, outs: Sequence[Any], keys: Sequence[str]
) -> list[Any]:
    """Decode every present chunk of ``staged``; ``None`` stays ``None``, ``outs[i]`` is filled when given."""
    present = np.flatnonzero(staged.sizes >= 0)
    results: list[Any] = [None] * len(staged)
    if not present.size:
        return results
    raw, pkeys = plan.nbytes, [keys[i] for i in present]
    device_in = ops.empty(max(staged.used, 1))
    ops.to_device(staged.host[: staged.used], device_in[: staged.used])
    staged.copied(ops.record_event())  # the slot may be refilled once this copy has run
    base = np.uint64(ops.address(device_in))
    strides = plan.chunk_strides()
    direct = [fits_in_place(ops, outs[i], plan.dtype, strides) for i in present]
    pitch = int(align(max(raw, 1)))
    arena = ops.empty(max(pitch * (len(direct) - sum(direct)), 1))
    views = iter(_views(ops, arena, len(direct) - sum(direct), pitch, plan))
    targets = [outs[i] if ok else next(views) for i, ok in zip(present, direct)]
    slots = np.array([ops.address(t) if raw else 0 for t in targets], np.uint64)

    addr, sizes = base + staged.offsets[present].astype(np.uint64), staged.sizes[present].copy()
    keep: list[Any] = []
    for index, step in enumerate(plan.steps):
        if step.name == "crc32c":
            _verify_crc32c(ops, addr, sizes, pkeys)
            sizes = sizes - 4
            continue
        inner = sum(s.name == "crc32c" for s in plan.steps[index + 1 :])
        expected = raw + 4 * inner
        dst = slots
        if inner:
            keep.append(scratch := ops.empty(max(len(present) * int(align(expected)), 1)))
            dst = np.uint64(ops.address(scratch)) + np.arange(len(present), dtype=np.uint64) * np.uint64(
                align(expected)
            )
        host_offsets = (addr - base).astype(np.int64)
        containers.decode(ops, step.name, staged.host, int(base), host_offsets, sizes, dst, expected, pkeys)
        addr, sizes = dst, np.full(len(present), expected, np.int64)
    if addr is not slots:
        bad = sizes != raw
        if bad.any():
            i = int(bad.argmax())
            raise CodecError(f"chunk is {sizes[i]} bytes, expected {raw}", key=pkeys[i], codec="bytes")
        ops.launch("batch_memcpy", d.table(d.COPY, src=addr, dst=slots, nbytes=sizes))
    if plan.swap and raw:
        n = raw // plan.swap
        ops.launch(
            "byteswap",
            d.table(d.SWAP, addr=slots, nitems=[n] * len(slots), itemsize=[plan.swap] * len(slots)),
        )
    copy_into(
        ops, [(t, outs[i]) for i, t, ok in zip(present, targets, direct) if not ok and outs[i] is not None]
    )
    for i, target in zip(present, targets):
        results[i] = outs[i] if outs[i] is not None else target
    del keep
    return results


def _verify_crc32c(ops: DeviceOps, addr: np.ndarray, sizes: np.ndarray, keys: Sequence[str]) -> None:
    short = sizes < 4
    if short.any():
        i = int(short.argmax())
        raise CodecError(
            f"input is {sizes[i]} bytes, too short to hold the 4-byte checksum", key=keys[i], codec="crc32c"
        )
    table = d.table(d.CHECKSUM, src=addr, nbytes=sizes - 4, expected=addr + (sizes - 4).astype(np.uint64))
    values, ok = ops.checksum(table, d.CRC32C)
    if not ok.all():
        i = int(np.argmin(ok))
        raise CodecError(
            f"checksum mismatch, computed 0x{int(values[i]):08x} (data is corrupt)",
            key=keys[i],
            codec="crc32c",
        )


def decode_on_cpu(
    ops: DeviceOps, codecs: Any, staged: Sequence[Any], outs: Sequence[Any], keys: Sequence[str]
) -> list[Any]:
    """The chain's own CPU decoder into one host arena, then one copy to the device."""
    spec = codecs.spec
    present = [i for i, v in enumerate(staged) if v is not None]
    results: list[Any] = [None] * len(staged)
    if not present:
        return results
    raw = int(np.prod(spec.shape, dtype=np.int64)) * np.dtype(spec.dtype).itemsize
    pitch = int(align(max(raw, 1)))
    host = ops.host_empty(pitch * len(present))
    host_chunks = [
        host[k * pitch : k * pitch + raw].view(spec.dtype).reshape(spec.shape) for k in range(len(present))
    ]
    codecs.decode_batch([staged[i] for i in present], keys=[keys[i] for i in present], outs=host_chunks)
    device = ops.empty(host.size)
    ops.to_device(host, device)
    # ``host`` goes back to the pinned pool on return, where a concurrent fetch may take it:
    # wait for the (asynchronous) copy first. This is the CPU fallback; the wait costs little.
    ops.wait_event(ops.record_event())
    chunks = [
        device[k * pitch : k * pitch + raw].view(spec.dtype).reshape(spec.shape) for k in range(len(present))
    ]
    copy_into(ops, [(c, outs[i]) for i, c in zip(present, chunks) if outs[i] is not None])
    for i, chunk in zip(present, chunks):
        results[i] = outs[i] if outs[i] is not None else chunk
    return results
