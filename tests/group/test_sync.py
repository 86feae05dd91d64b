"""Synchronizers: per-chunk locks around read-modify-write; concurrent writers lose no update."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest

import cuzarr
from cuzarr.storage import LocalStore, MemoryStore

SIZE, CHUNK, ROUNDS = 2400, 100, 12


def _writes(writer: int, nwriters: int) -> list[tuple[int, int, int]]:
    """(start, stop, value) windows of one writer; it owns the elements ``p % nwriters == writer``,
    so the final array does not depend on how writers interleave - only lost updates change it."""
    rng = np.random.default_rng(writer)
    result = []
    for round_ in range(ROUNDS):
        start = int(rng.integers(0, SIZE // 2))
        stop = int(rng.integers(start + CHUNK, SIZE + 1))
        result.append((start, stop, round_ * 100 + writer + 1))
    return result


def _apply(target, writer: int, nwriters: int) -> None:
    for start, stop, value in _writes(writer, nwriters):
        first = start + (writer - start) % nwriters  # first owned element >= start
        target[first:stop:nwriters] = value


def _model(nwriters: int) -> np.ndarray:
    expected = np.zeros(SIZE, dtype="int32")
    for writer in range(nwriters):
        _apply(expected, writer, nwriters)
    return expected


def test_threads_lose_no_update():
    sync = cuzarr.ThreadSynchronizer()
    array = cuzarr.create_array(
        MemoryStore(), shape=(SIZE,), chunks=(CHUNK,), dtype="int32", synchronizer=sync
    )
    barrier = threading.Barrier(8)

    def run(writer: int) -> None:
        barrier.wait()
        _apply(array, writer, 8)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(array[...], _model(8))


def _process_writer(path: str, lock_dir: str, writer: int) -> None:
    array = cuzarr.open_array(path, mode="r+", synchronizer=cuzarr.ProcessSynchronizer(lock_dir))
    _apply(array, writer, 4)


def test_processes_lose_no_update(tmp_path):
    path, lock_dir = str(tmp_path / "p.zarr"), str(tmp_path / "locks")
    cuzarr.create(shape=(SIZE,), chunks=(CHUNK,), dtype="int32", store=path, zarr_format=2)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_process_writer, args=(path, lock_dir, i)) for i in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    np.testing.assert_array_equal(cuzarr.open_array(path, mode="r")[...], _model(4))
    assert any(name.endswith(".lock") for name in os.listdir(lock_dir))


class _RecordingSync:
    """Records which keys are locked, and checks every chunk write happens under its lock."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.calls: list[list[str]] = []

    def __getitem__(self, key: str):
        raise AssertionError("write_chunks should call lock(keys)")

    @contextmanager
    def lock(self, keys):
        keys = sorted(keys)
        self.calls.append(keys)
        self.held.update(keys)
        try:
            yield
        finally:
            self.held.difference_update(keys)


class _CheckingStore(MemoryStore):
    sync: _RecordingSync

    def _set_many(self, items):
        for key, _ in items:
            if "/c/" in key or key[:1].isdigit():
                assert key in self.sync.held, f"{key} written without its lock"
        super()._set_many(items)


def test_locks_cover_every_written_chunk():
    sync, store = _RecordingSync(), _CheckingStore()
    store.sync = sync
    array = cuzarr.create_array(store, name="a", shape=(10, 10), chunks=(4, 4), dtype="u1", synchronizer=sync)
    array[1:9, 2:3] = 1  # partial chunks
    array[0:4, 0:4] = 2  # one whole chunk
    assert sync.calls == [["a/c/0/0", "a/c/1/0", "a/c/2/0"], ["a/c/0/0"]]
    assert array.with_config({"write_empty_chunks": True}).synchronizer is sync


def test_synchronizers_pickle_and_name_lock_files(tmp_path):
    thread_sync = pickle.loads(pickle.dumps(cuzarr.ThreadSynchronizer()))
    with thread_sync.lock(["b", "a", "a"]):
        assert thread_sync["a"].locked() and thread_sync["b"].locked()
    assert not thread_sync["a"].locked()
    process_sync = pickle.loads(pickle.dumps(cuzarr.ProcessSynchronizer(tmp_path / "locks")))
    assert process_sync.path == str(tmp_path / "locks")
    with process_sync.lock(["x/c/0"]):
        assert os.path.exists(tmp_path / "locks" / "x%2Fc%2F0.lock")
    assert "ProcessSynchronizer" in repr(process_sync)


@pytest.mark.parametrize("entry", ["create", "open_array", "group", "open_group", "open"])
def test_entry_points_accept_synchronizer(entry, tmp_path):
    sync = cuzarr.ThreadSynchronizer()
    path = str(tmp_path / "e.zarr")
    if entry == "create":
        node = cuzarr.create(shape=(2,), store=path, synchronizer=sync)
    elif entry == "open_array":
        node = cuzarr.open_array(path, mode="w", shape=(2,), synchronizer=sync)
    elif entry == "open":
        cuzarr.create_array(LocalStore(path), shape=(2,))
        node = cuzarr.open(path, synchronizer=sync)
    else:
        node = getattr(cuzarr, entry)(path, synchronizer=sync)
    assert node.synchronizer is sync


def test_thread_synchronizer_forgets_idle_locks_and_is_reentrant():
    sync = cuzarr.ThreadSynchronizer()
    with sync.lock([f"c/{i}" for i in range(1000)]):
        assert len(sync._locks) == 1000
        with sync.lock(["c/5"]):  # the same thread again: no deadlock
            assert sync["c/5"].locked()
    assert sync._locks == {} and not sync["c/5"].locked()


def test_thread_synchronizer_excludes_other_threads():
    sync, inside, order = cuzarr.ThreadSynchronizer(), threading.Event(), []

    def other():
        inside.wait()
        assert not sync["k"].acquire(blocking=False)  # held by the main thread: refused at once
        with sync["k"]:
            order.append("other")

    worker = threading.Thread(target=other)
    worker.start()
    with sync["k"]:
        inside.set()
        time.sleep(0.05)
        order.append("main")
    worker.join()
    assert order == ["main", "other"] and sync._locks == {}
