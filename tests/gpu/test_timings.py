"""``PhaseTimes``: per-phase host seconds of the device path, as the GPU benchmark reports them."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import cuzarr
from cuzarr.gpu.timings import PhaseTimes


def test_phases_sum_calls_bytes_and_time_over_threads():
    times = PhaseTimes()

    def work():
        for _ in range(100):
            with times.phase("decode", 10):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with times.phase("fetch") as phase:
        phase.nbytes = 7
    snap = times.snapshot()
    assert snap["decode"]["calls"] == 400 and snap["decode"]["bytes"] == 4000
    assert snap["fetch"] == {**snap["fetch"], "calls": 1, "bytes": 7}
    assert all(v["seconds"] >= 0 for v in snap.values())
    times.reset()
    assert times.snapshot() == {}


def test_a_failing_block_is_still_counted():
    times = PhaseTimes()
    with pytest.raises(ValueError), times.phase("decode", 3):
        raise ValueError
    assert times.snapshot()["decode"]["calls"] == 1


def test_device_reads_and_writes_record_their_phases(tmp_path):
    data = np.arange(64 * 64, dtype="f4").reshape(64, 64)
    z = cuzarr.create_array(
        store=str(tmp_path), shape=data.shape, chunks=(16, 16), dtype="f4", device="emulated"
    )
    timings = z._backend.timings
    timings.reset()
    z[...] = data
    assert timings.snapshot()["encode"]["bytes"] == data.nbytes
    timings.reset()
    np.testing.assert_array_equal(z[3:50, 5:40], data[3:50, 5:40])
    snap = timings.snapshot()
    assert snap["decode"]["bytes"] == 12 * 16 * 16 * 4  # 4 x 3 chunks of 1 KiB touched
    assert snap["fetch"]["bytes"] > 0 and snap["fetch"]["calls"] >= 1
    # chunks (1, 1) and (2, 1) lie wholly inside and decode in place; the rest are scattered
    assert snap["scatter"]["bytes"] == (47 * 35 - 2 * 16 * 16) * 4
