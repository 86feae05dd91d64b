"""Synchronizers cover metadata changes too: attribute updates, ``resize`` and ``append`` take the
node's metadata lock and re-read the stored metadata under it, so concurrent threads and processes
(each with its own Array/Group object, the hard case: no shared cache) lose no update."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Callable
from contextlib import contextmanager

import numpy as np
import pytest

import cuzarr
from cuzarr.errors import ReadOnlyError
from cuzarr.storage import LocalStore, MemoryStore

NTHREADS, NPROCS, INCREMENTS, APPENDS, BLOCK = 8, 4, 15, 6, 7  # BLOCK: appends straddle chunks of 5


def _run_threads(count: int, work: Callable[[int], None]) -> None:
    barrier, errors = threading.Barrier(count), []

    def run(worker: int) -> None:
        try:
            barrier.wait()
            work(worker)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors[0]


def _count_and_tag(node, worker: int) -> None:
    """``INCREMENTS`` read-modify-writes of one counter plus one key of the worker's own each time."""
    for step in range(INCREMENTS):
        with node.attrs.edit() as attrs:
            attrs["n"] = attrs.get("n", 0) + 1
        node.attrs[f"w{worker}-{step}"] = step


def _check_counted(attrs: dict, workers: int) -> None:
    assert attrs["n"] == workers * INCREMENTS, "an increment was lost"
    missing = [f"w{w}-{s}" for w in range(workers) for s in range(INCREMENTS) if f"w{w}-{s}" not in attrs]
    assert not missing, f"attributes lost: {missing[:5]}"


def _append_blocks(array, worker: int) -> None:
    for k in range(APPENDS):
        array.append(np.full((BLOCK, 3), worker * 100 + k, dtype="i4"))


def _check_blocks(data: np.ndarray, workers: int) -> None:
    """Each appended block is present exactly once, whole and uniform, in some order."""
    assert data.shape == (workers * APPENDS * BLOCK, 3), "an append was lost"
    blocks = data.reshape(-1, BLOCK * 3)
    assert (blocks == blocks[:, :1]).all(), "a block was torn or overwritten"
    assert sorted(blocks[:, 0]) == sorted(w * 100 + k for w in range(workers) for k in range(APPENDS))


def _new_array(store, fmt: int, shards: bool = False, name: str = "a", **kwargs):
    return cuzarr.create_array(
        store,
        name=name,
        shape=(0, 3),
        chunks=(5, 3),
        shards=(10, 3) if shards else None,
        dtype="i4",
        zarr_format=fmt,
        **kwargs,
    )


@pytest.mark.parametrize("shared", [False, True], ids=["own-objects", "one-object"])
@pytest.mark.parametrize("fmt", [2, 3])
@pytest.mark.parametrize("kind", ["array", "group"])
def test_threads_count_every_attribute_increment(fmt: int, kind: str, shared: bool) -> None:
    store, sync = MemoryStore(), cuzarr.ThreadSynchronizer()
    if kind == "array":
        _new_array(store, fmt)
        nodes = [cuzarr.open_array(store, path="a", mode="r+", synchronizer=sync) for _ in range(NTHREADS)]
    else:
        cuzarr.create_group(store, path="g", zarr_format=fmt)
        nodes = [cuzarr.open_group(store, path="g", synchronizer=sync) for _ in range(NTHREADS)]
    if shared:
        nodes = [nodes[0]] * NTHREADS
    _run_threads(NTHREADS, lambda w: _count_and_tag(nodes[w], w))
    _check_counted(cuzarr.open(store, path=nodes[0].path, mode="r").attrs.asdict(), NTHREADS)


@pytest.mark.parametrize("fmt,shards", [(2, False), (3, False), (3, True)])
def test_threads_appends_all_land(fmt: int, shards: bool) -> None:
    store, sync = MemoryStore(), cuzarr.ThreadSynchronizer()
    _new_array(store, fmt, shards)
    arrays = [cuzarr.open_array(store, path="a", mode="r+", synchronizer=sync) for _ in range(NTHREADS)]
    _run_threads(NTHREADS, lambda w: _append_blocks(arrays[w], w))
    _check_blocks(cuzarr.open_array(store, path="a", mode="r")[...], NTHREADS)


@pytest.mark.parametrize("fmt", [2, 3])
def test_resize_and_attributes_together_lose_nothing(fmt: int) -> None:
    """v2 ``resize`` rewrites ``.zattrs`` too: it must not put back attributes from before an update."""
    store, sync = MemoryStore(), cuzarr.ThreadSynchronizer()
    _new_array(store, fmt)
    arrays = [cuzarr.open_array(store, path="a", mode="r+", synchronizer=sync) for _ in range(NTHREADS)]

    def work(worker: int) -> None:
        if worker % 2:
            _count_and_tag(arrays[worker], worker)
        else:
            _append_blocks(arrays[worker], worker)

    _run_threads(NTHREADS, work)
    final = cuzarr.open_array(store, path="a", mode="r")
    assert final.attrs["n"] == NTHREADS // 2 * INCREMENTS
    assert all(f"w{w}-{INCREMENTS - 1}" in final.attrs for w in range(1, NTHREADS, 2))
    assert final.shape == (NTHREADS // 2 * APPENDS * BLOCK, 3)


def _process_worker(path: str, lock_dir: str, worker: int, kind: str) -> None:
    sync = cuzarr.ProcessSynchronizer(lock_dir)
    if kind == "group":
        _count_and_tag(cuzarr.open_group(path, path="g", synchronizer=sync), worker)
        return
    array = cuzarr.open_array(path, path="a", mode="r+", synchronizer=sync)
    _count_and_tag(array, worker)
    _append_blocks(array, worker)


@pytest.mark.parametrize("kind", ["array", "group"])
def test_processes_lose_no_attribute_or_append(tmp_path, kind: str) -> None:
    path, lock_dir = str(tmp_path / "p.zarr"), str(tmp_path / "locks")
    if kind == "array":
        _new_array(LocalStore(path), 3)
    else:
        cuzarr.create_group(path, path="g")
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_process_worker, args=(path, lock_dir, i, kind)) for i in range(NPROCS)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0
    node = cuzarr.open(path, path="a" if kind == "array" else "g", mode="r")
    _check_counted(node.attrs.asdict(), NPROCS)
    if kind == "array":
        _check_blocks(node[...], NPROCS)


# -- which lock, and what is re-read ---------------------------------------------------------------


class _RecordingSync:
    """Records the keys locked, in order."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    @contextmanager
    def lock(self, keys):
        self.calls.append(sorted(keys))
        yield


@pytest.mark.parametrize(
    "fmt,kind,key",
    [
        (3, "array", "x/a/zarr.json"),
        (2, "array", "x/a/.zarray"),
        (3, "group", "x/zarr.json"),
        (2, "group", "x/.zgroup"),
    ],
)
def test_metadata_changes_lock_the_metadata_document(fmt: int, kind: str, key: str) -> None:
    sync, store = _RecordingSync(), MemoryStore()
    root = cuzarr.create_group(store, path="x", zarr_format=fmt)
    node = root.create_array("a", shape=(4,), chunks=(2,), dtype="u1") if kind == "array" else root
    node = cuzarr.open(store, path=node.path, mode="r+", synchronizer=sync)
    node.attrs["k"] = 1
    node.update_attributes({"j": 2})
    del node.attrs["k"]
    node.attrs.put({"p": 3})
    assert sync.calls == [[key]] * 4
    if kind == "array":
        sync.calls.clear()
        node.resize(3)  # cuts chunk 1: resetting its tail is a chunk write inside the metadata lock
        node.append(np.ones(2, "u1"))  # grows to 5, then writes chunks 1 and 2
        chunk = (lambda i: f"x/a/c/{i}") if fmt == 3 else (lambda i: f"x/a/{i}")
        assert sync.calls == [[key], [chunk(1)], [key], [chunk(1), chunk(2)]]


def test_changes_build_on_the_stored_metadata_not_the_cache() -> None:
    store, sync = MemoryStore(), cuzarr.ThreadSynchronizer()
    _new_array(store, 3)
    first = cuzarr.open_array(store, path="a", mode="r+", synchronizer=sync)
    second = cuzarr.open_array(store, path="a", mode="r+", synchronizer=sync)
    first.attrs["x"] = 1
    first.append(np.ones((2, 3), "i4"))
    second.attrs["y"] = 2  # second's cache predates both changes
    assert second.attrs.asdict() == {"x": 1, "y": 2} and second.shape == (2, 3)
    second.append(np.full((1, 3), 7, "i4"))
    first.resize(4, 3)  # from the stored (3, 3), not first's cached (2, 3)
    np.testing.assert_array_equal(first[...], [[1] * 3, [1] * 3, [7] * 3, [0] * 3])


def test_edit_stores_only_on_success_and_checks_json() -> None:
    store = MemoryStore()
    array = cuzarr.create_array(store, shape=(2,), dtype="u1", attributes={"a": 1})
    with pytest.raises(RuntimeError), array.attrs.edit() as attrs:
        attrs["a"] = 2
        raise RuntimeError("abandon")
    with pytest.raises(TypeError, match="'bad'"), array.attrs.edit() as attrs:
        attrs["bad"] = object()
    with pytest.raises(KeyError):
        del array.attrs["missing"]
    assert cuzarr.open_array(store, mode="r").attrs.asdict() == {"a": 1}
    with pytest.raises(ReadOnlyError), cuzarr.open_array(store, mode="r").attrs.edit():
        pass


# -- consolidation ---------------------------------------------------------------------------------


class _HookStore(MemoryStore):
    """Runs ``hook`` once, in the writing thread, just before the first write touching ``key``."""

    key: str | None = None
    hook: Callable[[], None] | None = None

    def _set_many(self, items):
        hook = self.hook
        if hook is not None and any(k == self.key for k, _ in items):
            self.hook = None
            hook()
        super()._set_many(items)


@pytest.mark.parametrize("fmt,document", [(3, "g/zarr.json"), (2, "g/.zattrs")])
def test_consolidation_keeps_an_attribute_update_made_while_it_runs(fmt: int, document: str) -> None:
    """Consolidating rewrites the group's own document: without its lock, an attribute update that
    lands between reading and rewriting it is undone. Made to land there: just before the rewrite."""
    store, sync = _HookStore(), cuzarr.ThreadSynchronizer()
    cuzarr.create_group(store, path="g", zarr_format=fmt).create_array("a", shape=(2,), dtype="u1")
    other, errors = cuzarr.open_group(store, path="g", synchronizer=sync), []
    writer = threading.Thread(target=lambda: _try(errors, lambda: other.attrs.__setitem__("x", 1)))

    def update_meanwhile() -> None:
        writer.start()
        writer.join(timeout=0.5)  # unlocked, it is done at once; locked, it waits for consolidation

    store.key, store.hook = document, update_meanwhile
    grp = cuzarr.consolidate_metadata(cuzarr.open_group(store, path="g", synchronizer=sync))
    writer.join(timeout=60)
    assert not errors, errors[0]
    assert grp.synchronizer is sync
    final = cuzarr.open_group(store, path="g", mode="r", use_consolidated=True)
    assert final.attrs.asdict().get("x") == 1, "consolidation undid a concurrent attribute update"
    assert list(final.consolidated_metadata.metadata) == ["a"]


def _try(errors: list, work: Callable[[], None]) -> None:
    try:
        work()
    except BaseException as exc:  # reported by the test
        errors.append(exc)


@pytest.mark.parametrize(
    "fmt,keys",
    [
        (3, ["x/a/zarr.json", "x/s/b/zarr.json", "x/s/zarr.json", "x/zarr.json"]),
        (2, ["x/.zgroup", "x/a/.zarray", "x/s/.zgroup", "x/s/b/.zarray"]),
    ],
)
def test_consolidation_locks_every_metadata_document_at_once(fmt: int, keys: list[str]) -> None:
    """The group's and all nodes' below it, in one sorted acquisition (so consolidations of a group
    and of its subgroup cannot deadlock); the discovery walk is repeated under the locks."""
    store, sync = MemoryStore(), _RecordingSync()
    root = cuzarr.create_group(store, path="x", zarr_format=fmt)
    root.create_array("a", shape=(2,), dtype="u1")
    root.create_group("s").create_array("b", shape=(2,), dtype="u1")
    cuzarr.consolidate_metadata(store, path="x", synchronizer=sync)
    assert sync.calls == [keys]
    sync.calls.clear()
    cuzarr.consolidate_metadata(cuzarr.open_group(store, path="x/s", synchronizer=sync))
    assert sync.calls == [[k for k in keys if k.startswith("x/s/")]]


@pytest.mark.parametrize("fmt", [2, 3])
def test_consolidations_alongside_metadata_changes_lose_nothing(fmt: int) -> None:
    """Threads consolidate the root and a subgroup while others count attributes on the subgroup
    and append to its array: no deadlock, no lost increment, and the consolidated document stays."""
    store, sync = MemoryStore(), cuzarr.ThreadSynchronizer()
    cuzarr.create_group(store, zarr_format=fmt).create_group("g")
    _new_array(store, fmt, name="g/a")
    groups = [cuzarr.open_group(store, path="g", synchronizer=sync) for _ in range(NTHREADS)]
    array = cuzarr.open_array(store, path="g/a", mode="r+", synchronizer=sync)

    def work(worker: int) -> None:
        if worker < 2:
            for _ in range(INCREMENTS):
                cuzarr.consolidate_metadata(store, path="g" if worker else "", synchronizer=sync)
        elif worker < 5:
            _count_and_tag(groups[worker], worker)
        else:
            _append_blocks(array, worker)

    _run_threads(NTHREADS, work)
    g = cuzarr.open_group(store, path="g", mode="r", use_consolidated=False)
    assert g.attrs["n"] == 3 * INCREMENTS, "an increment was lost"
    if fmt == 3:  # attribute updates rewrite zarr.json: they must keep what consolidation put there
        assert json.loads(store.get("g/zarr.json")).get("consolidated_metadata") is not None
    consolidated = cuzarr.consolidate_metadata(store, synchronizer=sync).consolidated_metadata.metadata
    assert consolidated["g/a"].shape == (3 * APPENDS * BLOCK, 3)
