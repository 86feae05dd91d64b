"""Planning basic selections over chunk grids, checked against NumPy slicing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuzarr.core.indexing import normalize_basic_selection
from cuzarr.core.plan import plan_basic


@st.composite
def array_and_selection(draw):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(0, 12), min_size=ndim, max_size=ndim)))
    chunks = tuple(draw(st.integers(1, 5)) for _ in shape)
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"] if n else ["slice", "full"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n - 2, n + 2))
            stop = draw(st.none() | st.integers(-n - 2, n + 2))
            step = draw(st.none() | st.integers(-4, 4).filter(lambda s: s != 0))
            items.append(slice(start, stop, step))
        else:
            items.append(slice(None))
    if items and draw(st.booleans()):
        at = draw(st.integers(0, len(items) - 1))
        items = items[:at] + [Ellipsis]
    return shape, chunks, tuple(items)


def execute(a: np.ndarray, chunks, selection):
    """Run a plan against an in-memory array split into chunks (the pipeline's contract)."""
    sel = normalize_basic_selection(selection, a.shape)
    result = np.full(sel.shape, -1, dtype=a.dtype)
    view = result.reshape(sel.full_shape)
    if sel.flip_axes:
        view = view[tuple(slice(None, None, -1) if d.flip else slice(None) for d in sel.dims)]
    for p in plan_basic(sel, chunks):
        origin = tuple(c * n for c, n in zip(p.coords, chunks))
        padded = np.full(chunks, -2, dtype=a.dtype)
        region = a[tuple(slice(o, o + n) for o, n in zip(origin, chunks))]
        padded[tuple(slice(0, s) for s in region.shape)] = region
        view[p.out_selection] = padded[p.chunk_selection]
        if p.is_whole_chunk:
            assert view[p.out_selection].shape == tuple(chunks)
    return result


@settings(max_examples=400, deadline=None)
@given(array_and_selection())
def test_plan_matches_numpy(case):
    shape, chunks, selection = case
    a = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
    np.testing.assert_array_equal(execute(a, chunks, selection), a[selection])


@settings(max_examples=200, deadline=None)
@given(array_and_selection())
def test_covers_chunk_flag_is_exact(case):
    shape, chunks, selection = case
    sel = normalize_basic_selection(selection, shape)
    for p in plan_basic(sel, chunks):
        origin = [c * n for c, n in zip(p.coords, chunks)]
        valid = [min(n, s - o) for o, n, s in zip(origin, chunks, shape)]
        touched = np.zeros(valid, dtype=bool) if valid else np.zeros((), dtype=bool)
        padded = np.zeros(chunks, dtype=bool)
        padded[p.chunk_selection] = True
        touched = padded[tuple(slice(0, v) for v in valid)]
        assert p.covers_chunk == bool(touched.all())
        assert p.is_whole_chunk == (p.covers_chunk and valid == list(chunks))


def test_projections_visit_each_chunk_once():
    sel = normalize_basic_selection((slice(None), slice(3, 17, 2)), (10, 20))
    coords = [p.coords for p in plan_basic(sel, (4, 5))]
    assert len(coords) == len(set(coords)) == 3 * 4


@pytest.mark.parametrize(
    "selection",
    [(5,), (0, 10), (-11,), (0, 0, 0), ("a",), (1.5,), (slice(0, 1, 0),), (Ellipsis, Ellipsis)],
)
def test_invalid_selections_raise(selection):
    with pytest.raises((IndexError, ValueError)):
        normalize_basic_selection(selection, (5, 10))


def test_out_of_range_message_names_axis():
    with pytest.raises(IndexError, match="axis 1 with size 10"):
        normalize_basic_selection((0, 10), (5, 10))
