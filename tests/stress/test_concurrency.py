"""Concurrency: readers during writes see whole old or new chunks; writers that share chunks lose
no update with a synchronizer; chunk-aligned writers need none. Threads and processes."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import cuzarr
from cuzarr.storage import LocalStore, MemoryStore

from .conftest import STRESS_STATS, rounds

_N, _CHUNK = 32 * 1024, 2048


def _uniform_chunks(data: np.ndarray) -> list[int]:
    versions = []
    for start in range(0, data.size, _CHUNK):
        values = np.unique(data[start : start + _CHUNK])
        assert values.size == 1, f"torn chunk at {start}: {values[:6]}"
        versions.append(int(values[0]))
    return versions


def _start_and_join(threads: list[threading.Thread]) -> None:
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)


def _write_while_reading(
    write: Callable[[], None], reader: Callable[[], Callable[[], None]], readers: int
) -> None:
    """``write()`` on one thread while ``readers`` threads each make a ``read`` (``reader()``,
    e.g. over their own array handle) and call it until the writer is done; failures re-raise."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            write()
        except BaseException as exc:
            errors.append(exc)
        finally:
            stop.set()

    def read_until_stopped() -> None:
        try:
            read = reader()
            while not stop.is_set():
                read()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [
        threading.Thread(target=read_until_stopped) for _ in range(readers)
    ]
    _start_and_join(threads)
    assert not errors, errors[0]


def _make(store, shards: bool = False, **kwargs):
    return cuzarr.create_array(
        store,
        shape=(_N,),
        chunks=(_CHUNK,),
        shards=(_CHUNK * 4,) if shards else None,
        dtype="u4",
        fill_value=0,
        compressors=[{"name": "zstd", "configuration": {"level": 1}}],
        **kwargs,
    )


@pytest.mark.parametrize("kind", ["memory", "local", "local-sharded"])
def test_readers_see_old_or_new_chunks(kind: str, tmp_path: Path) -> None:
    store = MemoryStore() if kind == "memory" else LocalStore(tmp_path / "a")
    arr = _make(store, shards=kind.endswith("sharded"))
    versions = rounds(200, 15)

    def write() -> None:
        for v in range(1, versions + 1):
            arr[...] = np.full(_N, v, dtype="u4")

    def reader():
        reader_arr = cuzarr.open_array(store, mode="r")

        def read() -> None:
            seen = _uniform_chunks(reader_arr[...])
            assert min(seen) >= 0 and max(seen) <= versions
            STRESS_STATS["concurrent-reads"] += 1

        return read

    _write_while_reading(write, reader, readers=3)
    assert _uniform_chunks(arr[...]) == [versions] * (_N // _CHUNK)


@pytest.mark.parametrize("compressors", [None, "zstd"])
def test_partial_shard_readers_never_get_another_chunks_bytes(
    compressors: str | None, tmp_path: Path
) -> None:
    """Readers of single inner chunks (index, then a ranged read) while a writer alternates two
    shard layouts: in one every chunk is stored, in the other the first is fill and omitted, so
    the others sit at different offsets. Every read is the old or the new chunk, never the bytes
    another chunk has at the offsets of the version whose index was read."""
    n = 1024
    arr = cuzarr.create_array(
        LocalStore(tmp_path / "a"),
        shape=(4 * n,),
        chunks=(n,),
        shards=(4 * n,),
        dtype="u4",
        fill_value=0,
        compressors=[{"name": "zstd", "configuration": {"level": 1}}] if compressors else None,
    )
    versions = [
        np.repeat(np.array([10, 11, 12, 13], dtype="u4"), n),
        np.repeat(np.array([0, 21, 22, 23], dtype="u4"), n),
    ]
    arr[...] = versions[0]

    def write() -> None:
        for k in range(rounds(4000, 400)):
            arr[...] = versions[k % 2]

    def reader():
        reader_arr = cuzarr.open_array(arr.store, mode="r")

        def read() -> None:
            for i in (1, 2, 3):
                values = np.unique(reader_arr[i * n : (i + 1) * n])
                assert values.tolist() in ([10 + i], [20 + i]), f"chunk {i} read as {values[:4]}"
                STRESS_STATS["partial-shard-reads"] += 1

        return read

    _write_while_reading(write, reader, readers=2)


def _partial_writes(arr, writer: int, nwriters: int, count: int) -> None:
    """Writer ``w`` owns elements ``i % nwriters == w``: every write touches chunks others write too."""
    rng = np.random.default_rng(writer)
    own = np.arange(writer, _N, nwriters)
    for step in range(count):
        pick = own[int(rng.integers(0, own.size - 64)) :][:64]
        arr.vindex[(pick,)] = np.full(pick.size, step + 1, dtype="u4")
        arr.vindex[(own[:8],)] = np.full(8, step + 1, dtype="u4")  # a chunk every writer shares


@pytest.mark.parametrize("shards", [False, True])
def test_thread_writers_with_synchronizer_lose_nothing(shards: bool) -> None:
    nwriters, count = 4, rounds(150, 15)
    arr = _make(MemoryStore(), shards=shards, synchronizer=cuzarr.ThreadSynchronizer())
    threads = [
        threading.Thread(target=_partial_writes, args=(arr, w, nwriters, count)) for w in range(nwriters)
    ]
    _start_and_join(threads)
    data = arr[...]
    for w in range(nwriters):
        assert (data[np.arange(w, _N, nwriters)[:8]] == count).all(), f"writer {w} lost an update"
    STRESS_STATS["synchronized-thread-writes"] += nwriters * count * 2


def test_chunk_aligned_writers_need_no_synchronizer(tmp_path: Path) -> None:
    arr = _make(LocalStore(tmp_path / "a"))
    nchunks, count = _N // _CHUNK, rounds(60, 6)

    def write(worker: int) -> None:
        for step in range(1, count + 1):
            for c in range(worker, nchunks, 4):
                arr[c * _CHUNK : (c + 1) * _CHUNK] = np.full(_CHUNK, step * 10 + worker, dtype="u4")

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    _start_and_join(threads)
    assert _uniform_chunks(arr[...]) == [count * 10 + c % 4 for c in range(nchunks)]
    STRESS_STATS["unsynchronized-aligned-writes"] += nchunks * count


def _process_writer(path: str, lock_dir: str, writer: int, nwriters: int, count: int) -> None:
    arr = cuzarr.open_array(path, mode="r+", synchronizer=cuzarr.ProcessSynchronizer(lock_dir))
    _partial_writes(arr, writer, nwriters, count)


def _process_reader(path: str, rounds_: int, queue) -> None:
    arr = cuzarr.open_array(path, mode="r")
    try:
        for _ in range(rounds_):
            data = arr[...]
            assert data.shape == (_N,)
        queue.put(None)
    except BaseException as exc:  # reported to the parent
        queue.put(repr(exc))


def test_process_writers_with_synchronizer_lose_nothing(tmp_path: Path) -> None:
    path, locks = str(tmp_path / "a"), str(tmp_path / "locks")
    _make(path)
    nwriters, count = 3, rounds(60, 6)
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_writer, args=(path, locks, w, nwriters, count)) for w in range(nwriters)
    ]
    procs.append(ctx.Process(target=_process_reader, args=(path, count, queue)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    assert queue.get(timeout=10) is None
    data = cuzarr.open_array(path, mode="r")[...]
    for w in range(nwriters):
        assert (data[np.arange(w, _N, nwriters)[:8]] == count).all(), f"process {w} lost an update"
    STRESS_STATS["synchronized-process-writes"] += nwriters * count * 2


def _appender(path: str, lock_dir: str, worker: int, count: int) -> None:
    """Two threads of one process, each appending ``count`` rows and counting them in attributes."""
    sync = cuzarr.ProcessSynchronizer(lock_dir)

    def run(thread: int) -> None:
        arr = cuzarr.open_array(path, mode="r+", synchronizer=sync)
        for step in range(count):
            arr.append(np.full(_CHUNK // 3, (worker * 2 + thread) * 10_000 + step, dtype="u4"))
            with arr.attrs.edit() as attrs:
                attrs["rows"] = attrs.get("rows", 0) + _CHUNK // 3

    threads = [threading.Thread(target=run, args=(t,)) for t in range(2)]
    _start_and_join(threads)


@pytest.mark.parametrize("shards", [False, True])
def test_synchronized_appends_from_processes_and_threads_all_land(tmp_path: Path, shards: bool) -> None:
    """Blocks of a third of a chunk, so appends share chunks (and shards): each lands exactly once."""
    path, locks = str(tmp_path / "a"), str(tmp_path / "locks")
    cuzarr.create_array(
        path, shape=(0,), chunks=(_CHUNK,), shards=(_CHUNK * 4,) if shards else None, dtype="u4", fill_value=0
    )
    nprocs, count, block = 3, rounds(40, 4), _CHUNK // 3
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_appender, args=(path, locks, w, count)) for w in range(nprocs)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    arr = cuzarr.open_array(path, mode="r")
    assert arr.shape == (nprocs * 2 * count * block,) and arr.attrs["rows"] == arr.shape[0]
    blocks = arr[...].reshape(-1, block)
    assert (blocks == blocks[:, :1]).all(), "a block was torn or overwritten"
    expected = sorted(writer * 10_000 + step for writer in range(nprocs * 2) for step in range(count))
    assert sorted(blocks[:, 0].tolist()) == expected
    STRESS_STATS["synchronized-appends"] += nprocs * 2 * count
