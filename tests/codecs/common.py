"""Shared checks every codec test runs (like numcodecs' tests/common.py).

``check_chain`` covers: round trip for each array, decoding into a contiguous ``out`` and into a
non-contiguous view of a larger array, batch results equal to one-at-a-time results, ``None``
passing through, results being writable, and encoded values never aliasing the input chunk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cuzarr.codecs import CodecChain, V2CodecChain
from cuzarr.codecs.base import ChunkSpec

DTYPES = [
    "u1",
    "i1",
    "bool",
    "<i2",
    ">i2",
    "<u4",
    "<i8",
    "<f2",
    "<f4",
    ">f8",
    "<c8",
    "<c16",
    "<M8[s]",
    "<U3",
    "S5",
]
SHAPES = [(), (1,), (17,), (4, 5), (3, 1, 6), (2, 3, 2, 2)]


def sample(shape: tuple[int, ...], dtype: Any, seed: int = 0) -> np.ndarray:
    """Compressible but non-trivial data of any supported dtype."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype.kind == "b":
        flat = rng.integers(0, 2, n).astype(bool)
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        flat = rng.integers(max(info.min, -1000), min(info.max, 1000), n, endpoint=True)
    elif dtype.kind == "f":
        flat = np.round(rng.normal(size=n) * 100, 1)
    elif dtype.kind == "c":
        flat = rng.normal(size=n) + 1j * rng.normal(size=n)
    elif dtype.kind == "M":
        flat = rng.integers(0, 10**9, n)
    elif dtype.kind in "SU":
        flat = np.array(
            [
                "".join(rng.choice(list("abcxyz"), dtype.itemsize // (4 if dtype.kind == "U" else 1)))
                for _ in range(n)
            ]
        )
    else:
        flat = rng.integers(0, 256, n * dtype.itemsize, dtype=np.uint8).view(dtype)
    return np.asarray(flat).astype(dtype).reshape(shape)


def fortran(a: np.ndarray) -> np.ndarray:
    return np.asfortranarray(a)


def strided_view(shape: tuple[int, ...], dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """A larger zero array and a non-contiguous view of it with ``shape`` (the chunk's slot)."""
    big = np.zeros(tuple(2 * s + 1 for s in shape), dtype=dtype)
    view = big[tuple(slice(1, None, 2) for _ in shape)] if shape else big[()]
    if not shape:  # 0-d: a view into a 1-element slot of a bigger array
        big = np.zeros(3, dtype=dtype)
        view = big[1:2].reshape(())
    return big, view


def has_gzip(chain: CodecChain | V2CodecChain) -> bool:
    if isinstance(chain, V2CodecChain):
        return getattr(chain.compressor, "codec_id", None) == "gzip"
    return any(c.codec_name == "gzip" for c in chain.codecs)


def mask_gzip_mtime(raw: bytes, crc32c_after: bool = False) -> bytes:
    """Zero the gzip header's mtime (numcodecs stamps the current time), refreshing a trailing crc32c."""
    import crc32c

    body = raw[:-4] if crc32c_after else raw
    assert body[:3] == b"\x1f\x8b\x08"
    body = body[:4] + bytes(4) + body[8:]
    return body + crc32c.crc32c(body).to_bytes(4, "little") if crc32c_after else body


def assert_same(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


def check_chain(chain: CodecChain | V2CodecChain, arrays: list[np.ndarray]) -> list[Any]:
    """Run every generic check on ``chain`` with chunks ``arrays``; returns the encoded values."""
    spec = chain.spec
    keys = [f"c/{i}" for i in range(len(arrays))]
    originals = [a.copy() for a in arrays]
    encoded = chain.encode_batch(arrays, keys=keys)
    assert len(encoded) == len(arrays)
    for a, o in zip(arrays, originals):  # inputs untouched
        assert_same(a, o)
    for value, a in zip(encoded, arrays):
        memoryview(value)  # buffer protocol
        if isinstance(value, np.ndarray):
            assert not np.may_share_memory(value, a), "encoded value aliases the input chunk"
    # batch == single (gzip headers carry a timestamp, so compare those after decoding)
    single = [bytes(chain.encode(a, key=k)) for a, k in zip(arrays, keys)]
    if has_gzip(chain):
        for s, a in zip(chain.decode_batch(single, keys=keys), arrays):
            assert_same(s, a)
    else:
        assert [bytes(e) for e in encoded] == single

    # plain decode (bytes input, so no writable buffer is handed in)
    decoded = chain.decode_batch([bytes(e) for e in encoded], keys=keys)
    for d, a in zip(decoded, arrays):
        assert d.dtype == spec.dtype
        assert_same(d, a.astype(spec.dtype))
        assert d.flags.writeable
        d[...] = d  # writable for read-modify-write

    # decode into contiguous outs, in the chain's order
    outs = [np.empty(spec.shape, spec.dtype, order=spec.order) for _ in arrays]
    got = chain.decode_batch(encoded, keys=keys, outs=outs)
    for g, o, a in zip(got, outs, arrays):
        assert g is o
        assert_same(o, a)

    # decode into non-contiguous views of a larger array, with None entries mixed in
    bigs_views = [strided_view(spec.shape, spec.dtype) for _ in arrays]
    outs2 = [v for _, v in bigs_views]
    mixed = [e if i % 2 == 0 else None for i, e in enumerate(encoded)]
    got = chain.decode_batch(mixed, keys=keys, outs=outs2)
    for i, (g, (big, view), a) in enumerate(zip(got, bigs_views, arrays)):
        if i % 2:
            assert g is None
            assert_same(big, np.zeros_like(big))  # untouched
            continue
        assert g is view
        assert_same(view, a)
        if spec.shape:  # nothing outside the view was written
            mask = np.ones(big.shape, bool)
            mask[tuple(slice(1, None, 2) for _ in spec.shape)] = False
            assert_same(big[mask], np.zeros_like(big)[mask])

    # decoding into a native-order out of a non-native spec converts
    if spec.dtype.byteorder not in ("=", "|") and spec.dtype.fields is None:
        native = spec.dtype.newbyteorder("=")
        outs3 = [np.empty(spec.shape, native) for _ in arrays]
        chain.decode_batch(encoded, keys=keys, outs=outs3)
        for o, a in zip(outs3, arrays):
            assert_same(o, a)
    return encoded


def roundtrip_chain(codecs: list[Any], dtype: Any, shape: tuple[int, ...], n: int = 3) -> list[Any]:
    """Build a v3 chain for ``dtype``/``shape`` and run ``check_chain`` on a few sample chunks,
    C-ordered, Fortran-ordered and strided."""
    dtype = np.dtype(dtype)
    chain = CodecChain(codecs, ChunkSpec(shape, dtype, 0))
    arrays = [sample(shape, dtype, seed=i) for i in range(n)]
    if shape and n >= 3:
        arrays[1] = fortran(arrays[1])
        big = np.zeros(tuple(2 * s for s in shape), dtype)
        big[tuple(slice(None, None, 2) for _ in shape)] = arrays[2]
        arrays[2] = big[tuple(slice(None, None, 2) for _ in shape)]
    return check_chain(chain, arrays)


def decode_on_two_threads(
    chain: Any, encoded: list[Any], keys: list[str], monkeypatch: Any
) -> tuple[list[Any], list[Any]]:
    """``chain.decode_batch`` with ``threads=2``: the decoded chunks and the shared pool's submissions."""
    import cuzarr

    with cuzarr.config.set(threads=2):
        pool = cuzarr.config.thread_pool()
        submitted: list[Any] = []
        real_submit = pool.submit
        monkeypatch.setattr(pool, "submit", lambda *a, **k: submitted.append(a) or real_submit(*a, **k))
        return chain.decode_batch(encoded, keys=keys), submitted
