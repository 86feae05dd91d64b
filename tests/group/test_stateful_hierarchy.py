"""Random sequences of group and array creation, deletion, moves, attribute edits and reopens,
checked against a dict model and against zarr-python reading the same directory (v2 and v3)."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import cuzarr
from cuzarr.errors import ZarrUserWarning

from ..stateful_settings import STATEFUL

zarr = pytest.importorskip("zarr")

NAMES = st.sampled_from(["a", "b", "c1", "x_y"])
JSON_VALUES = st.one_of(
    st.integers(-5, 5), st.text("abc", max_size=3), st.lists(st.integers(0, 3), max_size=2)
)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


class HierarchyMachine(RuleBasedStateMachine):
    """``model`` maps every node path ('' is the root) to ``{"kind", "attrs", "data"}``."""

    @initialize(zarr_format=st.sampled_from([2, 3]))
    def create(self, zarr_format: int) -> None:
        self._directory = tempfile.TemporaryDirectory()
        self.path = self._directory.name
        self.zarr_format = zarr_format
        self.root = cuzarr.open_group(self.path, mode="w", zarr_format=zarr_format)
        self.model: dict[str, dict] = {"": {"kind": "group", "attrs": {}}}

    def teardown(self) -> None:
        if hasattr(self, "_directory"):
            self._directory.cleanup()

    def _node(self, path: str):
        return self.root if path == "" else self.root[path]

    def _groups(self) -> list[str]:
        return sorted(p for p, node in self.model.items() if node["kind"] == "group")

    def _subtree(self, path: str) -> list[str]:
        return [p for p in self.model if p == path or p.startswith(path + "/")]

    @rule(data=st.data(), name=NAMES)
    def add_group(self, data, name: str) -> None:
        parent = data.draw(st.sampled_from(self._groups()), label="parent")
        path = _join(parent, name)
        if path in self.model:
            with pytest.raises(FileExistsError):
                self._node(parent).create_group(name)
            return
        self._node(parent).create_group(name)
        self.model[path] = {"kind": "group", "attrs": {}}

    @rule(data=st.data(), name=NAMES)
    def add_array(self, data, name: str) -> None:
        parent = data.draw(st.sampled_from(self._groups()), label="parent")
        path = _join(parent, name)
        values = data.draw(hnp.arrays("i4", hnp.array_shapes(max_dims=2, max_side=5)), label="values")
        group = self._node(parent)
        if path in self.model:
            with pytest.raises(FileExistsError):
                group.create_array(name, shape=values.shape, dtype="i4")
            return
        array = group.create_array(name, shape=values.shape, dtype="i4", chunks=(2,) * values.ndim)
        array[...] = values
        self.model[path] = {"kind": "array", "attrs": {}, "data": values}

    @rule(data=st.data())
    def delete(self, data) -> None:
        paths = sorted(p for p in self.model if p)
        if not paths:
            return
        path = data.draw(st.sampled_from(paths), label="delete")
        del self._node(_parent(path))[path.rpartition("/")[2]]
        for gone in self._subtree(path):
            del self.model[gone]

    @rule(data=st.data(), key=st.sampled_from(["k", "units"]), value=JSON_VALUES)
    def set_attribute(self, data, key: str, value) -> None:
        path = data.draw(st.sampled_from(sorted(self.model)), label="node")
        self._node(path).attrs[key] = value
        self.model[path]["attrs"][key] = value

    @rule(data=st.data(), name=NAMES)
    def move(self, data, name: str) -> None:
        sources = sorted(p for p in self.model if p)
        if not sources:
            return
        source = data.draw(st.sampled_from(sources), label="source")
        parent = data.draw(st.sampled_from(self._groups()), label="new parent")
        dest = _join(parent, name)
        if dest in self.model or dest == source or dest.startswith(source + "/"):
            return  # zarr-python refuses these too; not what this machine checks
        self.root.move(source, dest)
        for old in self._subtree(source):
            self.model[dest + old[len(source) :]] = self.model.pop(old)

    @rule()
    def reopen(self) -> None:
        self.root = cuzarr.open_group(self.path, mode="r+")

    @rule()
    def consolidated_copy_lists_the_same(self) -> None:
        """Consolidating a copy (the working tree stays unconsolidated, so later edits show)."""
        copy = os.path.join(self._directory.name + "-copy")
        shutil.copytree(self.path, copy)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ZarrUserWarning)  # v3 consolidation is not in the spec
                cuzarr.consolidate_metadata(copy)
            group = cuzarr.open_consolidated(copy)
            assert self._listing(group) == self._expected_listing()
        finally:
            shutil.rmtree(copy)

    def _listing(self, group) -> dict[str, str]:
        return {
            path: "array" if hasattr(node, "shape") else "group"
            for path, node in group.members(max_depth=None)
        }

    def _expected_listing(self) -> dict[str, str]:
        return {p: node["kind"] for p, node in self.model.items() if p}

    @invariant()
    def same_tree_for_cuzarr_and_zarr_python(self) -> None:
        if not hasattr(self, "root"):
            return
        expected = self._expected_listing()
        assert self._listing(self.root) == expected
        theirs = zarr.open_group(self.path, mode="r", zarr_format=self.zarr_format)
        assert self._listing(theirs) == expected
        for path, node in self.model.items():
            ours, other = self._node(path), (theirs if path == "" else theirs[path])
            assert dict(ours.attrs) == node["attrs"] == dict(other.attrs)
            if node["kind"] == "array":
                np.testing.assert_array_equal(ours[...], node["data"])
                np.testing.assert_array_equal(other[...], node["data"])


HierarchyMachine.TestCase.settings = STATEFUL
TestHierarchyMachine = HierarchyMachine.TestCase
