"""Behaviour every store shares; concrete test classes inherit ``StoreSuite`` and implement
``make_store(tmp_path, read_only=False)``, which must return stores over the same data for the
same ``tmp_path`` (so a read-only store sees what a writable one wrote)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import CuzarrError, InvalidKeyError, ReadOnlyError
from cuzarr.storage import Store

DATA = bytes(range(100))

BAD_KEYS = [
    "",
    "..",
    ".",
    "../escape",
    "a/../../escape",
    "a/./b",
    "/abs",
    "/",
    "a\\b",
    "..\\escape",
    "a//b",
    "a/",
    "a\x00b",
    "c:",
    5,
    None,
]

RANGES = [
    None,
    (0, 10),
    (10, 20),
    (0, 100),
    (0, None),
    (95, None),
    (99, 100),
    (-5, None),
    (-100, None),
    (-200, None),
    (90, 200),
    (100, None),
    (150, None),
    (150, 160),
    (20, 10),
    (0, 0),
    (50, 50),
    (5, -5),
    (-10, -2),
    (-10, 95),
]

NESTED = {
    "zarr.json": b"root",
    ".zattrs": b"{}",
    "a/zarr.json": b"a",
    "a/b/zarr.json": b"ab",
    "a/b/c/0/0": b"00",
    "a/b/c/0/1": b"01",
    "ab/x": b"x",
}


class StoreSuite:
    """Shared store tests; see the module docstring for the ``make_store`` contract."""

    supports_deletes = True

    def make_store(self, tmp_path: Any, read_only: bool = False) -> Store:
        raise NotImplementedError

    def overwrite_context(self) -> contextlib.AbstractContextManager[Any]:
        """What overwriting a key emits (ZipStore warns)."""
        return contextlib.nullcontext()

    def filled(self, tmp_path: Any, data: dict[str, bytes] | None = None) -> Store:
        store = self.make_store(tmp_path)
        store.set_many(NESTED if data is None else data)
        return store

    # -- round trips ----------------------------------------------------------------
    @pytest.mark.parametrize(
        "value",
        [
            b"plain bytes",
            bytearray(b"a bytearray"),
            memoryview(b"a memoryview"),
            memoryview(b"xxa sliced viewxx")[2:-2],
            np.arange(256, dtype=np.uint8),
            np.arange(12, dtype="<f8").reshape(3, 4),
            b"",
        ],
        ids=["bytes", "bytearray", "memoryview", "sliced-view", "uint8", "float64-2d", "empty"],
    )
    def test_roundtrip(self, tmp_path: Any, value: Any) -> None:
        store = self.make_store(tmp_path)
        expected = bytes(memoryview(value).cast("B")) if not isinstance(value, bytes) else value
        store.set("k/v", value)
        if isinstance(value, bytearray):
            value[:] = b"X" * len(value)  # the store must not alias the caller's buffer
        got = store.get("k/v")
        assert got == expected
        assert isinstance(got, bytes)
        assert store.getsize("k/v") == len(expected)

    def test_large_value(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        value = np.random.default_rng(0).integers(0, 255, 3_000_001, dtype=np.uint8)
        store.set("big", value)
        assert store.get("big") == value.tobytes()
        assert store.get("big", (-7, None)) == value[-7:].tobytes()

    def test_get_many_order_and_missing(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        keys = ["a/b/c/0/1", "missing", "zarr.json", "a/b/c/0/0", "a/missing/deeper", "a/b"]
        assert store.get_many(keys) == [b"01", None, b"root", b"00", None, None]
        assert store.get_many([]) == []
        assert store.get("nope") is None
        assert store.get("zarr.json/below") is None  # a key below a value is missing

    def test_byte_ranges_like_slicing(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        store.set_many({"r": DATA, "empty": b""})
        keys = ["r"] * len(RANGES)
        expected = [DATA if r is None else DATA[r[0] : r[1]] for r in RANGES]
        assert store.get_many(keys, RANGES) == expected
        for byte_range, want in zip(RANGES, expected):
            assert store.get("r", byte_range) == want, byte_range
        assert store.get_many(["empty", "empty"], [(0, 5), (-3, None)]) == [b"", b""]
        assert store.get_many(["missing"] * 4, [(0, 5), (-3, None), (3, 3), (5, -1)]) == [None] * 4

    def test_byte_range_errors(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        with pytest.raises(ValueError, match="byte ranges"):
            store.get_many(["zarr.json", "a/zarr.json"], [None])
        with pytest.raises(TypeError, match="byte range"):
            store.get("zarr.json", (1.5, None))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="byte range"):
            store.get("zarr.json", (1, 2, 3))  # type: ignore[arg-type]
        assert store.get("zarr.json", (np.int64(1), np.int64(3))) == b"oo"

    # -- two-step (dependent) reads -------------------------------------------------
    def test_get_dependent_reads_the_ranges_follow_names(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        store.set_many({"r": DATA, "s": b"short"})
        seen: list[bytes] = []

        def follow(first: bytes) -> list[Any]:
            seen.append(first)
            return RANGES[1:]  # every range form, None excepted (a followed range is a range)

        got = store.get_dependent(
            [("r", (-4, None), follow), ("missing", (0, 4), follow), ("s", None, follow)]
        )
        assert seen == [DATA[-4:], b"short"]  # follow never sees a missing key
        assert got[1] is None
        first, rest = got[0]  # type: ignore[misc]
        assert first == DATA[-4:] and rest == [DATA[r[0] : r[1]] for r in RANGES[1:]]
        assert got[2] == (b"short", [b"short"[r[0] : r[1]] for r in RANGES[1:]])
        assert store.get_dependent([("r", (0, 2), lambda first: [])]) == [(DATA[:2], [])]
        assert store.get_dependent([]) == []

    def test_get_dependent_checks_keys_and_passes_follow_errors(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        store.set("r", DATA)
        with pytest.raises(InvalidKeyError):
            store.get_dependent([("r", None, lambda first: []), ("../escape", None, lambda first: [])])
        with pytest.raises(TypeError, match="byte range"):
            store.get_dependent([("r", (1.5, None), lambda first: [])])

        def bad_index(first: bytes) -> list[Any]:
            raise ValueError(f"bad index {first[:2]!r}")

        with pytest.raises(ValueError, match="bad index"):
            store.get_dependent([("r", (0, 4), bad_index)])

    def test_get_dependent_never_mixes_versions_of_a_replaced_value(self, tmp_path: Any) -> None:
        """A value replaced between the two steps (a writer rewriting a shard after its index was
        read): stores with ``snapshot_reads`` finish on the version they started with; the others
        notice the first bytes changed (``recheck_dependent_reads``) and read the new version."""
        store = self.make_store(tmp_path)
        old, new = b"OLD:" + bytes(range(60)), b"NEW!" + bytes(range(200, 140, -1))
        store.set("shard", old)
        firsts: list[bytes] = []

        def replace_once_then_follow(first: bytes) -> list[Any]:
            firsts.append(first)
            if len(firsts) == 1:
                with self.overwrite_context():
                    store.set("shard", new)
            return [(4, 20), (-8, None), (0, None)]

        ((first, rest),) = store.get_dependent([("shard", (0, 4), replace_once_then_follow)])  # type: ignore[misc]
        version = old if store.snapshot_reads else new
        assert first == version[:4] and rest == [version[4:20], version[-8:], version]
        assert firsts == ([b"OLD:"] if store.snapshot_reads else [b"OLD:", b"NEW!"])
        assert store.get("shard") == new

    def test_get_dependent_gives_up_on_a_value_replaced_at_every_attempt(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        if store.snapshot_reads:
            pytest.skip("a snapshot cannot change under the reader")
        store.set("busy/shard", b"v0" * 8)
        count = iter(range(1, 100))

        def replace_every_time(first: bytes) -> list[Any]:
            with self.overwrite_context():
                store.set("busy/shard", b"v%d" % next(count) * 8)
            return [(2, 6)]

        with pytest.raises(CuzarrError, match="busy/shard.*replaced during each of"):
            store.get_dependent([("busy/shard", (0, 2), replace_every_time)])
        with cuzarr.config.set(recheck_dependent_reads=False):  # opted out: no second look
            ((first, rest),) = store.get_dependent([("busy/shard", (0, 2), replace_every_time)])  # type: ignore[misc]
        assert first != rest[0][:2]  # what the recheck exists to catch

    # -- writes and deletes ---------------------------------------------------------
    def test_set_many_forms(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        store.set_many({"m/1": b"1", "m/2": b"2"})
        store.set_many([("p/1", b"a"), ("p/2", bytearray(b"b")), ("p/1", b"last wins")])
        store.set_many([])
        assert store.get_many(["m/1", "m/2", "p/1", "p/2"]) == [b"1", b"2", b"last wins", b"b"]

    def test_overwrite_replaces(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        store.set("k", b"old value that is longer")
        with self.overwrite_context():
            store.set("k", b"new")
        assert store.get("k") == b"new"
        assert store.list() == ["k"]

    def test_delete_many(self, tmp_path: Any) -> None:
        if not self.supports_deletes:
            pytest.skip("store cannot delete")
        store = self.filled(tmp_path)
        store.delete_many(["a/b/c/0/0", "missing", "a/missing/x", "zarr.json"])
        store.delete("a/b/c/0/1")
        store.delete("a/b/c/0/1")  # deleting twice is fine
        assert store.list() == [".zattrs", "a/b/zarr.json", "a/zarr.json", "ab/x"]
        assert store.list_dir("a/b") == ["zarr.json"]
        assert store.get_many(["zarr.json", "a/zarr.json"]) == [None, b"a"]
        store.delete_prefix("a/")
        assert store.list() == [".zattrs", "ab/x"]
        store.delete_prefix("")
        assert store.is_empty()

    def test_exists(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        assert store.exists("a/b/c/0/0")
        assert store.exists(".zattrs")
        assert not store.exists("a/b/c")  # a 'directory' is not a key
        assert not store.exists("a/b/c/0/2")
        with pytest.raises(FileNotFoundError):
            store.getsize("a/b/c")

    # -- listing --------------------------------------------------------------------
    def test_list_prefix(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        assert store.list() == sorted(NESTED)
        assert store.list_prefix("") == sorted(NESTED)
        assert store.list_prefix("a/") == ["a/b/c/0/0", "a/b/c/0/1", "a/b/zarr.json", "a/zarr.json"]
        assert store.list_prefix("a") == ["a/b/c/0/0", "a/b/c/0/1", "a/b/zarr.json", "a/zarr.json", "ab/x"]
        assert store.list_prefix("a/b/c/") == ["a/b/c/0/0", "a/b/c/0/1"]
        assert store.list_prefix("a/b/c/0/1") == ["a/b/c/0/1"]
        assert store.list_prefix("zarr") == ["zarr.json"]
        assert store.list_prefix("nope/") == []
        assert store.list_prefix("nope") == []
        assert not store.is_empty("a/b/")
        assert store.is_empty("zz/")

    def test_list_dir(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        assert store.list_dir("") == [".zattrs", "a", "ab", "zarr.json"]
        assert store.list_dir("a") == ["b", "zarr.json"]
        assert store.list_dir("a/") == ["b", "zarr.json"]
        assert store.list_dir("a/b") == ["c", "zarr.json"]
        assert store.list_dir("a/b/c/0") == ["0", "1"]
        assert store.list_dir("missing") == []
        assert store.list_dir("zarr.json") == []

    def test_empty_store_listing(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        assert store.list() == []
        assert store.list_dir("") == []
        assert store.is_empty()

    # -- key validation -------------------------------------------------------------
    @pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
    def test_invalid_keys_refused(self, tmp_path: Any, key: Any) -> None:
        store = self.make_store(tmp_path)
        with pytest.raises(InvalidKeyError):
            store.get(key)
        with pytest.raises(InvalidKeyError):
            store.get_many(["fine", key])
        with pytest.raises(InvalidKeyError):
            store.exists(key)
        with pytest.raises(InvalidKeyError):
            store.set(key, b"x")
        with pytest.raises(InvalidKeyError):
            store.set_many({"fine": b"x", key: b"x"})  # the valid key must not be written either
        if self.supports_deletes:
            with pytest.raises(InvalidKeyError):
                store.delete(key)
            with pytest.raises(InvalidKeyError):
                store.delete_many(["fine", key])
        assert store.list() == []

    @pytest.mark.parametrize("prefix", ["../", "/a", "a//", "a\\b", "..", "a/../"])
    def test_invalid_prefixes_refused(self, tmp_path: Any, prefix: str) -> None:
        store = self.make_store(tmp_path)
        with pytest.raises(InvalidKeyError):
            store.list_prefix(prefix)
        with pytest.raises(InvalidKeyError):
            store.list_dir(prefix)

    # -- read-only ------------------------------------------------------------------
    def _check_read_only(self, ro: Store) -> None:
        assert ro.read_only
        with pytest.raises(ReadOnlyError):
            ro.set("zarr.json", b"changed")
        with pytest.raises(ReadOnlyError):
            ro.set_many({"new": b"x"})
        with pytest.raises(ReadOnlyError):
            ro.delete("zarr.json")
        with pytest.raises(ReadOnlyError):
            ro.delete_many(["a/zarr.json"])
        with pytest.raises(ReadOnlyError):
            ro.delete_prefix("")
        assert ro.list() == sorted(NESTED)
        assert ro.get_many(sorted(NESTED)) == [NESTED[k] for k in sorted(NESTED)]

    def test_read_only_store(self, tmp_path: Any) -> None:
        self.filled(tmp_path)
        self._check_read_only(self.make_store(tmp_path, read_only=True))

    def test_with_read_only_view(self, tmp_path: Any) -> None:
        store = self.filled(tmp_path)
        view = store.with_read_only(True)
        self._check_read_only(view)
        assert not store.read_only
        assert store.with_read_only(False).get("zarr.json") == b"root"

    # -- concurrency ----------------------------------------------------------------
    def test_concurrent_writers_and_readers(self, tmp_path: Any) -> None:
        store = self.make_store(tmp_path)
        errors: list[BaseException] = []

        def work(t: int) -> None:
            try:
                items = {f"t{t}/c/{i}": bytes([t, i]) * 10 for i in range(10)}
                store.set_many(items)
                assert store.get_many(list(items)) == list(items.values())
                store.list_prefix("")
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        assert len(store.list()) == 60
