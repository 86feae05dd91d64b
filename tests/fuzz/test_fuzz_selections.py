"""Fuzzing selections end to end: random write/read sequences against a NumPy model over
sharded, compressed and v2 arrays, and malformed selections (which must raise IndexError,
TypeError or ValueError, never anything else and never return data)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cuzarr
from cuzarr.storage import MemoryStore

from .conftest import FUZZ, case_timeout

_CONFIGS = {
    "v3-plain": {"zarr_format": 3, "compressors": None},
    "v3-zstd": {"zarr_format": 3, "compressors": [{"name": "zstd"}]},
    "v3-sharded": {"zarr_format": 3, "sharded": True},
    "v3-empty-chunks": {"zarr_format": 3, "write_empty_chunks": True},
    "v2-blosc": {"zarr_format": 2},
    "v2-F": {"zarr_format": 2, "order": "F"},
}


def _axis(draw: st.DrawFn, n: int) -> object:
    kind = draw(st.sampled_from(["slice", "slice", "int", "full"]))
    if kind == "int" and n:
        return draw(st.integers(-n, n - 1))
    if kind == "full":
        return slice(None)
    start = draw(st.none() | st.integers(-n - 2, n + 2))
    stop = draw(st.none() | st.integers(-n - 2, n + 2))
    return slice(start, stop, draw(st.none() | st.integers(1, 3)))


@st.composite
def array_case(draw: st.DrawFn) -> tuple:
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 9)) for _ in range(ndim))
    chunks = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    ops = []
    for _ in range(draw(st.integers(1, 6))):
        sel = tuple(_axis(draw, n) for n in shape)
        ops.append((draw(st.sampled_from(["set", "set", "get", "fill"])), sel, draw(st.integers(-5, 5))))
    return shape, chunks, ops


@pytest.mark.parametrize("config", list(_CONFIGS))
@FUZZ
@given(case=array_case())
def test_write_read_model(config: str, case: tuple) -> None:
    shape, chunks, ops = case
    options = dict(_CONFIGS[config])
    shards = None
    if options.pop("sharded", False):
        shards = tuple(c * 2 for c in chunks)
    arr = cuzarr.create_array(
        MemoryStore(), shape=shape, chunks=chunks, shards=shards, dtype="i2", fill_value=3, **options
    )
    model = np.full(shape, 3, dtype="i2")
    with case_timeout("selection"):
        for op, sel, value in ops:
            if op == "get":
                np.testing.assert_array_equal(arr[sel], model[sel])
                continue
            target = model[sel]
            if op == "fill" or np.ndim(target) == 0:
                arr[sel] = value
                model[sel] = value
            else:
                block = (np.arange(target.size, dtype="i2") * value).reshape(target.shape)
                arr[sel] = block
                model[sel] = block
        np.testing.assert_array_equal(arr[...], model)


_JUNK = st.one_of(
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.integers(-(2**70), 2**70),
    st.just(Ellipsis),
    st.none(),
    st.lists(st.integers(-20, 20), max_size=4).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.booleans(), max_size=5).map(lambda v: np.array(v, dtype=bool)),
    st.slices(12),
    st.builds(slice, st.integers(-3, 3), st.integers(-3, 3), st.integers(-2, 2)),
    st.just(np.array([[1, 2], [3, 4]])),
    st.just(1.5),
    st.just(b"x"),
)


@FUZZ
@given(selection=st.lists(_JUNK, max_size=4).map(tuple) | _JUNK)
def test_malformed_selections(selection: object) -> None:
    arr = cuzarr.create_array(MemoryStore(), shape=(5, 6), chunks=(2, 4), dtype="u1", fill_value=1)
    reference = np.ones((5, 6), dtype="u1")
    with case_timeout("bad-selection"):
        try:
            expected = reference[selection]
        except Exception:
            expected = None
        try:
            out = arr[selection]
        except (IndexError, TypeError, ValueError):
            return
        if expected is not None:  # anything NumPy accepts must give NumPy's answer when accepted
            np.testing.assert_array_equal(out, expected)
        else:
            assert np.asarray(out).size <= reference.size
