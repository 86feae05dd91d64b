"""``gpu.recovery`` and ``gpu.oom`` on their own: halving on out-of-memory, naming chunks, and
recognising every library's out-of-memory error (without CuPy: matched by name and status)."""

from __future__ import annotations

from collections import Counter

import pytest

from cuzarr.errors import CodecError, DeviceError, DeviceOutOfMemory
from cuzarr.gpu.emulated_ops import EmulatedOps
from cuzarr.gpu.oom import as_out_of_memory
from cuzarr.gpu.recovery import run_in_parts


class FakeRun:
    """Runs ranges; ranges longer than ``fits`` chunks fail with out-of-memory."""

    def __init__(self, fits: int, fail_single: int = 0):
        self.fits = fits
        self.fail_single = fail_single  # how many times a single chunk fails before fitting
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start: int, stop: int) -> list[int]:
        self.calls.append((start, stop))
        if stop - start > self.fits or (stop - start == 1 and self.fail_single > 0):
            self.fail_single -= stop - start == 1
            raise DeviceOutOfMemory("pool exhausted", nbytes=1000 * (stop - start))
        return list(range(start, stop))


def _run(run: FakeRun, n: int, stats: Counter[str], releases: list[int] | None = None) -> list[int]:
    releases = releases if releases is not None else []
    return run_in_parts(
        run,
        [f"a/c/{i}" for i in range(n)],
        action="decoding",
        ops=EmulatedOps(),
        release=lambda: releases.append(1),
        stats=stats,
    )


def test_no_trouble_is_one_call():
    run, stats = FakeRun(fits=8), Counter()
    assert _run(run, 8, stats) == list(range(8))
    assert run.calls == [(0, 8)] and not stats


@pytest.mark.parametrize(("n", "fits", "splits"), [(8, 2, 3), (8, 4, 1), (7, 2, 3), (5, 1, 4), (16, 3, 7)])
def test_oom_halves_until_it_fits_and_keeps_order(n, fits, splits):
    run, stats, releases = FakeRun(fits=fits), Counter(), []
    assert _run(run, n, stats, releases) == list(range(n))
    assert stats["oom_splits"] == splits and stats["oom_retries"] == 0
    assert len(releases) == splits  # memory released before every retry
    done = [c for c in run.calls if c[1] - c[0] <= fits]
    assert [i for a, b in done for i in range(a, b)] == list(range(n))  # each chunk decoded once, in order


def test_a_single_chunk_is_retried_once_after_release():
    run, stats = FakeRun(fits=1, fail_single=1), Counter()
    assert _run(run, 2, stats) == [0, 1]
    assert stats["oom_splits"] == 1 and stats["oom_retries"] == 1
    assert run.calls == [(0, 2), (0, 1), (0, 1), (1, 2)]


def test_a_single_chunk_that_never_fits_names_key_and_bytes():
    run, stats = FakeRun(fits=0), Counter()
    with pytest.raises(DeviceOutOfMemory) as info:
        _run(run, 4, stats)
    assert info.value.keys == ("a/c/0",) and info.value.nbytes == 1000
    assert "'a/c/0'" in str(info.value) and "1,000 bytes" in str(info.value)
    assert stats["oom_splits"] == 2 and stats["oom_retries"] == 1


def test_other_failures_name_the_batch_and_release():
    releases: list[int] = []

    def run(start: int, stop: int) -> list[int]:
        raise RuntimeError("cudaErrorIllegalAddress: an illegal memory access was encountered")

    with pytest.raises(DeviceError) as info:
        run_in_parts(
            run,
            ["x/c/0", "x/c/1"],
            action="decoding",
            ops=EmulatedOps(),
            release=lambda: releases.append(1),
            stats=Counter(),
        )
    assert info.value.keys == ("x/c/0", "x/c/1") and "'x/c/0', 'x/c/1'" in str(info.value)
    assert "illegal memory access" in str(info.value) and isinstance(info.value.__cause__, RuntimeError)
    assert releases == [1]


def test_data_errors_pass_unchanged():
    def run(start: int, stop: int) -> list[int]:
        raise CodecError("checksum mismatch", key="x/c/1", codec="crc32c")

    stats: Counter[str] = Counter()
    with pytest.raises(CodecError, match="checksum mismatch"):
        run_in_parts(run, ["x/c/0", "x/c/1"], action="decoding", ops=EmulatedOps(), release=list, stats=stats)
    assert not stats


def test_many_keys_are_abbreviated():
    error = DeviceError("boom", keys=tuple(f"c/{i}" for i in range(10)))
    assert "'c/3' and 6 more" in str(error) and len(error.keys) == 10


# -- the classifier -----------------------------------------------------------------------------


def _fake(name: str, base: type[BaseException], message: str, **attributes: object) -> BaseException:
    exc = type(name, (base,), {})(message)
    for key, value in attributes.items():
        setattr(exc, key, value)
    return exc


def test_cupy_pool_oom_keeps_the_requested_size():
    exc = _fake(
        "OutOfMemoryError",
        MemoryError,
        "Out of memory allocating 1,048,576 bytes (allocated so far: 4,096 bytes, limit set to: 8,192 bytes).",
        _size=1 << 20,
    )
    oom = as_out_of_memory(exc)
    assert oom is not None and oom.nbytes == 1 << 20 and oom.memory == "device"
    del exc._size  # older CuPy: only the message says
    assert as_out_of_memory(exc).nbytes == 1 << 20


def test_cuda_status_2_is_out_of_memory_other_statuses_are_not():
    pinned = _fake("CUDARuntimeError", RuntimeError, "cudaErrorMemoryAllocation: out of memory", status=2)
    assert as_out_of_memory(pinned).memory == "pinned"
    driver = _fake("CUDADriverError", RuntimeError, "CUDA_ERROR_OUT_OF_MEMORY: out of memory", status=2)
    assert as_out_of_memory(driver).memory == "device"
    illegal = _fake("CUDARuntimeError", RuntimeError, "cudaErrorIllegalAddress", status=700)
    assert as_out_of_memory(illegal) is None


def test_nvcomp_message_host_memory_and_others():
    assert as_out_of_memory(RuntimeError("nvCOMP: CUDA error: out of memory")) is not None
    assert as_out_of_memory(MemoryError()).memory == "host"
    same = DeviceOutOfMemory("x", nbytes=3)
    assert as_out_of_memory(same) is same
    assert as_out_of_memory(ValueError("out of memory")) is None  # only runtime errors are guessed
    assert as_out_of_memory(RuntimeError("kernel launch failed")) is None
