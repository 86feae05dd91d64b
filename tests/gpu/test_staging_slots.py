"""``gpu.slots`` and ``gpu.staging`` on their own: slots are lent to one batch at a time, refilled
only after the copy out of them, bounded in number, and safe to take and give back from many
threads at once."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import cuzarr
from cuzarr.errors import DeviceOutOfMemory
from cuzarr.gpu.emulated_ops import EmulatedOps
from cuzarr.gpu.slots import StagingSlots
from cuzarr.gpu.staging import read_files, stage


def test_a_slot_is_refilled_only_after_the_copy_out_of_it():
    ops = EmulatedOps()
    slots = StagingSlots(ops)
    first = slots.take(100)
    event = ops.record_event()
    first.copied(event)
    second = slots.take(100)  # the first is held: another slot
    assert second.number != first.number and slots.held == 2
    first.give_back()
    assert event.waited == 0  # giving back never blocks the decoding thread
    again = slots.take(50)
    assert again.number == first.number and event.waited == 1  # waited before handing it out
    assert again.host is first.host  # the buffer is reused, not reallocated
    for lease in (second, again):
        lease.give_back()
    assert slots.held == 0 and slots.cached == 2


def test_give_back_is_idempotent_and_a_dropped_lease_returns_its_slot():
    ops = EmulatedOps()
    slots = StagingSlots(ops)
    lease = slots.take(10)
    lease.give_back()
    lease.give_back()
    assert slots.held == 0 and lease.given_back and slots.cached == 1
    lease = slots.take(10)
    del lease
    gc.collect()
    assert slots.held == 0  # collected without give_back: its memory is let go, not cached
    assert slots.cached == 0 and ops.pinned_memory.used == 0


def test_free_slots_are_bounded_and_clear_lets_them_go():
    ops = EmulatedOps()
    slots = StagingSlots(ops, keep=2)
    leases = [slots.take(1000) for _ in range(5)]  # five concurrent batches: five slots
    assert len({lease.number for lease in leases}) == 5
    for lease in leases:
        lease.give_back()
    del leases, lease  # a lease keeps its buffer alive, as the staged batch viewing it does
    assert slots.cached == 2 and ops.pinned_memory.used == 2 * (1 << 20)
    slots.clear()
    assert slots.cached == 0 and ops.pinned_memory.used == 0
    lease = slots.take(10)
    lease.give_back(keep=False)  # a failed batch: its memory goes
    del lease
    assert slots.cached == 0 and ops.pinned_memory.used == 0


def test_an_outgrown_slot_is_replaced_and_out_of_memory_takes_exactly_what_is_needed():
    ops = EmulatedOps(pinned_limit=3 << 20)
    slots = StagingSlots(ops)
    lease = slots.take(10)
    assert lease.host.size == 1 << 20  # headroom: small batches share one size
    lease.give_back()
    lease = slots.take(2 << 20)  # the old buffer is freed before the larger one is allocated
    assert lease.host.size == 2 << 20 and ops.pinned_memory.used == 2 << 20  # no room for 25% more
    with pytest.raises(DeviceOutOfMemory):
        slots.take(2 << 20)  # a second slot of that size does not fit
    assert slots.held == 1
    lease.give_back()
    assert slots.held == 0


def test_many_threads_never_share_a_slot():
    ops = EmulatedOps()
    slots = StagingSlots(ops, keep=3)
    owners: dict[int, int] = {}
    lock = threading.Lock()
    clashes = []

    def borrow(worker: int) -> None:
        for round_ in range(200):
            lease = slots.take(64 + round_)
            with lock:
                if lease.number in owners:
                    clashes.append((lease.number, owners[lease.number], worker))
                owners[lease.number] = worker
            lease.host[:8] = worker  # a write a second holder would see
            assert (lease.host[:8] == worker).all()
            with lock:
                del owners[lease.number]
            lease.copied(ops.record_event())
            lease.give_back()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(borrow, range(8)))
    assert not clashes and slots.held == 0 and slots.cached <= 3


def test_stage_and_read_files_fill_a_slot_and_give_it_back_on_failure(tmp_path):
    ops = EmulatedOps()
    slots = StagingSlots(ops)
    values = [b"abc", None, bytes(range(200))]
    staged = stage(slots, values)
    assert [None if v is None else bytes(v) for v in staged] == values
    assert staged.lease is not None and slots.held == 1
    part = staged.part(1, 3)
    assert part.lease is staged.lease and bytes(part[1]) == values[2]
    staged.give_back()
    assert slots.held == 0

    paths = []
    for i in range(40):
        path = tmp_path / f"f{i}"
        if i % 7:
            path.write_bytes(bytes([i]) * (i * 13))
        paths.append(str(path))
    with cuzarr.config.set(threads=4):
        staged = read_files(slots, paths)
        expected = [None if i % 7 == 0 else bytes([i]) * (i * 13) for i in range(40)]
        assert [None if v is None else bytes(v) for v in staged] == expected
        staged.give_back()
        # from a pool thread (where a prefetched fetch runs) the reads still complete
        future = cuzarr.config.thread_pool().submit(read_files, slots, paths)
        staged = future.result(timeout=30)
        assert [None if v is None else bytes(v) for v in staged] == expected
        staged.give_back()
    with pytest.raises(TypeError):
        stage(slots, [b"ok", object()])  # not bytes-like: the slot goes back
    assert slots.held == 0


def test_unreadable_files_close_every_descriptor_and_hold_no_slot(tmp_path):
    import os

    slots = StagingSlots(EmulatedOps())
    paths = [str(tmp_path / f"f{i}") for i in range(10)]
    for path in paths:
        (tmp_path / path).write_bytes(b"x" * 10)
    unopenable = str(tmp_path / ("n" * 300))  # ENAMETOOLONG: an error other than "missing"
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    with cuzarr.config.set(threads=4), pytest.raises(OSError):
        read_files(slots, [*paths, unopenable, *paths])
    if before is not None:
        assert len(os.listdir("/proc/self/fd")) == before
    assert slots.held == 0


def test_emulated_events_count_waits():
    ops = EmulatedOps()
    event = ops.record_event()
    ops.wait_event(event)
    ops.wait_event(None)
    assert event.waited == 1
