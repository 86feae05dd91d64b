"""Fuzzing the device decode path (emulated): mutated chunks of every device codec.

The host parses blosc headers, block starts and stream prefixes, and container headers, then
hands addresses to kernels and nvCOMP; a wrong offset there would read or write outside the
staging buffer or the output. The emulated device checks every access against the registered
buffers (``IndexError`` otherwise), so each case must decode or raise ``CodecError`` naming the
chunk; checksummed chains must never return wrong data.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cuzarr
from cuzarr.codecs import BloscCodec, Crc32cCodec, GzipCodec, ZstdCodec
from cuzarr.errors import CodecError
from cuzarr.storage import MemoryStore
from tests.gpu import fake_cupy

from .conftest import FUZZ, case_timeout
from .seeds import mutated_bytes

CHAINS = {
    "blosc-lz4-shuffle": [BloscCodec(cname="lz4", shuffle="shuffle", typesize=4, blocksize=1024)],
    "blosc-zstd-bitshuffle": [BloscCodec(cname="zstd", shuffle="bitshuffle", typesize=4, blocksize=512)],
    "blosc-zlib": [BloscCodec(cname="zlib", shuffle="noshuffle", typesize=4)],
    "zstd": [ZstdCodec()],
    "gzip+crc32c": [GzipCodec(level=1), Crc32cCodec()],
}
#: Chains stored in shards of 2 x 2 inner chunks (the shard index is fuzzed too).
SHARDED = {"sharded-zstd": [ZstdCodec()], "sharded-blosc-lz4": [BloscCodec(cname="lz4", typesize=4)]}
CHAINS.update(SHARDED)
CHECKSUMMED = {"gzip+crc32c"}


def _stored(chain: str) -> tuple[MemoryStore, np.ndarray, dict[str, bytes]]:
    data = (np.sin(np.arange(96 * 40) / 9) * 1000).astype("<f4").reshape(96, 40)
    store = MemoryStore()
    layout = {"chunks": (24, 20), "shards": (48, 40)} if chain in SHARDED else {"chunks": (48, 20)}
    z = cuzarr.create_array(store, shape=data.shape, dtype="f4", compressors=CHAINS[chain], **layout)
    z[...] = data
    keys = ["c/0/0", "c/1/0"] if chain in SHARDED else ["c/0/0", "c/0/1", "c/1/0", "c/1/1"]
    return store, data, {key: bytes(store.get(key)) for key in keys}


@pytest.mark.parametrize("device", ["emulated", "cuda-on-host"])
@pytest.mark.parametrize("chain", list(CHAINS))
@FUZZ
@given(data=st.data())
def test_mutated_chunks_on_the_device(chain: str, device: str, data: st.DataObject) -> None:
    """``cuda-on-host``: ``CudaOps`` over the CuPy and nvCOMP stand-ins, with the kernel sources
    compiled for the host: its error path (exceptions from nvCOMP, the chunk-by-chunk search for
    the bad stream) differs from the emulated ops'."""
    store, original, chunks = _stored(chain)
    victim = data.draw(st.sampled_from(sorted(chunks)))
    store.set(victim, data.draw(mutated_bytes(chunks[victim]), label="bytes"))
    with pytest.MonkeyPatch.context() as patch:
        if device == "cuda-on-host":
            fake_cupy.install(patch)
        z = cuzarr.open_array(store, mode="r", device="cuda" if device == "cuda-on-host" else device)
        with case_timeout(f"{device}-{chain}"):
            try:
                got = z[...]
            except CodecError as exc:
                assert exc.key is not None and victim in str(exc), exc
                return
        got = got.get() if hasattr(got, "get") else got
    assert got.shape == original.shape
    if chain in CHECKSUMMED:
        np.testing.assert_array_equal(got, original)
