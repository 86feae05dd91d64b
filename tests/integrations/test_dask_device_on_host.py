"""``cuzarr.to_dask`` / ``from_dask`` with ``device="cuda"`` over the CuPy and nvCOMP stand-ins
(``tests/gpu/fake_cupy.py``): dask arrays whose meta and chunks are device arrays, and device
chunks written back, without a host round trip CuPy would refuse. The GPU suite's
``test_cuda_arrays_give_cupy_meta_and_chunks`` repeats this with the real CuPy."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr
from tests.gpu import fake_cupy

da = pytest.importorskip("dask.array")
from cuzarr.integrations.dask import from_dask, to_dask  # noqa: E402


def test_device_dask_arrays(monkeypatch, local_array, data):
    cupy = fake_cupy.install(monkeypatch)
    z = cuzarr.open_array(local_array.store, mode="r", device="cuda")
    x = to_dask(z)
    assert isinstance(x._meta, cupy.ndarray)
    assert all(isinstance(block.compute(), cupy.ndarray) for block in x.blocks.ravel()[:3])
    result = x.compute()
    assert isinstance(result, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(result), data)
    window = x[5:37, 3:20].sum(axis=0).compute()
    assert isinstance(window, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(window), data[5:37, 3:20].sum(axis=0), rtol=1e-5)
    out = from_dask(x * 2, None, chunks=(10, 8), device="cuda")
    np.testing.assert_array_equal(cupy.asnumpy(out[...]), data * 2)
