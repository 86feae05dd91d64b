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
    table = d.strided_table(
        [ops.address(s) for s, _ in pairs],
        [ops.address(t) for _, t in pairs],
        [s.shape for s, _ in pairs],
        [s.strides for s, _ in pairs],
        [t.strides for _, t in pairs],
        pairs[0][0].dtype.itemsize,
    )
    ops.launch("copy_strided", table)


def _copy_slots_into(ops: DeviceOps, slots: np.ndarray, plan: DevicePlan, outs: Sequence[Any]) -> None:
    """``outs[k][...] =`` the decoded chunk at address ``slots[k]`` (laid out as stored), in one
    launch; the chunks need no array views of their own."""
    if not len(outs) or not plan.nbytes:
        return
    strides = plan.chunk_strides()
    table = d.strided_table(
        slots,
        [ops.address(out) for out in outs],
        [out.shape for out in outs],
        [strides] * len(outs),
        [out.strides for out in outs],
        plan.dtype.itemsize,
    )
    ops.launch("copy_strided", table)


def _view_at(arena: Any, offset: int, plan: DevicePlan) -> Any:
    """The decoded chunk at ``offset`` of ``arena`` as an array of the chunk's shape."""
    flat = arena[offset : offset + plan.nbytes].view(plan.dtype)
    return flat.reshape(plan.stored_shape).transpose(plan.inverse)


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
    direct = np.array([fits_in_place(ops, outs[i], plan.dtype, strides) for i in present], bool)
    pitch = int(align(max(raw, 1)))
    arena = ops.empty(max(pitch * int((~direct).sum()), 1))
    arena_base, in_arena = np.uint64(ops.address(arena)), np.cumsum(~direct) - 1
    slots = np.array([ops.address(outs[i]) if ok and raw else 0 for i, ok in zip(present, direct)], np.uint64)
    if raw:  # zero-size chunks have nothing to write: no addresses
        slots[~direct] = arena_base + in_arena[~direct].astype(np.uint64) * np.uint64(pitch)

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
    copied = [k for k, i in enumerate(present) if not direct[k] and outs[i] is not None]
    _copy_slots_into(ops, slots[copied], plan, [outs[present[k]] for k in copied])
    for k, i in enumerate(present):
        if outs[i] is not None:
            results[i] = outs[i]
        else:  # no output given: the chunk stays in the arena, as a view of it
            results[i] = _view_at(arena, int(in_arena[k]) * pitch, plan)
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
