"""Consolidated metadata: the documents zarr-python 3.1.6 writes, one-read opening, staleness, errors."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

import cuzarr
from cuzarr.metadata.consolidated import ConsolidatedMetadata
from cuzarr.storage import CountingStore, LocalStore, MemoryStore

from .test_group import FORMATS, build


def _metadata_reads(store: CountingStore) -> int:
    return store.counts["get_many"] + store.counts["list_dir"] + store.counts["list_prefix"]


def _walk_everything(group: cuzarr.Group) -> list[tuple]:
    """Touch every member's metadata: what a user inspecting a hierarchy does."""
    seen = []
    for path, node in group.members(max_depth=None):
        if isinstance(node, cuzarr.Array):
            seen.append((path, node.shape, node.dtype, node.chunks, node.fill_value, dict(node.attrs)))
        else:
            seen.append((path, dict(node.attrs), sorted(node)))
    return seen


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_one_metadata_read(zarr_format):
    store = CountingStore(MemoryStore())
    build(zarr_format, store)
    plain = _walk_everything(cuzarr.open_group(store, mode="r", use_consolidated=False))
    cuzarr.consolidate_metadata(store)
    for open_function in (cuzarr.open_group, cuzarr.open_consolidated, cuzarr.open):
        store.reset()
        group = open_function(store, mode="r")
        counting = group.store  # mode 'r' wraps a read-only view with its own counters
        assert isinstance(counting, CountingStore)
        walked = _walk_everything(group)
        assert group["b/c/arr"].shape == (5,) and "a/x" in group and len(group["b"]) == 1
        repr(group.tree())
        repr(group.info_complete())
        assert _metadata_reads(counting) == 1 and counting.counts["get_many"] == 1
        assert walked == plain


def test_unconsolidated_reads_are_batched_per_level():
    store = CountingStore(MemoryStore())
    build(3, store)
    store.reset()
    _walk_everything(cuzarr.open_group(store, mode="r"))
    # one get_many for the root; per level of the walk one get_many; each group member lists its own
    # directory again when asked for its keys (sorted(node)) - no per-member metadata requests
    assert store.counts["get_many"] <= 1 + 3 + 3 + 3


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_documents_equal_zarr_python(zarr_format, tmp_path):
    zarr = pytest.importorskip("zarr")
    ours, theirs = tmp_path / "ours.zarr", tmp_path / "theirs.zarr"
    root = build(zarr_format, str(ours))
    root["a"].create_group("Upper")  # case-folded sort order
    root.create_group("empty")
    shutil.copytree(ours, theirs)
    cuzarr.consolidate_metadata(str(ours))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(theirs))
    names = ["zarr.json"] if zarr_format == 3 else [".zmetadata", ".zgroup", ".zattrs"]
    for name in names:
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_attributes_update_keeps_consolidated(zarr_format, tmp_path):
    path = str(tmp_path / "c.zarr")
    build(zarr_format, path)
    cuzarr.consolidate_metadata(path)
    group = cuzarr.open_group(path, mode="r+")
    group.attrs["later"] = 1
    again = cuzarr.open_consolidated(path)
    assert again.attrs["later"] == 1 and "a/x" in again


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_stale_until_reconsolidated(zarr_format, tmp_path):
    path = str(tmp_path / "s.zarr")
    build(zarr_format, path)
    cuzarr.consolidate_metadata(path)
    cuzarr.open_group(path, mode="a", use_consolidated=False).create_array("late", shape=(1,))
    stale = cuzarr.open_group(path, mode="r")
    assert "late" not in stale and "late" in cuzarr.open_group(path, mode="r", use_consolidated=False)
    # changes made through a consolidated group object show in that object at once
    live = cuzarr.open_group(path, mode="a")
    live.create_array("mine/deep", shape=(2,))
    assert "mine/deep" in live and isinstance(live["mine"], cuzarr.Group)
    del live["a"]
    assert "a" not in live and "a/x" not in live
    live.move("b", "bb")
    assert "bb/c/arr" in live and "b" not in live
    assert live["bb/c/arr"][...].tolist() == list(range(5))
    group = cuzarr.consolidate_metadata(path)
    assert {"late", "mine/deep", "bb/c/arr"} <= set(group.consolidated_metadata.metadata)
    assert "late" in cuzarr.open_group(path, mode="r")


@pytest.mark.parametrize("zarr_format", FORMATS)
def test_requesting_missing_consolidated_raises(zarr_format, tmp_path):
    path = str(tmp_path / "n.zarr")
    build(zarr_format, path)
    expected = "zarr.json" if zarr_format == 3 else ".zmetadata"
    with pytest.raises(ValueError, match=f"'{expected}'.*consolidate_metadata"):
        cuzarr.open_consolidated(path)
    with pytest.raises(ValueError, match="consolidated"):
        cuzarr.open_group(path, use_consolidated=True)
    with pytest.raises(TypeError):
        cuzarr.open_consolidated(path, use_consolidated=False)
    assert cuzarr.open_group(path, use_consolidated=None).consolidated_metadata is None


def test_use_consolidated_false_ignores_it():
    store = MemoryStore()
    build(3, store)
    cuzarr.consolidate_metadata(store)
    group = cuzarr.open_group(store, use_consolidated=False)
    assert group.consolidated_metadata is None
    assert group.metadata.consolidated_metadata is None  # as zarr-python: not in use
    assert "consolidated_metadata" in json.loads(store.get("zarr.json"))  # but kept on disk


def test_v2_custom_key_and_zarr2_layout():
    """zarr-python 2 wrote .zmetadata with indent 4 and sorted keys, without empty .zattrs; and
    allowed another key (``metadata_key``)."""
    store = MemoryStore()
    store.set(".zgroup", b'{"zarr_format": 2}')
    zarray = {
        "chunks": [2],
        "compressor": None,
        "dtype": "<i4",
        "fill_value": 0,
        "filters": None,
        "order": "C",
        "shape": [4],
        "zarr_format": 2,
    }
    documents = {
        ".zgroup": {"zarr_format": 2},
        "g/.zgroup": {"zarr_format": 2},
        "g/.zattrs": {"a": 1},
        "g/x/.zarray": zarray,
    }
    body = json.dumps({"metadata": documents, "zarr_consolidated_format": 1}, indent=4, sort_keys=True)
    store.set("meta.json", body.encode())
    group = cuzarr.open_group(store, mode="r", use_consolidated="meta.json")
    assert group.zarr_format == 2 and sorted(group.consolidated_metadata.metadata) == ["g", "g/x"]
    assert group["g"].attrs["a"] == 1 and group["g/x"].shape == (4,)
    with pytest.raises(ValueError, match="'.zmetadata'"):
        cuzarr.open_group(store, mode="r", use_consolidated=True)
    with pytest.raises(TypeError):
        cuzarr.open_group(store, mode="r", zarr_format=3, use_consolidated="meta.json")


def test_nested_v3_form_is_read():
    """Some writers nest children inside their group's entry instead of flattening them."""
    array = json.loads(cuzarr.create_array(MemoryStore(), shape=(3,), dtype="u1").metadata.to_bytes())
    nested = {
        "kind": "inline",
        "must_understand": False,
        "metadata": {
            "g": {
                "zarr_format": 3,
                "node_type": "group",
                "attributes": {},
                "consolidated_metadata": {"kind": "inline", "metadata": {"x": array}},
            }
        },
    }
    view = ConsolidatedMetadata.from_v3_json(nested)
    assert sorted(view.metadata) == ["g", "g/x"]
    assert view.subtree("g").children().keys() == {"x"}
    with pytest.raises(cuzarr.errors.MetadataError, match="kind"):
        ConsolidatedMetadata.from_v3_json({"kind": "other", "metadata": {}})


def test_consolidate_subgroup_and_group_argument(tmp_path):
    path = str(tmp_path / "sub.zarr")
    root = build(3, path)
    sub = cuzarr.consolidate_metadata(path, path="b")
    assert sorted(sub.consolidated_metadata.metadata) == ["c", "c/arr"]
    assert cuzarr.open_group(path, mode="r").consolidated_metadata is None
    assert cuzarr.open_consolidated(path, path="b")["c/arr"].shape == (5,)
    assert cuzarr.consolidate_metadata(root).consolidated_metadata.get("b/c/arr") is not None
    with pytest.raises(cuzarr.errors.ReadOnlyError):
        cuzarr.consolidate_metadata(LocalStore(path, read_only=True))


def test_consolidated_reads_data_from_children():
    store = MemoryStore()
    root = cuzarr.group(store)
    root["x"] = np.arange(10)
    cuzarr.consolidate_metadata(store)
    x = cuzarr.open_consolidated(store)["x"]
    np.testing.assert_array_equal(x[...], np.arange(10))
    x[:2] = 7  # arrays from consolidated metadata are ordinary arrays
    np.testing.assert_array_equal(cuzarr.open_array(store, path="x")[:3], [7, 7, 2])
