"""Sharded arrays of variable-length types (``str``: vlen-utf8, ``bytes``: vlen-bytes inside
``sharding_indexed``): encoded inner chunks differ in size from write to write, so partial shard
rewrites must re-pack the shard, keep the untouched inner chunks' bytes, and drop fill-only ones."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr
from cuzarr.codecs.sharding import EMPTY
from cuzarr.storage import MemoryStore
from cuzarr.storage.wrappers import CountingStore

SHAPE, CHUNKS, SHARDS = (21, 17), (3, 4), (6, 8)  # edge shards are partial; 2x2 inner chunks each
KINDS = {"str": (str, str), "bytes": ("variable_length_bytes", lambda s: s.encode())}


def _values(kind: str, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Strings of 0-40 characters (non-ASCII, NUL and long ones too), as an object array."""
    alphabet = np.array(list("ab é日\x00z"))
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = KINDS[kind][1]("".join(rng.choice(alphabet, int(rng.integers(0, 41)))))
    return out


def _make(kind: str, store=None, **kwargs):
    return cuzarr.create_array(
        store if store is not None else MemoryStore(),
        shape=SHAPE,
        chunks=CHUNKS,
        shards=SHARDS,
        dtype=KINDS[kind][0],
        **kwargs,
    )


def _as_objects(data) -> np.ndarray:
    return np.asarray(data, dtype=object)


def _nonfill_inner_chunks(model: np.ndarray, fill) -> int:
    return sum(
        not (model[i : i + CHUNKS[0], j : j + CHUNKS[1]] == fill).all()
        for i in range(0, SHAPE[0], CHUNKS[0])
        for j in range(0, SHAPE[1], CHUNKS[1])
    )


@pytest.mark.parametrize("index_location", ["start", "end"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip_and_selections(kind, index_location):
    rng = np.random.default_rng(1)
    data = _values(kind, rng, SHAPE)
    store = CountingStore(MemoryStore())
    a = cuzarr.create_array(
        store,
        shape=SHAPE,
        chunks=CHUNKS,
        dtype=KINDS[kind][0],
        shards={"shape": SHARDS, "index_location": index_location},
    )
    a[...] = data
    assert a[...].dtype == (np.dtypes.StringDType() if kind == "str" else np.dtype(object))
    assert (_as_objects(a[...]) == data).all()
    store.reset()
    small = (slice(7, 9), slice(9, 11))  # one inner chunk: its shard's index, then one ranged read
    assert (_as_objects(a[small]) == data[small]).all()
    assert store.counts["get_dependent"] == 1 and store.counts["get_many"] == 0
    for selection in [(slice(1, 20, 3), slice(None, None, -2)), (5, slice(None)), (Ellipsis, 16)]:
        assert (_as_objects(a[selection]) == data[selection]).all()
    rows, cols = [0, 20, 7, 7], [16, 0, 9, 3]
    assert (_as_objects(a.vindex[rows, cols]) == data[rows, cols]).all()
    assert (_as_objects(a.oindex[[2, 19], [1, 15]]) == data[np.ix_([2, 19], [1, 15])]).all()


@pytest.mark.parametrize("fill", [None, "x"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_random_partial_writes_match_a_model(kind, fill):
    """Partial writes grow and shrink inner chunks in place; writes of the fill value empty them."""
    rng = np.random.default_rng(7)
    fill_value = None if fill is None else KINDS[kind][1](fill)
    a = _make(kind, fill_value=fill_value)
    empty = a.fill_value
    model = np.full(SHAPE, empty, dtype=object)
    for _ in range(40):
        r0, r1 = sorted(int(v) for v in rng.integers(0, SHAPE[0] + 1, 2))
        c0, c1 = sorted(int(v) for v in rng.integers(0, SHAPE[1] + 1, 2))
        if rng.random() < 0.3:
            value = np.full((r1 - r0, c1 - c0), empty, dtype=object)
        else:
            value = _values(kind, rng, (r1 - r0, c1 - c0))
        a[r0:r1, c0:c1] = value
        model[r0:r1, c0:c1] = value
        assert (_as_objects(a[...]) == model).all()
        assert a.nchunks_initialized == _nonfill_inner_chunks(model, empty)


@pytest.mark.parametrize("kind", list(KINDS))
def test_fill_inner_chunks_are_omitted_and_empty_shards_deleted(kind):
    store = MemoryStore()
    a = _make(kind, store)
    value = KINDS[kind][1]
    a[0:6, 0:8] = np.full((6, 8), value("long enough to be stored out of line"), dtype=object)
    layout = a._chunk_source().layout
    index = layout.index_from_shard(store.get("c/0/0"), "c/0/0")
    assert (index[:, 0] != EMPTY).all()  # all 2x2 inner chunks stored
    a[3:6, 4:8] = np.full((3, 4), value(""), dtype=object)  # inner chunk (1, 1) back to the fill
    index = layout.index_from_shard(store.get("c/0/0"), "c/0/0")
    assert [int(p) for p in np.flatnonzero(index[:, 0] == EMPTY)] == [layout.local_index((1, 1))]
    assert a.nchunks_initialized == 3
    a[0:6, 0:8] = np.full((6, 8), value(""), dtype=object)
    assert store.get("c/0/0") is None and not store.list_prefix("c/")
    kept = _make(kind, MemoryStore(), config={"write_empty_chunks": True})
    kept[0:3, 0:4] = np.full((3, 4), value(""), dtype=object)
    assert kept.nchunks_initialized == 1  # stored although it holds only the fill value


@pytest.mark.parametrize("kind", list(KINDS))
def test_partial_shard_write_keeps_other_inner_chunks_bytes(kind):
    store = MemoryStore()
    a = _make(kind, store)
    data = _values(kind, np.random.default_rng(3), SHAPE)
    a[...] = data
    layout = a._chunk_source().layout

    def inner_chunks(shard: bytes) -> dict[int, bytes]:
        index = layout.index_from_shard(shard, "c/1/1")
        return {int(p): shard[int(o) : int(o + n)] for p, (o, n) in enumerate(index) if o != EMPTY}

    before = inner_chunks(store.get("c/1/1"))
    a[7, 9] = KINDS[kind][1]("a much longer value than the one it replaces, " * 3)
    data[7, 9] = a[7, 9]
    after = inner_chunks(store.get("c/1/1"))
    changed = layout.local_index((7 // 3 % 2, 9 // 4 % 2))
    assert after[changed] != before[changed]
    assert {p: b for p, b in after.items() if p != changed} == {
        p: b for p, b in before.items() if p != changed
    }
    assert (_as_objects(a[...]) == data).all()


@pytest.mark.parametrize("kind", list(KINDS))
def test_nested_sharding_of_vlen_chunks(kind):
    serializer = "vlen-utf8" if kind == "str" else "vlen-bytes"
    inner = {
        "name": "sharding_indexed",
        "configuration": {"chunk_shape": [2, 2], "codecs": [{"name": serializer}]},
    }
    a = cuzarr.create_array(
        MemoryStore(),
        shape=(8, 8),
        chunks=(8, 8),
        dtype=KINDS[kind][0],
        compressors=None,
        serializer={"name": "sharding_indexed", "configuration": {"chunk_shape": [4, 4], "codecs": [inner]}},
    )
    data = _values(kind, np.random.default_rng(5), (8, 8))
    a[...] = data
    a[0:3, 5:8] = np.full((3, 3), KINDS[kind][1](""), dtype=object)
    data[0:3, 5:8] = KINDS[kind][1]("")
    assert (_as_objects(a[...]) == data).all()
