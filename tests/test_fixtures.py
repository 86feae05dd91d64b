"""Backwards compatibility: cuzarr reads the Zarr trees other writers left in ``tests/fixtures/``.

Each ``tests/fixtures/<library>-<version>/MANIFEST.json`` lists its arrays; every one is opened
read-only and checked against its manifest entry, its data recomputed by ``fixtures/data.py``.
See ``tests/fixtures/README.md`` for how the trees were made.
"""

from __future__ import annotations

import hashlib
import json
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cuzarr

FIXTURES = Path(__file__).resolve().parent / "fixtures"
# run_path, not import: importing would drop a __pycache__ into the fixture tree
_data = runpy.run_path(str(FIXTURES / "data.py"))
expected = _data["expected"]
fill_from_json = _data["fill_from_json"]

# manifest feature -> why cuzarr cannot read it yet (the case is a strict xfail until it can)
# feature -> why cuzarr cannot read it yet (those cases become strict xfails); empty: all supported
UNSUPPORTED: dict[str, str] = {}


def _manifests() -> list[tuple[Path, dict[str, Any]]]:
    return [(path.parent, json.loads(path.read_text())) for path in sorted(FIXTURES.glob("*/MANIFEST.json"))]


def _cases() -> list[Any]:
    params = []
    for root, manifest in _manifests():
        for entry in manifest["arrays"]:
            reasons = [UNSUPPORTED[f] for f in entry["features"] if f in UNSUPPORTED]
            marks = [pytest.mark.xfail(strict=True, reason="; ".join(reasons))] if reasons else []
            params.append(pytest.param(root, entry, id=f"{root.name}/{entry['path']}", marks=marks))
    return params


CASES = _cases()


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under ``root``: directories as 'dir', files by content hash."""
    return {
        p.relative_to(root).as_posix(): "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
    }


def _assert_fill_equal(actual: Any, wanted: Any, dtype: np.dtype) -> None:
    if wanted is None:
        assert actual is None
        return
    got = np.asarray(actual).astype(dtype.newbyteorder("="))
    want = np.asarray(wanted).astype(dtype.newbyteorder("="))
    np.testing.assert_array_equal(got, want)
    if dtype.kind == "f":
        assert np.signbit(got) == np.signbit(want)


def _assert_data_equal(actual: Any, wanted: np.ndarray) -> None:
    if wanted.ndim == 0:  # zarr-python 3 returns a NumPy scalar for a 0-d array's a[...] and a[()]
        assert isinstance(actual, np.generic | np.ndarray), type(actual)
        actual = np.asarray(actual)
    assert isinstance(actual, np.ndarray), type(actual)
    assert actual.shape == wanted.shape
    assert actual.dtype == wanted.dtype, (actual.dtype, wanted.dtype)
    np.testing.assert_array_equal(actual, wanted)  # NaN equals NaN here
    if wanted.dtype.kind in "fc":  # and -0.0 must stay -0.0
        for part in ("real", "imag") if wanted.dtype.kind == "c" else ("real",):
            np.testing.assert_array_equal(
                np.signbit(getattr(actual, part)), np.signbit(getattr(wanted, part))
            )


def _partial_selection(ndim: int) -> tuple[Any, ...]:
    return {
        0: (),
        1: (slice(1, 10, 3),),
        2: (slice(1, 6, 2), slice(None, None, 2)),
        3: (slice(1, 4, 2), slice(None, None, 2), slice(0, 5, 3)),
    }[ndim]


def test_fixtures_exist():
    manifests = _manifests()
    libraries = {manifest["library"] for _, manifest in manifests}
    assert {"zarr", "tensorstore"} <= libraries, sorted(p.name for p, _ in manifests)
    assert any(manifest["version"].startswith("2.18.") for _, manifest in manifests)
    assert len(CASES) >= 30


@pytest.mark.parametrize(("root", "entry"), CASES)
def test_reads_fixture(root: Path, entry: dict[str, Any]):
    dtype = np.dtype(entry["dtype"])
    array = cuzarr.open_array(str(root / entry["path"]), mode="r")

    assert array.zarr_format == entry["zarr_format"]
    assert array.dtype == dtype
    assert array.shape == tuple(entry["shape"])
    assert array.chunks == tuple(entry["chunks"])
    assert array.shards == (None if entry["shards"] is None else tuple(entry["shards"]))
    if entry["zarr_format"] == 2:
        assert array.order == entry["order"]
    _assert_fill_equal(array.fill_value, fill_from_json(dtype, entry["fill_value"]), dtype)
    assert array.attrs.asdict() == entry["attributes"]

    wanted = expected(entry)
    _assert_data_equal(array[...], wanted)
    selection = _partial_selection(len(entry["shape"]))
    _assert_data_equal(array[selection], wanted[selection])


def test_manifests_list_every_array():
    """No array on disk is missing from its manifest, and every manifest path is an array."""
    for root, manifest in _manifests():
        listed = {entry["path"] for entry in manifest["arrays"]}
        on_disk = {
            p.parent.relative_to(root).as_posix()
            for name in (".zarray", "zarr.json")
            for p in root.rglob(name)
        }
        assert listed == on_disk, root.name
        assert manifest["versions"][manifest["library"]] == manifest["version"]


def test_reading_leaves_fixtures_untouched():
    """Opening and reading every fixture (the unsupported ones too) writes nothing."""
    before = _snapshot(FIXTURES)
    for param in CASES:
        root, entry = param.values
        try:
            array = cuzarr.open_array(str(root / entry["path"]), mode="r")
            array[...]
            dict(array.attrs)
        except Exception:
            if not param.marks:
                raise
    assert _snapshot(FIXTURES) == before
