"""Device reads fetch batch i+1 on a pool thread while batch i decodes (emulated backend).

The emulated ops log every staging slot as a fetch takes it, a decode reads it and gives it back
(with the thread that did it), so these tests prove the overlap and that a fetch never writes a
slot an unfinished decode reads; results are compared with NumPy, failures must leave no fetch
running and no slot held, and concurrent readers must not disturb each other.
"""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import BloscCodec, GzipCodec, ZstdCodec
from cuzarr.config import POOL_THREAD_PREFIX
from cuzarr.errors import CodecError, DeviceError
from cuzarr.storage import MemoryStore
from cuzarr.storage.wrappers import CountingStore

SHAPE, CHUNKS = (64, 48), (4, 48)  # 16 chunks of one row band each
CHUNK_BYTES = 4 * 48 * 4
BATCHES = 8
#: prefetching reads batches of half ``batch_bytes``: two chunks per batch, eight batches
PREFETCH = dict(threads=4, batch_bytes=4 * CHUNK_BYTES)
DATA = np.round(np.random.default_rng(1).normal(size=SHAPE), 1).astype("f4")

COMPRESSORS = {
    "raw": None,
    "zstd": ZstdCodec(level=1),
    "gzip": GzipCodec(level=1),
    "blosc": BloscCodec(cname="lz4", shuffle="shuffle"),
}
SELECTIONS = [
    (Ellipsis,),
    (slice(3, 61), slice(5, 40)),
    (slice(None, None, 3), slice(1, None, 2)),
    (slice(None, None, -1), 7),
]


class SlowStore(CountingStore):
    """Batched reads take ``delay`` seconds and may fail on the k-th call; reads in flight are counted."""

    def __init__(self, store, delay: float = 0.0):
        super().__init__(store)
        self.delay = delay
        self.fail_on: int | None = None
        self.calls = self.in_flight = 0
        self.lock = threading.Lock()

    def get_many(self, keys, byte_ranges=None):
        with self.lock:
            self.calls += 1
            self.in_flight += 1
            call = self.calls
        try:
            time.sleep(self.delay)
            if call == self.fail_on:
                raise OSError(f"injected read failure on call {call}")
            return super().get_many(keys, byte_ranges)
        finally:
            with self.lock:
                self.in_flight -= 1


def _write(store, compressors=None) -> None:
    z = cuzarr.create_array(store=store, shape=SHAPE, chunks=CHUNKS, dtype="f4", compressors=compressors)
    z[...] = DATA


def _emulated(store) -> cuzarr.Array:
    return cuzarr.open_array(store, device="emulated", mode="r+")


def _log(z: cuzarr.Array) -> list[tuple[str, int, str]]:
    return list(z._backend.ops.staging_log)


def check_slot_order(log: list[tuple[str, int, str]]) -> None:
    """Per slot: take (fetch writes) -> read (decode) -> give (and maybe drop), never interleaved."""
    state: dict[int, str] = {}
    allowed = {
        "take": {None, "give", "drop"},
        "read": {"take"},
        "give": {"take", "read"},
        "drop": {"give", None},
    }
    for action, slot, thread in log:
        assert state.get(slot) in allowed[action], f"slot {slot}: {action} after {state.get(slot)} ({thread})"
        state[slot] = action
    assert all(last in ("give", "drop") for last in state.values()), state


def most_held(log: list[tuple[str, int, str]]) -> int:
    held = most = 0
    for action, _, _ in log:
        held += {"take": 1, "give": -1}.get(action, 0)
        most = max(most, held)
    return most


def _released(z: cuzarr.Array) -> bool:
    gc.collect()
    ops = z._backend.ops
    return z._backend.slots.held == 0 and ops.pinned_memory.used == 0 and ops.device_memory.used == 0


def test_device_backends_prefetch():
    from cuzarr.buffer.emulated import EmulatedBackend

    assert EmulatedBackend.prefetches_batches


@pytest.mark.parametrize("compressors", list(COMPRESSORS), ids=list(COMPRESSORS))
@pytest.mark.parametrize("where", ["local", "memory"])
def test_many_batches_equal_numpy_with_prefetch(tmp_path, where, compressors):
    store = str(tmp_path / "a.zarr") if where == "local" else MemoryStore()
    _write(store, COMPRESSORS[compressors])
    z = _emulated(store)
    with cuzarr.config.set(**PREFETCH):
        for selection in SELECTIONS:
            np.testing.assert_array_equal(z[selection], DATA[selection])
        np.testing.assert_array_equal(
            z.oindex[[1, 60, 33, 2], [0, 47, 5]], DATA[np.ix_([1, 60, 33, 2], [0, 47, 5])]
        )
    log = _log(z)
    check_slot_order(log)
    takers = {thread for action, _, thread in log if action == "take"}
    assert any(t.startswith(POOL_THREAD_PREFIX) for t in takers)  # fetched off the caller
    assert {thread for action, _, thread in log if action == "read"} == {threading.current_thread().name}
    assert most_held(log) <= 2 and z._backend.slots.held == 0
    # at most two slots (a second only when the next fetch starts before this decode gives its
    # slot back, which depends on timing; the forced-overlap test below proves it happens)
    assert len({slot for action, slot, _ in log if action == "take"}) <= 2


def test_the_next_fetch_runs_while_a_decode_reads_another_slot():
    store = MemoryStore()
    _write(store, ZstdCodec(level=1))
    z = _emulated(store)
    ops = z._backend.ops
    real = ops.decompress_streams
    waited: list[bool] = []

    def decode_after_the_next_fetch_started(codec, table):
        """Hold batch i's decode until batch i+1's fetch has taken its slot (or 10 s passed)."""
        log = _log(z)
        reads = sum(action == "read" for action, _, _ in log)
        if reads < BATCHES:
            deadline = time.monotonic() + 10
            while sum(a == "take" for a, _, _ in _log(z)) <= reads and time.monotonic() < deadline:
                time.sleep(0.001)
            waited.append(time.monotonic() < deadline)
        return real(codec, table)

    ops.decompress_streams = decode_after_the_next_fetch_started
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[...], DATA)
    assert waited == [True] * (BATCHES - 1)
    log = _log(z)
    check_slot_order(log)
    caller = threading.current_thread().name
    reads = [i for i, (action, _, _) in enumerate(log) if action == "read"]
    gives = [i for i, (action, _, _) in enumerate(log) if action == "give"]
    takes = [i for i, (action, _, _) in enumerate(log) if action == "take"]
    assert len(reads) == len(gives) == len(takes) == BATCHES
    for i in range(BATCHES - 1):
        # batch i+1's slot was taken (on a pool thread) while batch i was being decoded from
        # another slot (on the caller): after batch i's read began, before it was given back
        assert reads[i] < takes[i + 1] < gives[i]
        _, fetched_slot, fetcher = log[takes[i + 1]]
        _, decoded_slot, decoder = log[reads[i]]
        assert fetched_slot != decoded_slot
        assert fetcher.startswith(POOL_THREAD_PREFIX) and decoder == caller
    assert {log[t][1] for t in takes} == {log[takes[0]][1], log[takes[1]][1]}  # both slots, no third
    assert most_held(log) == 2
    assert ops.pinned_memory.peak <= 2 * (1 << 20)  # two small slots: at most two batches staged


@pytest.mark.parametrize("failing_batch", [1, 3, BATCHES])
@pytest.mark.parametrize("failure", ["device", "data"])
def test_a_failed_decode_leaves_no_fetch_running_and_no_slot_held(failing_batch, failure):
    memory = MemoryStore()
    _write(memory, ZstdCodec(level=1))
    slow = SlowStore(memory, delay=0.02)
    z = _emulated(slow)
    opened = slow.calls
    first_chunk = 2 * (failing_batch - 1)
    if failure == "device":
        z._backend.ops.faults.fail_at("decompress:zstd", failing_batch)
        expected = DeviceError
    else:
        memory.set(f"c/{first_chunk}/0", b"not zstd")
        expected = CodecError
    with cuzarr.config.set(**PREFETCH), pytest.raises(expected) as info:
        z[...]
    assert f"c/{first_chunk}/0" in str(info.value)
    del info
    assert slow.in_flight == 0  # the prefetch in flight finished before the error surfaced
    assert slow.calls - opened == min(failing_batch + 1, BATCHES)  # the failed batch and the next
    log = _log(z)
    check_slot_order(log)
    assert z._backend.slots.held == 0 and most_held(log) <= 2
    if failure == "device":
        assert _released(z)  # and the memory of both slots went back
    cuzarr.open_array(memory, mode="r+")[...] = DATA  # repaired: the same backend reads it all again
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[...], DATA)


def test_a_failed_fetch_leaves_no_slot_held():
    memory = MemoryStore()
    _write(memory, ZstdCodec(level=1))
    slow = SlowStore(memory, delay=0.005)
    z = _emulated(slow)
    slow.fail_on = slow.calls + 4  # the fourth batch's read
    with cuzarr.config.set(**PREFETCH), pytest.raises(OSError, match="injected"):
        z[...]
    assert slow.in_flight == 0 and z._backend.slots.held == 0
    check_slot_order(_log(z))
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[...], DATA)


def test_a_failed_scatter_mid_read_holds_no_slot(tmp_path):
    _write(str(tmp_path), ZstdCodec(level=1))
    z = _emulated(str(tmp_path))
    z._backend.ops.faults.fail_at("copy_strided", 3)  # the third batch's scatter
    with cuzarr.config.set(**PREFETCH), pytest.raises(DeviceError) as info:
        z[1:63, 3:40]
    assert info.value.keys == ("c/4/0", "c/5/0")
    del info
    assert _released(z)
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[1:63, 3:40], DATA[1:63, 3:40])


def _read_repeatedly(arrays_and_data, rounds: int) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(arrays_and_data))

    def reader(z, data, offset):
        try:
            start.wait()
            for r in range(rounds):
                steps = [slice(None, None, 1 + r % 3)] * (data.ndim - 1)
                selection = (slice((r + offset) % 5, None), *steps)
                np.testing.assert_array_equal(z[selection], data[selection])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=reader, args=(z, d, i)) for i, (z, d) in enumerate(arrays_and_data)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_two_threads_reading_two_arrays_concurrently(tmp_path):
    other = DATA[::-1] * 3 + 1
    _write(str(tmp_path / "a"), ZstdCodec(level=1))
    z = cuzarr.create_array(
        store=MemoryStore(), shape=SHAPE, chunks=CHUNKS, dtype="f4", compressors=BloscCodec(cname="zstd")
    )
    z[...] = other
    arrays = [(_emulated(str(tmp_path / "a")), DATA), (_emulated(z.store), other)]
    with cuzarr.config.set(**PREFETCH):
        assert not _read_repeatedly(arrays, rounds=20)
    for array, _ in arrays:
        check_slot_order(_log(array))
        assert array._backend.slots.held == 0


def test_threads_reading_one_array_never_share_a_slot(tmp_path):
    _write(str(tmp_path), ZstdCodec(level=1))
    z = _emulated(str(tmp_path))  # one backend, one set of slots, four readers
    with cuzarr.config.set(**PREFETCH):
        assert not _read_repeatedly([(z, DATA)] * 4, rounds=15)
    log = _log(z)
    check_slot_order(log)  # interleaved reads, yet every slot was held by one batch at a time
    assert z._backend.slots.held == 0 and most_held(log) <= 2 * 4
    assert len({thread for action, _, thread in log if action == "read"}) == 4


def test_host_decoded_dtypes_copy_out_of_the_slot():
    """Strings decode on the host, whose decoders may return views of their input: the slot is
    given back before the scatter reads the chunk, so it must not be a view of the slot."""
    memory = MemoryStore()
    data = np.array([f"v{i}" * (i % 5) for i in range(64)], dtype=object)
    cuzarr.create_array(store=memory, shape=(64,), chunks=(4,), dtype=str)[...] = data
    z = _emulated(memory)
    with cuzarr.config.set(threads=4, batch_bytes=4 * 4 * np.dtype(z.dtype).itemsize):
        assert not _read_repeatedly([(z, data)] * 3, rounds=10)
        assert list(z[3:61]) == list(data[3:61])
    assert z._backend.slots.held == 0


def test_chunks_decoded_on_the_host_never_view_the_slot():
    """dtypes the device cannot hold decode on the host, where raw chunks come back as views of
    their input: the slot is given back (and may be refilled) before the scatter reads them."""
    from cuzarr.buffer.emulated import EmulatedBackend

    class NoFloats(EmulatedBackend):  # as CUDA has no structured or non-native dtypes
        def supports_dtype(self, dtype):
            return np.dtype(dtype).kind != "f" and super().supports_dtype(dtype)

    memory = MemoryStore()
    _write(memory, compressors=None)
    z = cuzarr.open_array(memory, mode="r")
    io, backend = z._chunk_io(), NoFloats()
    keys = [io.source.key((i, 0)) for i in range(4)]
    staged = backend.fetch(memory, keys)
    host = staged.host
    chunks = backend.decode_chunks(io.codecs, staged, keys=keys)
    assert not any(np.shares_memory(chunk, host) for chunk in chunks)
    assert backend.slots.held == 0
    np.testing.assert_array_equal(np.concatenate(chunks), DATA[:16])
    z._backend = backend
    with cuzarr.config.set(**PREFETCH):
        assert not _read_repeatedly([(z, DATA)] * 3, rounds=10)


@pytest.mark.parametrize("compressors", [ZstdCodec(level=1), BloscCodec(cname="lz4", shuffle="shuffle")])
def test_sharded_reads_stage_shard_ranges_on_the_fetching_thread(compressors):
    """Shard ranges are copied into a pinned slot by the fetch (a pool thread), not by the decode."""
    store = MemoryStore()
    z = cuzarr.create_array(
        store=store, shape=SHAPE, chunks=CHUNKS, shards=(8, 48), dtype="f4", compressors=compressors
    )
    z[...] = DATA
    z = _emulated(store)
    z._backend.timings.reset()
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[...], DATA)
        np.testing.assert_array_equal(z[3:61, 5:40], DATA[3:61, 5:40])
    log = _log(z)
    check_slot_order(log)
    takes = [thread for action, _, thread in log if action == "take"]
    assert len(takes) > 2 and all(t.startswith(POOL_THREAD_PREFIX) for t in takes[1:])
    assert z._backend.timings.snapshot()["stage"]["calls"] == len(takes)
    assert z._backend.slots.held == 0 and most_held(log) <= 2
