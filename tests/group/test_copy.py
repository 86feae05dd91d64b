"""copy / copy_all / copy_store with zarr-python 2's semantics."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

import cuzarr
from cuzarr import CopyError
from cuzarr.storage import LocalStore, MemoryStore

from .test_group import FORMATS, build


def _filled(zarr_format: int, store=None) -> cuzarr.Group:
    root = build(zarr_format, store)
    root["a/x"][...] = np.arange(12).reshape(3, 4)
    root["z"][...] = [1.5, 2.5]
    root["a/x"].attrs["units"] = "m"
    return root


def _same_tree(a: cuzarr.Group, b: cuzarr.Group) -> None:
    left, right = dict(a.members(max_depth=None)), dict(b.members(max_depth=None))
    assert left.keys() == right.keys()
    for key, node in left.items():
        other = right[key]
        assert type(node) is type(other), key
        assert node.attrs.asdict() == other.attrs.asdict(), key
        if isinstance(node, cuzarr.Array):
            assert (node.shape, node.dtype, node.chunks) == (other.shape, other.dtype, other.chunks)
            np.testing.assert_array_equal(node[...], other[...])


@pytest.mark.parametrize("source_format", FORMATS)
@pytest.mark.parametrize("dest_format", FORMATS)
def test_copy_group_recursively(source_format, dest_format):
    source = _filled(source_format)
    dest = cuzarr.group(zarr_format=dest_format)
    lines: list[str] = []
    n_copied, n_skipped, n_bytes = cuzarr.copy(source["a"], dest, log=lines.append)
    assert (n_copied, n_skipped, n_bytes) == (2, 0, 48)
    assert lines == ["copy /a", "copy /a/x (3, 4) int32", "all done: 2 copied, 0 skipped, 48 bytes copied"]
    _same_tree(source["a"], dest["a"])
    assert dest["a"].attrs["ga"] == 1 and dest["a/x"].zarr_format == dest_format
    if source_format == dest_format:
        assert dest["a/x"].compressors == source["a/x"].compressors


def test_copy_options():
    source = _filled(3)
    dest = cuzarr.group()
    assert cuzarr.copy(source["z"], dest, name="renamed") == (1, 0, 16)
    np.testing.assert_array_equal(dest["renamed"][...], [1.5, 2.5])
    assert cuzarr.copy(source, dest, name="shallow", shallow=True) == (2, 0, 16)  # the group and z
    assert sorted(dest["shallow"]) == ["z"]
    cuzarr.copy(source["a"], dest, name="noattrs", without_attrs=True)
    assert dict(dest["noattrs"].attrs) == {} and dict(dest["noattrs/x"].attrs) == {}
    cuzarr.copy(source["a/x"], dest, name="rechunked", chunks=(3, 4))
    assert dest["rechunked"].chunks == (3, 4)
    cuzarr.copy(source["a/x"], dest, name="recompressed", compressors=None)
    assert dest["recompressed"].compressors == () and dest["recompressed"][2, 3] == 11
    cuzarr.copy(source["a/x"], dest, name="sharded", shards=(2, 4), chunks=(1, 2))
    assert (dest["sharded"].shards, dest["sharded"].chunks) == ((2, 4), (1, 2))
    cuzarr.copy(dest["sharded"], dest, name="unsharded", chunks=(3, 1))
    assert dest["unsharded"].shards is None and dest["unsharded"][2, 3] == 11
    with pytest.raises(TypeError, match="name="):
        cuzarr.copy(source, dest)
    with pytest.raises(ValueError, match="if_exists"):
        cuzarr.copy(source["z"], dest, if_exists="bogus")


def test_copy_if_exists():
    source = _filled(3)
    dest = cuzarr.group()
    cuzarr.copy(source["z"], dest)
    with pytest.raises(CopyError, match="'z' already exists"):
        cuzarr.copy(source["z"], dest)
    assert cuzarr.copy(source["z"], dest, if_exists="skip") == (0, 1, 0)
    dest["z"][...] = 5
    assert cuzarr.copy(source["z"], dest, if_exists="skip_initialized") == (0, 1, 0)  # fully written
    partial = dest.create_array("p", shape=(4,), chunks=(2,), dtype="float64", fill_value=None)
    partial[:2] = 1
    source.create_array("p", data=np.arange(4.0), chunks=(2,))
    assert cuzarr.copy(source["p"], dest, if_exists="skip_initialized") == (1, 0, 32)
    np.testing.assert_array_equal(dest["p"][...], np.arange(4.0))
    assert cuzarr.copy(source["z"], dest, if_exists="replace") == (1, 0, 16)
    np.testing.assert_array_equal(dest["z"][...], [1.5, 2.5])
    dest["a"] = np.zeros(1)  # an array where the group goes
    with pytest.raises(CopyError, match="an array 'a'"):
        cuzarr.copy(source["a"], dest)
    assert cuzarr.copy(source["a"], dest, if_exists="skip") == (0, 1, 0)
    cuzarr.copy(source["a"], dest, if_exists="replace")
    _same_tree(source["a"], dest["a"])


def test_copy_dry_run_writes_nothing():
    source = _filled(3)
    dest_store = MemoryStore()
    dest = cuzarr.group(dest_store)
    before = sorted(dest_store.list())
    lines: list[str] = []
    counts = cuzarr.copy(source["b"], dest, dry_run=True, log=lines.append)
    assert counts == (3, 0, 0)
    assert lines[-1] == "dry run: 3 copied, 0 skipped"
    assert sorted(dest_store.list()) == before
    assert cuzarr.copy_all(source, MemoryStore(), dry_run=True)[0] == 6


def test_copy_all_and_store_like_destination(tmp_path):
    source = _filled(2)
    counts = cuzarr.copy_all(source, str(tmp_path / "all.zarr"))
    assert counts == (6, 0, 48 + 16 + 40)
    copied = cuzarr.open_group(str(tmp_path / "all.zarr"), mode="r")
    assert copied.attrs["title"] == "root"
    _same_tree(source, copied)
    # zarr-python reads the copy
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(
        zarr.open_group(str(tmp_path / "all.zarr"), mode="r")["a/x"][...], source["a/x"][...]
    )


def test_log_to_file_and_path(tmp_path):
    source = _filled(3)
    handle = io.StringIO()
    cuzarr.copy(source["z"], cuzarr.group(), log=handle)
    assert handle.getvalue() == "copy /z (2,) float64\nall done: 1 copied, 0 skipped, 16 bytes copied\n"
    log_path = tmp_path / "copy.log"
    cuzarr.copy_store(source.store, MemoryStore(), log=str(log_path))
    assert log_path.read_text().splitlines()[-1].startswith("all done: ")
    with pytest.raises(TypeError, match="log must be"):
        cuzarr.copy(source["z"], cuzarr.group(), log=42)


def test_copy_store(tmp_path):
    source = _filled(3, MemoryStore())
    dest = LocalStore(str(tmp_path / "dest.zarr"))
    lines: list[str] = []
    n_copied, n_skipped, n_bytes = cuzarr.copy_store(source.store, dest, log=lines.append)
    keys = source.store.list()
    assert n_copied == len(keys) and n_skipped == 0
    assert n_bytes == sum(len(source.store.get(k)) for k in keys)
    assert sorted(dest.list()) == sorted(keys)
    assert f"copy {keys[0]}" in lines
    _same_tree(source, cuzarr.open_group(dest, mode="r"))
    with pytest.raises(CopyError, match="exists in destination"):
        cuzarr.copy_store(source.store, dest)
    assert cuzarr.copy_store(source.store, dest, if_exists="skip")[:2] == (0, len(keys))
    assert cuzarr.copy_store(source.store, dest, if_exists="replace")[:2] == (len(keys), 0)
    with pytest.raises(ValueError, match="if_exists"):
        cuzarr.copy_store(source.store, dest, if_exists="skip_initialized")
    # sub-paths and filters
    sub = MemoryStore()
    lines.clear()
    cuzarr.copy_store(
        source.store, sub, source_path="a", dest_path="moved/a", excludes=r"\.json$", log=lines.append
    )
    assert sorted(sub.list()) == [
        k.replace("a/", "moved/a/", 1) for k in keys if k.startswith("a/") and not k.endswith(".json")
    ]
    assert any(" -> moved/a/" in line for line in lines)
    only_json = MemoryStore()
    cuzarr.copy_store(source.store, only_json, excludes=".*", includes=[r"zarr\.json$"])
    assert all(k.endswith("zarr.json") for k in only_json.list()) and only_json.list()
    dry = MemoryStore()
    assert cuzarr.copy_store(source.store, dry, dry_run=True)[2] == 0 and dry.list() == []


def test_progress_bar(monkeypatch):
    updates: list[int] = []

    class FakeBar:
        def __init__(self, total=None, unit=None):
            self.total = total

        def update(self, n=1):
            updates.append(n)

        def close(self):
            updates.append(-1)

    fake = types.ModuleType("tqdm.auto")
    fake.tqdm = FakeBar
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", fake)
    source = _filled(3)
    cuzarr.copy_store(source.store, MemoryStore(), progress=True)
    assert sum(u for u in updates if u > 0) == len(source.store.list()) and updates[-1] == -1
    updates.clear()
    cuzarr.copy(source["a"], cuzarr.group(), progress=True)
    assert sum(u for u in updates if u > 0) == 2
    updates.clear()
    cuzarr.copy(source["a"], cuzarr.group())  # not asked: no bar
    assert updates == []


def test_progress_without_tqdm_warns(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    source = _filled(3)
    with pytest.warns(UserWarning, match="tqdm"):
        assert cuzarr.copy(source["z"], cuzarr.group(), progress=True)[0] == 1


_RECORD = np.dtype([("a", "<i4"), ("b", "<f8")])


@pytest.mark.parametrize(
    ("dtype", "fill"),
    [("i4", -1), ("f8", np.nan), (_RECORD, np.array((7, 2.5), _RECORD)[()])],
    ids=["int", "nan", "record"],
)
@pytest.mark.parametrize("dest_format", FORMATS)
@pytest.mark.parametrize("source_format", FORMATS)
def test_copies_keep_the_fill_value_and_unwritten_chunks(source_format, dest_format, dtype, fill):
    """What never-written chunks read as survives every copy, and they stay unwritten."""
    source = cuzarr.group(zarr_format=source_format)
    array = source.create_array("s", shape=(8, 6), chunks=(4, 3), dtype=dtype, fill_value=fill)
    array[:4, :3] = np.ones((4, 3), dtype=array.dtype)
    copies = [cuzarr.group(zarr_format=dest_format) for _ in range(3)]
    cuzarr.copy(array, copies[0])
    cuzarr.copy_all(source, copies[1])
    cuzarr.copy(array, copies[2], chunks=(2, 6))  # rechunked
    if source_format == dest_format:
        copies.append(cuzarr.group(zarr_format=dest_format))
        cuzarr.copy_store(source.store, copies[-1].store, if_exists="replace")
    expected_fill = np.asarray(array.fill_value, dtype=array.dtype).tobytes()
    for i, dest in enumerate(copies):
        copied = cuzarr.open_group(dest.store, mode="r")["s"]
        assert np.asarray(copied.fill_value, dtype=copied.dtype).tobytes() == expected_fill, i
        assert copied[...].tobytes() == array[...].tobytes(), i
        assert copied.nchunks_initialized == (2 if i == 2 else 1), i
