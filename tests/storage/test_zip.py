"""ZipStore: the shared suite (no deletes) plus modes, closing and zarr-python interop."""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import ReadOnlyError
from cuzarr.storage import ZipStore

from .store_suite import StoreSuite


class TestZipStore(StoreSuite):
    supports_deletes = False

    @pytest.fixture(autouse=True)
    def _close_stores(self) -> Iterator[None]:
        self._open: list[ZipStore] = []
        yield
        for store in self._open:
            store.close()

    def make_store(self, tmp_path: Any, read_only: bool = False) -> ZipStore:
        path = tmp_path / "store.zip"
        if read_only:
            for store in self._open:  # the writer must write its central directory first
                store.close()
            if not path.exists():
                ZipStore(path, mode="w").close()
            store = ZipStore(path, mode="r")
        else:
            store = ZipStore(path, mode="a")
        self._open.append(store)
        return store

    def overwrite_context(self) -> contextlib.AbstractContextManager[Any]:
        return pytest.warns(UserWarning, match="Duplicate name")


def test_modes(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with pytest.raises(FileNotFoundError):
        ZipStore(path)  # mode 'r' needs an existing file
    with ZipStore(path, mode="w") as store:
        assert not store.read_only
        store.set_many({"zarr.json": b"{}", "c/0": b"0"})
    with ZipStore(path, mode="a") as store:
        store.set("c/1", b"1")
        assert store.list() == ["c/0", "c/1", "zarr.json"]
    with ZipStore(path) as store:
        assert store.read_only
        assert store.get_many(["c/0", "c/1", "c/2"]) == [b"0", b"1", None]
        with pytest.raises(ReadOnlyError):
            store.set("c/2", b"2")
    with ZipStore(path, mode="w") as store:  # 'w' truncates
        assert store.list() == []
    with pytest.raises(FileExistsError):
        ZipStore(path, mode="x")
    with pytest.raises(ValueError, match="mode"):
        ZipStore(path, mode="q")
    with pytest.raises(ValueError, match="mode='r'"):
        ZipStore(path, mode="r", read_only=False)
    ZipStore(path, mode="a", read_only=True).close()


def test_close_required_after_writing(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    store = ZipStore(path, mode="w")
    store.set("k", b"v")
    assert store.get("k") == b"v"  # readable while writing
    assert not zipfile.is_zipfile(path)  # no central directory yet
    store.close()
    store.close()  # idempotent
    assert store.closed
    assert zipfile.is_zipfile(path)
    with pytest.raises(ValueError, match="closed"):
        store.get("k")
    with ZipStore(path) as reader:
        assert reader.get("k") == b"v"


def test_deletes_not_supported(tmp_path: Path) -> None:
    with ZipStore(tmp_path / "a.zip", mode="w") as store:
        store.set("k", b"v")
        assert store.supports_deletes is False
        with pytest.raises(NotImplementedError, match="cannot delete"):
            store.delete("k")
        with pytest.raises(NotImplementedError):
            store.delete_prefix("")
        assert store.get("k") == b"v"


def test_duplicate_key_reads_newest_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "a.zip"
    with ZipStore(path, mode="w") as store:
        store.set("k", b"old")
        with pytest.warns(UserWarning, match="Duplicate name"):
            store.set("k", b"new")
    with ZipStore(path) as store:
        assert store.get("k") == b"new"
        assert store.list() == ["k"]


def test_compressed_ranges(tmp_path: Path) -> None:
    data = bytes(range(256)) * 100
    with ZipStore(tmp_path / "a.zip", mode="w", compression=zipfile.ZIP_DEFLATED) as store:
        store.set("k", data)
        assert store.get("k", (1000, 1010)) == data[1000:1010]
        assert store.get("k", (-5, None)) == data[-5:]
        assert store.getsize("k") == len(data)


def test_read_only_view_shares_file(tmp_path: Path) -> None:
    with ZipStore(tmp_path / "a.zip", mode="w") as store:
        view = store.with_read_only()
        store.set("k", b"v")
        assert view.get("k") == b"v"
        view.close()  # a view never closes the shared file
        assert not store.closed
        assert view == store
    with ZipStore(tmp_path / "a.zip") as reader, pytest.raises(ValueError):
        reader.with_read_only(False)


def test_reads_zip_written_by_zarr_python(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    path = tmp_path / "zp.zip"
    data = np.arange(40, dtype="int32").reshape(5, 8)
    with zarr.storage.ZipStore(path, mode="w") as zstore:
        arr = zarr.create_array(
            store=zstore, shape=data.shape, chunks=(2, 4), dtype=data.dtype, zarr_format=3
        )
        arr[:] = data
    with ZipStore(path) as store:
        keys = store.list()
        assert "zarr.json" in keys
        assert "c/0/0" in keys and "c/2/1" in keys
        meta = json.loads(store.get("zarr.json"))
        assert meta["shape"] == [5, 8] and meta["node_type"] == "array"
        assert store.list_dir("") == ["c", "zarr.json"]
        assert store.list_dir("c") == ["0", "1", "2"]
        assert store.get("zarr.json", (0, 1)) == b"{"


def test_zarr_python_reads_our_zip(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    path = tmp_path / "ours.zip"
    meta = {
        "zarr_format": 3,
        "node_type": "group",
        "attributes": {"written_by": "cuzarr"},
    }
    with ZipStore(path, mode="w") as store:
        store.set("zarr.json", json.dumps(meta).encode())
    group = zarr.open_group(zarr.storage.ZipStore(path, mode="r"), mode="r")
    assert group.attrs["written_by"] == "cuzarr"


def test_writes_of_fill_values_need_no_delete(tmp_path: Path) -> None:
    """A write whose chunk equals the fill value deletes that chunk's key; in a zip that was never
    written this is nothing to do (zarr-python writes such arrays too)."""
    with ZipStore(tmp_path / "a.zip", mode="w") as store:
        array = cuzarr.create_array(store, name="a", shape=(4,), chunks=(2,), dtype="f8")
        array[:] = np.array([0, 0, 1, 1.0])
        group = cuzarr.open_group(store, mode="a")
        group["zeros"] = np.zeros((3, 5))
        assert store.delete_many(["never/written"]) is None
        with pytest.raises(NotImplementedError, match="cannot delete"):
            array[:] = 0  # now chunk 'a/c/1' exists: overwriting it with fill values needs a delete
    with ZipStore(tmp_path / "a.zip") as reader:
        np.testing.assert_array_equal(cuzarr.open_array(reader, path="a")[:], [0, 0, 1, 1])
        np.testing.assert_array_equal(cuzarr.open_array(reader, path="zeros")[:], np.zeros((3, 5)))
