"""engine="cuzarr" reads what xarray's zarr backend writes, and to_zarr writes what it reads."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import cuzarr

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
pytest.importorskip("zarr")
from cuzarr.integrations.xarray_backend import (  # noqa: E402
    CuzarrBackendArray,
    CuzarrBackendEntrypoint,
    decode_fill_value,
    encode_fill_value,
)
from cuzarr.integrations.xarray_write import to_zarr  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python: v3 consolidated metadata


def make_dataset() -> xr.Dataset:
    rng = np.random.default_rng(1)
    temp = rng.random((6, 4, 5))
    temp[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "temp": (("time", "y", "x"), temp, {"units": "K", "long_name": "temperature"}),
            "count": (("time", "y"), np.arange(24, dtype="f8").reshape(6, 4) * 0.5),
        },
        coords={
            "time": pd.date_range("2020-01-01", periods=6, freq="D"),
            "y": np.arange(4) * 10.0,
            "x": np.arange(5),
            "label": ("x", np.arange(5) * 2.5),
        },
        attrs={"title": "cuzarr test", "version": 3, "levels": [1, 2]},
    )
    ds["temp"].encoding["_FillValue"] = -9999.0
    ds["count"].encoding.update(dtype="int16", scale_factor=0.5, add_offset=100.0, _FillValue=-1)
    return ds


@pytest.fixture(params=[(2, True), (2, False), (3, True), (3, False)], ids=lambda p: f"v{p[0]}-cons{p[1]}")
def xarray_written(request, tmp_path):
    zarr_format, consolidated = request.param
    path = str(tmp_path / "ds.zarr")
    make_dataset().to_zarr(path, zarr_format=zarr_format, consolidated=consolidated, mode="w")
    return path, consolidated


def test_entry_point_is_registered():
    assert "cuzarr" in xr.backends.list_engines()


def test_fill_value_coding_round_trips():
    for value, dtype in [(np.nan, "f4"), (-9999.0, "f8"), (-1, "i2"), (True, "?"), (1 + 2j, "c16")]:
        decoded = decode_fill_value(encode_fill_value(value, np.dtype(dtype)), np.dtype(dtype))
        np.testing.assert_equal(decoded, value)


def test_reads_xarray_written_stores_identically(xarray_written):
    path, consolidated = xarray_written
    expected = xr.open_zarr(path, consolidated=consolidated).load()
    got = xr.open_dataset(path, engine="cuzarr").load()
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(got, make_dataset())
    assert np.isnan(got["temp"].values[0, 0, 0]) and got["count"].encoding["scale_factor"] == 0.5
    assert got["time"].dtype.kind == "M" and got["temp"].encoding["chunks"] == (6, 4, 5)


def test_chunks_gives_dask_variables(xarray_written):
    pytest.importorskip("dask.array")
    path, _ = xarray_written
    ds = xr.open_dataset(path, engine="cuzarr", chunks={})
    assert hasattr(ds["temp"].data, "dask") and ds["temp"].chunks == ((6,), (4,), (5,))
    xr.testing.assert_identical(ds.load(), make_dataset())


def test_lazy_outer_and_vectorized_indexing(xarray_written):
    path, _ = xarray_written
    ds = xr.open_dataset(path, engine="cuzarr", mask_and_scale=False)
    raw = ds["temp"].values
    np.testing.assert_array_equal(ds["temp"][[0, 2], 1:3, [1, 4]].values, raw[[0, 2]][:, 1:3][:, :, [1, 4]])
    points = ds["temp"].isel(time=xr.DataArray([0, 5, 3], dims="p"), x=xr.DataArray([1, 2, 4], dims="p"))
    np.testing.assert_array_equal(points.values, raw[[0, 5, 3], :, [1, 2, 4]])
    np.testing.assert_array_equal(ds["temp"][-1, ::2, 3].values, raw[-1, ::2, 3])


def test_drop_variables_and_group(tmp_path):
    path = str(tmp_path / "g.zarr")
    make_dataset().to_zarr(path, group="inner/level", zarr_format=3, consolidated=True, mode="w")
    ds = xr.open_dataset(path, engine="cuzarr", group="inner/level", drop_variables=["count"])
    assert "count" not in ds and "temp" in ds
    xr.testing.assert_identical(ds.load(), make_dataset().drop_vars("count"))


def test_device_emulated_variables(xarray_written):
    path, _ = xarray_written
    ds = xr.open_dataset(path, engine="cuzarr", device="emulated")
    xr.testing.assert_identical(ds.load(), make_dataset())


def test_backend_array_takes_an_open_group(tmp_path):
    path = str(tmp_path / "o.zarr")
    make_dataset().to_zarr(path, zarr_format=2, consolidated=False, mode="w")
    group = cuzarr.open_group(path, mode="r")
    ds = xr.open_dataset(group, engine=CuzarrBackendEntrypoint)
    assert CuzarrBackendArray.__name__ in repr(ds["temp"].variable._data)  # lazy until loaded
    xr.testing.assert_identical(ds.load(), make_dataset())


@pytest.mark.parametrize("zarr_format", [2, 3])
@pytest.mark.parametrize("consolidated", [True, False])
@pytest.mark.parametrize("chunked", [False, True], ids=["numpy", "dask"])
def test_to_zarr_reads_back_with_zarr_python(tmp_path, zarr_format, consolidated, chunked):
    ds = make_dataset()
    if chunked:
        pytest.importorskip("dask.array")
        ds = ds.chunk({"time": 2})
    path = str(tmp_path / "w.zarr")
    group = to_zarr(ds, path, zarr_format=zarr_format, consolidated=consolidated)
    assert isinstance(group, cuzarr.Group) and group.zarr_format == zarr_format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = xr.open_zarr(path, consolidated=consolidated).load()
    xr.testing.assert_identical(back, ds.load())
    assert back["count"].encoding["dtype"] == np.dtype("int16")
    if chunked:
        assert back["temp"].encoding["chunks"] == (2, 4, 5)
    xr.testing.assert_identical(xr.open_dataset(path, engine="cuzarr").load(), ds.load())


def test_to_zarr_modes_and_encoding(tmp_path):
    path = str(tmp_path / "m.zarr")
    to_zarr(make_dataset(), path, encoding={"temp": {"chunks": (3, 2, 5)}})
    assert cuzarr.open_array(path, path="temp", mode="r").chunks == (3, 2, 5)
    with pytest.raises(Exception):  # noqa: B017 - 'w-' refuses an existing group
        to_zarr(make_dataset(), path)
    to_zarr(make_dataset().isel(time=slice(0, 2)), path, mode="w")
    assert xr.open_dataset(path, engine="cuzarr").sizes["time"] == 2
    with pytest.raises(ValueError, match="not in the dataset"):
        to_zarr(make_dataset(), path, mode="w", encoding={"nope": {}})


@pytest.mark.gpu
def test_device_cuda_gives_cupy_variables(xarray_written):
    import cupy

    path, _ = xarray_written
    ds = xr.open_dataset(path, engine="cuzarr", device="cuda", mask_and_scale=False, decode_times=False)
    loaded = ds["temp"].load().data
    assert isinstance(loaded, cupy.ndarray)
    np.testing.assert_array_equal(
        cupy.asnumpy(loaded), xr.open_zarr(path, mask_and_scale=False)["temp"].values
    )


@pytest.mark.gpu
def test_device_cuda_decodes_like_the_cpu(xarray_written):
    """Default CF decoding (masking, scaling, times) on the device equals a CPU read."""
    import cupy

    path, _ = xarray_written
    host = xr.open_dataset(path, engine="cuzarr").load()
    device = xr.open_dataset(path, engine="cuzarr", device="cuda")
    for name in ("temp", "count", "label"):
        got = device[name].load().data
        assert isinstance(got, cupy.ndarray), name
        np.testing.assert_array_equal(cupy.asnumpy(got), host[name].values)
    assert device.indexes["time"].equals(host.indexes["time"])
