"""to_zarr's ``compute``, ``write_empty_chunks``, ``safe_chunks`` and ``align_chunks`` against
xarray's own ``to_zarr`` on the same data: the same stores (read back with ``xr.open_zarr`` and
with ``engine="cuzarr"``), at every stage, and the same errors."""

from __future__ import annotations

import inspect
import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
dask = pytest.importorskip("dask")
pytest.importorskip("dask.array")
pytest.importorskip("zarr")
from dask.delayed import Delayed  # noqa: E402

from cuzarr.integrations.xarray_write import to_zarr  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python: v3 consolidated metadata

FORMATS = pytest.mark.parametrize("zarr_format", [2, 3])
REQUIRES_ALIGN_CHUNKS = pytest.mark.skipif(
    "align_chunks" not in inspect.signature(xr.Dataset.to_zarr).parameters,
    reason="xarray < 2025.06 has no align_chunks",
)

Writer = Callable[..., Any]


def xarray_writer(data: Any, path: str, **kwargs: Any) -> Any:
    return data.to_zarr(path, **kwargs)


WRITERS = {"xarray": xarray_writer, "cuzarr": to_zarr}


def make_dataset() -> xr.Dataset:
    rng = np.random.default_rng(11)
    temp = rng.random((8, 4, 6))
    temp[1, 2, 3] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "y", "x"), temp, {"units": "K"}),
            "count": (("time", "y"), np.arange(32, dtype="f8").reshape(8, 4) * 0.5),
        },
        coords={
            "time": pd.date_range("2022-03-01", periods=8, freq="h"),
            "y": np.arange(4) * 10.0,
            "x": np.arange(6),
            "label": ("x", np.arange(6) * 2.5),
        },
        attrs={"title": "options"},
    )
    ds["temp"].encoding.update(_FillValue=-9999.0, chunks=(2, 4, 3))
    ds["count"].encoding.update(dtype="int16", scale_factor=0.5, _FillValue=-1, chunks=(4, 2))
    return ds


def chunked(ds: xr.Dataset) -> xr.Dataset:
    """``temp`` and the non-index coordinate ``label`` dask-backed (chunk-aligned), ``count`` in memory."""
    out = ds.chunk({"time": 2, "x": 3})
    return out.assign(count=ds["count"])


def read(path: str, *, engine: str | None = None, **kwargs: Any) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if engine is None:
            return xr.open_zarr(path, **kwargs).load()
        return xr.open_dataset(path, engine=engine, **kwargs).load()


def assert_same_stores(got_path: str, expected_path: str) -> xr.Dataset:
    """Both stores read the same with zarr-python (decoded and raw) and with engine="cuzarr"."""
    expected = read(expected_path)
    got = read(got_path)
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(read(got_path, decode_cf=False), read(expected_path, decode_cf=False))
    xr.testing.assert_identical(read(got_path, engine="cuzarr"), expected)
    return got


def assert_same_stores_group(tmp_path: Path, group: str) -> xr.Dataset:
    """One group of the two stores, read with zarr-python and with engine="cuzarr"."""
    expected = read(str(tmp_path / "xarray.zarr"), group=group)
    got = read(str(tmp_path / "cuzarr.zarr"), group=group)
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(read(str(tmp_path / "cuzarr.zarr"), engine="cuzarr", group=group), expected)
    return got


def chunk_files(path: str, name: str) -> int:
    """How many chunk (or shard) objects variable ``name`` has in the local store at ``path``."""
    metadata = {".zarray", ".zattrs", "zarr.json"}
    return sum(f not in metadata for _, _, files in os.walk(os.path.join(path, name)) for f in files)


def both(tmp_path: Path, scenario: Callable[[str, Writer], Any]) -> tuple[Any, Any]:
    """Run ``scenario`` with xarray's writer and with cuzarr's, into xarray.zarr and cuzarr.zarr."""
    return tuple(scenario(str(tmp_path / f"{name}.zarr"), write) for name, write in WRITERS.items())


# -- compute=False ------------------------------------------------------------------------------


@FORMATS
def test_compute_false_writes_metadata_now_and_dask_data_on_compute(tmp_path, zarr_format):
    ds = make_dataset()
    data = chunked(ds)
    expected_delayed, got_delayed = both(
        tmp_path, lambda path, write: write(data, path, zarr_format=zarr_format, compute=False)
    )
    assert isinstance(got_delayed, Delayed) and isinstance(expected_delayed, Delayed)
    xarray_path, cuzarr_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    # metadata, index coordinates and in-memory variables are written; dask-backed ones are not
    pending = assert_same_stores(cuzarr_path, xarray_path)
    assert np.isnan(pending["temp"].values).all() and np.isnan(pending["label"].values).all()
    np.testing.assert_array_equal(pending["count"].values, ds["count"].values)
    xr.testing.assert_identical(pending["time"], ds["time"])
    assert chunk_files(cuzarr_path, "temp") == chunk_files(xarray_path, "temp") == 0
    # consolidated metadata is written eagerly, as xarray does
    xr.testing.assert_identical(read(cuzarr_path, consolidated=True), pending)

    assert got_delayed.compute() is None and expected_delayed.compute() is None
    got = assert_same_stores(cuzarr_path, xarray_path)
    xr.testing.assert_identical(got, ds)
    assert chunk_files(cuzarr_path, "temp") == 8


@FORMATS
def test_compute_true_returns_the_group_with_everything_written(tmp_path, zarr_format):
    ds = make_dataset()
    root = to_zarr(chunked(ds), str(tmp_path / "c.zarr"), zarr_format=zarr_format)
    assert isinstance(root, cuzarr.Group) and root.zarr_format == zarr_format
    xr.testing.assert_identical(read(str(tmp_path / "c.zarr"), engine="cuzarr"), ds)


@FORMATS
def test_compute_false_append_resizes_now_and_fills_on_compute(tmp_path, zarr_format):
    ds = make_dataset()

    def scenario(path: str, write: Writer) -> Any:
        write(ds.isel(time=slice(0, 4)), path, zarr_format=zarr_format)
        rest = ds.isel(time=slice(4, None))
        rest = rest.chunk({"time": 2}).assign(count=rest["count"])  # aligned, for xarray
        return write(rest, path, append_dim="time", compute=False)

    expected_delayed, got_delayed = both(tmp_path, scenario)
    xarray_path, cuzarr_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    pending = assert_same_stores(cuzarr_path, xarray_path)
    assert pending.sizes["time"] == 8 and np.isnan(pending["temp"][4:].values).all()
    xr.testing.assert_identical(pending["time"], ds["time"])
    assert read(cuzarr_path, consolidated=True).sizes["time"] == 8
    dask.compute(got_delayed, expected_delayed)
    xr.testing.assert_identical(assert_same_stores(cuzarr_path, xarray_path), ds)


@FORMATS
def test_compute_false_template_then_region_writes(tmp_path, zarr_format):
    """xarray's recipe: write a lazy template's metadata only, then fill it region by region."""
    ds = make_dataset()
    template = chunked(ds).drop_vars("count") * 0

    def scenario(path: str, write: Writer) -> None:
        write(template, path, zarr_format=zarr_format, compute=False)  # never computed
        for start in range(0, 8, 2):
            part = ds[["temp"]].isel(time=slice(start, start + 2)).drop_vars(["x", "y", "label"])
            write(part.chunk({"time": 2}), path, region={"time": slice(start, start + 2)})

    both(tmp_path, scenario)
    got = assert_same_stores(str(tmp_path / "cuzarr.zarr"), str(tmp_path / "xarray.zarr"))
    np.testing.assert_array_equal(got["temp"].values, ds["temp"].values)
    assert np.isnan(got["label"].values).all()  # the template's dask coordinate was never written


def test_compute_false_datatree(tmp_path):
    ds = make_dataset()
    tree = xr.DataTree.from_dict({"/": ds[["count"]], "/lazy": chunked(ds).drop_vars("count")})
    delayed = {}
    for name, write in WRITERS.items():
        delayed[name] = write(tree, str(tmp_path / f"{name}.zarr"), compute=False)
    assert isinstance(delayed["cuzarr"], Delayed)
    for group, pending_is_nan in (("/", False), ("lazy", True)):
        got = assert_same_stores_group(tmp_path, group)
        assert np.isnan(got[list(got.data_vars)[0]].values).all() == pending_is_nan
    dask.compute(*delayed.values())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = xr.open_datatree(str(tmp_path / "cuzarr.zarr"), engine="zarr").load()
        by_cuzarr = xr.open_datatree(str(tmp_path / "cuzarr.zarr"), engine="cuzarr").load()
        expected = xr.open_datatree(str(tmp_path / "xarray.zarr"), engine="zarr").load()
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(by_cuzarr, expected)
    xr.testing.assert_identical(got["lazy"]["temp"], ds["temp"])


def test_compute_false_without_dask_data_still_returns_a_delayed(tmp_path):
    ds = make_dataset()
    delayed = to_zarr(ds, str(tmp_path / "c.zarr"), compute=False)
    assert isinstance(delayed, Delayed)
    xr.testing.assert_identical(read(str(tmp_path / "c.zarr")), ds)  # all of it is written already
    assert delayed.compute() is None


# -- write_empty_chunks -----------------------------------------------------------------------


def sparse_dataset() -> xr.Dataset:
    """'v' has NaN (its fill value) in 4 of its 8 chunks; 'i' is -1 (its _FillValue) in 7 of 8."""
    v = np.zeros((8, 6))
    v[:4] = np.nan
    i = np.full((8, 6), -1, "i4")
    i[:2, :3] = 5
    ds = xr.Dataset({"v": (("t", "x"), v), "i": (("t", "x"), i)})
    ds["v"].encoding["chunks"] = (2, 3)
    ds["i"].encoding.update(chunks=(2, 3), _FillValue=-1)
    return ds


@FORMATS
@pytest.mark.parametrize("write_empty", [None, False, True])
@pytest.mark.parametrize("lazy", [False, True], ids=["numpy", "dask"])
def test_write_empty_chunks_stores_the_chunks_xarray_stores(tmp_path, zarr_format, write_empty, lazy):
    ds = sparse_dataset()
    data = ds.chunk({"t": 2}) if lazy else ds
    # a region of fill values written into the existing arrays afterwards
    blank = xr.Dataset(
        {"v": (("t", "x"), np.full((2, 6), np.nan)), "i": (("t", "x"), np.full((2, 6), -1, "i4"))}
    )
    counts = {}
    for name, write in WRITERS.items():
        path = str(tmp_path / f"{name}.zarr")
        write(data, path, zarr_format=zarr_format, write_empty_chunks=write_empty)
        created = chunk_files(path, "v"), chunk_files(path, "i")
        write(blank, path, region={"t": slice(4, 6)}, write_empty_chunks=write_empty)
        counts[name] = created, (chunk_files(path, "v"), chunk_files(path, "i"))
    assert counts["cuzarr"] == counts["xarray"]
    skip_empty = not write_empty
    assert counts["cuzarr"][0][0] == (4 if skip_empty else 8)
    assert counts["cuzarr"][1][0] == (2 if skip_empty else 8)  # the blank region's chunks deleted
    got = assert_same_stores(str(tmp_path / "cuzarr.zarr"), str(tmp_path / "xarray.zarr"))
    assert np.isnan(got["v"][:6].values).all() and (got["v"][6:].values == 0).all()
    assert got["i"][0, 0] == 5 and np.isnan(got["i"][4:6].values).all()


@FORMATS
def test_write_empty_chunks_from_encoding(tmp_path, zarr_format):
    ds = sparse_dataset()
    encoding = {
        "v": {"write_empty_chunks": True, "chunks": (2, 3)},
        "i": {"write_empty_chunks": False, "chunks": (2, 3)},
    }
    for name, write in WRITERS.items():
        write(ds, str(tmp_path / f"{name}.zarr"), zarr_format=zarr_format, encoding=encoding)
    got, expected = str(tmp_path / "cuzarr.zarr"), str(tmp_path / "xarray.zarr")
    assert chunk_files(got, "v") == chunk_files(expected, "v") == 8
    assert chunk_files(got, "i") == chunk_files(expected, "i")
    assert_same_stores(got, expected)


def test_write_empty_chunks_disagreeing_with_encoding_is_refused(tmp_path):
    ds = sparse_dataset()
    ds["v"].encoding["write_empty_chunks"] = True
    for name, write in WRITERS.items():
        with pytest.raises(ValueError, match='Differing "write_empty_chunks" values'):
            write(ds, str(tmp_path / f"{name}.zarr"), write_empty_chunks=False)
    assert "v" not in cuzarr.open_group(str(tmp_path / "cuzarr.zarr"), mode="r")  # refused before writing


# -- safe_chunks / align_chunks -----------------------------------------------------------------

# (how the dask data reaches the store, stored length, stored chunk, dask chunks, region written
# (the new part for an append), outcome with safe_chunks=True and align_chunks=False)
CHUNK_CASES = {
    "new-aligned": ("new", 12, 4, 4, None, "ok"),
    "new-many-to-one": ("new", 12, 2, 4, None, "ok"),
    "new-straddling": ("new", 12, 4, (4, 2, 2, 4), None, "ValueError"),
    "append-partial-first-chunk": ("append", 4, 3, (2, 3), (4, 9), "ok"),
    "append-straddling": ("append", 6, 3, 1, (6, 9), "ValueError"),
    "r+-aligned": ("r+", 12, 4, 4, (4, 12), "ok"),
    "r+-ends-at-array-end": ("r+", 11, 4, 3, (8, 11), "ok"),
    "r+-edge-inside-chunk": ("r+", 12, 4, (2, 4, 2), (2, 10), "ValueError"),
    "r+-stop-inside-chunk": ("r+", 12, 4, 3, (4, 7), "ValueError"),
    "a-partial-edges": ("a", 12, 4, (2, 4, 2), (2, 10), "ok"),
    "a-straddling": ("a", 12, 4, (4, 4), (2, 10), "ValueError"),
}


def chunk_scenario(case: str, write: Writer, path: str, **options: Any) -> None:
    kind, size, zarr_chunk, dask_chunks, region, _ = CHUNK_CASES[case]
    if kind == "new":
        ds = xr.Dataset({"v": ("t", np.arange(float(size)))}).chunk({"t": dask_chunks})
        ds["v"].encoding["chunks"] = (zarr_chunk,)
        write(ds, path, mode="w", **options)
        return
    base = xr.Dataset({"v": ("t", np.zeros(size))})
    base["v"].encoding["chunks"] = (zarr_chunk,)
    base.to_zarr(path, mode="w")
    start, stop = region
    part = xr.Dataset({"v": ("t", np.arange(1.0, stop - start + 1))}).chunk({"t": dask_chunks})
    if kind == "append":
        write(part, path, append_dim="t", **options)
    else:
        write(part, path, region={"t": slice(start, stop)}, mode=kind, **options)


def outcome(write: Callable[[], Any]) -> tuple[str, str]:
    try:
        write()
    except Exception as error:  # noqa: BLE001 - the outcome is compared with xarray's
        return type(error).__name__, str(error)
    return "ok", ""


@REQUIRES_ALIGN_CHUNKS
@pytest.mark.parametrize("case", list(CHUNK_CASES))
def test_safe_chunks_refuses_what_xarray_refuses(tmp_path, case):
    """With align_chunks=False, safe_chunks=True raises where xarray does, before writing anything."""
    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    options = {"safe_chunks": True, "align_chunks": False}
    expected, _ = outcome(lambda: chunk_scenario(case, xarray_writer, expected_path, **options))
    got, message = outcome(lambda: chunk_scenario(case, to_zarr, got_path, **options))
    assert got == expected == CHUNK_CASES[case][-1]
    if got == "ok":
        assert_same_stores(got_path, expected_path)
        return
    assert "variable 'v'" in message and "dimension 't'" in message
    if CHUNK_CASES[case][0] != "new":  # untouched (xarray grows the array before refusing an append)
        stored = read(got_path)["v"]
        assert (stored.values == 0).all() and stored.sizes["t"] == CHUNK_CASES[case][1]


@REQUIRES_ALIGN_CHUNKS
@pytest.mark.parametrize("case", [c for c, v in CHUNK_CASES.items() if v[-1] == "ValueError"])
@pytest.mark.parametrize(
    "options",
    [{}, {"align_chunks": True}, {"safe_chunks": True}, {"safe_chunks": False, "align_chunks": True}],
    ids=["default", "align", "safe-only", "unsafe-align"],
)
def test_unset_or_true_align_chunks_realigns(tmp_path, case, options):
    """cuzarr's default realigns what xarray's default refuses, and writes what xarray writes
    with align_chunks=True (which in xarray also skips the safe_chunks checks)."""
    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    assert (
        outcome(lambda: chunk_scenario(case, xarray_writer, str(tmp_path / "refused.zarr")))[0]
        == "ValueError"
    )
    chunk_scenario(case, xarray_writer, expected_path, align_chunks=True)
    chunk_scenario(case, to_zarr, got_path, **options)
    assert_same_stores(got_path, expected_path)


@pytest.fixture
def concurrent_writes(monkeypatch) -> dict[str, int]:
    """The most ``cuzarr.Array.__setitem__`` calls seen running at once (each made to last 20 ms)."""
    seen = {"now": 0, "most": 0}
    guard = threading.Lock()
    original = cuzarr.Array.__setitem__

    def setitem(self: Any, selection: Any, value: Any) -> None:
        with guard:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(0.02)
            original(self, selection, value)
        finally:
            with guard:
                seen["now"] -= 1

    monkeypatch.setattr(cuzarr.Array, "__setitem__", setitem)
    return seen


@pytest.mark.parametrize("aligned", [False, True], ids=["straddling", "aligned"])
def test_unsafe_chunks_share_no_chunk_concurrently(tmp_path, concurrent_writes, aligned):
    """safe_chunks=False with align_chunks=False keeps the dask chunks: those that share a stored
    chunk write one at a time (xarray lets them race), aligned ones in parallel."""
    values = np.arange(40.0)
    data = xr.Dataset({"v": ("t", values)}).chunk({"t": 4 if aligned else 3})
    data["v"].encoding["chunks"] = (4,)
    with dask.config.set(scheduler="threads", num_workers=4):
        to_zarr(data, str(tmp_path / "c.zarr"), safe_chunks=False, align_chunks=False)
    assert (concurrent_writes["most"] > 1) == aligned
    xr.testing.assert_identical(read(str(tmp_path / "c.zarr"), engine="cuzarr"), data.compute())
    stored = cuzarr.open_array(str(tmp_path / "c.zarr"), path="v", mode="r")
    assert stored.chunks == (4,)
    np.testing.assert_array_equal(stored[...], values)
