"""``create_hierarchy``: implicit parents, conflicts, ``overwrite``, one batched write; and
``Group.create_hierarchy`` below a group. Interop with zarr-python is in tests/interop."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import ContainsArrayError, ContainsGroupError, ReadOnlyError
from cuzarr.metadata import (
    ArrayMetadataV2,
    ArrayMetadataV3,
    ChunkKeyEncoding,
    GroupMetadataV2,
    GroupMetadataV3,
    RegularChunkGrid,
)
from cuzarr.storage import CountingStore, MemoryStore


def _array(fmt: int = 3, shape=(4,), attributes=None):
    if fmt == 2:
        return ArrayMetadataV2(
            shape=shape, chunks=(2,), dtype="<i2", fill_value=0, attributes=attributes or {}
        )
    return ArrayMetadataV3(
        shape=shape,
        data_type="int16",
        chunk_grid=RegularChunkGrid((2,)),
        chunk_key_encoding=ChunkKeyEncoding("default", "/"),
        fill_value=0,
        codecs=[{"name": "bytes", "configuration": {"endian": "little"}}],
        attributes=attributes or {},
    )


def _group(fmt: int = 3, attributes=None):
    return GroupMetadataV3(attributes or {}) if fmt == 3 else GroupMetadataV2(attributes or {})


@pytest.mark.parametrize("fmt", [2, 3])
def test_implicit_parents_and_one_batched_write(fmt):
    store = CountingStore(MemoryStore())
    nodes = {"a/b/x": _array(fmt), "/c/": _group(fmt, {"k": 1}), "a/y": _array(fmt, (3,))}
    created = list(cuzarr.create_hierarchy(store=store, nodes=nodes))
    assert [p for p, _ in created] == ["", "a", "c", "a/b", "a/y", "a/b/x"]  # parents first
    kinds = {p: type(n).__name__ for p, n in created}
    assert kinds == {
        "": "Group",
        "a": "Group",
        "c": "Group",
        "a/b": "Group",
        "a/y": "Array",
        "a/b/x": "Array",
    }
    assert store.counts["set_many"] == 1 and store.counts["set"] == 0 and store.counts["get_many"] == 1
    assert store.counts["set_many_keys"] == (6 if fmt == 3 else 12)  # v2: .zattrs beside every node
    root = cuzarr.open_group(store, mode="r")
    assert root.zarr_format == fmt and root["c"].attrs.asdict() == {"k": 1}
    assert root["a/y"].shape == (3,) and root["a/b/x"].dtype == np.dtype("i2")
    array = dict(created)["a/b/x"]
    array[...] = [1, 2, 3, 4]  # the yielded nodes are usable
    np.testing.assert_array_equal(root["a/b/x"][...], [1, 2, 3, 4])


def test_existing_nodes_conflict_unless_overwrite():
    contents: dict[str, bytes] = {}
    store = MemoryStore(contents)
    cuzarr.create_hierarchy(store=store, nodes={"g/arr": _array(), "h": _group(attributes={"keep": 1})})
    cuzarr.open_array(store, path="g/arr", mode="r+")[...] = 5
    before = dict(contents)
    with pytest.raises(ContainsArrayError, match="'g/arr'"):
        cuzarr.create_hierarchy(store=store, nodes={"g/arr": _array(), "new": _group()})
    with pytest.raises(ContainsGroupError, match="'h'"):
        cuzarr.create_hierarchy(store=store, nodes={"h": _group()})
    with pytest.raises(ContainsArrayError, match="implicit group"):
        cuzarr.create_hierarchy(store=store, nodes={"g/arr/inner": _array()})
    assert contents == before  # nothing written (or deleted) when refused
    # an existing group where only an implicit one is planned is kept, attributes and all
    created = dict(cuzarr.create_hierarchy(store=store, nodes={"h/inner": _array()}))
    assert sorted(created) == ["h/inner"]
    assert cuzarr.open_group(store, path="h", mode="r").attrs["keep"] == 1


def test_overwrite_replaces_given_nodes_and_what_is_below_them():
    store = MemoryStore()
    cuzarr.create_hierarchy(store=store, nodes={"g/old": _array(), "g/sub/deep": _array(), "a": _array()})
    cuzarr.open_array(store, path="a", mode="r+")[...] = 7
    created = dict(
        cuzarr.create_hierarchy(
            store=store,
            nodes={"g": _group(attributes={"v": 2}), "g/new": _array(), "a/inner": _array()},
            overwrite=True,
        )
    )
    assert sorted(created) == ["a", "a/inner", "g", "g/new"]  # '' exists: kept; 'a' was an array
    root = cuzarr.open_group(store, mode="r")
    assert sorted(root["g"].keys()) == ["new"] and root["g"].attrs.asdict() == {"v": 2}
    assert isinstance(root["a"], cuzarr.Group) and not [k for k in store.list_prefix("a/c/")]


def test_paths_formats_and_shapes_of_a_hierarchy_are_checked():
    store = MemoryStore()
    with pytest.raises(ValueError, match="same path"):
        cuzarr.create_hierarchy(store=store, nodes={"a": _group(), "/a": _group()})
    with pytest.raises(ValueError, match=r"'\.\.'"):
        cuzarr.create_hierarchy(store=store, nodes={"a/../b": _group()})
    with pytest.raises(ValueError, match="one Zarr format"):
        cuzarr.create_hierarchy(store=store, nodes={"a": _group(2), "b": _array(3)})
    with pytest.raises(ValueError, match="an array"):
        cuzarr.create_hierarchy(store=store, nodes={"a": _array(), "a/b": _group()})
    with pytest.raises(TypeError, match="metadata"):
        cuzarr.create_hierarchy(store=store, nodes={"a": 3})
    assert list(cuzarr.create_hierarchy(store=store, nodes={})) == [] and store.list_prefix("") == []
    with pytest.raises(ReadOnlyError):
        cuzarr.create_hierarchy(store=MemoryStore(read_only=True), nodes={"a": _group()})
    nested = dict(cuzarr.create_hierarchy(store=store, nodes={"//x//y/": _group()}))
    assert sorted(nested) == ["", "x", "x/y"]


def test_group_create_hierarchy_below_the_group():
    root = cuzarr.group(MemoryStore(), attributes={"root": True})
    sub = root.create_group("sub")
    created = list(sub.create_hierarchy({"p/q": _array(), "r": _group()}))
    assert [k for k, _ in created] == ["p", "r", "p/q"]  # relative to the group; 'sub' itself kept
    assert sorted(sub.keys()) == ["p", "r"] and root["sub/p/q"].shape == (4,)
    assert root.attrs["root"] is True
    with pytest.raises(ValueError, match="root"):
        sub.create_hierarchy({"": _group()})
    with pytest.raises(ValueError, match="format"):
        sub.create_hierarchy({"v2": _group(2)})
    with pytest.raises(ReadOnlyError):
        cuzarr.open_group(root.store, path="sub", mode="r").create_hierarchy({"z": _group()})


def test_group_create_hierarchy_updates_a_consolidated_view():
    store = MemoryStore()
    cuzarr.create_hierarchy(store=store, nodes={"a": _group()})
    cuzarr.consolidate_metadata(store)
    root = cuzarr.open_group(store, use_consolidated=True)
    root.create_hierarchy({"a/b/c": _array()})
    assert root["a/b/c"].shape == (4,) and "a/b" in root  # seen without re-reading the store
