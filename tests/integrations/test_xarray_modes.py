"""to_zarr's modes 'a', 'a-', 'r+', ``append_dim`` and ``region`` write what ``ds.to_zarr`` writes.

Every scenario runs twice, once through xarray's own zarr backend (zarr-python) and once through
cuzarr, into separate stores; both are then opened with ``xr.open_zarr`` and compared decoded, raw
(``decode_cf=False``: stored dtypes, CF attributes, time units) and by their CF encodings.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
pytest.importorskip("zarr")
from cuzarr.integrations.xarray_region import aligned_axis  # noqa: E402
from cuzarr.integrations.xarray_write import to_zarr  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python: v3 consolidated metadata

ENCODING_KEYS = ("units", "calendar", "dtype", "scale_factor", "add_offset", "_FillValue")


def make_dataset(times: int = 8) -> xr.Dataset:
    rng = np.random.default_rng(7)
    temp = rng.random((times, 4, 5))
    temp[::3, 1, 2] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "y", "x"), temp, {"units": "K"}),
            "count": (("time", "y"), np.arange(times * 4, dtype="f8").reshape(times, 4) * 0.5),
            "mask": (("y", "x"), rng.random((4, 5)) > 0.5),
        },
        coords={
            "time": pd.date_range("2020-01-01", periods=times, freq="6h"),
            "y": np.arange(4) * 10.0,
            "x": np.arange(5),
            "label": ("x", np.arange(5) * 2.5),
        },
        attrs={"title": "modes"},
    )
    ds["temp"].encoding.update(_FillValue=-9999.0, chunks=(3, 2, 5))
    ds["count"].encoding.update(dtype="int16", scale_factor=0.5, add_offset=100.0, _FillValue=-1)
    return ds


Writer = Callable[..., Any]


def xarray_writer(ds: Any, path: str, **kwargs: Any) -> None:
    # xarray refuses dask chunks that straddle Zarr chunks; cuzarr realigns them itself
    aligned = {"align_chunks": True} if ds.chunks else {}
    ds.to_zarr(path, **aligned, **kwargs)


def open_both(path: str) -> tuple[xr.Dataset, xr.Dataset]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_zarr(path).load(), xr.open_zarr(path, decode_cf=False).load()


def assert_same_result(scenario: Callable[[str, Writer], None], tmp_path: Path) -> xr.Dataset:
    """Run ``scenario`` with xarray's writer and with cuzarr's; the stores must read back the same."""
    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    scenario(expected_path, xarray_writer)
    scenario(got_path, to_zarr)
    (expected, expected_raw), (got, got_raw) = open_both(expected_path), open_both(got_path)
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(got_raw, expected_raw)
    for name in expected.variables:
        for key in ENCODING_KEYS:
            want, have = expected[name].encoding.get(key), got[name].encoding.get(key)
            assert (want, name, key) == (have, name, key) or (np.isnan(want) and np.isnan(have))
    cuzarr_read = xr.open_dataset(got_path, engine="cuzarr").load()
    xr.testing.assert_identical(cuzarr_read, expected)
    return got


FORMATS = pytest.mark.parametrize("zarr_format", [2, 3])


@FORMATS
@pytest.mark.parametrize("chunked", [False, True], ids=["numpy", "dask"])
def test_append_dim_grows_arrays_like_xarray(tmp_path, zarr_format, chunked):
    pytest.importorskip("dask.array") if chunked else None
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        first, rest = full.isel(time=slice(0, 4)), full.isel(time=slice(4, None))
        if chunked:
            first, rest = first.chunk({"time": 2}), rest.chunk({"time": 1})
        write(first, path, mode="w-", zarr_format=zarr_format)
        write(rest.isel(time=slice(0, 3)), path, append_dim="time")
        write(rest.isel(time=slice(3, None)), path, append_dim="time", mode="a")

    got = assert_same_result(scenario, tmp_path)
    xr.testing.assert_identical(got, full)
    temp = cuzarr.open_array(str(tmp_path / "cuzarr.zarr"), path="temp", mode="r")
    assert temp.shape == (8, 4, 5) and temp.chunks == (3, 2, 5)
    assert got["time"].encoding["units"].startswith("hours since 2020-01-01")


@FORMATS
def test_append_mode_a_dash_writes_only_what_grows(tmp_path, zarr_format):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full.isel(time=slice(0, 5)), path, zarr_format=zarr_format)
        # 'a-' leaves the variables without the append dimension alone: 'mask' keeps its stored values
        write(full.isel(time=slice(5, None)).assign(mask=~full["mask"]), path, append_dim="time", mode="a-")

    got = assert_same_result(scenario, tmp_path)
    xr.testing.assert_identical(got, full)


@FORMATS
def test_mode_a_adds_and_overwrites_variables(tmp_path, zarr_format):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full, path, zarr_format=zarr_format)
        changed = full.assign(temp=full["temp"] * 2, extra=(("x", "y"), np.ones((5, 4), "i4")))
        write(changed.drop_vars("count").assign_attrs(title="changed", more=1), path, mode="a")

    got = assert_same_result(scenario, tmp_path)
    assert got.attrs == {"title": "changed", "more": 1} and "count" in got and "extra" in got
    np.testing.assert_array_equal(got["temp"].values, full["temp"].values * 2)


@FORMATS
def test_mode_a_creates_a_missing_store_and_transposes_to_stored_order(tmp_path, zarr_format):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full, path, mode="a", zarr_format=zarr_format)
        write(full[["temp"]].transpose("x", "y", "time") + 1, path, mode="a")

    got = assert_same_result(scenario, tmp_path)
    assert got["temp"].dims == ("time", "y", "x")


@FORMATS
def test_mode_r_plus_rewrites_existing_variables(tmp_path, zarr_format):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full, path, zarr_format=zarr_format, consolidated=False)
        write((full * 3).assign_attrs(ignored=True), path, mode="r+", consolidated=False)

    got = assert_same_result(scenario, tmp_path)
    assert "ignored" not in got.attrs  # 'r+' changes no metadata


@FORMATS
@pytest.mark.parametrize("chunked", [False, True], ids=["numpy", "dask"])
def test_region_writes_a_slice(tmp_path, zarr_format, chunked):
    pytest.importorskip("dask.array") if chunked else None
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full, path, zarr_format=zarr_format)
        part = (full.isel(time=slice(2, 7), x=slice(1, 4)) * 10).drop_vars(["mask", "time", "x", "y"])
        if chunked:
            part = part.chunk({"time": 2})
        write(part, path, region={"time": slice(2, 7), "x": slice(1, 4)})

    got = assert_same_result(scenario, tmp_path)
    np.testing.assert_allclose(got["temp"][2:7, :, 1:4], full["temp"][2:7, :, 1:4] * 10)
    np.testing.assert_array_equal(got["temp"][:2].values, full["temp"][:2].values)


@FORMATS
@pytest.mark.parametrize("region", ["auto", {"time": "auto", "x": slice(0, 5)}], ids=["all", "one-dim"])
def test_region_auto_finds_the_slice_from_stored_coordinates(tmp_path, zarr_format, region):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full, path, zarr_format=zarr_format)
        part = full.isel(time=slice(3, 6)).drop_vars(["mask", "y"]) - 1
        write(part, path, region=region, mode="r+")

    got = assert_same_result(scenario, tmp_path)
    np.testing.assert_allclose(got["temp"][3:6].values, full["temp"][3:6].values - 1)


@FORMATS
def test_encoding_argument_replaces_a_variables_encoding(tmp_path, zarr_format):
    full = make_dataset()  # 'temp' carries _FillValue=-9999 and chunks in .encoding

    def scenario(path: str, write: Writer) -> None:
        write(full, path, zarr_format=zarr_format, encoding={"temp": {"chunks": (4, 4, 5)}})

    got = assert_same_result(scenario, tmp_path)
    assert got["temp"].encoding["chunks"] == (4, 4, 5)


def test_group_write_is_consolidated_at_the_root(tmp_path):
    full = make_dataset()

    def scenario(path: str, write: Writer) -> None:
        write(full.isel(time=slice(0, 6)), path, group="run/1", zarr_format=3)
        write(full.isel(time=slice(6, None)), path, group="run/1", append_dim="time")

    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    scenario(expected_path, xarray_writer)
    scenario(got_path, to_zarr)
    got = xr.open_zarr(got_path, group="run/1", consolidated=True).load()
    xr.testing.assert_identical(got, xr.open_zarr(expected_path, group="run/1", consolidated=True).load())
    xr.testing.assert_identical(got, full)


def test_dask_region_is_rechunked_onto_stored_chunks(tmp_path):
    da = pytest.importorskip("dask.array")
    assert aligned_axis((4, 4), 0, 4) == (4, 4)
    assert aligned_axis((3, 3, 3), 2, 4) == (2, 4, 3)
    assert aligned_axis((5,), 3, 4) == (5,)
    assert aligned_axis((0,), 3, 4) == (0,)
    path = str(tmp_path / "r.zarr")
    ds = xr.Dataset({"v": (("t", "x"), np.zeros((20, 6)))})
    ds["v"].encoding["chunks"] = (4, 3)
    to_zarr(ds, path)
    values = np.arange(13 * 6, dtype="f8").reshape(13, 6)
    part = xr.Dataset({"v": (("t", "x"), da.from_array(values, chunks=(3, 2)))})
    to_zarr(part, path, region={"t": slice(5, 18)})
    expected = np.zeros((20, 6))
    expected[5:18] = values
    np.testing.assert_array_equal(xr.open_zarr(path)["v"].values, expected)


def raised(write: Callable[[], Any]) -> BaseException:
    with pytest.raises(Exception) as info:  # noqa: PT011 - compared with xarray's error below
        write()
    return info.value


ERRORS = {
    "mode-r": (dict(mode="r"), None),
    "mode-x": (dict(mode="x"), None),
    "append-with-w": (dict(mode="w", append_dim="time"), None),
    "region-with-w": (dict(mode="w", region={"time": slice(0, 2)}), None),
    "region-auto-with-w-": (dict(mode="w-", region="auto"), None),
    "append-unknown-dim": (dict(append_dim="nope"), "does not match any existing dataset dimensions"),
    "r+-new-variable": (dict(mode="r+", new_variable=True), None),
    # xarray checks existing variables in set order, so which one it names varies between runs
    "a-changed-size": (
        dict(mode="a", subset={"x": slice(0, 2)}),
        "already exists with different dimension sizes",
    ),
    "a-renamed-dim": (dict(mode="a", rename={"x": "q"}), "already exists with different dimension names"),
    "a-encoding-existing": (dict(mode="a", encoding={"temp": {"chunks": (1, 1, 1)}}), None),
    "a-string-width": (dict(mode="a", strings=True), None),
    "region-unrelated-vars": (dict(region={"x": slice(0, 5)}), None),
    "region-not-a-dim": (dict(region={"q": slice(0, 2)}), None),
    "region-step": (dict(region={"x": slice(0, 4, 2)}, subset={"x": slice(0, 4, 2)}), None),
    "region-not-slice": (dict(region={"x": [1]}), None),
    "region-auto-gap": (dict(region="auto", mode="r+", subset={"x": [0, 2]}), None),
    "region-auto-unknown": (dict(region="auto", mode="r+", shift_x=True), None),
    "region-and-append": (
        dict(region={"time": slice(0, 2)}, append_dim="time", subset={"time": [0, 1]}),
        None,
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_xarray(tmp_path, case):
    options, match = ERRORS[case]
    options = dict(options)
    full = make_dataset()
    ds = full.drop_vars(["mask", "label", "count"]) if "region" in options else full
    if options.pop("new_variable", False):
        ds = ds.assign(new=ds["temp"] * 2)
    if "subset" in options:
        ds = ds.isel(options.pop("subset"))
    if "rename" in options:
        ds = ds.rename(options.pop("rename"))
    if options.pop("strings", False):
        ds = ds.assign(label=ds["label"].astype("S3"))
    if options.pop("shift_x", False):
        ds = ds.assign_coords(x=ds["x"] + 100)
    if options.get("region") == {"x": slice(0, 5)}:
        ds = ds.drop_vars("time")
        ds = ds.assign(when=("time", np.arange(8)))
    paths = []
    for name in ("xarray", "cuzarr"):
        path = str(tmp_path / f"{name}.zarr")
        full.to_zarr(path, mode="w")
        paths.append(path)
    expected = raised(lambda: ds.to_zarr(paths[0], **options))
    got = raised(lambda: to_zarr(ds, paths[1], **options))
    assert type(got) is type(expected)
    if match is None:
        assert str(got) == str(expected)
    else:
        assert match in str(got) and match in str(expected)
    xr.testing.assert_identical(xr.open_zarr(paths[1]).load(), full)  # nothing was written


def test_new_variable_must_match_stored_lengths(tmp_path):
    path = str(tmp_path / "n.zarr")
    full = make_dataset()
    to_zarr(full.isel(time=slice(0, 6)), path)
    grown = full.isel(time=slice(6, None)).assign(fresh=("time", np.arange(2.0)))
    # xarray writes 'fresh' with length 2 and the store no longer opens; cuzarr refuses it
    with pytest.raises(ValueError, match="new variable 'fresh' has length 2 along dimension 'time'"):
        to_zarr(grown, path, append_dim="time")
    xr.testing.assert_identical(xr.open_zarr(path).load(), full.isel(time=slice(0, 6)))


def test_r_plus_needs_an_existing_store(tmp_path):
    with pytest.raises(FileNotFoundError):
        to_zarr(make_dataset(), str(tmp_path / "missing.zarr"), mode="r+")
