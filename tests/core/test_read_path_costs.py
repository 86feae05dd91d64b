"""The CPU read/write path's cost structure (never timings): memory bounds, pool submissions,
scratch reuse, planning shortcuts, fill-value detection."""

from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import BytesCodec, CodecChain, ZstdCodec
from cuzarr.codecs.base import ChunkSpec, run_batch
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


def test_run_batch_submits_one_task_per_thread_and_keeps_order(monkeypatch):
    with cuzarr.config.set(threads=2):
        pool = cuzarr.config.thread_pool()
        submitted = []
        real_submit = pool.submit
        monkeypatch.setattr(pool, "submit", lambda *a, **k: submitted.append(a) or real_submit(*a, **k))
        assert run_batch(lambda i: i * i, list(range(500))) == [i * i for i in range(500)]
        assert len(submitted) == 2


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


def test_decode_into_strided_output_reuses_a_scratch_buffer():
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
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
    assert peak < SPEC.nbytes // 2  # no chunk-sized temporary per call


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
