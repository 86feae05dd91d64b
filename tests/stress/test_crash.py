"""Crash safety: a writer SIGKILLed at random points leaves every chunk old or new (never torn)
and the metadata parseable; the temp files it leaves are removed by ``remove_stale_temp_files``
without harming the store. ``make stress`` kills it 50 times per layout; ``make test`` 3 times."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cuzarr
from cuzarr.storage import LocalStore

from .conftest import STRESS_STATS, rounds

_WRITER = Path(__file__).with_name("_crash_writer.py")
_N, _CHUNK = 64 * 1024, 4096  # 16 chunks of 32 KiB (u8)


def _leftovers(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file() and p.name.endswith(".partial")]


def _check(path: Path, shards: bool) -> int:
    """Every chunk decodes to a single version; returns the highest version seen."""
    arr = cuzarr.open_array(str(path), mode="r")  # metadata must parse
    json.loads((path / "zarr.json").read_bytes())
    data = arr[...]
    seen = set()
    for start in range(0, _N, _CHUNK):
        block = data[start : start + _CHUNK]
        values = np.unique(block)
        assert values.size == 1, f"chunk at {start} is torn: versions {values[:8]}"
        seen.add(int(values[0]))
    assert all(not k.endswith(".partial") for k in LocalStore(path).list())
    return max(seen)


def _clean_and_check(path: Path, shards: bool) -> int:
    """Remove the killed writer's temp files (it is dead: no age needed), then check again."""
    leftovers = _leftovers(path)
    STRESS_STATS["partial-files-left"] += len(leftovers)
    removed = LocalStore(path).remove_stale_temp_files(min_age_s=0)
    assert removed == len(leftovers)
    STRESS_STATS["partial-files-removed"] += removed
    assert _leftovers(path) == []
    return _check(path, shards)


@pytest.mark.parametrize("layout", ["chunks", "shards"])
def test_sigkill_never_tears_chunks(layout: str, tmp_path: Path) -> None:
    path = tmp_path / "arr.zarr"
    shards = (_CHUNK * 4,) if layout == "shards" else None
    cuzarr.create_array(
        str(path),
        shape=(_N,),
        chunks=(_CHUNK,),
        shards=shards,
        dtype="u8",
        fill_value=0,
        compressors=[{"name": "zstd", "configuration": {"level": 1}}],
    )
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    best = 0
    for _ in range(rounds(50, 3)):
        child = subprocess.Popen(
            [sys.executable, str(_WRITER), str(path)], stdout=subprocess.PIPE, env=env, text=True
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            time.sleep(rng.uniform(0.0, 0.25))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        STRESS_STATS[f"kills-survived-{layout}"] += 1
        version = _check(path, shards is not None)
        assert _clean_and_check(path, shards is not None) == version  # cleaning lost no write
        best = max(best, version)
    assert best > 0, "the writer never got to write anything"
