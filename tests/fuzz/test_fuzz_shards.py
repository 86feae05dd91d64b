"""Fuzzing shard indexes: forged offset/length tables with valid checksums, read through the
whole-shard path and the partial (index, then ranges) path, on memory and local stores."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cuzarr
from cuzarr.codecs.base import ChunkSpec
from cuzarr.codecs.sharding import EMPTY, ShardingCodec
from cuzarr.errors import CodecError
from cuzarr.storage import LocalStore, MemoryStore

from .conftest import FUZZ, case_timeout
from .seeds import seeds

_SEEDS = ["v3-sharded", "v3-sharded-start"]
_EXTREMES = [0, 1, 2**31, 2**32, 2**62, 2**63 - 1, 2**63, 2**64 - 2]


def _layout(name: str):
    doc = json.loads(seeds()[name].items["zarr.json"])
    codec = ShardingCodec.from_config(doc["codecs"][0]["configuration"])
    shard_shape = tuple(doc["chunk_grid"]["configuration"]["chunk_shape"])
    spec = ChunkSpec(shard_shape, np.dtype("uint8"), 0)
    return codec.evolve(spec).layout(spec)


@st.composite
def forged_shard(draw: st.DrawFn, name: str) -> tuple[str, bytes]:
    seed = seeds()[name]
    layout = _layout(name)
    key = draw(st.sampled_from(seed.chunk_keys()))
    shard = seed.items[key]
    table = layout.index_from_shard(shard, key).copy()
    size = len(shard)
    for i in range(layout.n_chunks):
        kind = draw(st.sampled_from(["keep", "keep", "empty", "near", "extreme", "half"]))
        if kind == "empty":
            table[i] = (EMPTY, EMPTY)
        elif kind == "near":
            table[i] = (draw(st.integers(0, size + 8)), draw(st.integers(0, 64)))
        elif kind == "extreme":
            table[i] = (draw(st.sampled_from(_EXTREMES)), draw(st.sampled_from(_EXTREMES)))
        elif kind == "half":
            table[i, draw(st.integers(0, 1))] = EMPTY
    index = bytes(np.asarray(layout.index_chain.encode(table.reshape(*layout.chunks_per_shard, 2))))
    n = layout.index_nbytes
    body = shard[n:] if layout.index_location == "start" else shard[:-n]
    return key, (index + body if layout.index_location == "start" else body + index)


@pytest.mark.parametrize("where", ["memory", "local"])
@pytest.mark.parametrize("name", _SEEDS)
@FUZZ
@given(data=st.data())
def test_forged_shard_index(name: str, where: str, data: st.DataObject, tmp_path_factory) -> None:
    seed = seeds()[name]
    key, shard = data.draw(forged_shard(name), label="shard")
    if where == "memory":
        store = MemoryStore()
    else:
        store = LocalStore(Path(tmp_path_factory.mktemp("shard")))
    store.set_many({**seed.items, key: shard})
    arr = cuzarr.open_array(store, mode="r")
    point = tuple(data.draw(st.integers(0, n - 1)) for n in arr.shape)
    for selection in (..., point):  # the whole-shard path, then the index + range path
        with case_timeout("shard-index"):
            try:
                out = np.asarray(arr[selection])
            except CodecError as exc:
                assert exc.key is not None and key in str(exc), exc
                continue
        assert out.shape == np.empty(arr.shape)[selection].shape and out.dtype == seed.data.dtype
