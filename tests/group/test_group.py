"""Group API: navigation, creation, h5py-style helpers, move/delete, tree, info, modes and errors."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import (
    ArrayNotFoundError,
    ContainsArrayError,
    ContainsGroupError,
    GroupNotFoundError,
    MetadataError,
    NodeTypeValidationError,
    ReadOnlyError,
)
from cuzarr.storage import MemoryStore

FORMATS = [2, 3]


def build(zarr_format: int, store=None) -> cuzarr.Group:
    """/ (attrs), a/ (x 3x4 int32), b/c/ (arr 5 int64), z (2 float64)."""
    root = cuzarr.group(store, zarr_format=zarr_format, attributes={"title": "root"})
    a = root.create_group("a", attributes={"ga": 1})
    a.create_array("x", shape=(3, 4), dtype="int32", chunks=(2, 2))
    root.create_group("b").create_group("c")
    root["b/c/arr"] = np.arange(5)
    root.create_array("z", shape=(2,), dtype="float64")
    return root


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_navigation(zarr_format):
    root = build(zarr_format)
    assert root.zarr_format == zarr_format
    assert list(root) == ["a", "b", "z"] == list(root.keys())
    assert len(root) == 3 == root.nmembers()
    assert root.nmembers(max_depth=None) == 6
    assert root.nmembers(max_depth=1) == 5
    assert "a" in root and "a/x" in root and "b/c/arr" in root
    assert "nope" not in root and "a/nope" not in root and 3 not in root
    x = root["a/x"]
    assert isinstance(x, cuzarr.Array)
    assert (x.path, x.name, x.basename) == ("a/x", "/a/x", "x")
    c = root["b"]["c"]
    assert isinstance(c, cuzarr.Group)
    assert (c.path, c.name, c.basename) == ("b/c", "/b/c", "c")
    assert (root.path, root.name, root.basename) == ("", "/", "")
    np.testing.assert_array_equal(c["arr"][...], np.arange(5))
    assert root.get("nope") is None and root.get("nope", 7) == 7
    with pytest.raises(KeyError, match="nope"):
        root["nope"]
    with pytest.raises(KeyError):
        root["a/x/deeper"]
    assert list(root.group_keys()) == ["a", "b"]
    assert list(root.array_keys()) == ["z"]
    assert [g.path for g in root.group_values()] == ["a", "b"]
    assert [a.path for a in root.array_values()] == ["z"]
    assert [k for k, _ in root.groups()] == ["a", "b"]
    assert [k for k, _ in root.arrays()] == ["z"]
    members = dict(root.members(max_depth=None))
    assert set(members) == {"a", "b", "z", "a/x", "b/c", "b/c/arr"}
    assert isinstance(members["b/c"], cuzarr.Group)
    assert root.get_array("z").shape == (2,)
    assert root.get_group("a").attrs["ga"] == 1
    with pytest.raises(TypeError):
        root.get_array("a")
    assert root["a"] == root["a"] and root["a"] != root["b"]


def test_tree_output():
    root = build(3)
    assert repr(root.tree()) == (
        "/\n├── a\n│   └── x (3, 4) int32\n├── b\n│   └── c\n│       └── arr (5,) int64\n└── z (2,) float64\n"
    )
    assert repr(root.tree(level=0)) == "/\n├── a\n├── b\n└── z (2,) float64\n"
    assert repr(root["b"].tree()) == "/b\n└── c\n    └── arr (5,) int64\n"
    truncated = repr(root.tree(max_nodes=2))
    assert truncated.startswith("Truncated at max_nodes=2")
    html = root.tree()._repr_mimebundle_()["text/html"]
    assert "<b>a</b>" in html and "(3, 4) int32" in html
    assert repr(cuzarr.tree(root, level=0)) == repr(root.tree(level=0))


def test_tree_matches_zarr_python(tmp_path):
    zarr = pytest.importorskip("zarr")
    build(3, str(tmp_path / "t.zarr"))
    ours = repr(cuzarr.open_group(str(tmp_path / "t.zarr"), mode="r").tree())
    theirs = repr(zarr.open_group(str(tmp_path / "t.zarr"), mode="r").tree())
    assert ours == theirs


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_info(zarr_format):
    root = build(zarr_format)
    assert repr(root.info) == (
        f"Name        : \nType        : Group\nZarr format : {zarr_format}\n"
        "Read-only   : False\nStore type  : MemoryStore"
    )
    assert repr(root.info_complete()).endswith("No. members : 6\nNo. arrays  : 3\nNo. groups  : 3")
    assert root.info_complete()["No. members"] == 6 if hasattr(root.info_complete(), "__getitem__") else True


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_attributes_persist(zarr_format, tmp_path):
    path = str(tmp_path / "g.zarr")
    root = build(zarr_format, path)
    root.attrs["n"] = 5
    root["a"].attrs.update({"k": [1, 2]})
    root.update_attributes({"m": {"x": None}})
    del root.attrs["title"]
    again = cuzarr.open_group(path, mode="r")
    assert again.attrs.asdict() == {"n": 5, "m": {"x": None}}
    assert again["a"].attrs.asdict() == {"ga": 1, "k": [1, 2]}
    with pytest.raises(TypeError, match="'bad'"):
        root.attrs["bad"] = object()
    with pytest.raises(TypeError, match="'bad'"):
        root.update_attributes({"ok": 1, "bad": {1, 2}})
    with pytest.raises(TypeError, match="'bad'"):
        root.create_group("q", attributes={"bad": np.zeros(2)})
    assert "ok" not in cuzarr.open_group(path, mode="r").attrs
    assert "q" not in root


def test_update_attributes_is_one_write():
    store = cuzarr.storage.CountingStore(MemoryStore())
    root = cuzarr.group(store)
    store.reset()
    root.update_attributes({f"k{i}": i for i in range(10)})
    assert store.counts["set_many"] == 1


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_creation_helpers(zarr_format):
    root = cuzarr.group(zarr_format=zarr_format)
    assert root.zeros(name="z", shape=(3,))[...].tolist() == [0, 0, 0]
    assert root.ones(name="o", shape=(2,), dtype="i2")[...].tolist() == [1, 1]
    assert root.full(name="f", shape=(2,), fill_value=7)[...].tolist() == [7, 7]
    assert root.empty(name="e", shape=(4,)).shape == (4,)
    like = root.zeros_like(name="zl", data=np.ones((2, 3), dtype="u1"))
    assert (like.shape, like.dtype) == ((2, 3), np.dtype("u1"))
    assert root.full_like(name="fl", data=np.ones(2), fill_value=3)[...].tolist() == [3, 3]
    assert root.ones_like(name="ol", data=root["z"]).zarr_format == zarr_format
    assert root.empty_like(name="el", data=root["z"]).chunks == root["z"].chunks
    d = root.create_dataset("d", data=np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(d[...], np.arange(6).reshape(2, 3))
    assert root.create("c", shape=(1,)).zarr_format == zarr_format
    deep = root.create_array("p/q/r", shape=(2,), dtype="u1")
    assert deep.path == "p/q/r" and isinstance(root["p/q"], cuzarr.Group)
    with pytest.raises(ValueError, match="cannot hold"):
        root.create_array("v", shape=(1,), zarr_format=5 - zarr_format)
    with pytest.raises(ContainsArrayError):
        root.create_array("z", shape=(1,))
    with pytest.raises(ContainsGroupError):
        root.create_group("p")
    assert root.create_array("z", shape=(1,), overwrite=True).shape == (1,)
    with pytest.raises(NodeTypeValidationError, match=r"A parent of .* \('z'\) is an array - only groups"):
        root.create_group("z/inner")


def test_require():
    root = cuzarr.group()
    a = root.require_group("a")
    assert root.require_group("a") == a
    assert [g.path for g in root.require_groups("a", "b/c")] == ["a", "b/c"]
    x = root.require_dataset("x", shape=(4,), dtype="int32")
    assert root.require_dataset("x", shape=4, dtype="int32", exact=True).path == x.path
    assert root.require_array("x", shape=(4,), dtype="int64").dtype == np.dtype("int32")  # castable
    assert root.require_array("x", shape=(4,)).shape == (4,)
    with pytest.raises(TypeError, match=r"Incompatible shape \(\(4,\) vs \(5,\)\)"):
        root.require_dataset("x", shape=(5,), dtype="int32")
    with pytest.raises(TypeError, match="int32.*int16"):
        root.require_dataset("x", shape=(4,), dtype="int16")
    with pytest.raises(TypeError, match="int32.*int64"):
        root.require_dataset("x", shape=(4,), dtype="int64", exact=True)
    with pytest.raises(TypeError, match=r"Incompatible object \(Array\)"):
        root.require_group("x")
    with pytest.raises(TypeError, match=r"Incompatible object \(Group\)"):
        root.require_array("a", shape=(1,))
    assert root.require_group("a", overwrite=True).path == "a"


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_setitem_delitem_move(zarr_format):
    root = build(zarr_format)
    root["new"] = np.arange(3.0)
    np.testing.assert_array_equal(root["new"][...], np.arange(3.0))
    root["new"] = np.arange(4)  # replaces
    assert root["new"].shape == (4,)
    root["a/x"][...] = 9
    root.move("a", "moved/deeper")
    assert "a" not in root
    assert root["moved/deeper/x"][...].tolist() == [[9] * 4] * 3
    assert root["moved/deeper"].attrs["ga"] == 1
    with pytest.raises(KeyError):
        root.move("a", "elsewhere")
    with pytest.raises(ContainsArrayError):
        root.move("b", "z")
    with pytest.raises(ValueError, match="into itself"):
        root.move("b", "b/c/inside")
    del root["moved"]
    assert "moved" not in root and "moved/deeper/x" not in root
    assert not root.store.list_prefix("moved/")
    with pytest.raises(KeyError):
        del root["moved"]


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_modes(zarr_format, tmp_path):
    path = str(tmp_path / "m.zarr")
    with pytest.raises(GroupNotFoundError, match="no group found at path ''"):
        cuzarr.open_group(path, mode="r")
    with pytest.raises(GroupNotFoundError, match="'sub'"):
        cuzarr.open_group(path, mode="r+", path="sub")
    created = cuzarr.open_group(path, mode="a", zarr_format=zarr_format, attributes={"v": 1})
    assert created.attrs["v"] == 1
    assert cuzarr.open_group(path, mode="a").attrs["v"] == 1  # opens, keeps attributes
    read = cuzarr.open_group(path, mode="r")
    assert read.read_only and read.zarr_format == zarr_format
    with pytest.raises(ReadOnlyError):
        read.attrs["x"] = 1
    with pytest.raises(ReadOnlyError):
        read.create_group("g")
    created.create_group("child")
    assert cuzarr.open_group(path, mode="r+")["child"].path == "child"
    with pytest.raises(ContainsGroupError):
        cuzarr.open_group(path, mode="w-")
    with pytest.raises(ContainsGroupError):
        cuzarr.create_group(path, zarr_format=zarr_format)
    fresh = cuzarr.open_group(path, mode="w", zarr_format=zarr_format)
    assert list(fresh) == [] and fresh.attrs.asdict() == {}
    replaced = cuzarr.create_group(path, overwrite=True, attributes={"o": 1}, zarr_format=zarr_format)
    assert replaced.attrs["o"] == 1
    assert cuzarr.create_group(path, path="p/q").zarr_format == zarr_format  # joins the hierarchy's format
    assert cuzarr.group(path, overwrite=True, zarr_format=zarr_format).nmembers() == 0
    with pytest.raises(ValueError, match="mode"):
        cuzarr.open_group(path, mode="x")


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_open_auto_detects(zarr_format, tmp_path):
    path = str(tmp_path / "o.zarr")
    root = build(zarr_format, path)
    assert isinstance(cuzarr.open(path), cuzarr.Group)
    assert isinstance(cuzarr.open(path, path="a"), cuzarr.Group)
    x = cuzarr.open(path, path="a/x", mode="r")
    assert isinstance(x, cuzarr.Array) and x.read_only
    assert isinstance(cuzarr.open(path, path="new", shape=(2,)), cuzarr.Array)
    assert isinstance(cuzarr.open(path, path="newgroup"), cuzarr.Group)  # mode 'a' creates a group
    with pytest.raises(GroupNotFoundError, match="'missing'"):
        cuzarr.open(path, path="missing", mode="r")
    with pytest.raises(ArrayNotFoundError, match="'missing'"):
        cuzarr.open_array(path, path="missing", mode="r")
    with pytest.raises(ContainsArrayError):
        cuzarr.open_group(path, path="a/x", mode="r")
    with pytest.raises(NodeTypeValidationError):
        cuzarr.open_array(path, path="a", mode="r")
    read_only = cuzarr.open(cuzarr.storage.LocalStore(path, read_only=True))
    assert isinstance(read_only, cuzarr.Group) and read_only.read_only
    assert root.store is not None


def test_mixed_formats_refused(tmp_path):
    path = str(tmp_path / "mixed.zarr")
    cuzarr.group(path, zarr_format=2)
    with pytest.raises(MetadataError, match="single format"):
        cuzarr.create_array(path, name="v3/x", shape=(1,), zarr_format=3)
    with pytest.raises(MetadataError, match="single format"):
        cuzarr.create_group(path, path="g3", zarr_format=3)
    # a v3 node written under the v2 group behind cuzarr's back
    cuzarr.create_array(cuzarr.storage.LocalStore(str(tmp_path / "mixed.zarr/x")), shape=(1,), zarr_format=3)
    root = cuzarr.open_group(path, mode="r")
    with pytest.raises(MetadataError, match="'x' is Zarr v3 but its group is Zarr v2"):
        root["x"]
    with pytest.raises(MetadataError, match="single format"):
        list(root.members())


def test_synchronizer_passed_to_members():
    sync = cuzarr.ThreadSynchronizer()
    root = cuzarr.group(synchronizer=sync)
    assert root.synchronizer is sync
    assert root.create_array("x", shape=(2,)).synchronizer is sync
    assert root["x"].synchronizer is sync
    group = root.create_group("g")
    assert group.synchronizer is sync and root["g"].synchronizer is sync
    assert group.create_array("y", shape=(1,)).synchronizer is sync


def test_save_and_load_group(tmp_path):
    path = str(tmp_path / "s.zarr")
    cuzarr.save(path, np.arange(3), np.ones(2), named=np.zeros((2, 2)))
    loaded = cuzarr.load(path)
    assert sorted(loaded) == ["arr_0", "arr_1", "named"] and len(loaded) == 3
    assert "named" in loaded and "nope" not in loaded
    np.testing.assert_array_equal(loaded["named"], np.zeros((2, 2)))
    assert "LazyLoader" in repr(loaded)
    cuzarr.save_group(path, other=np.arange(2), zarr_format=2)  # replaces the group
    assert list(cuzarr.load(path)) == ["other"]
    assert cuzarr.open_group(path, mode="r").zarr_format == 2
    with pytest.raises(ValueError):
        cuzarr.save(path)
    with pytest.raises(TypeError, match="'bad'"):
        cuzarr.save_group(path, bad=[1, 2])


def test_creation_checks_everything_in_one_read():
    store = cuzarr.storage.CountingStore(MemoryStore())
    root = cuzarr.group(store)
    store.reset()
    root.create_array("p/q/x", shape=(2,), dtype="u1")  # creates p and p/q too
    assert store.counts["get_many"] == 1
    assert sorted(store.list()) == ["p/q/x/zarr.json", "p/q/zarr.json", "p/zarr.json", "zarr.json"]
    store.reset()
    with pytest.raises(ContainsArrayError):
        root.create_group("p/q/x")
    assert store.counts["get_many"] == 1 and store.counts["set_many"] == 0


@pytest.mark.parametrize("group_format", [2, 3])
@pytest.mark.parametrize("like", ["empty_like", "zeros_like", "ones_like", "full_like"])
def test_group_like_keeps_layout_and_takes_overrides(like, group_format):
    """As zarr-python's Group.*_like: the source's chunk grid, codecs and fill value carry over
    within one format (sharding included), and keywords, ``shape`` too, override them."""
    source = cuzarr.create_array(
        {},
        shape=(16, 16),
        chunks=(4, 4),
        shards=(8, 8),
        dtype="i2",
        fill_value=9,
        compressors=cuzarr.codecs.GzipCodec(level=3),
    )
    group = cuzarr.group({}, zarr_format=group_format)
    extra = {"fill_value": 5} if like == "full_like" else {}
    made = getattr(group, like)(name="x", data=source, **extra)
    expected_fill = {"empty_like": 9, "zeros_like": 0, "ones_like": 1, "full_like": 5}[like]
    assert (made.shape, made.dtype, made.fill_value) == ((16, 16), source.dtype, expected_fill)
    if group_format == 3:
        assert (made.chunks, made.shards, made.compressors) == ((4, 4), (8, 8), source.compressors)
    else:
        assert (made.zarr_format, made.chunks) == (2, (4, 4))
    resized = getattr(group, like)(name="y", data=source, shape=(6, 6), chunks=(3, 3), shards=None, **extra)
    assert (resized.shape, resized.chunks, resized.shards) == ((6, 6), (3, 3), None)


def test_top_level_like_keeps_shards():
    source = cuzarr.create_array({}, shape=(16, 16), chunks=(4, 4), shards=(8, 8), dtype="i2", fill_value=9)
    made = cuzarr.zeros_like(source)
    assert (made.chunks, made.shards, made.fill_value) == ((4, 4), (8, 8), 0)
