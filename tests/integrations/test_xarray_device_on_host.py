"""``xr.open_dataset(..., engine="cuzarr", device="cuda")`` with xarray's default CF decoding,
run over the CuPy and nvCOMP stand-ins (``tests/gpu/fake_cupy.py``: it refuses implicit
device-to-host copies as CuPy does). Data variables come back on the device, masked and scaled
exactly as a CPU read; indexes and times stay on the host, where xarray needs them.

With ``chunks=`` xarray's own dask wrapper turns every chunk into NumPy (its ``__array__`` calls
``to_numpy``, which copies CuPy arrays back), so there only the values are checked;
``cuzarr.to_dask`` gives CuPy-backed dask arrays."""

from __future__ import annotations

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

pycompat = pytest.importorskip("xarray.namedarray.pycompat")  # xarray >= 2023.12

import cuzarr  # noqa: E402
from cuzarr.integrations.xarray_backend import encode_fill_value  # noqa: E402
from tests.gpu import fake_cupy  # noqa: E402

from .test_xarray import make_dataset  # noqa: E402

#: data variables and non-index coordinates; indexes (time, x, y) stay on the host
DEVICE_VARIABLES = {"temp", "count", "flag", "label"}


@pytest.fixture
def cupy(monkeypatch):
    module = fake_cupy.install(monkeypatch)
    # xarray remembers which module is 'cupy' (and that there was none before): forget that here
    monkeypatch.setitem(pycompat._cached_duck_array_modules, "cupy", pycompat.DuckArrayModule("cupy"))
    return module


@pytest.fixture(params=[2, 3], ids=lambda f: f"v{f}")
def written(request, tmp_path):
    path = str(tmp_path / "ds.zarr")
    dataset = make_dataset()
    dataset["flag"] = (("y", "x"), (np.arange(20) % 7).reshape(4, 5).astype("i4"), {"_FillValue": 3})
    dataset.to_zarr(path, zarr_format=request.param, consolidated=True, mode="w")
    return path


@pytest.mark.parametrize(
    "decoding",
    [
        {},
        {"mask_and_scale": False},
        {"decode_times": False},
        {"mask_and_scale": False, "decode_times": False},
    ],
    ids=["default", "no-mask", "no-times", "raw"],
)
@pytest.mark.parametrize("chunks", [None, {}], ids=["eager", "dask"])
def test_variables_decode_like_a_cpu_read(cupy, written, decoding, chunks):
    host = xr.open_dataset(written, engine="cuzarr", chunks=chunks, **decoding).load()
    device = xr.open_dataset(written, engine="cuzarr", device="cuda", chunks=chunks, **decoding)
    for name, variable in device.variables.items():
        data = variable.load().data
        on_device = isinstance(data, cupy.ndarray)
        if chunks is None:
            assert on_device == (name in DEVICE_VARIABLES), (name, type(data))
        values = data.get() if on_device else data
        expected = host[name]
        assert values.dtype == expected.dtype, name
        np.testing.assert_array_equal(values, expected.values, err_msg=name)
        assert variable.attrs.keys() == expected.attrs.keys(), name
        assert all(_same(variable.attrs[k], expected.attrs[k]) for k in variable.attrs), name
        for key in ("_FillValue", "missing_value", "scale_factor", "add_offset", "dtype", "units"):
            got, want = variable.encoding.get(key), expected.encoding.get(key)
            assert _same(got, want), (name, key, got, want)


def _same(a, b) -> bool:
    """Equal, or both NaN."""
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return a == b or (np.isnan(a) and np.isnan(b))
    return a == b


def test_masking_matches_xarray_for_every_fill_kind(cupy, tmp_path):
    """Integer fills promote to float, float fills become NaN, scaled ints pick xarray's float
    dtype, and ``missing_value`` masks like ``_FillValue``."""
    path = str(tmp_path / "fills.zarr")
    raw = np.random.default_rng(2).integers(-3, 4, (6, 5))
    variables = {  # stored values and the CF attributes xarray decodes them with
        "i2_fill": (raw.astype("i2"), {"_FillValue": -3}),
        "u1_missing": ((raw + 3).astype("u1"), {"missing_value": 0}),
        "f4_fill": (raw.astype("f4"), {"_FillValue": encode_fill_value(2.0, np.dtype("f4"))}),
        "i4_scaled": (raw.astype("i4"), {"_FillValue": 1, "scale_factor": 0.25, "add_offset": -1.0}),
        "f8_plain": (raw.astype("f8"), {}),
        "b1_fill": (raw > 0, {"_FillValue": False}),  # xarray masks bools into objects: host
    }
    group = cuzarr.open_group(path, mode="w")
    for name, (values, attributes) in variables.items():
        array = group.create_array(name, shape=values.shape, dtype=values.dtype, dimension_names=("a", "b"))
        array[...] = values
        array.attrs.update(attributes)
    host = xr.open_dataset(path, engine="cuzarr").load()
    device = xr.open_dataset(path, engine="cuzarr", device="cuda").load()
    for name in variables:
        got = device[name].data
        assert isinstance(got, cupy.ndarray) == (name != "b1_fill"), name
        assert got.dtype == host[name].dtype, name
        if name == "b1_fill":
            xr.testing.assert_equal(device[name], host[name])  # objects with NaN: xarray's equality
        else:
            np.testing.assert_array_equal(got.get(), host[name].values, err_msg=name)
