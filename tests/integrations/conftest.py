"""Integration tests: shared array fixtures."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(0).random((60, 24)).astype("f4")


@pytest.fixture
def local_array(tmp_path, data) -> cuzarr.Array:
    z = cuzarr.create_array(str(tmp_path / "a.zarr"), shape=data.shape, chunks=(10, 8), dtype=data.dtype)
    z[...] = data
    return z
