"""``StorePath``: zarr-python's path normalisation, ``/`` joining, ``str`` and equality; and the
top-level functions taking one where they take a store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import InvalidKeyError
from cuzarr.storage import MemoryStore, StorePath, make_store

zarr = pytest.importorskip("zarr")


@pytest.mark.parametrize(
    "path,expected",
    [
        ("", ""),
        (None, ""),
        ("/a/b/", "a/b"),
        ("a//b", "a/b"),
        ("a\\b", "a/b"),
        (b"a/b", "a/b"),
        (Path("a/b"), "a/b"),
    ],
)
def test_paths_are_normalised_as_zarr_does(path, expected):
    assert StorePath(MemoryStore(), path).path == expected
    assert zarr.storage.StorePath(zarr.storage.MemoryStore(), path).path == expected


@pytest.mark.parametrize("path", ["..", "a/../b", "./a", "a/."])
def test_dot_segments_are_refused(path):
    with pytest.raises(InvalidKeyError, match="'.' or '..'"):
        StorePath(MemoryStore(), path)
    with pytest.raises(ValueError):
        zarr.storage.StorePath(zarr.storage.MemoryStore(), path)


def test_slash_joins_paths():
    store = MemoryStore()
    root = StorePath(store)
    assert (root / "a").path == "a"
    assert (root / "a" / "b/c/").path == "a/b/c"
    assert (StorePath(store, "a") / "").path == "a"
    assert (root / "a").store is store


def test_str_and_repr_follow_zarrs_layout():
    store = MemoryStore()
    assert str(StorePath(store)) == str(store)
    assert str(StorePath(store, "a/b")) == f"{store}/a/b"
    assert repr(StorePath(store, "a")) == f"StorePath(MemoryStore, '{store}/a')"


def test_equality_is_same_store_and_same_path():
    store = MemoryStore()
    assert StorePath(store, "a") == StorePath(store, "/a/")
    assert StorePath(store, "a") != StorePath(store, "b")
    assert StorePath(store, "a") != StorePath(MemoryStore(), "a")
    assert StorePath(store, "a") != "a"
    with pytest.raises(TypeError):
        hash(StorePath(store))


def test_read_only_is_the_stores():
    store = MemoryStore()
    assert not StorePath(store).read_only
    assert StorePath(store.with_read_only(True)).read_only


def test_top_level_functions_take_a_store_path():
    store = MemoryStore()
    base = StorePath(store, "base")
    cuzarr.create_array(base, name="x", shape=(3,), dtype="i4")[...] = [1, 2, 3]
    assert store.exists("base/x/zarr.json")
    np.testing.assert_array_equal(cuzarr.open_array(base / "x", mode="r")[...], [1, 2, 3])
    assert isinstance(cuzarr.open(base, path="x", mode="r"), cuzarr.Array)
    assert cuzarr.open_group(base, mode="r").path == "base"
    assert cuzarr.create_group(base, path="g").path == "base/g"
    assert cuzarr.Group.open(base / "g").path == "base/g"
    assert cuzarr.group(base / "h").path == "base/h"


def test_make_store_takes_a_store_path_at_the_root_only():
    store = MemoryStore()
    assert make_store(StorePath(store)) is store
    assert make_store(StorePath(store), mode="r").read_only
    with pytest.raises(TypeError, match="path='a'"):
        make_store(StorePath(store, "a"))
