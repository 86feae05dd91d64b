"""Integration tests: GPU-marked tests skip without CuPy and a device; shared array fixtures."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr


def _has_device() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _has_device():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(0).random((60, 24)).astype("f4")


@pytest.fixture
def local_array(tmp_path, data) -> cuzarr.Array:
    z = cuzarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, chunks=(10, 8), dtype=data.dtype)
    z[...] = data
    return z
