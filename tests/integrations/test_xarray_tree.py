"""DataTrees: engine="cuzarr" opens nested groups as xarray's zarr engine does, and to_zarr writes
a tree (a group per node) that xarray's zarr engine reads back equal to ``dt.to_zarr``'s store."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

xr = pytest.importorskip("xarray")
pd = pytest.importorskip("pandas")
pytest.importorskip("zarr")
from cuzarr.integrations.xarray_write import to_zarr  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # zarr-python: v3 consolidated metadata

LAYOUTS = pytest.mark.parametrize(
    ("zarr_format", "consolidated"),
    [(2, True), (2, False), (3, True), (3, False)],
    ids=lambda p: str(p),
)


def make_tree() -> xr.DataTree:
    rng = np.random.default_rng(3)
    time = pd.date_range("2021-06-01", periods=4, freq="D")
    root = xr.Dataset(
        {"station": ("x", np.arange(3.0))}, coords={"x": [10, 20, 30], "time": time}, attrs={"source": "tree"}
    )
    surface = xr.Dataset(
        {"temp": (("time", "x"), rng.random((4, 3)), {"units": "K"})}, attrs={"level": "surface"}
    )
    surface["temp"].encoding["_FillValue"] = -1.0
    surface["temp"][0, 0] = np.nan
    deep = xr.Dataset(
        {"salt": (("depth", "x"), rng.integers(0, 100, (2, 3)) * 0.5)}, coords={"depth": [5.0, 50.0]}
    )
    deep["salt"].encoding.update(dtype="int16", scale_factor=0.5, _FillValue=-1)
    return xr.DataTree.from_dict(
        {
            "/": root,
            "/ocean": xr.Dataset(),
            "/ocean/surface": surface,
            "/ocean/deep": deep,
            "/empty": xr.Dataset(),
        }
    )


def open_tree(path: str, **kwargs) -> xr.DataTree:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_datatree(path, **kwargs).load()


@LAYOUTS
def test_open_datatree_matches_the_zarr_engine(tmp_path, zarr_format, consolidated):
    path = str(tmp_path / "t.zarr")
    make_tree().to_zarr(path, zarr_format=zarr_format, consolidated=consolidated, mode="w")
    expected = open_tree(path, engine="zarr")
    got = open_tree(path, engine="cuzarr")
    xr.testing.assert_identical(got, expected)
    xr.testing.assert_identical(got, make_tree())
    assert got["/ocean/deep/salt"].encoding["scale_factor"] == 0.5
    assert got["/ocean/surface"].coords["time"].dtype.kind == "M"  # inherited from the root
    subtree = open_tree(path, engine="cuzarr", group="ocean")
    xr.testing.assert_identical(subtree, open_tree(path, engine="zarr", group="ocean"))


@LAYOUTS
def test_open_groups_matches_the_zarr_engine(tmp_path, zarr_format, consolidated):
    path = str(tmp_path / "g.zarr")
    make_tree().to_zarr(path, zarr_format=zarr_format, consolidated=consolidated, mode="w")
    for group in (None, "ocean", "/ocean/deep"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = xr.open_groups(path, engine="zarr", group=group)
        got = xr.open_groups(path, engine="cuzarr", group=group, drop_variables=["station"])
        assert sorted(got) == sorted(expected)
        for name, ds in expected.items():
            xr.testing.assert_identical(got[name].load(), ds.drop_vars("station", errors="ignore").load())


def test_open_datatree_with_dask_chunks(tmp_path):
    pytest.importorskip("dask.array")
    path = str(tmp_path / "c.zarr")
    make_tree().to_zarr(path, mode="w")
    tree = xr.open_datatree(path, engine="cuzarr", chunks={})
    assert hasattr(tree["/ocean/surface/temp"].data, "dask")
    xr.testing.assert_identical(tree.load(), make_tree())


@LAYOUTS
def test_to_zarr_writes_a_tree_like_xarray(tmp_path, zarr_format, consolidated):
    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    encoding = {"/ocean/surface": {"temp": {"chunks": (2, 3), "_FillValue": -5.0}}}
    make_tree().to_zarr(expected_path, zarr_format=zarr_format, consolidated=consolidated, encoding=encoding)
    to_zarr(make_tree(), got_path, zarr_format=zarr_format, consolidated=consolidated, encoding=encoding)
    got = open_tree(got_path, engine="zarr", consolidated=consolidated)
    xr.testing.assert_identical(got, open_tree(expected_path, engine="zarr", consolidated=consolidated))
    xr.testing.assert_identical(got, make_tree())
    raw = open_tree(got_path, engine="zarr", decode_cf=False)
    xr.testing.assert_identical(raw, open_tree(expected_path, engine="zarr", decode_cf=False))
    assert got["/ocean/surface/temp"].encoding["chunks"] == (2, 3)
    xr.testing.assert_identical(open_tree(got_path, engine="cuzarr"), make_tree())


def test_to_zarr_tree_mode_a_adds_to_nodes(tmp_path):
    expected_path, got_path = str(tmp_path / "xarray.zarr"), str(tmp_path / "cuzarr.zarr")
    tree = make_tree()
    changed = tree.copy()
    changed["/ocean/surface/wind"] = changed["/ocean/surface/temp"] * 2
    changed["/station"] = changed["/station"] + 1
    for path, write in ((expected_path, lambda t, p, **kw: t.to_zarr(p, **kw)), (got_path, to_zarr)):
        write(tree, path, zarr_format=3)
        write(changed, path, mode="a")
    got = open_tree(got_path, engine="zarr")
    xr.testing.assert_identical(got, open_tree(expected_path, engine="zarr"))
    xr.testing.assert_identical(got, changed)


def test_to_zarr_tree_errors(tmp_path):
    path = str(tmp_path / "e.zarr")
    with pytest.raises(ValueError, match="unexpected encoding group name"):
        to_zarr(make_tree(), path, encoding={"/nope": {}})
    with pytest.raises(NotImplementedError, match="append_dim"):
        to_zarr(make_tree(), path, append_dim="time")
    to_zarr(make_tree(), path)
    with pytest.raises(FileExistsError):
        to_zarr(make_tree(), path)  # 'w-'
    ocean = make_tree()["ocean"]
    to_zarr(ocean, path, mode="w")  # replaces the whole tree
    got = open_tree(path, engine="zarr")
    assert set(got.children) == {"surface", "deep"} and not got.data_vars
    for name in ("surface", "deep"):
        xr.testing.assert_identical(got[name].to_dataset(), ocean[name].to_dataset())
