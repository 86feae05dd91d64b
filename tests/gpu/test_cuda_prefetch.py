"""Prefetched device reads on CUDA (needs a GPU): batch i+1 is read into a pinned slot on a pool
thread while batch i decodes, and a slot is refilled only after the asynchronous copy out of it
has run. The emulated suite (tests/buffer/test_device_prefetch.py) proves the order of slot use;
this runs the same reads against real pinned memory, streams and events."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import BloscCodec, ZstdCodec
from cuzarr.config import POOL_THREAD_PREFIX
from cuzarr.errors import DeviceError
from cuzarr.storage import MemoryStore
from tests.buffer.test_device_prefetch import check_slot_order, most_held

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")

KiB = 1 << 10
DATA = np.random.default_rng(0).random((64 * 64, 1024), dtype=np.float32)  # 64 chunks of 256 KiB
CHUNKS = (64, 1024)
#: prefetching reads batches of half batch_bytes: two chunks per batch, 32 batches
PREFETCH = dict(threads=8, batch_bytes=4 * 256 * KiB)
COMPRESSORS = {"raw": None, "zstd": ZstdCodec(level=1), "blosc": BloscCodec(cname="lz4", shuffle="shuffle")}


def _array(store, compressors):
    z = cuzarr.create_array(store=store, shape=DATA.shape, chunks=CHUNKS, dtype="f4", compressors=compressors)
    z[...] = DATA
    return cuzarr.open_array(store, device="cuda", mode="r")


def _logged(z) -> list[tuple[str, int, str]]:
    """Log slot use on the CUDA ops as the emulated ops do."""
    log: list[tuple[str, int, str]] = []
    z._backend.ops.note_staging = lambda action, slot: log.append(
        (action, slot, threading.current_thread().name)
    )
    return log


@pytest.mark.parametrize("compressors", list(COMPRESSORS), ids=list(COMPRESSORS))
@pytest.mark.parametrize("where", ["local", "memory"])
def test_many_batches_equal_numpy_with_prefetch(tmp_path, where, compressors):
    z = _array(str(tmp_path / "a.zarr") if where == "local" else MemoryStore(), COMPRESSORS[compressors])
    log = _logged(z)
    with cuzarr.config.set(**PREFETCH):
        got = z[...]
        assert isinstance(got, cupy.ndarray)
        np.testing.assert_array_equal(got.get(), DATA)
        np.testing.assert_array_equal(z[100:4000:3, 7:1000].get(), DATA[100:4000:3, 7:1000])
    check_slot_order(log)
    assert any(t.startswith(POOL_THREAD_PREFIX) for a, _, t in log if a == "take")
    assert most_held(log) <= 2 and z._backend.slots.held == 0


@pytest.mark.real_gpu  # copies that run late: the stand-in runs every copy at once
def test_a_slot_is_refilled_only_after_its_copy_ran(tmp_path, monkeypatch):
    """Queue slow work ahead of every host-to-device copy, so copies run long after the decode
    gave their slot back: a fetch that did not wait on the copy's event would overwrite the
    pinned bytes before the copy read them, and the result would differ."""
    z = _array(str(tmp_path), None)  # raw chunks: no nvCOMP call synchronizes the stream
    ops = z._backend.ops
    real = ops.to_device
    busy = cupy.ones((2048, 2048), dtype=cupy.float32)

    def delayed(host, out):
        for _ in range(4):
            busy @ busy  # noqa: B018 - queued ahead of the copy on the same stream
        real(host, out)

    monkeypatch.setattr(ops, "to_device", delayed)
    log = _logged(z)
    with cuzarr.config.set(**PREFETCH):
        for _ in range(3):
            np.testing.assert_array_equal(z[...].get(), DATA)
    check_slot_order(log)
    assert len({slot for action, slot, _ in log if action == "take"}) >= 2


def test_two_threads_reading_two_arrays_concurrently(tmp_path):
    other = DATA[::-1] * 2
    a = _array(str(tmp_path / "a"), ZstdCodec(level=1))
    b = cuzarr.create_array(store=MemoryStore(), shape=DATA.shape, chunks=CHUNKS, dtype="f4")
    b[...] = other
    b = cuzarr.open_array(b.store, device="cuda")
    errors: list[BaseException] = []

    def read(z, expected):
        try:
            for r in range(5):
                np.testing.assert_array_equal(z[r::2].get(), expected[r::2])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with cuzarr.config.set(**PREFETCH):
        threads = [threading.Thread(target=read, args=args) for args in [(a, DATA), (b, other)]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert not errors
    assert a._backend.slots.held == 0 and b._backend.slots.held == 0


def test_a_failed_decode_mid_read_holds_no_slot(tmp_path, monkeypatch):
    z = _array(str(tmp_path), ZstdCodec(level=1))
    ops = z._backend.ops
    real = ops.decompress_streams
    calls = []

    def failing(codec, table):
        calls.append(codec)
        if len(calls) == 3:
            raise cupy.cuda.runtime.CUDARuntimeError(719)  # cudaErrorLaunchFailure
        return real(codec, table)

    monkeypatch.setattr(ops, "decompress_streams", failing)
    with cuzarr.config.set(**PREFETCH), pytest.raises(DeviceError) as info:
        z[...]
    assert info.value.keys == ("c/4/0", "c/5/0")
    del info
    assert z._backend.slots.held == 0
    monkeypatch.undo()
    with cuzarr.config.set(**PREFETCH):
        np.testing.assert_array_equal(z[...].get(), DATA)
