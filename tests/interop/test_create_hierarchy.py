"""``create_hierarchy`` against zarr-python's: the same nodes give identical files, whichever
library's metadata objects describe them, and each library opens the other's result equal."""

from __future__ import annotations

import warnings
from pathlib import Path

import numcodecs
import numpy as np
import pytest

import cuzarr

from .cases import stored_files

zarr = pytest.importorskip("zarr")
from zarr.core.group import GroupMetadata  # noqa: E402


def _zarr_nodes(fmt: int) -> dict:
    """zarr-python metadata objects: groups with and without attributes, arrays with codecs,
    a string array, a sharded one (v3) and a NaN fill value, below implicit parents."""
    compressors = numcodecs.Zstd(level=1) if fmt == 2 else {"name": "zstd", "configuration": {"level": 1}}

    def array(**kwargs):
        kwargs.setdefault("compressors", compressors)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return zarr.create_array({}, zarr_format=fmt, **kwargs).metadata

    nodes = {
        "": GroupMetadata(attributes={"title": "root"}, zarr_format=fmt),
        "a/b/x": array(shape=(6, 4), chunks=(3, 2), dtype="i4", attributes={"units": "m"}),
        "a/nan": array(shape=(5,), chunks=(2,), dtype="f8", fill_value=float("nan")),
        "c": GroupMetadata(attributes={"k": [1, 2]}, zarr_format=fmt),
        "c/text": array(shape=(3,), chunks=(2,), dtype=str),
    }
    if fmt == 3:
        nodes["c/sharded"] = array(shape=(8,), chunks=(2,), shards=(4,), dtype="u2")
    return nodes


@pytest.mark.parametrize("fmt", [2, 3])
def test_identical_files_to_zarr_python(tmp_path: Path, fmt: int) -> None:
    nodes = _zarr_nodes(fmt)
    theirs = dict(zarr.create_hierarchy(store=zarr.storage.LocalStore(tmp_path / "theirs"), nodes=nodes))
    ours = dict(cuzarr.create_hierarchy(store=str(tmp_path / "ours"), nodes=nodes))
    assert sorted(ours) == sorted(theirs) == sorted([*nodes, "a", "a/b"])
    assert stored_files(tmp_path / "ours") == stored_files(tmp_path / "theirs")
    # cuzarr's own metadata objects (read back from zarr-python's files) give the same files
    as_cuzarr = {path: cuzarr.open(str(tmp_path / "theirs"), path=path, mode="r").metadata for path in nodes}
    list(cuzarr.create_hierarchy(store=str(tmp_path / "ours2"), nodes=as_cuzarr))
    assert stored_files(tmp_path / "ours2") == stored_files(tmp_path / "theirs")


@pytest.mark.parametrize("fmt", [2, 3])
def test_zarr_python_opens_our_hierarchy_equal(tmp_path: Path, fmt: int) -> None:
    nodes = _zarr_nodes(fmt)
    created = dict(cuzarr.create_hierarchy(store=str(tmp_path / "ours"), nodes=nodes))
    created["a/b/x"][...] = np.arange(24, dtype="i4").reshape(6, 4)
    created["c/text"][...] = np.array(["x", "yz", ""], dtype=object)
    group = zarr.open_group(str(tmp_path / "ours"), mode="r")
    members = dict(group.members(max_depth=None))
    assert sorted(members) == sorted([p for p in nodes if p] + ["a", "a/b"])
    for path, metadata in nodes.items():
        node = group if not path else members[path]
        if isinstance(metadata, GroupMetadata):
            assert dict(node.attrs) == metadata.attributes and node.metadata.zarr_format == fmt
        else:
            assert node.metadata.to_dict() == metadata.to_dict()  # every field (NaN fill as "NaN")
    np.testing.assert_array_equal(members["a/b/x"][...], np.arange(24).reshape(6, 4))
    assert members["c/text"][...].tolist() == ["x", "yz", ""]
    assert np.isnan(members["a/nan"].fill_value)


def test_group_method_matches_zarr_python(tmp_path: Path) -> None:
    nodes = {k: v for k, v in _zarr_nodes(3).items() if k}
    theirs_root = zarr.create_group(str(tmp_path / "theirs"), path="g")
    ours_root = cuzarr.create_group(str(tmp_path / "ours"), path="g")
    theirs = dict(theirs_root.create_hierarchy(nodes))
    ours = dict(ours_root.create_hierarchy(nodes))
    assert sorted(ours) == sorted(theirs)  # keys relative to the group
    assert stored_files(tmp_path / "ours") == stored_files(tmp_path / "theirs")
