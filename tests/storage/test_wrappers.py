"""CountingStore and LoggingStore forward everything and observe calls."""

from __future__ import annotations

import logging

import pytest

from cuzarr.errors import InvalidKeyError, ReadOnlyError
from cuzarr.storage import CountingStore, LoggingStore, MemoryStore, WrapperStore, ZipStore


def test_counting_store_counts_calls_and_keys() -> None:
    store = CountingStore(MemoryStore())
    store.set_many({"a": b"1", "b": b"2", "c/d": b"3"})
    assert store.get_many(["a", "b", "missing"]) == [b"1", b"2", None]
    assert store.get("c/d") == b"3"
    assert store.get("a", (0, 1)) == b"1"
    assert store.exists("a")
    assert store.list_prefix("c/") == ["c/d"]
    assert store.list_dir("") == ["a", "b", "c"]
    assert store.getsize("a") == 1
    store.delete_many(["a", "b"])
    assert store.counts["get_many"] == 3
    assert store.counts["get_many_keys"] == 5
    assert store.counts["set_many"] == 1 and store.counts["set_many_keys"] == 3
    assert store.counts["delete_many"] == 1 and store.counts["delete_many_keys"] == 2
    assert store.counts["exists"] == 1 and store.counts["list_prefix"] == 1
    assert store.counts["list_dir"] == 1 and store.counts["getsize"] == 1
    assert store.counts["never_called"] == 0
    store.reset()
    assert sum(store.counts.values()) == 0
    store.delete_prefix("")
    assert store.counts["list_prefix"] == 1 and store.counts["delete_many_keys"] == 1


def test_wrapper_forwards_read_only_and_validation() -> None:
    inner = MemoryStore({"k": b"v"})
    ro = CountingStore(inner.with_read_only())
    assert ro.read_only
    with pytest.raises(ReadOnlyError):
        ro.set("k", b"x")
    with pytest.raises(ReadOnlyError):
        ro.delete("k")
    assert inner.get("k") == b"v"
    with pytest.raises(InvalidKeyError):
        CountingStore(inner).get("../x")
    view = CountingStore(inner).with_read_only()
    assert isinstance(view, CountingStore) and view.read_only
    assert not CountingStore(inner).read_only
    assert CountingStore(inner) == CountingStore(inner)
    assert isinstance(ro, WrapperStore) and ro.store is not None
    assert "MemoryStore" in repr(ro)


def test_wrapper_forwards_close_and_supports_deletes(tmp_path) -> None:
    zstore = ZipStore(tmp_path / "a.zip", mode="w")
    with CountingStore(zstore) as wrapped:
        assert wrapped.supports_deletes is False
        wrapped.set("k", b"v")
    assert zstore.closed
    assert ZipStore(tmp_path / "a.zip").get("k") == b"v"


def test_logging_store_logs(caplog: pytest.LogCaptureFixture) -> None:
    store = LoggingStore(MemoryStore(), log_level="INFO")
    with caplog.at_level(logging.INFO, logger="cuzarr.storage"):
        store.set_many({"a": b"1", "b": b"2"})
        store.get_many(["a", "b", "c"])
        store.list_dir("")
    messages = [r.getMessage() for r in caplog.records]
    assert any("set_many(2 keys" in m for m in messages)
    assert any("get_many(3 keys" in m for m in messages)
    assert any("list_dir(" in m for m in messages)
    assert all(r.levelno == logging.INFO for r in caplog.records)
    assert store.with_read_only().log_level == logging.INFO
    with pytest.raises(ValueError, match="log level"):
        LoggingStore(MemoryStore(), log_level="LOUD")


def test_wrappers_forward_dependent_reads_and_snapshots(tmp_path) -> None:
    from cuzarr.storage import FsspecStore, LocalStore

    store = CountingStore(LocalStore(tmp_path / "local"))
    store.set("k", b"0123456789")
    assert store.snapshot_reads  # the wrapped store's guarantee holds through the wrapper
    assert store.get_dependent([("k", (0, 2), lambda first: [(int(first), 6)])]) == [(b"01", [b"12345"])]
    assert store.counts["get_dependent"] == 1 and store.counts["get_dependent_keys"] == 1
    assert store.counts["get_many"] == 0
    assert not CountingStore(FsspecStore.from_url("memory://wrapped")).snapshot_reads
