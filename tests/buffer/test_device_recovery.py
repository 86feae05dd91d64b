"""Device out-of-memory and device failures, through the emulated backend's finite memory and
injected faults: reads and writes still give NumPy's answer, or fail naming the chunks and leave
the array readable and the backend usable."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import ZstdCodec
from cuzarr.errors import CodecError, DeviceError, DeviceOutOfMemory
from cuzarr.gpu.emulated_faults import EmulatedDeviceFault

CHUNK_BYTES = 8 * 64 * 8  # chunks (8, 64) of float64
DATA = np.random.default_rng(0).random((64, 64))  # zstd cannot shrink it: compressed ~ raw size


def _array(path: Path, **kwargs) -> cuzarr.Array:
    """Eight uncompressed 4 KiB chunks (exact sizes), written on the CPU, opened on the emulated device."""
    z = cuzarr.create_array(store=str(path), shape=DATA.shape, chunks=(8, 64), dtype="f8", **kwargs)
    z[...] = DATA
    return cuzarr.open_array(str(path), device="emulated", mode="r+")


def _snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def _released(z: cuzarr.Array) -> bool:
    """Nothing of the device path is still allocated (staging slots and device buffers)."""
    gc.collect()
    ops = z._backend.ops
    return ops.device_memory.used == 0 and ops.pinned_memory.used == 0


# -- out of memory ------------------------------------------------------------------------------


def test_whole_chunk_read_halves_the_batch_until_it_fits(tmp_path):
    z = _array(tmp_path, compressors=None)
    ops, stats = z._backend.ops, z._backend.stats
    ops.device_memory.limit = 2 * CHUNK_BYTES + 1024  # the batch of 8 needs 8 chunks on the device
    np.testing.assert_array_equal(z[...], DATA)
    # 8 -> 4 + 4 -> 2 + 2 + 2 + 2: three halvings, three refusals, four decodes (one copy to the device each)
    assert stats["oom_splits"] == 3 and stats["oom_retries"] == 0
    assert ops.device_memory.refused == 3 and ops.releases == 3 and ops.launches["h2d"] == 4
    assert ops.device_memory.peak <= ops.device_memory.limit
    stats.clear()
    ops.device_memory.limit = None
    ops.launches.clear()
    np.testing.assert_array_equal(z[...], DATA)
    assert not stats and ops.launches["h2d"] == 1  # with room again: one batch


@pytest.mark.parametrize(
    ("selection", "touched"),
    [
        ((slice(3, 50), slice(5, 33)), 7),
        ((slice(None, None, 3), slice(1, None, 2)), 8),
        ((slice(None, None, -1), slice(4, 5)), 8),
        ((slice(9, 30), slice(None)), 3),
    ],
)
@pytest.mark.parametrize("compressors", [None, ZstdCodec(level=1)], ids=["raw", "zstd"])
def test_partial_reads_under_a_device_limit_equal_numpy(tmp_path, selection, touched, compressors):
    z = _array(tmp_path, compressors=compressors)
    # A batch needs its compressed input and its decoded chunks on the device at once (about two
    # chunks per chunk). The decoded chunks stay until the scatter: the limit leaves room for them
    # plus one more chunk's input, so only halving gets through.
    z._backend.ops.device_memory.limit = int((touched + 1.5) * CHUNK_BYTES)
    np.testing.assert_array_equal(z[selection], DATA[selection])
    assert z._backend.stats["oom_splits"] >= 1
    assert z._backend.ops.device_memory.peak <= z._backend.ops.device_memory.limit


def test_pinned_staging_that_does_not_fit_is_staged_in_parts(tmp_path):
    z = _array(tmp_path, compressors=ZstdCodec(level=1))
    ops, stats = z._backend.ops, z._backend.stats
    ops.pinned_memory.limit = 3 * CHUNK_BYTES  # the compressed batch stays in pageable memory
    np.testing.assert_array_equal(z[...], DATA)
    np.testing.assert_array_equal(z[1:60, 7:9], DATA[1:60, 7:9])
    assert stats["oom_unstaged"] >= 1 and ops.pinned_memory.refused >= 1
    assert ops.pinned_memory.peak <= ops.pinned_memory.limit


def test_a_chunk_that_can_never_fit_names_its_key_and_size_then_the_backend_recovers(tmp_path):
    z = _array(tmp_path, compressors=None)
    ops = z._backend.ops
    ops.device_memory.limit = CHUNK_BYTES // 2
    with pytest.raises(DeviceOutOfMemory) as info:
        z[...]
    assert info.value.keys == ("c/0/0",) and info.value.nbytes == CHUNK_BYTES
    assert "'c/0/0'" in str(info.value) and f"{CHUNK_BYTES:,} bytes" in str(info.value)
    assert z._backend.stats["oom_retries"] == 1  # one more try after releasing, then the error
    del info
    assert _released(z)
    ops.device_memory.limit = None
    np.testing.assert_array_equal(z[...], DATA)


@pytest.mark.parametrize("compressors", [None, ZstdCodec(level=1)], ids=["raw", "zstd"])
def test_writes_halve_the_batch_too(tmp_path, compressors):
    z = _array(tmp_path, compressors=compressors)
    ops, stats = z._backend.ops, z._backend.stats
    # room for the 5 decoded chunks a partial write below holds, plus one chunk's encode (~2.3 chunks)
    ops.device_memory.limit = 8 * CHUNK_BYTES
    new = DATA * 2 + 1
    z[...] = new
    z[3:40, 5:9] = DATA[3:40, 5:9]  # partial chunks: read-modify-write under the same limit
    new[3:40, 5:9] = DATA[3:40, 5:9]
    assert stats["oom_splits"] >= 1 and ops.device_memory.peak <= ops.device_memory.limit
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], new)  # CPU reader agrees
    if compressors is None:
        stats.clear()
        ops.device_memory.limit = 2 * CHUNK_BYTES + 1024
        z[...] = DATA  # gather arena of 8 chunks: 8 -> 4 + 4 -> 2 + 2 + 2 + 2
        assert stats["oom_splits"] == 3
        np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], DATA)


# -- other device failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "call"), [("decompress:zstd", 1), ("decompress:zstd", 2), ("h2d", 1), ("h2d", 4)]
)
@pytest.mark.parametrize("threads", [1, 4], ids=["serial", "prefetch"])
def test_read_failure_mid_batch_names_the_chunks_and_the_next_read_works(tmp_path, step, call, threads):
    z = _array(tmp_path, compressors=ZstdCodec(level=1))
    ops = z._backend.ops
    np.testing.assert_array_equal(z[...], DATA)  # warm: staging slots are cached
    assert ops.pinned_memory.used > 0
    # four batches of two chunks (prefetching reads batches of half batch_bytes): fail in the k-th
    with cuzarr.config.set(threads=threads, batch_bytes=(2 if threads == 1 else 4) * CHUNK_BYTES):
        ops.faults.fail_at(step, call)
        with pytest.raises(DeviceError) as info:
            z[...]
    keys = (f"c/{2 * call - 2}/0", f"c/{2 * call - 1}/0")  # the k-th batch of two chunks
    assert info.value.keys == keys and all(repr(k) in str(info.value) for k in keys)
    assert isinstance(info.value.__cause__, EmulatedDeviceFault)
    assert z._backend.stats["device_errors"] == 1
    del info
    assert z._backend.slots.held == 0  # neither the failed batch nor the one fetched ahead
    assert _released(z)  # staging slots dropped, no device buffer kept by the traceback
    np.testing.assert_array_equal(z[...], DATA)
    np.testing.assert_array_equal(z[2:9, 3:7], DATA[2:9, 3:7])


def test_scatter_failure_names_the_scattered_chunks(tmp_path):
    z = _array(tmp_path, compressors=None)
    z._backend.ops.faults.fail_at("copy_strided", 1)
    with pytest.raises(DeviceError) as info:
        z[4:12, 2:5]
    assert info.value.keys == ("c/0/0", "c/1/0")
    np.testing.assert_array_equal(z[4:12, 2:5], DATA[4:12, 2:5])


def test_data_errors_are_not_wrapped(tmp_path):
    z = _array(tmp_path, compressors=ZstdCodec(level=1))
    chunk = tmp_path / "c" / "3" / "0"
    chunk.write_bytes(chunk.read_bytes()[:-3])
    with pytest.raises(CodecError) as info:
        z[...]
    assert info.value.key == "c/3/0" and z._backend.stats["device_errors"] == 0


@pytest.mark.parametrize("step", ["compress:zstd", "d2h", "copy_strided"])
def test_failed_encode_stores_nothing(tmp_path, step):
    z = _array(tmp_path, compressors=ZstdCodec(level=1))
    before = _snapshot(tmp_path)
    z._backend.ops.faults.fail_at(step, 1)
    with pytest.raises(DeviceError) as info:
        z[...] = DATA + 100
    assert len(info.value.keys) == 8 and info.value.keys[0] == "c/0/0"
    with pytest.raises(DeviceError):
        z._backend.ops.faults.fail_at(step, 1)
        z[0:3, 0:3] = -1  # read-modify-write of one chunk: its encode fails, nothing stored
    assert _snapshot(tmp_path) == before  # no chunk and no metadata changed
    np.testing.assert_array_equal(z[...], DATA)
    z[...] = DATA + 100  # and the next write goes through
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path))[...], DATA + 100)


def test_faults_fire_once_on_the_call_asked_for():
    from cuzarr.gpu.emulated_faults import FaultSchedule

    faults = FaultSchedule()
    faults.tick("h2d")
    faults.fail_at("h2d", 2)
    faults.tick("h2d")
    assert faults.pending() == 1
    with pytest.raises(EmulatedDeviceFault, match="h2d call 2"):
        faults.tick("h2d")
    faults.tick("h2d")
    assert faults.pending() == 0
    with pytest.raises(ValueError):
        faults.fail_at("h2d", 0)
