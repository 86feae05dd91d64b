"""Small zstd chunks decode in runs, one native call per run (``decode_many``): every chunk once,
on the pool when worth it, and the per-chunk path (naming the bad chunk) whenever a run is refused."""

from __future__ import annotations

import numpy as np
import pytest
import zstandard

import cuzarr
from cuzarr.codecs import BytesCodec, CodecChain, ZstdCodec
from cuzarr.codecs.base import ChunkSpec
from cuzarr.codecs.zstd import decompress_many
from cuzarr.errors import CodecError
from cuzarr.parallel import min_parallel_items, split_for_pool

from .common import decode_on_two_threads, sample

SPEC = ChunkSpec((64, 32), np.dtype("<f4"))


def chain_and_chunks(count: int) -> tuple[CodecChain, list[np.ndarray], list[bytes], list[str]]:
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    chunks = [sample(SPEC.shape, SPEC.dtype, seed=i) for i in range(count)]
    keys = [f"c/{i}" for i in range(count)]
    return chain, chunks, [bytes(b) for b in chain.encode_batch(chunks, keys=keys)], keys


@pytest.mark.parametrize("big", [False, True])
def test_runs_cover_every_chunk_once(big, monkeypatch):
    count = 4 * min_parallel_items(SPEC.nbytes) if big else 5
    chain, chunks, encoded, keys = chain_and_chunks(count)
    runs: list[int] = []
    real = ZstdCodec.decode_many
    monkeypatch.setattr(
        ZstdCodec, "decode_many", lambda self, items, spec: runs.append(len(items)) or real(self, items, spec)
    )
    decoded, submitted = decode_on_two_threads(chain, encoded, keys, monkeypatch)
    assert sum(runs) == count
    assert (len(runs) > 1) == big and (len(submitted) == 1) == big
    for got, want in zip(decoded, chunks):
        np.testing.assert_array_equal(got, want)
        assert got.flags.writeable  # writable=True (the default) never hands out shared memory


def test_outputs_missing_chunks_and_read_only_results():
    chain, chunks, encoded, keys = chain_and_chunks(4)
    whole = np.zeros((2, *SPEC.shape), SPEC.dtype)
    outs = [whole[0], None, None, whole[1, :, :][...]]
    decoded = chain.decode_batch(
        [encoded[0], None, encoded[2], encoded[3]], keys=keys, outs=outs, writable=False
    )
    assert decoded[1] is None and decoded[0] is outs[0] and decoded[3] is outs[3]
    np.testing.assert_array_equal(whole[0], chunks[0])
    np.testing.assert_array_equal(whole[1], chunks[3])
    np.testing.assert_array_equal(decoded[2], chunks[2])


def test_strided_outputs_are_filled():
    chain, chunks, encoded, keys = chain_and_chunks(3)
    big = np.zeros((SPEC.shape[0], SPEC.shape[1] * 3), SPEC.dtype)
    outs = [big[:, i * SPEC.shape[1] : (i + 1) * SPEC.shape[1]] for i in range(3)]
    chain.decode_batch(encoded, keys=keys, outs=outs)
    np.testing.assert_array_equal(big, np.concatenate(chunks, axis=1))


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        (lambda b: b[:20], "c/2"),  # truncated
        (lambda b: b"\x28\xb5\x2f\xfd" + b"\xff" * 20, "c/2"),  # not a valid frame
        (lambda b: zstandard.ZstdCompressor().compress(b"x" * 10), "c/2"),  # decodes to the wrong size
    ],
)
def test_a_bad_chunk_in_a_run_is_named(damage, match):
    chain, _, encoded, keys = chain_and_chunks(5)
    encoded[2] = damage(encoded[2])
    with pytest.raises(CodecError, match=match):
        chain.decode_batch(encoded, keys=keys, writable=False)


def test_several_frames_in_one_chunk_fall_back_to_chunk_by_chunk():
    """numcodecs accepts concatenated frames; the many-chunk call refuses them, the fallback reads them."""
    chain, chunks, encoded, keys = chain_and_chunks(3)
    raw = chunks[1].tobytes()
    half = len(raw) // 2
    compressor = zstandard.ZstdCompressor()
    encoded[1] = compressor.compress(raw[:half]) + compressor.compress(raw[half:])
    decoded = chain.decode_batch(encoded, keys=keys)
    for got, want in zip(decoded, chunks):
        np.testing.assert_array_equal(got, want)


def test_decompress_many_refuses_what_it_cannot_do_safely():
    frame = zstandard.ZstdCompressor().compress(b"abcd" * 100)
    assert decompress_many([], 400) is None
    assert decompress_many([frame], 0) is None  # zero-sized outputs crash zstandard 0.25
    assert decompress_many([frame], 401) is None
    (got,) = decompress_many([memoryview(frame)], 400)
    assert bytes(got) == b"abcd" * 100 and not got.flags.writeable


def test_zero_sized_chunks_decode():
    spec = ChunkSpec((0, 4), np.dtype("<f4"))
    chain = CodecChain([BytesCodec(), ZstdCodec()], spec)
    encoded = chain.encode_batch([np.zeros((0, 4), "<f4")] * 2, keys=["a", "b"])
    assert [d.shape for d in chain.decode_batch(encoded, keys=["a", "b"])] == [(0, 4), (0, 4)]


@pytest.mark.parametrize("count", [0, 1, 7, 100, 1000])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_split_for_pool_partitions_in_order(count, threads):
    items = list(range(count))
    with cuzarr.config.set(threads=threads):
        runs = split_for_pool(items, 64 << 10)
    assert [i for run in runs for i in run] == items
    assert all(len(run) * (64 << 10) <= 1 << 20 for run in runs)
    assert all(runs)
