"""make_store: every accepted input kind, modes and the errors for everything else."""

from __future__ import annotations

import uuid
from pathlib import Path

import fsspec
import pytest

from cuzarr.storage import (
    CountingStore,
    FsspecStore,
    LocalStore,
    MemoryStore,
    Store,
    ZipStore,
    is_url,
    make_store,
)


def test_none_gives_new_memory_store() -> None:
    a, b = make_store(None), make_store(None)
    assert isinstance(a, MemoryStore) and a != b and not a.read_only
    assert make_store(None, mode="r").read_only


def test_store_passes_through() -> None:
    store = MemoryStore()
    assert make_store(store) is store
    assert make_store(store, mode="a") is store
    ro = make_store(store, mode="r")
    assert ro.read_only and ro == store
    already = store.with_read_only()
    assert make_store(already, mode="r") is already


def test_store_without_read_only_views_passes_through() -> None:
    class Plain(MemoryStore):
        def with_read_only(self, read_only: bool = True) -> Store:
            raise NotImplementedError

    store = Plain()
    assert make_store(store, mode="r") is store


def test_dict_wrapped() -> None:
    data: dict[str, bytes] = {"zarr.json": b"{}"}
    store = make_store(data)
    assert isinstance(store, MemoryStore) and store.store_dict is data
    assert make_store(data, mode="r").read_only


def test_local_paths(tmp_path: Path) -> None:
    for like in (tmp_path / "a", str(tmp_path / "a"), f"file://{tmp_path}/a"):
        store = make_store(like)
        assert isinstance(store, LocalStore) and store.root == tmp_path / "a"
    assert make_store(tmp_path, mode="r").read_only
    assert not make_store(tmp_path, mode="w").read_only


def test_zip_paths(tmp_path: Path) -> None:
    path = tmp_path / "data.zip"
    with make_store(path) as store:  # default: append, creating the file
        assert isinstance(store, ZipStore) and store.mode == "a" and not store.read_only
        store.set("zarr.json", b"{}")
    with make_store(str(path), mode="r") as store:
        assert store.read_only and store.mode == "r"
        assert store.get("zarr.json") == b"{}"
    with make_store(path, mode="w") as store:
        assert store.mode == "w" and store.list() == []
    with pytest.raises(FileExistsError):
        make_store(path, mode="w-")


def test_urls() -> None:
    url = f"memory://cuzarr-tests/{uuid.uuid4().hex}"
    store = make_store(url)
    assert isinstance(store, FsspecStore) and not store.read_only
    store.set("k", b"v")
    assert make_store(url, mode="r").get("k") == b"v"
    assert make_store(url, mode="r").read_only
    opts_store = make_store(url, storage_options={"skip_instance_cache": True})
    assert isinstance(opts_store, FsspecStore)


def test_file_url_with_storage_options_uses_fsspec(tmp_path: Path) -> None:
    store = make_store(f"file://{tmp_path}", storage_options={"auto_mkdir": True})
    assert isinstance(store, FsspecStore)


def test_fsmap() -> None:
    mapper = fsspec.get_mapper(f"memory://cuzarr-tests/{uuid.uuid4().hex}")
    store = make_store(mapper, mode="r")
    assert isinstance(store, FsspecStore) and store.read_only
    assert store.path == mapper.root


def test_storage_options_need_a_url(tmp_path: Path) -> None:
    for like in (None, tmp_path, str(tmp_path), {}, MemoryStore(), str(tmp_path / "x.zip")):
        with pytest.raises(TypeError, match="storage_options"):
            make_store(like, storage_options={"anon": True})


def test_unknown_types_and_modes() -> None:
    with pytest.raises(TypeError, match="expected None, a cuzarr Store"):
        make_store(42)
    with pytest.raises(TypeError, match="fsspec.FSMap"):
        make_store([b"x"])
    with pytest.raises(ValueError, match="mode"):
        make_store(None, mode="rw")


def test_wrapped_store_kept() -> None:
    inner = MemoryStore()
    counting = CountingStore(inner)
    assert make_store(counting) is counting
    ro = make_store(counting, mode="r")
    assert isinstance(ro, CountingStore) and ro.read_only


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("s3://bucket/x", True),
        ("gcs://b/x", True),
        ("memory://x", True),
        ("file:///tmp/x", True),
        ("zip::s3://b/x.zip", True),
        ("/tmp/x", False),
        ("relative/x", False),
        ("C:\\data\\x", False),
        ("c://x", False),
    ],
)
def test_is_url(path: str, expected: bool) -> None:
    assert is_url(path) is expected
