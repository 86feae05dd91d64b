"""Decoded shard indexes are remembered by their bytes: repeated reads skip the decode, while a
rewritten or damaged index is always decoded and checked again."""

from __future__ import annotations

import numpy as np
import pytest

from cuzarr.codecs.bytes import BytesCodec
from cuzarr.codecs.crc32c import Crc32cCodec
from cuzarr.codecs.sharding import EMPTY, ShardLayout
from cuzarr.errors import CodecError


def _layout() -> ShardLayout:
    return ShardLayout((4, 4), [BytesCodec(endian="little"), Crc32cCodec()], "end")


def _shard(layout: ShardLayout, sizes: list[int]) -> bytes:
    shard = layout.assemble([b"\x01" * n if n else None for n in sizes])
    assert shard is not None
    return bytes(shard)


def test_same_index_bytes_give_the_same_read_only_table() -> None:
    layout = _layout()
    shard = _shard(layout, [10 + i for i in range(16)])
    index = shard[-layout.index_nbytes :]
    first = layout.decode_index(index, "c/0/0")
    again = layout.decode_index(bytearray(index), "c/0/0")
    assert again is first
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0, 0] = 0


def test_a_rewritten_shard_gets_its_own_table() -> None:
    layout = _layout()
    old = _shard(layout, [10] * 16)
    new = _shard(layout, [0] * 8 + [20] * 8)
    old_table = layout.decode_index(old[-layout.index_nbytes :], "c/0/0")
    new_table = layout.decode_index(new[-layout.index_nbytes :], "c/0/0")
    assert (old_table[:, 1] == 10).all()
    assert (new_table[:8] == EMPTY).all() and (new_table[8:, 1] == 20).all()


def test_a_table_checked_without_the_shard_size_is_checked_again_with_it() -> None:
    layout = _layout()
    shard = _shard(layout, [10] * 16)
    index = shard[-layout.index_nbytes :]
    layout.decode_index(index, "c/0/0")  # ranged read: shard size unknown, entries plausible
    truncated = shard[:50] + index  # the same index in a shard too short for its entries
    with pytest.raises(CodecError, match=r"c/0/0.*outside the shard"):
        layout.index_from_shard(truncated, "c/0/0")


def test_damaged_index_is_refused_every_time() -> None:
    layout = _layout()
    index = bytearray(_shard(layout, [10] * 16)[-layout.index_nbytes :])
    index[3] ^= 0xFF
    for _ in range(2):
        with pytest.raises(CodecError, match="c/1/0"):
            layout.decode_index(bytes(index), "c/1/0")


def test_overlap_found_after_sorting_names_the_inner_chunk() -> None:
    layout = _layout()
    table = np.full((16, 2), EMPTY, dtype=np.uint64)
    table[5] = (100, 50)
    table[2] = (0, 40)
    table[9] = (120, 10)  # starts inside chunk 5's bytes
    index = layout.index_chain.encode(table.reshape(4, 4, 2))
    with pytest.raises(CodecError, match=r"inner chunk \(2, 1\) overlaps"):
        layout.decode_index(bytes(index), "c/0/0")
