"""MemoryStore: the shared suite plus dict-sharing behaviour."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from cuzarr.storage import MemoryStore

from .store_suite import StoreSuite


class TestMemoryStore(StoreSuite):
    def make_store(self, tmp_path: Any, read_only: bool = False) -> MemoryStore:
        if not hasattr(self, "_dict"):
            self._dict: dict[str, bytes] = {}
        return MemoryStore(self._dict, read_only=read_only)


def test_wraps_given_dict() -> None:
    data = {"zarr.json": b"{}"}
    store = MemoryStore(data)
    store.set("a", np.arange(3, dtype=np.uint8))
    assert data == {"zarr.json": b"{}", "a": b"\x00\x01\x02"}
    assert type(data["a"]) is bytes
    assert store.store_dict is data


def test_equality_and_views() -> None:
    store = MemoryStore()
    view = store.with_read_only()
    assert view == store
    assert view != MemoryStore()
    store.set("k", b"v")
    assert view.get("k") == b"v"
    assert "read_only=True" in repr(view)
    assert len({store, view}) == 1


def test_pickle() -> None:
    store = MemoryStore({"k": b"v"}, read_only=True)
    copy = pickle.loads(pickle.dumps(store))
    assert copy.get("k") == b"v" and copy.read_only
