"""Out-of-memory and device failures on the real CUDA backend (needs a GPU): a CuPy memory pool
limit forces the batch halving the emulated suite proves (tests/buffer/test_device_recovery.py)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import ZstdCodec
from cuzarr.errors import DeviceError, DeviceOutOfMemory

pytestmark = pytest.mark.gpu
cupy = pytest.importorskip("cupy")

MiB = 1 << 20
DATA = np.random.default_rng(0).random((8 * 256, 1024), dtype=np.float32)  # 8 chunks of 1 MiB
CHUNKS = (256, 1024)


@pytest.fixture
def pool():
    pool = cupy.get_default_memory_pool()
    yield pool
    pool.set_limit(size=0)
    pool.free_all_blocks()


def _limit(pool, extra: int) -> None:
    """Cap the pool at what is in use now (its cache freed) plus ``extra`` bytes."""
    cupy.cuda.Device().synchronize()
    gc.collect()
    pool.free_all_blocks()
    pool.set_limit(size=pool.used_bytes() + extra)


def _array(tmp_path, compressors):
    z = cuzarr.create_array(
        store=str(tmp_path), shape=DATA.shape, chunks=CHUNKS, dtype="f4", compressors=compressors
    )
    z[...] = DATA
    z = cuzarr.open_array(str(tmp_path), device="cuda", mode="r+")
    np.testing.assert_array_equal(z[...].get(), DATA)  # warm: kernels compiled, nvCOMP loaded
    return z


@pytest.mark.real_gpu  # device memory pool limits
@pytest.mark.parametrize("compressors", [None, ZstdCodec(level=1)], ids=["raw", "zstd"])
def test_read_past_the_pool_limit_halves_the_batch(tmp_path, pool, compressors):
    z = _array(tmp_path, compressors)
    # the 8 MiB output plus 5 MiB: the batch's 8 MiB of input does not fit, halves do (with
    # room for nvCOMP's scratch when it allocates from the pool)
    _limit(pool, 8 * MiB + 5 * MiB)
    got = z[...]
    np.testing.assert_array_equal(got.get(), DATA)
    assert z._backend.stats["oom_splits"] >= 1
    del got
    pool.set_limit(size=0)
    z._backend.stats.clear()
    np.testing.assert_array_equal(z[100:900, 3:700].get(), DATA[100:900, 3:700])
    assert not z._backend.stats


@pytest.mark.real_gpu  # device memory pool limits
def test_single_chunk_that_never_fits_raises_then_the_array_reads(tmp_path, pool):
    z = _array(tmp_path, None)
    _limit(pool, 8 * MiB + MiB // 2)  # room for the output, not for one chunk's input
    with pytest.raises(DeviceOutOfMemory) as info:
        z[...]
    assert info.value.keys == ("c/0/0",) and info.value.nbytes is not None and info.value.nbytes >= MiB
    assert "'c/0/0'" in str(info.value)
    del info
    pool.set_limit(size=0)
    np.testing.assert_array_equal(z[...].get(), DATA)


@pytest.mark.real_gpu  # device memory pool limits
@pytest.mark.parametrize("compressors", [None, ZstdCodec(level=1)], ids=["raw", "zstd"])
def test_write_past_the_pool_limit_halves_the_batch(tmp_path, pool, compressors):
    z = _array(tmp_path, compressors)
    new = cupy.asarray(DATA * 2)
    _limit(pool, 6 * MiB)  # the gather arena of 8 chunks (8 MiB) does not fit
    z[...] = new
    assert z._backend.stats["oom_splits"] >= 1
    pool.set_limit(size=0)
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], DATA * 2)


def test_cuda_error_mid_batch_names_chunks_and_the_next_read_works(tmp_path, monkeypatch):
    z = _array(tmp_path, ZstdCodec(level=1))
    ops = z._backend.ops
    real = ops.decompress_streams
    calls = []

    def failing(codec, table):
        calls.append(codec)
        if len(calls) == 2:  # a launch failure in the second batch
            raise cupy.cuda.runtime.CUDARuntimeError(719)  # cudaErrorLaunchFailure
        return real(codec, table)

    monkeypatch.setattr(ops, "decompress_streams", failing)
    # prefetching reads batches of half batch_bytes: two chunks each
    with cuzarr.config.set(batch_bytes=4 * MiB, threads=4), pytest.raises(DeviceError) as info:
        z[...]
    assert info.value.keys == ("c/2/0", "c/3/0")
    assert z._backend.slots.held == 0  # neither the failed batch's slot nor the prefetched one
    monkeypatch.undo()
    np.testing.assert_array_equal(z[...].get(), DATA)
