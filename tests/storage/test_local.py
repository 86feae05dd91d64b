"""LocalStore: the shared suite plus atomic writes, directory pruning and parallel reads."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cuzarr.config import config
from cuzarr.errors import InvalidKeyError
from cuzarr.storage import LocalStore
from cuzarr.storage import local as local_module

from .store_suite import StoreSuite


class TestLocalStore(StoreSuite):
    def make_store(self, tmp_path: Any, read_only: bool = False) -> LocalStore:
        return LocalStore(tmp_path / "root", read_only=read_only)


def _all_files(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_root_created_lazily(tmp_path: Path) -> None:
    root = tmp_path / "lazy" / "root"
    store = LocalStore(root)
    LocalStore(root, read_only=True).get("x")
    assert store.list() == [] and store.list_dir("") == [] and store.get("a") is None
    assert not root.exists() and not (tmp_path / "lazy").exists()
    store.set("a/b", b"1")
    assert (root / "a" / "b").read_bytes() == b"1"
    assert store.root == root
    assert repr(root) in repr(store) or str(root) in repr(store)


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "..\\escape", "/escape", "a//../escape"])
def test_no_file_outside_root(tmp_path: Path, key: str) -> None:
    store = LocalStore(tmp_path / "root")
    with pytest.raises(InvalidKeyError):
        store.set(key, b"x")
    with pytest.raises(InvalidKeyError):
        store.set_many({"ok": b"x", key: b"x"})
    with pytest.raises(InvalidKeyError):
        store.get(key)
    assert _all_files(tmp_path) == []


def test_atomic_write_failure_in_replace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    store.set("a/k", b"old")

    def boom(*args: Any) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk on fire"):
        store.set("a/k", b"new")
    monkeypatch.undo()
    assert store.get("a/k") == b"old"
    assert _all_files(tmp_path) == ["a", "a/k"]


def test_atomic_write_failure_mid_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    store.set_many({f"c/{i}": b"old" for i in range(6)})
    real_write = os.write

    def flaky_write(fd: int, data: Any) -> int:
        if bytes(data).startswith(b"boom"):
            real_write(fd, b"bo")  # a partial write, then a failure
            raise OSError("no space left")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", flaky_write)
    new = {f"c/{i}": b"new" for i in range(6)}
    new["c/3"] = b"boom"
    with pytest.raises(OSError, match="no space left"):
        store.set_many(new)
    monkeypatch.undo()
    values = store.get_many([f"c/{i}" for i in range(6)])
    assert values[3] == b"old"  # the failed key kept its old value
    assert all(v in (b"old", b"new") for v in values)  # the others were written whole or not at all
    assert _all_files(tmp_path) == ["c"] + [f"c/{i}" for i in range(6)]  # no temp file left


def test_temp_files_ignored_in_listing(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set_many({"a/k": b"1", ".zattrs": b"{}"})
    (tmp_path / "a" / f".k.{'0' * 32}.partial").write_bytes(b"half")
    assert store.list() == [".zattrs", "a/k"]
    assert store.list_dir("a") == ["k"]


def test_delete_removes_empty_dirs(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.set_many({"a/b/c/0": b"0", "a/b/c/1": b"1", "a/zarr.json": b"{}"})
    store.delete("a/b/c/0")
    assert (tmp_path / "root/a/b/c").is_dir()
    store.delete("a/b/c/1")
    assert _all_files(tmp_path) == ["root", "root/a", "root/a/zarr.json"]
    store.delete_prefix("")
    assert _all_files(tmp_path) == ["root"]  # the root itself is kept


def test_parallel_get_many(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    values = {f"c/{i // 20}/{i % 20}": np.full(1000 + i, i % 251, dtype=np.uint8) for i in range(200)}
    store.set_many(values)
    keys = list(values)[::-1] + ["c/missing/0"]
    expected = [values[k].tobytes() for k in keys[:-1]] + [None]
    with config.set(threads=4):
        assert store.get_many(keys) == expected
        ranges = [(-10, None)] * len(keys)
        assert store.get_many(keys, ranges) == [None if v is None else v[-10:] for v in expected]
        # from inside a pool task the store must read serially (no pool-in-pool deadlock)
        result = config.thread_pool().submit(store.get_many, keys).result(timeout=30)
        assert result == expected


def test_large_parallel_set_many(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    with config.set(threads=3):
        store.set_many({f"k/{i}": bytes([i]) * 100 for i in range(50)})
    assert store.get_many([f"k/{i}" for i in range(50)]) == [bytes([i]) * 100 for i in range(50)]
    assert not [p for p in _all_files(tmp_path) if p.endswith(".partial")]


def test_value_kept_when_key_is_directory(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.set("a/b", b"1")
    assert store.get("a") is None
    assert store.get("a", (0, 3)) is None
    with pytest.raises(OSError):
        store.set("a/b/c", b"x")  # 'a/b' is a file
    assert store.get("a/b") == b"1"
    assert store.list() == ["a/b"]


def test_pickle(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, read_only=True)
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store and copy.read_only


def test_identity(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    assert store == LocalStore(str(tmp_path)) == LocalStore(f"file://{tmp_path}")
    assert store == store.with_read_only()
    assert store != LocalStore(tmp_path / "x")
    assert hash(store) == hash(LocalStore(tmp_path))
    assert str(tmp_path) in repr(store)
    assert local_module._TEMP_RE.fullmatch(f".k.{'a' * 32}.partial")
