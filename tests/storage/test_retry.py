"""Remote faults: reads and writes retry transient errors with backoff up to ``remote_retries``,
then raise ``RemoteStoreError`` naming the key; a failed write never corrupts what was there."""

from __future__ import annotations

import uuid
from collections import Counter

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import CuzarrError
from cuzarr.storage import FsspecStore, MemoryStore
from cuzarr.storage.retry import RemoteStoreError, RetryingStore, backoff_delays, is_transient

from .fault_injection import FaultInjectingFileSystem, InjectedServerError

#: Faults injected by this module's tests (the closing report sums them).
INJECTED: Counter[str] = Counter()


@pytest.fixture(autouse=True, scope="module")
def _report_faults():
    yield
    print(f"\ncuzarr retry: {sum(INJECTED.values())} faults injected ({dict(INJECTED)})")


@pytest.fixture(autouse=True)
def _fast_backoff():
    with cuzarr.config.set(remote_retries=4, remote_backoff_s=0.0005, remote_backoff_max_s=0.002):
        yield


def _store(fs: FaultInjectingFileSystem) -> FsspecStore:
    return FsspecStore(fs, path=f"/retry/{uuid.uuid4().hex}")


def _tally(fs: FaultInjectingFileSystem) -> None:
    INJECTED.update(fs.injected)


def test_transient_classification() -> None:
    assert is_transient(TimeoutError()) and is_transient(ConnectionResetError())
    assert is_transient(InjectedServerError(503)) and is_transient(InjectedServerError(500))
    assert not is_transient(FileNotFoundError("x")) and not is_transient(PermissionError("x"))
    assert not is_transient(ValueError("x")) and not is_transient(CuzarrError("x"))


def test_backoff_grows_and_is_capped() -> None:
    delays = backoff_delays(retries=8, base=0.1, cap=1.0)
    assert len(delays) == 8
    assert 0.05 <= delays[0] <= 0.15 and all(d <= 1.5 for d in delays)
    assert sum(delays[4:]) > sum(delays[:2])


@pytest.mark.parametrize("kind", ["timeout", "reset", "5xx"])
def test_reads_recover_from_transient_faults(kind: str) -> None:
    fs = FaultInjectingFileSystem()
    store = _store(fs)
    store.set_many({"a": b"1", "b": b"2"})
    fs.script = [kind, kind, kind]  # the batch, then key 'a' twice
    assert store.get_many(["a", "b"]) == [b"1", b"2"]
    assert fs.injected[kind] == 3
    _tally(fs)


def test_read_gives_up_naming_the_key() -> None:
    fs = FaultInjectingFileSystem(kinds=("reset",), ops=("read",))
    store = _store(fs)
    store.set("c/0/1", b"x")
    fs.rate = 1.0
    with pytest.raises(RemoteStoreError, match="'c/0/1'") as info:
        store.get("c/0/1")
    assert info.value.key == "c/0/1" and info.value.attempts == 5
    assert isinstance(info.value.__cause__, ConnectionResetError)
    assert fs.calls["read"] == 1 + 5  # the batch, then one try and four retries for the key
    _tally(fs)


def test_retry_limit_is_configurable() -> None:
    fs = FaultInjectingFileSystem(kinds=("timeout",), ops=("read",))
    store = _store(fs)
    store.set("k", b"x")
    fs.rate = 1.0
    with cuzarr.config.set(remote_retries=0), pytest.raises(RemoteStoreError) as info:
        store.get("k")
    assert info.value.attempts == 1
    _tally(fs)


def test_missing_keys_and_permanent_errors_are_not_retried() -> None:
    fs = FaultInjectingFileSystem()
    store = _store(fs)
    assert store.get("nope") is None
    assert fs.calls["read"] == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_writes_recover(when: str) -> None:
    fs = FaultInjectingFileSystem(when=when)
    store = _store(fs)
    fs.script = ["5xx", "timeout"]
    store.set_many({"x": b"1", "y": b"2"})
    assert store.get_many(["x", "y"]) == [b"1", b"2"]
    _tally(fs)


def test_array_round_trip_through_random_faults() -> None:
    """30% of all calls fail; every write and read still lands thanks to the retries."""
    fs = FaultInjectingFileSystem(rate=0.3, seed=7)
    store = _store(fs)
    data = np.arange(20 * 30, dtype="f4").reshape(20, 30)
    with cuzarr.config.set(remote_retries=12):
        arr = cuzarr.create_array(
            store, shape=data.shape, chunks=(7, 8), dtype="f4", compressors=[{"name": "zstd"}]
        )
        arr[...] = data
        np.testing.assert_array_equal(cuzarr.open_array(store, mode="r")[...], data)
    assert sum(fs.injected.values()) > 10
    _tally(fs)


@pytest.mark.parametrize("when", ["before", "after"])
def test_failed_write_leaves_array_readable(when: str) -> None:
    """Writes that keep failing raise naming a key; the metadata and every chunk stay readable,
    each chunk holding its old or its new value."""
    fs = FaultInjectingFileSystem(when=when)
    store = _store(fs)
    old = np.zeros((12, 12), dtype="i4")
    arr = cuzarr.create_array(store, shape=old.shape, chunks=(4, 4), dtype="i4", fill_value=0)
    arr[...] = old + 1
    fs.rate, fs.kinds, fs.ops = 1.0, ("reset",), {"write"}
    with pytest.raises(RemoteStoreError, match="c/"):
        arr[...] = old + 2
    fs.rate = 0.0
    again = cuzarr.open_array(store, mode="r")
    assert again.shape == old.shape
    out = again[...]
    for i in range(0, 12, 4):
        for j in range(0, 12, 4):
            block = out[i : i + 4, j : j + 4]
            assert (block == 1).all() or (block == 2).all(), block
    _tally(fs)


def test_metadata_write_failure_keeps_old_metadata() -> None:
    fs = FaultInjectingFileSystem()
    store = _store(fs)
    arr = cuzarr.create_array(store, shape=(8,), chunks=(4,), dtype="u1", fill_value=0)
    arr[...] = 5
    fs.rate, fs.kinds, fs.ops = 1.0, ("5xx",), {"write"}
    with pytest.raises(RemoteStoreError, match="zarr.json"):
        arr.attrs["k"] = "v"
    fs.rate = 0.0
    again = cuzarr.open_array(store, mode="r")
    assert again.shape == (8,) and (again[...] == 5).all()
    _tally(fs)


def test_retrying_store_wraps_any_store() -> None:
    calls = Counter()

    class Flaky(MemoryStore):
        def _get_many(self, keys, byte_ranges):
            calls["get"] += 1
            if calls["get"] <= 2:
                raise ConnectionResetError("flaky")
            return super()._get_many(keys, byte_ranges)

    inner = Flaky()
    inner.set("k", b"v")
    store = RetryingStore(inner)
    assert store.get_many(["k"]) == [b"v"] and calls["get"] == 3
    INJECTED["reset"] += 2


def test_retrying_store_retries_dependent_reads() -> None:
    calls = Counter()

    class Flaky(MemoryStore):
        def _get_dependent(self, requests):
            calls["get"] += 1
            if calls["get"] <= 2:
                raise TimeoutError("flaky")
            return super()._get_dependent(requests)

    inner = Flaky()
    inner.set_many({"a": b"abcdef", "b": b"uvwxyz"})
    store = RetryingStore(inner)
    follow = lambda first: [(2, 4)]  # noqa: E731
    assert store.get_dependent([("a", (0, 1), follow), ("b", (0, 1), follow)]) == [
        (b"a", [b"cd"]),
        (b"u", [b"wx"]),
    ]
    assert calls["get"] == 4  # the batch failed, then "a" failed once, then each alone succeeded
    assert store.snapshot_reads
    INJECTED["timeout"] += 2
