"""Fuzzing the read path: mutated metadata documents and chunk bytes, for every codec.

Every case either reads an array of the declared shape and dtype or raises a ``CuzarrError``
that names the document/field (metadata) or the chunk key (chunks); nothing else, and no hang.
Checksummed configurations must return the original data or an error: never wrong data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import cuzarr
from cuzarr.errors import CodecError, CuzarrError, MetadataError, NodeNotFoundError

from .conftest import FUZZ, case_timeout
from .seeds import SEED_NAMES, load_doc, mutated_bytes, mutated_json, seeds

#: Reads stop at this many elements per axis, so that a fuzzed shape cannot ask for terabytes.
_CORNER = 8


def _read_corner(store, zarr_format: int) -> np.ndarray:
    arr = cuzarr.open_array(store, mode="r", zarr_format=zarr_format)
    selection = tuple(slice(0, min(n, _CORNER)) for n in arr.shape)
    out = np.asarray(arr[selection])
    expected_shape = tuple(min(n, _CORNER) for n in arr.shape)
    assert out.shape == expected_shape, (out.shape, expected_shape)
    return out


def _check_named(exc: CuzarrError, keys: list[str]) -> None:
    """Errors must say where: a metadata source/field, or the chunk key."""
    if isinstance(exc, MetadataError):
        assert exc.source or exc.field, f"MetadataError without source or field: {exc}"
    elif isinstance(exc, CodecError):
        assert exc.key is not None and any(k in str(exc) for k in keys), f"CodecError without key: {exc}"


@pytest.mark.parametrize("name", SEED_NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_metadata(name: str, data: st.DataObject) -> None:
    seed = seeds()[name]
    doc = data.draw(mutated_json(load_doc(seed)), label="doc")
    try:
        raw = json.dumps(doc, allow_nan=False).encode()
    except ValueError:
        return
    store = seed.store(**{seed.metadata_key: raw})
    with case_timeout("metadata"):
        try:
            _read_corner(store, seed.zarr_format)
        except NodeNotFoundError:
            pass
        except CuzarrError as exc:
            _check_named(exc, seed.chunk_keys())


@pytest.mark.parametrize("fmt", [2, 3])
@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_garbage_metadata(fmt: int, raw: bytes) -> None:
    store = cuzarr.storage.MemoryStore()
    store.set("zarr.json" if fmt == 3 else ".zarray", raw)
    with case_timeout("metadata-bytes"):
        try:
            _read_corner(store, fmt)
        except NodeNotFoundError:
            pass
        except CuzarrError as exc:
            _check_named(exc, [])


_CRC_FIXED_POINT = b"\xff" * 8


def _new_crc_fixed_point(old: bytes, new: bytes) -> bool:
    """Whether the mutation wrote 8 bytes of 0xff somewhere the original did not have them."""
    start = new.find(_CRC_FIXED_POINT)
    while start != -1:
        if old[start : start + 8] != _CRC_FIXED_POINT:
            return True
        start = new.find(_CRC_FIXED_POINT, start + 1)
    return False


@pytest.mark.parametrize("name", SEED_NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_chunks(name: str, data: st.DataObject) -> None:
    seed = seeds()[name]
    keys = seed.chunk_keys()
    key = data.draw(st.sampled_from(keys), label="key")
    new = data.draw(mutated_bytes(seed.items[key]), label="bytes")
    if seed.checksummed:
        # CRC32C has fixed points: crc32c(b"\xff" * 4) == 0xffffffff, so a mutation that writes
        # 8 bytes of 0xff over a 4-byte payload and its checksum is valid data by construction
        assume(not _new_crc_fixed_point(seed.items[key], new))
    store = seed.store(**{key: new})
    with case_timeout("chunk"):
        try:
            out = _read_corner(store, seed.zarr_format)
        except CuzarrError as exc:
            assert isinstance(exc, CodecError), f"{type(exc).__name__}: {exc}"
            _check_named(exc, [key])
            return
    assert out.dtype == seed.data.dtype
    if seed.checksummed:
        np.testing.assert_array_equal(out, seed.data[: out.shape[0], : out.shape[1]])
