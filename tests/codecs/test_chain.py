"""``CodecChain``: validation, evolution, batch semantics, the decode-into-output fast path."""

from __future__ import annotations

import threading
import tracemalloc

import numcodecs
import numpy as np
import pytest

import cuzarr
from cuzarr.codecs import (
    BloscCodec,
    BytesCodec,
    CodecChain,
    Crc32cCodec,
    GzipCodec,
    TransposeCodec,
    ZstdCodec,
)
from cuzarr.codecs.base import ChunkSpec
from cuzarr.errors import CodecError, MetadataError, UnknownCodecError

from .common import check_chain, decode_on_two_threads, roundtrip_chain, sample

SPEC = ChunkSpec((64, 32), np.dtype("<f4"))


@pytest.mark.parametrize(
    ("codecs", "match"),
    [
        ([], "exactly one array->bytes"),
        ([ZstdCodec()], r"codec #0 'zstd' \(bytes->bytes\) must come after the array->bytes codec"),
        ([BytesCodec(), BytesCodec()], r"codec #1 'bytes'.*only one array->bytes"),
        ([BytesCodec(), TransposeCodec((1, 0))], r"codec #1 'transpose' \(array->array\) must come before"),
        ([TransposeCodec((1, 0)), GzipCodec()], r"codec #1 'gzip'.*must come after"),
        ([TransposeCodec((1, 0))], "exactly one array->bytes"),
    ],
)
def test_chain_order_validation(codecs, match):
    with pytest.raises(MetadataError, match=match):
        CodecChain(codecs, SPEC)


def test_chain_accepts_json_and_instances_and_evolves():
    chain = CodecChain(
        [
            {"name": "transpose", "configuration": {"order": [1, 0]}},
            {"name": "bytes", "configuration": {}},
            BloscCodec(cname="lz4"),
            {"name": "crc32c"},
        ],
        SPEC,
    )
    assert chain.spec == SPEC
    assert chain.has_array_array_codecs
    assert [type(c) for c in chain.codecs] == [TransposeCodec, BytesCodec, BloscCodec, Crc32cCodec]
    assert chain.filters == (TransposeCodec((1, 0)),)
    assert chain.serializer == BytesCodec("little")
    assert chain.compressors[0].typesize == 4 and chain.compressors[0].shuffle == "shuffle"
    assert chain.to_json() == [
        {"name": "transpose", "configuration": {"order": [1, 0]}},
        {"name": "bytes", "configuration": {"endian": "little"}},
        {
            "name": "blosc",
            "configuration": {
                "typesize": 4,
                "cname": "lz4",
                "clevel": 5,
                "shuffle": "shuffle",
                "blocksize": 0,
            },
        },
        {"name": "crc32c"},
    ]
    assert not CodecChain([BytesCodec()], SPEC).has_array_array_codecs


def test_chain_accepts_zarr_python_and_numcodecs_instances():
    import zarr

    chain = CodecChain([zarr.codecs.BytesCodec(), numcodecs.Zstd(level=2), zarr.codecs.Crc32cCodec()], SPEC)
    assert chain.to_json()[1:] == [
        {"name": "zstd", "configuration": {"level": 2, "checksum": False}},
        {"name": "crc32c"},
    ]


CHAINS = [
    [BytesCodec()],
    [BytesCodec("big")],
    [BytesCodec(), ZstdCodec()],
    [BytesCodec("big"), BloscCodec(cname="lz4", shuffle="bitshuffle")],
    [BytesCodec(), GzipCodec(level=1), Crc32cCodec()],
    [TransposeCodec((1, 0)), BytesCodec(), ZstdCodec()],
    [TransposeCodec((1, 0)), BytesCodec("big"), BloscCodec()],
]


@pytest.mark.parametrize("codecs", CHAINS, ids=lambda cs: "+".join(c.codec_name for c in cs))
@pytest.mark.parametrize("dtype", ["<f4", ">i8", "u1", "<c8"])
def test_chain_roundtrip(codecs, dtype):
    roundtrip_chain(codecs, dtype, (6, 5), n=4)


@pytest.mark.parametrize("threads", [1, 2])
def test_batch_equals_single_with_any_thread_count(threads):
    chain = CodecChain([BytesCodec(), BloscCodec(cname="zstd")], SPEC)
    chunks = [sample(SPEC.shape, SPEC.dtype, seed=i) for i in range(7)]
    with cuzarr.config.set(threads=threads):
        check_chain(chain, chunks)


@pytest.mark.parametrize("big", [False, True])
def test_batch_uses_the_shared_pool_only_when_worth_it(big, monkeypatch):
    """A batch of at least ``PARALLEL_MIN_BYTES`` decodes on the caller plus ``threads - 1`` pool
    workers; a few small chunks decode on the caller alone (waking workers would cost more)."""
    from cuzarr.parallel import min_parallel_items

    chain = CodecChain([BytesCodec(), GzipCodec()], SPEC)  # no many-chunk native call: chunk by chunk
    count = min_parallel_items(SPEC.nbytes) if big else 6
    chunks = [sample(SPEC.shape, SPEC.dtype, seed=i % 7) for i in range(count)]
    seen = []
    real = chain.decode

    def spy(data, *, key=None, out=None):
        seen.append(bytes(data))
        return real(data, key=key, out=out)

    chain.decode = spy  # type: ignore[method-assign]
    keys = [str(i) for i in range(count)]
    encoded = chain.encode_batch(chunks, keys=keys)
    decoded, submitted = decode_on_two_threads(chain, encoded, keys, monkeypatch)
    assert sorted(seen) == sorted(bytes(e) for e in encoded)  # every chunk decoded exactly once
    assert len(submitted) == (1 if big else 0)
    for got, want in zip(decoded, chunks):
        np.testing.assert_array_equal(got, want)


def test_decode_batch_none_and_empty():
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    assert chain.decode_batch([], keys=[]) == []
    assert chain.encode_batch([], keys=[]) == []
    assert chain.decode_batch(
        [None, None], keys=["a", "b"], outs=[None, np.empty(SPEC.shape, SPEC.dtype)]
    ) == [
        None,
        None,
    ]


def test_bad_arguments_are_value_errors():
    chain = CodecChain([BytesCodec()], SPEC)
    good = chain.encode(np.zeros(SPEC.shape, SPEC.dtype))
    with pytest.raises(ValueError, match="keys"):
        chain.decode_batch([good], keys=[])
    with pytest.raises(ValueError, match="shape"):
        chain.decode_batch([good], keys=["k"], outs=[np.empty((2, 2), SPEC.dtype)])
    readonly = np.empty(SPEC.shape, SPEC.dtype)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        chain.decode_batch([good], keys=["k"], outs=[readonly])
    with pytest.raises(ValueError, match="shape"):
        chain.encode_batch([np.zeros((3,))], keys=["k"])


def test_encode_casts_other_dtypes():
    chain = CodecChain([BytesCodec()], SPEC)
    ints = np.arange(64 * 32).reshape(SPEC.shape)
    assert bytes(chain.encode(ints)) == ints.astype("<f4").tobytes()


def test_encoded_values_never_alias_inputs():
    chain = CodecChain([BytesCodec()], SPEC)
    chunk = sample(SPEC.shape, SPEC.dtype)
    (encoded,) = chain.encode_batch([chunk], keys=["k"])
    before = bytes(encoded)
    chunk[...] = 0
    assert bytes(encoded) == before


def test_errors_name_key_and_codec():
    chain = CodecChain([BytesCodec(), ZstdCodec(), Crc32cCodec()], SPEC)
    chunks = [sample(SPEC.shape, SPEC.dtype, seed=i) for i in range(3)]
    encoded = [bytearray(e) for e in chain.encode_batch(chunks, keys=["a", "b", "c"])]
    encoded[1][10] ^= 0xFF
    with pytest.raises(CodecError, match=r"chunk 'b': crc32c: checksum mismatch") as info:
        chain.decode_batch(encoded, keys=["a", "b", "c"])
    assert info.value.key == "b" and info.value.codec == "crc32c"
    zstd_only = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    with pytest.raises(CodecError, match=r"chunk 'x/0': zstd: ") as info:
        zstd_only.decode_batch([b"\x28\xb5\x2f\xfd garbage"], keys=["x/0"])
    assert info.value.codec == "zstd"
    with pytest.raises(CodecError, match=r"chunk 'k': bytes: chunk is 3 bytes, expected 8192"):
        CodecChain([BytesCodec()], SPEC).decode_batch([b"abc"], keys=["k"])


# -- the fast path: straight into the output's memory -----------------------------------------

BIG = ChunkSpec((256, 512, 4), np.dtype("<f8"))  # 4 MiB


def _peak_decode_bytes(chain: CodecChain, encoded: bytes, out: np.ndarray) -> int:
    tracemalloc.start()
    try:
        chain.decode(encoded, key="k", out=out)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "codecs",
    [
        [BytesCodec(), ZstdCodec()],
        [BytesCodec(), BloscCodec(cname="lz4")],
        [BytesCodec(), GzipCodec(level=1)],
        [BytesCodec("big"), ZstdCodec()],  # decompressed in place, then byte-swapped in place
        [BytesCodec(), Crc32cCodec()],
        [BytesCodec()],
    ],
    ids=lambda cs: "+".join(f"{c.codec_name}" for c in cs),
)
def test_decode_into_contiguous_out_has_no_chunk_sized_intermediate(codecs):
    chain = CodecChain(codecs, BIG)
    data = np.round(np.random.default_rng(0).normal(size=BIG.shape), 2)
    encoded = bytes(chain.encode(data))
    out = np.zeros(BIG.shape, BIG.dtype)
    peak = _peak_decode_bytes(chain, encoded, out)
    np.testing.assert_array_equal(out, data)
    assert peak < BIG.nbytes // 3, f"peak {peak} bytes for a {BIG.nbytes}-byte chunk"


def test_non_contiguous_out_and_filters_use_one_temporary():
    data = np.round(np.random.default_rng(0).normal(size=BIG.shape), 2)
    chain = CodecChain([TransposeCodec((2, 1, 0)), BytesCodec(), ZstdCodec()], BIG)
    encoded = bytes(chain.encode(data))
    out = np.zeros(BIG.shape, BIG.dtype)
    peak = _peak_decode_bytes(chain, encoded, out)
    np.testing.assert_array_equal(out, data)
    assert peak < 1.5 * BIG.nbytes
    plain = CodecChain([BytesCodec(), ZstdCodec()], BIG)
    big = np.zeros((BIG.shape[0] * 2, *BIG.shape[1:]), BIG.dtype)
    view = big[::2]
    assert plain.decode_batch([plain.encode(data)], keys=["k"], outs=[view])[0] is view
    np.testing.assert_array_equal(view, data)


def test_unknown_codec_in_chain_lists_supported():
    with pytest.raises(
        UnknownCodecError, match=r"unknown codec 'lz5'; supported codecs: .*blosc.*bytes.*zstd"
    ):
        CodecChain([{"name": "bytes"}, {"name": "lz5"}], SPEC)


def test_codec_level_batches():
    codec = ZstdCodec()
    raw = [sample((100,), "<f8", seed=i).view(np.uint8) for i in range(4)]
    encoded = codec.encode_batch(raw, SPEC)
    assert [bytes(codec.decode(e, SPEC)) for e in encoded] == [r.tobytes() for r in raw]
    assert [bytes(d) for d in codec.decode_batch(encoded, SPEC)] == [r.tobytes() for r in raw]


def test_run_batch_waits_for_every_task_and_runs_inline_on_pool_threads():
    import time

    from cuzarr.codecs.base import run_batch

    finished = []

    def task(i):
        if i == 0:
            raise RuntimeError("first")
        time.sleep(0.05)
        finished.append(i)
        return i

    with cuzarr.config.set(threads=2), pytest.raises(RuntimeError, match="first"):
        run_batch(task, [0, 1, 2, 3])
    assert sorted(finished) == [1, 2, 3]  # nothing still running after the error surfaced

    def nested(i):
        return run_batch(lambda j: (i, j, threading.current_thread().name), [0, 1])

    with cuzarr.config.set(threads=2):
        results = run_batch(nested, [0, 1, 2])
    for inner in results:
        assert len({name for _, _, name in inner}) == 1  # inline on the worker: no deadlock


@pytest.mark.parametrize(
    "codecs",
    [
        [BytesCodec(), ZstdCodec()],  # zstd hands back its own buffer: no copy
        [BytesCodec(), ZstdCodec(), Crc32cCodec()],
        [BytesCodec(endian="big"), ZstdCodec()],
        [TransposeCodec((1, 0)), BytesCodec(), BloscCodec()],
    ],
)
def test_decode_for_reading_equals_decode_and_names_the_chunk(codecs):
    chain = CodecChain(codecs, SPEC)
    chunk = sample(SPEC.shape, SPEC.dtype)
    encoded = bytes(chain.encode(chunk))
    got = chain.decode_for_reading(encoded, key="a/c/1/2")
    assert got.shape == SPEC.shape and got.dtype == SPEC.dtype
    np.testing.assert_array_equal(got, chunk)
    with pytest.raises(CodecError, match="a/c/1/2"):
        chain.decode_for_reading(encoded[:-9], key="a/c/1/2")


def test_decode_batch_writable_false_skips_the_copy_but_not_outs():
    """Scattered chunks are only read from: ``writable=False`` hands back zstd's own (read-only)
    buffer, while chunks with an ``out`` are still written into it and the default stays writable."""
    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    chunks = [sample(SPEC.shape, SPEC.dtype) + i for i in range(3)]
    encoded = [bytes(chain.encode(c)) for c in chunks]
    out = np.empty(SPEC.shape, SPEC.dtype)
    keys = ["c/0", "c/1", "c/2"]
    shared = chain.decode_batch(encoded, keys=keys, outs=[None, out, None], writable=False)
    assert shared[1] is out
    assert not shared[0].flags.writeable and not shared[2].flags.writeable
    for got, want in zip(shared, chunks):
        np.testing.assert_array_equal(got, want)
    assert all(a.flags.writeable for a in chain.decode_batch(encoded, keys=keys))
    with pytest.raises(CodecError, match="c/1"):
        chain.decode_batch([encoded[0], encoded[1][:-5]], keys=keys[:2], writable=False)


def test_zstd_several_frames_and_unknown_sizes_decode_exactly():
    """python-zstandard decodes single frames that declare their size; everything else goes
    through numcodecs, and a stream of the wrong total size is refused either way."""
    import zstandard

    chain = CodecChain([BytesCodec(), ZstdCodec()], SPEC)
    raw = sample(SPEC.shape, SPEC.dtype).tobytes()
    half = len(raw) // 2
    two_frames = zstandard.ZstdCompressor().compress(raw[:half]) + zstandard.ZstdCompressor().compress(
        raw[half:]
    )
    no_size = zstandard.ZstdCompressor(write_content_size=False).compress(raw)
    for stream in (two_frames, no_size):
        np.testing.assert_array_equal(
            chain.decode_for_reading(stream, key="k"), sample(SPEC.shape, SPEC.dtype)
        )
        out = np.empty(SPEC.shape, SPEC.dtype)
        chain.decode(stream, key="k", out=out)
        np.testing.assert_array_equal(out, sample(SPEC.shape, SPEC.dtype))
    short = zstandard.ZstdCompressor().compress(raw[:-4])
    with pytest.raises(CodecError, match="k"):
        chain.decode_for_reading(short, key="k")
    with pytest.raises(CodecError, match="k"):
        chain.decode(short, key="k", out=np.empty((128, 64), np.float32)[::2, ::2])


@pytest.mark.parametrize("order", ["C", "F"])
def test_v2_zstd_fresh_decode_matches_and_names_the_chunk(order):
    from cuzarr.codecs.v2_compat import V2CodecChain

    spec = ChunkSpec((24, 10), np.dtype(">i2"), 0, order)
    chain = V2CodecChain({"id": "zstd", "level": 1}, None, spec)
    chunk = sample(spec.shape, spec.dtype)
    encoded = bytes(chain.encode(chunk, key="k"))
    np.testing.assert_array_equal(chain.decode_for_reading(encoded, key="k"), chunk)
    big = np.zeros((48, 20), spec.dtype)
    np.testing.assert_array_equal(chain.decode(encoded, key="k", out=big[::2, ::2]), chunk)
    for bad in (encoded[:-3], b"\x28\xb5\x2f\xfd" + encoded[4:40]):
        with pytest.raises(CodecError, match="'k'.*zstd|zstd.*'k'"):
            chain.decode_for_reading(bad, key="k")
        with pytest.raises(CodecError, match="'k'.*zstd|zstd.*'k'"):
            chain.decode(bad, key="k", out=big[::2, ::2])
