"""Hierarchies on real directories: zarr-python 3 writes and cuzarr reads, and the reverse, for Zarr
v2 and v3, consolidated and not."""

from __future__ import annotations

import warnings

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.storage import CountingStore, LocalStore

zarr = pytest.importorskip("zarr")

CASES = [(fmt, consolidated) for fmt in (2, 3) for consolidated in (False, True)]
DATA = {
    "a/x": np.arange(12, dtype="int32").reshape(3, 4),
    "b/c/arr": np.linspace(0, 1, 7),
    "z": np.array([1.5, -2.0], dtype="<f4"),
}
ATTRS = {"": {"title": "root", "n": [1, 2]}, "a": {"ga": 1}, "b/c": {"deep": True}, "a/x": {"units": "m"}}
TREE = (
    "/\n├── a\n│   └── x (3, 4) int32\n├── b\n│   └── c\n│       └── arr (7,) float64\n└── z (2,) float32\n"
)


def _write(lib, path: str, zarr_format: int, consolidated: bool) -> None:
    """The same hierarchy through either library's public API."""
    root = lib.open_group(path, mode="w", zarr_format=zarr_format, attributes=ATTRS[""])
    root.create_group("a", attributes=ATTRS["a"])
    root.create_group("b").create_group("c", attributes=ATTRS["b/c"])
    # zarr-python 3.1.6's v2 default compressor (blosc) differs from cuzarr's (zstd): name one
    codecs = {"compressors": numcodecs.Zstd(level=0)} if zarr_format == 2 else {}
    for name, data in DATA.items():
        array = root.create_array(name, shape=data.shape, dtype=data.dtype, chunks=(2,) * data.ndim, **codecs)
        array[...] = data
    root["a/x"].attrs.update(ATTRS["a/x"])
    if consolidated:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zarr-python warns that v3 consolidation is not in the spec
            lib.consolidate_metadata(path)


def _check(root, zarr_format: int) -> None:
    assert root.metadata.zarr_format == zarr_format
    assert dict(root.attrs) == ATTRS[""]
    assert sorted(root.group_keys()) == ["a", "b"] and list(root.array_keys()) == ["z"]
    for name, data in DATA.items():
        np.testing.assert_array_equal(root[name][...], data)
        assert root[name].dtype == data.dtype
    for name, attrs in ATTRS.items():
        if name:
            assert dict(root[name].attrs) == attrs
    assert repr(root.tree()) == TREE


@pytest.mark.parametrize("zarr_format,consolidated", CASES)
def test_zarr_python_writes_cuzarr_reads(tmp_path, zarr_format, consolidated):
    path = str(tmp_path / "h.zarr")
    _write(zarr, path, zarr_format, consolidated)
    root = cuzarr.open_group(path, mode="r")
    _check(root, zarr_format)
    assert (root.consolidated_metadata is not None) == consolidated
    opened = cuzarr.open(path, mode="r")
    assert isinstance(opened, cuzarr.Group) and isinstance(cuzarr.open(path, path="a/x"), cuzarr.Array)
    if consolidated:
        store = CountingStore(LocalStore(path, read_only=True))
        group = cuzarr.open_consolidated(store)
        sizes = {k: (v.shape, dict(v.attrs)) for k, v in group.members(max_depth=None) if hasattr(v, "shape")}
        assert sizes["a/x"] == ((3, 4), ATTRS["a/x"])
        assert store.counts["get_many"] == 1 and store.counts["list_dir"] == 0


@pytest.mark.parametrize("zarr_format,consolidated", CASES)
def test_cuzarr_writes_zarr_python_reads(tmp_path, zarr_format, consolidated):
    path = str(tmp_path / "h.zarr")
    _write(cuzarr, path, zarr_format, consolidated)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = zarr.open_group(path, mode="r")
        _check(root, zarr_format)
        assert (root.metadata.consolidated_metadata is not None) == consolidated
        if consolidated:
            group = zarr.open_consolidated(path, mode="r")
            assert sorted(group.metadata.consolidated_metadata.flattened_metadata) == [
                "a",
                "a/x",
                "b",
                "b/c",
                "b/c/arr",
                "z",
            ]


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_same_files_both_ways(tmp_path, zarr_format):
    """Byte-identical metadata documents from both writers (data chunks are compressed the same
    way too, but compressor output is compared elsewhere)."""
    ours, theirs = tmp_path / "ours.zarr", tmp_path / "theirs.zarr"
    _write(cuzarr, str(ours), zarr_format, True)
    _write(zarr, str(theirs), zarr_format, True)
    names = {"zarr.json"} if zarr_format == 3 else {".zgroup", ".zattrs", ".zarray", ".zmetadata"}
    metadata = sorted(p.relative_to(theirs) for p in theirs.rglob("*") if p.name in names)
    assert metadata == sorted(p.relative_to(ours) for p in ours.rglob("*") if p.name in names)
    for relative in metadata:
        assert (ours / relative).read_bytes() == (theirs / relative).read_bytes(), relative


def test_nested_array_creation_writes_parent_groups_like_zarr_python(tmp_path):
    ours, theirs = tmp_path / "ours.zarr", tmp_path / "theirs.zarr"
    cuzarr.create_array(str(ours), name="p/q/x", shape=(2,), dtype="u1")
    zarr.create_array(str(theirs), name="p/q/x", shape=(2,), dtype="u1")
    listing = sorted(str(p.relative_to(theirs)) for p in theirs.rglob("zarr.json"))
    assert listing == sorted(str(p.relative_to(ours)) for p in ours.rglob("zarr.json"))
    assert listing == ["p/q/x/zarr.json", "p/q/zarr.json", "p/zarr.json", "zarr.json"]


def test_tensorstore_reads_arrays_in_a_cuzarr_hierarchy(tmp_path):
    ts = pytest.importorskip("tensorstore")
    path = tmp_path / "h.zarr"
    _write(cuzarr, str(path), 3, True)
    spec = {"driver": "zarr3", "kvstore": {"driver": "file", "path": str(path / "a" / "x")}}
    np.testing.assert_array_equal(ts.open(spec).result().read().result(), DATA["a/x"])


def test_cuzarr_copy_converts_zarr_python_v2_hierarchy_to_v3(tmp_path):
    source_path, dest_path = str(tmp_path / "v2.zarr"), str(tmp_path / "v3.zarr")
    _write(zarr, source_path, 2, False)
    cuzarr.copy_all(cuzarr.open_group(source_path, mode="r"), cuzarr.group(dest_path, zarr_format=3))
    _check(zarr.open_group(dest_path, mode="r"), 3)
