"""Sharded arrays: selections against NumPy, request counts, shard assembly, corrupt shards."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cuzarr
from cuzarr.codecs.sharding import ShardLayout, morton_order
from cuzarr.errors import CodecError
from cuzarr.storage import FsspecStore, LocalStore, MemoryStore
from cuzarr.storage.base import Store
from cuzarr.storage.wrappers import CountingStore

from .test_plan import array_and_selection


def _sharded(shape, chunks, shards, store=None, index_location="end", **kwargs):
    return cuzarr.create_array(
        store=store if store is not None else MemoryStore(),
        shape=shape,
        chunks=chunks,
        dtype="i4",
        fill_value=-1,
        shards={"shape": shards, "index_location": index_location},
        **kwargs,
    )


@settings(max_examples=80, deadline=None)
@given(array_and_selection(), st.data())
def test_basic_selections_on_sharded_arrays(case, data):
    shape, chunks, selection = case
    if not shape:
        return
    factors = tuple(data.draw(st.integers(1, 3)) for _ in shape)
    shards = tuple(c * f for c, f in zip(chunks, factors))
    location = data.draw(st.sampled_from(["start", "end"]))
    z = _sharded(shape, chunks, shards, index_location=location)
    model = np.arange(int(np.prod(shape)), dtype="i4").reshape(shape)
    z[...] = model
    np.testing.assert_array_equal(z[selection], model[selection])
    value = -np.arange(model[selection].size, dtype="i4").reshape(model[selection].shape) - 5
    z[selection] = value
    model[selection] = value
    np.testing.assert_array_equal(z[...], model)


def test_fancy_selections_on_sharded_arrays():
    z = _sharded((30, 40), (4, 5), (8, 10))
    model = np.arange(1200, dtype="i4").reshape(30, 40)
    z[...] = model
    rng = np.random.default_rng(3)
    points = (rng.integers(0, 30, 200), rng.integers(0, 40, 200))
    np.testing.assert_array_equal(z.vindex[points], model[points])
    np.testing.assert_array_equal(z.oindex[[1, 17, 29], ::3], model[[1, 17, 29], ::3])
    np.testing.assert_array_equal(z.blocks[2, 3], model[8:12, 15:20])  # blocks address inner chunks
    z.vindex[points] = 7
    model[points] = 7
    np.testing.assert_array_equal(z[...], model)


class _NoSnapshotStore(MemoryStore):
    """A store without ``snapshot_reads`` (as remote ones): dependent reads go through two
    ``get_many`` rounds, counted here per call and per key."""

    snapshot_reads = False
    cheap_single_ops = False  # batched like a remote store: one fetch per batch, not per shard

    def __init__(self) -> None:
        super().__init__()
        self.rounds: list[int] = []

    def _get_dependent(self, requests):
        return Store._get_dependent(self, requests)

    def _get_many(self, keys, byte_ranges):
        self.rounds.append(len(keys))
        return super()._get_many(keys, byte_ranges)


def test_small_selection_costs_one_dependent_read():
    store = CountingStore(MemoryStore())
    z = _sharded((64, 64), (4, 4), (32, 32), store=store)
    model = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    z[...] = model
    store.reset()
    np.testing.assert_array_equal(z[1:10, 2:7], model[1:10, 2:7])
    # 6 inner chunks in one shard: one dependent read (its index, then its chunks)
    assert store.counts["get_dependent"] == 1 and store.counts["get_dependent_keys"] == 1
    assert store.counts["get_many"] == 0
    store.reset()
    np.testing.assert_array_equal(z[0:40, 0:40], model[0:40, 0:40])  # 4 shards, still one call
    assert store.counts["get_dependent"] == 1 and store.counts["get_dependent_keys"] == 4


@pytest.mark.parametrize("recheck", [True, False])
def test_small_selection_without_snapshots_costs_an_index_round_and_one_coalesced_round(recheck):
    """Two rounds whatever the number of shards; the second also re-reads each index (to see a
    shard replaced in between) unless ``recheck_dependent_reads`` is off."""
    store = _NoSnapshotStore()
    z = _sharded((64, 64), (4, 4), (32, 32), store=store)
    model = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    z[...] = model
    with cuzarr.config.set(recheck_dependent_reads=recheck):
        store.rounds.clear()
        np.testing.assert_array_equal(z[1:10, 2:7], model[1:10, 2:7])
        # the index, then one request (adjacent ranges merged) and maybe the index again
        assert store.rounds == [1, 1 + recheck]
        store.rounds.clear()
        np.testing.assert_array_equal(z[0:40, 0:40], model[0:40, 0:40])
        assert len(store.rounds) == 2 and store.rounds[0] == 4 and store.rounds[1] <= 4 + 4 * recheck


def test_whole_shard_reads_use_one_request_per_shard():
    store = _NoSnapshotStore()
    z = _sharded((64, 64), (4, 4), (32, 32), store=store)
    z[...] = 1
    store.rounds.clear()
    assert z[...].sum() == 64 * 64
    assert store.rounds == [4]


def test_full_shard_write_is_one_set_per_shard_and_needs_no_read():
    store = CountingStore(MemoryStore())
    z = _sharded((64, 64), (4, 4), (32, 32), store=store)
    store.reset()
    z[...] = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    assert store.counts.get("get_many", 0) == 0
    assert store.counts["set_many_keys"] == 4


def test_partial_shard_write_reads_each_shard_once():
    """A write covering part of a shard reads that shard once, whole (it gives the old bytes of
    the partly overwritten inner chunks and the untouched ones); shards rewritten entirely are
    not read, and their partly overwritten edge chunks come through one ranged read."""
    store = CountingStore(MemoryStore())
    z = _sharded((64, 64), (4, 4), (32, 32), store=store)
    model = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    z[...] = model
    store.reset()
    z[1:10, 2:7] = -5  # 6 inner chunks of shard (0, 0), 4 of them partly
    model[1:10, 2:7] = -5
    assert store.counts["get_many"] == 1 and store.counts["get_many_keys"] == 1
    np.testing.assert_array_equal(z[...], model)
    store.reset()
    z[0:64, 1:32] = 3  # shards (0, 0) and (1, 0) entirely, their left inner chunks partly
    model[0:64, 1:32] = 3
    assert store.counts["get_many"] == 0  # nothing kept: no whole-shard read
    assert store.counts["get_dependent"] == 1 and store.counts["get_dependent_keys"] == 2
    np.testing.assert_array_equal(z[...], model)


def test_fill_inner_chunks_are_dropped_and_empty_shards_deleted():
    store = MemoryStore()
    z = _sharded((16, 16), (4, 4), (8, 8), store=store)
    z[0:4, 0:4] = 5
    assert z.nchunks_initialized == 1
    assert sorted(k for k in store.list() if k.startswith("c/")) == ["c/0/0"]
    z[0:4, 0:4] = -1
    assert not [k for k in store.list() if k.startswith("c/")]


def test_partial_shard_write_keeps_other_inner_chunks_bytes():
    store = MemoryStore()
    z = _sharded((8, 8), (4, 4), (8, 8), store=store)
    z[...] = np.arange(64, dtype="i4").reshape(8, 8)
    z[0, 0] = 100
    expected = np.arange(64, dtype="i4").reshape(8, 8)
    expected[0, 0] = 100
    np.testing.assert_array_equal(z[...], expected)
    assert z.nchunks_initialized == 4


def test_info_resize_and_nesting():
    z = _sharded((20, 20), (2, 2), (10, 10))
    z[...] = 3
    assert z.chunks == (2, 2) and z.shards == (10, 10) and z.nshards == 4
    assert "Shard shape" in repr(z.info) and z.nchunks_initialized == 100
    z.resize((7, 7))
    z.resize((20, 20))
    expected = np.full((20, 20), -1)
    expected[:7, :7] = 3
    np.testing.assert_array_equal(z[...], expected)
    nested = cuzarr.create_array(
        store=MemoryStore(),
        shape=(16, 16),
        dtype="i4",
        chunks=(16, 16),
        codecs=[
            cuzarr.codecs.ShardingCodec(
                chunk_shape=(8, 8),
                codecs=[
                    cuzarr.codecs.ShardingCodec(chunk_shape=(4, 4)),
                ],
            )
        ],
    )
    data = np.arange(256, dtype="i4").reshape(16, 16)
    nested[...] = data
    np.testing.assert_array_equal(nested[3:13, 2:9], data[3:13, 2:9])


def test_morton_order_matches_zarr_python():
    zarr_indexing = pytest.importorskip("zarr.core.indexing")
    for shape in [(4, 4), (3, 5), (2, 3, 4), (1, 7), (8,)]:
        expected = [np.ravel_multi_index(c, shape) for c in zarr_indexing.morton_order_iter(shape)]
        assert morton_order(shape).tolist() == expected


def _corrupt(mutate):
    store = MemoryStore()
    z = _sharded((8, 8), (4, 4), (8, 8), store=store)
    z[...] = np.arange(64, dtype="i4").reshape(8, 8)
    layout = ShardLayout((2, 2), z._sharding.index_codecs, "end")
    store.set("c/0/0", mutate(bytearray(store.get("c/0/0")), layout))
    return z


def _rewrite_index(shard, layout, change):
    table = layout.index_from_shard(bytes(shard), "k").copy()
    change(table)
    index = layout.index_chain.encode(table.reshape(2, 2, 2))
    return bytes(shard[: -layout.index_nbytes]) + bytes(np.asarray(index, dtype=np.uint8))


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda s, layout: s[:10], "shorter than its"),
        (lambda s, layout: s[:-1] + bytes([s[-1] ^ 0xFF]), "invalid shard index"),
        (lambda s, layout: _rewrite_index(s, layout, lambda t: t.__setitem__((1, 1), 10_000)), "outside"),
        (
            lambda s, layout: _rewrite_index(s, layout, lambda t: t.__setitem__((1, 0), t[0, 0] + 1)),
            "overlaps",
        ),
    ],
)
def test_corrupt_shards_raise_codec_error_naming_shard_and_inner_chunk(mutate, message):
    z = _corrupt(mutate)
    with pytest.raises(CodecError, match=message) as info:
        z[...]
    assert "c/0/0" in str(info.value)
    if message in ("outside", "overlaps"):
        assert "inner chunk (" in str(info.value)


def test_index_past_end_detected_on_ranged_reads():
    store = MemoryStore()
    z = _sharded((16, 16), (4, 4), (16, 16), store=store)
    z[...] = 1
    shard = bytearray(store.get("c/0/0"))
    layout = ShardLayout((4, 4), z._sharding.index_codecs, "end")
    table = layout.index_from_shard(bytes(shard), "k").copy()
    table[0, 1] += 100_000  # inner chunk (0, 0) claims bytes far past the end
    index = np.asarray(layout.index_chain.encode(table.reshape(4, 4, 2)), dtype=np.uint8)
    store.set("c/0/0", bytes(shard[: -layout.index_nbytes]) + bytes(index))
    with pytest.raises(CodecError, match="c/0/0"):
        z[0:2, 0:2]


def test_from_array_keeps_or_changes_shards():
    src = _sharded((16, 16), (4, 4), (8, 8))
    src[...] = np.arange(256, dtype="i4").reshape(16, 16)
    kept = cuzarr.from_array(MemoryStore(), data=src)
    assert kept.shards == (8, 8) and kept.chunks == (4, 4)
    np.testing.assert_array_equal(kept[...], src[...])
    unsharded = cuzarr.from_array(MemoryStore(), data=src, shards=None)
    assert unsharded.shards is None and unsharded.chunks == (4, 4)
    v2 = cuzarr.from_array(MemoryStore(), data=src, zarr_format=2)
    assert v2.shards is None and v2.zarr_format == 2
    np.testing.assert_array_equal(v2[...], src[...])
    resharded = cuzarr.from_array(
        MemoryStore(), data=np.arange(256).reshape(16, 16), chunks=(2, 2), shards=(8, 16)
    )
    assert resharded.shards == (8, 16)


def test_absurd_shard_shapes_are_refused_before_allocating():
    import json

    doc = json.loads(_sharded((6, 5), (2, 2), (4, 4)).store.get("zarr.json"))
    doc["chunk_grid"]["configuration"]["chunk_shape"] = [4_294_967_300, 4]
    with pytest.raises(cuzarr.errors.MetadataError, match="inner chunks"):
        cuzarr.open_array({"zarr.json": json.dumps(doc).encode()}, mode="r")[...]


@pytest.mark.parametrize("kind", ["local", "memory", "fsspec"])
def test_shard_replaced_between_index_and_chunk_reads_gives_a_whole_chunk(kind, tmp_path, monkeypatch):
    """A writer that replaces a shard after a reader got its index must not make the reader cut
    the new shard at the old offsets. Here the new shard's first inner chunk is fill (not
    stored), so every other chunk moved up: the old offsets of chunk 1 now hold chunk 2.
    Local and memory stores read the old shard to the end (one snapshot); stores without
    snapshots see the index change and read the new shard."""
    stores = {
        "local": lambda: LocalStore(tmp_path / "a.zarr"),
        "memory": MemoryStore,
        "fsspec": lambda: FsspecStore.from_url(f"memory://replaced/{tmp_path.name}"),
    }
    store = stores[kind]()
    n = 256
    writer = cuzarr.create_array(
        store, shape=(4 * n,), chunks=(n,), shards=(4 * n,), dtype="u4", fill_value=0, compressors=None
    )
    old = np.repeat(np.array([10, 11, 12, 13], dtype="u4"), n)
    new = np.repeat(np.array([0, 21, 22, 23], dtype="u4"), n)
    writer[...] = old
    reader = cuzarr.open_array(store, mode="r")
    decode_index = ShardLayout.decode_index
    replaced: list[str] = []

    def decode_then_replace(self, index_bytes, key, **kwargs):
        table = decode_index(self, index_bytes, key, **kwargs)
        if not replaced:
            replaced.append(key)
            writer[...] = new  # lands between the reader's two steps
        return table

    monkeypatch.setattr(ShardLayout, "decode_index", decode_then_replace)
    expected = old if store.snapshot_reads else new
    np.testing.assert_array_equal(reader[n : 2 * n], expected[n : 2 * n])
    assert replaced == ["c/0"]
    np.testing.assert_array_equal(reader[n : 2 * n], new[n : 2 * n])  # the next read sees the new one
