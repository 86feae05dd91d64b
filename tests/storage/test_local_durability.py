"""LocalStore after crashes and power loss: stale temp files are removed (only old ones, never
through symlinks), and ``config.set(fsync=True)`` fsyncs each file before its rename and its
directory after."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

import cuzarr
from cuzarr.errors import ReadOnlyError
from cuzarr.storage import LocalStore

HEX = "0123456789abcdef" * 2


def _temp(directory: Path, name: str, age_s: float = 0.0) -> Path:
    """A file named like a killed writer's temp file, last modified ``age_s`` seconds ago."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f".{name}.{HEX}.partial"
    path.write_bytes(b"half a chunk")
    when = time.time() - age_s
    os.utime(path, (when, when))
    return path


def test_only_old_temp_files_are_removed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_many({"a/zarr.json": b"{}", "a/c/0": b"chunk", "b/c/1/2": b"chunk"})
    old = [_temp(tmp_path / "a" / "c", "1", 7200), _temp(tmp_path / "b" / "c" / "1", "3", 4000)]
    young = _temp(tmp_path / "a" / "c", "2", 10)  # a live writer's
    lookalikes = [
        tmp_path / "a" / ".0.nothex.partial",
        tmp_path / "a" / "x.partial",
        tmp_path / "a" / ".0.partial",
    ]
    for path in lookalikes:
        path.write_bytes(b"not ours")
        os.utime(path, (0, 0))
    assert store.remove_stale_temp_files() == 2
    assert not any(p.exists() for p in old) and young.exists()
    assert all(p.exists() for p in lookalikes)
    assert store.get("a/c/0") == b"chunk" and store.get("b/c/1/2") == b"chunk"
    assert store.remove_stale_temp_files(min_age_s=0) == 1 and not young.exists()
    assert store.remove_stale_temp_files(min_age_s=0) == 0


def test_directories_left_empty_are_pruned_but_not_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _temp(root / "arr" / "c" / "5", "0", 7200)
    _temp(root, "zarr.json", 7200)
    store = LocalStore(root)
    assert store.remove_stale_temp_files() == 2
    assert root.is_dir() and list(root.iterdir()) == []


def test_symlinks_are_neither_followed_nor_removed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    victim = _temp(outside, "0", 7200)
    root = tmp_path / "root"
    root.mkdir()
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    link = root / f".1.{HEX}.partial"
    link.symlink_to(victim)
    assert LocalStore(root).remove_stale_temp_files(min_age_s=0) == 0
    assert victim.exists() and link.is_symlink()


def test_missing_root_read_only_and_bad_age(tmp_path: Path) -> None:
    assert LocalStore(tmp_path / "nowhere").remove_stale_temp_files() == 0
    with pytest.raises(ReadOnlyError):
        LocalStore(tmp_path, read_only=True).remove_stale_temp_files()
    for bad in (-1, float("nan")):
        with pytest.raises(ValueError, match="min_age_s"):
            LocalStore(tmp_path).remove_stale_temp_files(bad)


def test_interrupted_write_leftover_is_invisible_then_cleaned(tmp_path: Path) -> None:
    z = cuzarr.create_array(str(tmp_path), shape=(8,), chunks=(4,), dtype="i4")
    z[...] = range(8)
    _temp(tmp_path / "c", "1", 7200)  # what a SIGKILL between write and rename leaves
    assert all(not k.endswith(".partial") for k in LocalStore(tmp_path).list())
    assert LocalStore(tmp_path).remove_stale_temp_files() == 1
    assert list(cuzarr.open_array(str(tmp_path))[...]) == list(range(8))


# -- fsync ------------------------------------------------------------------------------------


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records fsyncs (of a file or a directory) and renames, in order."""
    log: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        log.append(("fsync", kind))
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        log.append(("replace", os.path.basename(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return log


def test_default_never_fsyncs(tmp_path: Path, events: list[tuple[str, str]]) -> None:
    assert cuzarr.config.get("fsync") is False
    LocalStore(tmp_path).set_many({"a/b": b"1", "a/c": b"2"})
    assert events == [("replace", "b"), ("replace", "c")]


def test_fsync_file_before_rename_and_directory_after(tmp_path: Path, events: list[tuple[str, str]]) -> None:
    store = LocalStore(tmp_path)
    store.set("x/old", b"0")
    events.clear()
    with cuzarr.config.set(fsync=True):
        store.set("x/k", b"1")
    assert events == [("fsync", "file"), ("replace", "k"), ("fsync", "dir")]
    assert store.get("x/k") == b"1"


def test_fsync_new_directories_and_batches(tmp_path: Path, events: list[tuple[str, str]]) -> None:
    store = LocalStore(tmp_path / "root")
    with cuzarr.config.set(fsync=True, threads=1):
        store.set("g/c/0", b"1")  # creates root/g/c: each new directory's parent is fsynced
        creating = list(events)
        events.clear()
        store.set_many({"g/c/1": b"2", "g/c/2": b"3", "g/d": b"4"})
    renames = [e for e in creating if e[0] == "replace"]
    assert renames == [("replace", "0")] and creating.index(renames[0]) > 0
    assert creating.count(("fsync", "dir")) == 1 + 3  # its directory, plus root's, g's and tmp's entries
    assert events.count(("fsync", "file")) == 3 and events.count(("replace", "1")) == 1
    assert events.count(("fsync", "dir")) == 2  # once per directory of the batch (g/c and g)
    assert [store.get(k) for k in ("g/c/0", "g/c/1", "g/c/2", "g/d")] == [b"1", b"2", b"3", b"4"]


def test_fsync_through_an_array_write(tmp_path: Path, events: list[tuple[str, str]]) -> None:
    z = cuzarr.create_array(str(tmp_path), shape=(8,), chunks=(4,), dtype="i4")
    events.clear()
    with cuzarr.config.set(fsync=True):
        z[...] = range(8)
    assert events.count(("fsync", "file")) == 2 and events.count(("replace", "0")) == 1


def test_fsync_must_be_a_bool() -> None:
    with pytest.raises(ValueError, match="fsync"):
        cuzarr.config.set(fsync="yes")
