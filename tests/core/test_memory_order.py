"""The memory layout of what reads return, as zarr-python decides it: a v2 array's metadata
``order``, else the runtime ``config={'order': ...}`` (``with_config``, ``cuzarr.config``).
Values must not change with the layout, for every selection kind, path and backend."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st

import cuzarr
from cuzarr.errors import ZarrRuntimeWarning, ZarrUserWarning

from .read_paths import host_read_path  # noqa: F401  (fixture: both CPU read paths)

DATA = np.arange(7 * 9 * 5, dtype="i4").reshape(7, 9, 5)


def _array(zarr_format: int, device: str, *, sharded: bool = False) -> cuzarr.Array:
    kwargs = {"order": "F"} if zarr_format == 2 else {"config": {"order": "F"}}
    shards = (4, 6, 5) if sharded else None
    z = cuzarr.create_array(
        {}, shape=DATA.shape, chunks=(2, 3, 5), shards=shards, dtype="i4", zarr_format=zarr_format, **kwargs
    )
    z[...] = DATA
    return z.with_device(device)


SELECTIONS = [
    ("basic", (slice(None),)),
    ("basic", (slice(1, 6), 3, slice(None, None, 2))),
    ("basic", (slice(6, 0, -2), slice(None), slice(1, 4))),
    ("orthogonal", ([0, 3, 6], slice(None), [4, 0])),
    ("orthogonal", (slice(None), np.arange(9) % 2 == 0)),
    ("coordinate", ([0, 6, 3], [8, 0, 4], [1, 1, 2])),
    ("mask", (DATA % 4 == 1,)),
    ("block", (slice(1, 3), 1)),
]


def _read(z: cuzarr.Array, kind: str, selection: tuple) -> np.ndarray:
    if kind == "basic":
        return z[selection]
    if kind == "orthogonal":
        return z.oindex[selection]
    if kind == "coordinate":
        return z.vindex[selection]
    if kind == "mask":
        return z.vindex[selection[0]]
    return z.blocks[selection]


def _expected(kind: str, selection: tuple) -> np.ndarray:
    if kind in ("basic", "coordinate", "mask"):
        return DATA[selection if kind != "mask" else selection[0]]
    if kind == "orthogonal":
        return DATA[np.ix_(*[np.arange(n)[s] for n, s in zip(DATA.shape, selection + (slice(None),) * 3)])]
    return DATA[2:6, 3:6]


@pytest.mark.parametrize("device", ["cpu", "emulated"])
@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize(("kind", "selection"), SELECTIONS)
def test_reads_return_the_arrays_order(zarr_format, sharded, device, kind, selection):
    if sharded and zarr_format == 2:
        pytest.skip("Zarr v2 has no sharding")
    z = _array(zarr_format, device, sharded=sharded)
    assert z.order == "F"
    result = _read(z, kind, selection)
    np.testing.assert_array_equal(result, _expected(kind, selection))
    assert result.flags.f_contiguous
    c_result = _read(z.with_config({"order": "C"}), kind, selection)
    np.testing.assert_array_equal(c_result, result)
    if result.ndim > 1:  # (1-d results are both C and F contiguous)
        # a v2 array's stored order wins over the runtime config, as in zarr-python
        assert c_result.flags.f_contiguous == (zarr_format == 2)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), zarr_format=st.sampled_from([2, 3]))
def test_f_order_reads_match_numpy(data, zarr_format):
    z = _array(zarr_format, "cpu")
    selection = tuple(
        data.draw(
            st.one_of(
                st.integers(-n, n - 1),
                st.builds(
                    slice,
                    st.integers(-n - 1, n + 1) | st.none(),
                    st.integers(-n - 1, n + 1) | st.none(),
                    st.sampled_from([None, 1, 2, 3, -1, -2]),
                ),
            )
        )
        for n in DATA.shape
    )
    result = z[selection]
    np.testing.assert_array_equal(result, DATA[selection])


def test_order_matches_zarr_python():
    """Where the order comes from, for v2 and v3, compared with zarr-python 3."""
    cases = [("F", {}), (None, {"order": "F"}), ("C", {"order": "F"}), (None, {})]
    for zarr_format in (2, 3):
        for order, config in cases:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                ours = cuzarr.ones(shape=(2, 2), order=order, zarr_format=zarr_format, config=config)
            with warnings.catch_warnings(record=True) as theirs_caught:
                warnings.simplefilter("always")
                theirs = zarr.ones(shape=(2, 2), order=order, zarr_format=zarr_format, config=config)
            assert ours.order == theirs.order, (zarr_format, order, config)
            assert ours[...].flags.f_contiguous == theirs[...].flags.f_contiguous
            if zarr_format == 2:
                assert ours.metadata.order == theirs.metadata.order
            warned = any(issubclass(w.category, ZarrRuntimeWarning) for w in caught)
            assert (
                warned
                == any("no effect" in str(w.message) for w in theirs_caught)
                == (zarr_format == 3 and order is not None)
            )


def test_order_survives_pickle_and_global_config():
    z = _array(3, "cpu")
    assert pickle.loads(pickle.dumps(z)).order == "F"
    with cuzarr.config.set(order="F"):
        assert cuzarr.zeros((3, 3), zarr_format=3).order == "F"
        assert cuzarr.zeros((3, 3), zarr_format=2).metadata.order == "F"
    assert cuzarr.zeros((3, 3)).order == "C"
    with pytest.raises(ValueError, match="order"):
        cuzarr.config.set(order="X")
    with pytest.raises(ValueError, match="order"):
        z.with_config({"order": "K"})


def test_v2_order_survives_copies(tmp_path):
    """An F-ordered v2 array stays F-ordered through *_like and from_array (chunks as stored)."""
    source = _array(2, "cpu")
    assert cuzarr.zeros_like(source).metadata.order == "F"
    copy = cuzarr.from_array({}, data=source)
    assert copy.metadata.order == "F"
    np.testing.assert_array_equal(copy[...], DATA)
    with pytest.warns(ZarrUserWarning, match="order='F' of the source Zarr format 2 array will be ignored"):
        v3 = cuzarr.from_array({}, data=source, zarr_format=3)
    assert v3.order == "C"
    np.testing.assert_array_equal(v3[...], DATA)
