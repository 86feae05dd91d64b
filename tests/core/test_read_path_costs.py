"""The CPU read/write path's cost structure (never timings): memory bounds, pool submissions,
scratch reuse, planning shortcuts, fill-value detection."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import BloscCodec, BytesCodec, CodecChain, ZstdCodec
from cuzarr.codecs.base import ChunkSpec, run_batch
from cuzarr.config import POOL_THREAD_PREFIX
from cuzarr.core.indexing import normalize_basic_selection
from cuzarr.core.plan import plan_orthogonal
from cuzarr.errors import CodecError


def _field(shape: tuple[int, ...]) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.round(rng.normal(size=shape), 2).astype(np.float32)


def test_full_read_peaks_near_the_output_size(tmp_path):
    data = _field((1024, 2048))  # 8 MiB
    z = cuzarr.create_array(
        store=str(tmp_path / "a.zarr"), shape=data.shape, dtype=data.dtype, chunks=(128, 256)
    )
    z[...] = data
    batch = 1 << 20
    with cuzarr.config.set(batch_bytes=batch, threads=2):
        z[...]  # warm the pool and the scratch buffers
        tracemalloc.start()
        try:
            result = z[...]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert np.array_equal(result, data)
    # output + one batch of encoded bytes + small per-chunk temporaries; never a second output
    assert peak <= 1.1 * data.nbytes + 2 * batch, (peak, data.nbytes)


def test_run_batch_submits_one_task_per_extra_thread_and_keeps_order(monkeypatch):
    """The caller is one of the ``threads`` workers: two threads cost a single submission."""
    with cuzarr.config.set(threads=2):
        pool = cuzarr.config.thread_pool()
        submitted = []
        real_submit = pool.submit
        monkeypatch.setattr(pool, "submit", lambda *a, **k: submitted.append(a) or real_submit(*a, **k))
        assert run_batch(lambda i: i * i, list(range(500))) == [i * i for i in range(500)]
        assert len(submitted) == 1


def test_run_batch_runs_every_item_and_raises_the_first_error_in_item_order():
    ran = []
    lock = threading.Lock()

    def task(i):
        with lock:
            ran.append(i)
        if i in (7, 3):
            raise ValueError(f"item {i}")
        return i

    with cuzarr.config.set(threads=2), pytest.raises(ValueError, match="item 3"):
        run_batch(task, list(range(20)))
    assert sorted(ran) == list(range(20))


def test_slice_plan_matches_the_generic_plan():
    shape, chunks = (37, 50, 9), (8, 16, 4)
    selection = normalize_basic_selection((slice(3, 35, 2), slice(None), 5), shape)
    fast = plan_orthogonal(selection, chunks)
    a = np.arange(np.prod(shape)).reshape(shape)
    out = np.empty(selection.full_shape, a.dtype)
    for p in fast:
        region = a[tuple(slice(c * n, (c + 1) * n) for c, n in zip(p.coords, chunks))]
        out[p.out_selection] = region[p.chunk_selection]
    assert np.array_equal(out.reshape(selection.shape), a[3:35:2, :, 5])
    assert len({p.coords for p in fast}) == len(fast)


def test_zero_dimensional_plan():
    (projection,) = plan_orthogonal(normalize_basic_selection((), ()), ())
    assert projection.coords == () and projection.is_whole_chunk


SPEC = ChunkSpec((64, 48), np.dtype("<f4"))


@pytest.mark.parametrize(
    ("compressor", "max_temporary"),
    [
        (BloscCodec(), SPEC.nbytes // 2),  # decoded into this thread's reused scratch buffer
        (ZstdCodec(), SPEC.nbytes * 5 // 4),  # decoded to new memory (faster), freed after the copy
    ],
)
def test_decode_into_strided_output_needs_no_more_than_one_chunk_of_temporary(compressor, max_temporary):
    chain = CodecChain([BytesCodec(), compressor], SPEC)
    chunk = _field(SPEC.shape)
    encoded = chain.encode(chunk)
    big = np.zeros((128, 96), np.float32)
    view = big[64:, 48:]  # not C-contiguous
    chain.decode(encoded, out=view)
    tracemalloc.start()
    try:
        for _ in range(5):
            chain.decode(encoded, out=view)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(view, chunk) and not big[:64].any()
    assert peak < max_temporary


def test_plain_decode_errors_name_the_chunk():
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    encoded = bytes(chain.encode(_field(SPEC.shape)))
    out = np.empty((128, 96), np.float32)[:64, :48]
    with pytest.raises(CodecError, match="c/1/2"):
        chain.decode(encoded[: len(encoded) // 2], key="c/1/2", out=out)
    small = CodecChain([BytesCodec(), ZstdCodec()], ChunkSpec((4, 4), np.dtype("<f4")))
    with pytest.raises(CodecError, match="c/0/0"):
        chain.decode(small.encode(np.ones((4, 4), np.float32)), key="c/0/0", out=out)


def test_encode_from_a_strided_view_matches_and_never_aliases_the_scratch():
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    big = _field((128, 96))
    first = chain.encode(big[:64, :48])
    kept = bytes(first)
    second = chain.encode(big[64:, 48:])
    assert bytes(first) == kept  # the second encode did not overwrite the first result
    assert np.array_equal(chain.decode(first), big[:64, :48])
    assert np.array_equal(chain.decode(second), big[64:, 48:])


@pytest.mark.parametrize("fill", [0.0, np.nan])
def test_fill_detection_checks_the_whole_chunk(tmp_path, fill):
    z = cuzarr.create_array(
        store=str(tmp_path / "a.zarr"), shape=(8, 8), dtype="f4", chunks=(4, 4), fill_value=fill
    )
    value = np.full((8, 8), fill, np.float32)
    value[3, 3] = 1.0  # chunk (0, 0): first element is the fill value, one other is not
    z[...] = value
    assert z.nchunks_initialized == 1
    assert np.array_equal(z[...], value, equal_nan=True)


def test_local_reads_fuse_read_and_decode_per_chunk(tmp_path, monkeypatch):
    """Local stores with chunks above ``SMALL_CHUNK_BYTES`` are read one chunk per pool task
    (``get``), never through ``get_many``; a missing chunk reads as the fill value and a corrupt
    one names its key."""
    from cuzarr.core.pipeline import SMALL_CHUNK_BYTES
    from cuzarr.storage import LocalStore

    data = _field((520, 400))
    chunks = (256, 320)
    assert 256 * 320 * data.dtype.itemsize > SMALL_CHUNK_BYTES
    z = cuzarr.create_array(
        store=str(tmp_path / "a.zarr"), shape=data.shape, dtype=data.dtype, chunks=chunks, fill_value=7
    )
    z[...] = data
    z.store.delete("c/1/1")
    expected = data.copy()
    expected[256:512, 320:400] = 7

    def no_batches(self, keys, byte_ranges):
        raise AssertionError("the fused read path must not batch")

    monkeypatch.setattr(LocalStore, "_get_many", no_batches)
    with cuzarr.config.set(threads=2):
        assert np.array_equal(z[...], expected)
        assert np.array_equal(z[3:517, 5:390], expected[3:517, 5:390])
    (tmp_path / "a.zarr" / "c" / "2" / "1").write_bytes(b"not zstd")
    with pytest.raises(CodecError, match="c/2/1"):
        z[...]


@pytest.mark.parametrize("threads", [1, 2])
def test_local_reads_of_small_chunks_go_in_runs(tmp_path, monkeypatch, threads):
    """Small chunks are read a run (about 1 MiB) per pool task, one ``get_many`` per run and never
    one ``get`` per chunk; missing chunks read as the fill value, a corrupt one names its key."""
    from cuzarr.parallel import split_for_pool
    from cuzarr.storage import LocalStore

    data = _field((40, 30))
    z = cuzarr.create_array(
        store=str(tmp_path / "a.zarr"), shape=data.shape, dtype=data.dtype, chunks=(16, 8), fill_value=7
    )
    z[...] = data
    z.store.delete("c/1/1")
    expected = data.copy()
    expected[16:32, 8:16] = 7
    requests: list[int] = []
    real_get_many = LocalStore._get_many

    def counting(self, keys, byte_ranges):
        requests.append(len(keys))
        return real_get_many(self, keys, byte_ranges)

    def no_single_gets(self, key, byte_range=None):
        raise AssertionError("small chunks must be read in runs")

    monkeypatch.setattr(LocalStore, "_get_many", counting)
    monkeypatch.setattr(LocalStore, "get", no_single_gets)
    with cuzarr.config.set(threads=threads):
        assert np.array_equal(z[...], expected)
        assert sum(requests) == 3 * 4 and len(requests) == len(split_for_pool(list(range(12)), 16 * 8 * 8))
        assert np.array_equal(z[3:37, 5:29], expected[3:37, 5:29])
    (tmp_path / "a.zarr" / "c" / "2" / "3").write_bytes(b"not zstd")
    with pytest.raises(CodecError, match="c/2/3"):
        z[...]


def test_wrapped_stores_keep_one_batched_request_per_batch():
    from cuzarr.storage import MemoryStore
    from cuzarr.storage.wrappers import CountingStore

    store = CountingStore(MemoryStore())
    z = cuzarr.create_array(store=store, shape=(64, 64), dtype="f4", chunks=(8, 8))
    data = _field((64, 64))
    z[...] = data
    store.reset()
    assert np.array_equal(z[...], data)
    assert store.counts["get_many"] == 1 and store.counts["get_many_keys"] == 64
    assert store.counts["get"] == 0


def _slow_store_type():
    from cuzarr.storage.wrappers import CountingStore

    class SlowStore(CountingStore):
        """Each batched read sleeps; reads in flight are recorded (a store that needs batching)."""

        def __init__(self, store, delay):
            super().__init__(store)
            self.delay = delay
            self.lock = threading.Lock()
            self.in_flight = self.most_in_flight = self.finished = 0
            self.threads: set[str] = set()

        def get_many(self, keys, byte_ranges=None):
            import time

            with self.lock:
                self.threads.add(threading.current_thread().name)
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                time.sleep(self.delay)
                return super().get_many(keys, byte_ranges)
            finally:
                with self.lock:
                    self.in_flight -= 1
                    self.finished += 1

    return SlowStore


def _batched_array(delay):
    from cuzarr.storage import MemoryStore

    data = _field((64, 64))
    memory = MemoryStore()
    cuzarr.create_array(store=memory, shape=data.shape, dtype=data.dtype, chunks=(8, 8))[...] = data
    slow = _slow_store_type()(memory, delay)
    z = cuzarr.open_array(store=slow)
    slow.reset()
    slow.most_in_flight = slow.finished = 0  # count chunk reads only, not the metadata read
    slow.threads.clear()
    return z, data, slow, memory


def test_batched_reads_fetch_the_next_batch_while_decoding():
    """Batch i+1 is fetched while batch i decodes: one request per (half-size) batch, results
    equal, and never more than one fetch in flight beside the decoding caller."""
    z, data, slow, _ = _batched_array(delay=0.01)
    with cuzarr.config.set(threads=2, batch_bytes=16 * 8 * 8 * 4):  # 8 chunks per prefetched batch
        assert np.array_equal(z[...], data)
    assert slow.counts["get_many"] == 64 // 8
    assert slow.most_in_flight == 1
    assert {name.startswith(POOL_THREAD_PREFIX) for name in slow.threads} == {True}  # off the caller


def test_a_failed_batch_leaves_no_fetch_running():
    z, _, slow, memory = _batched_array(delay=0.05)
    memory.set("c/0/0", b"corrupt")
    with cuzarr.config.set(threads=2, batch_bytes=16 * 8 * 8 * 4):
        with pytest.raises(CodecError, match="c/0/0"):
            z[...]
        assert slow.in_flight == 0  # the prefetch of batch 2 finished before the error surfaced
        assert slow.finished == 2
