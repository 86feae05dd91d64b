"""The integrations package stays import-light, and arrays pickle for worker processes."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

import cuzarr


def test_import_cuzarr_imports_no_integration_library():
    code = (
        "import sys, cuzarr, cuzarr.integrations; "
        "print(sorted(m for m in ('dask', 'xarray', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_names_resolve():
    pytest.importorskip("dask.array")
    import cuzarr.integrations as integrations
    from cuzarr.integrations.dask import to_dask

    assert integrations.to_dask is to_dask
    assert "ChunkDataset" in dir(integrations)
    with pytest.raises(AttributeError):
        integrations.nothing_here  # noqa: B018


@pytest.mark.parametrize("kind", ["local", "file-url", "memory-url", "memory-store"])
def test_arrays_pickle_on_every_store(tmp_path, kind):
    store = {
        "local": str(tmp_path / "a.zarr"),
        "file-url": f"file://{tmp_path}/b.zarr",
        "memory-url": f"memory://pickle-{tmp_path.name}/c.zarr",
        "memory-store": None,
    }[kind]
    z = cuzarr.create_array(store, shape=(10, 4), chunks=(5, 2), dtype="i4")
    z[...] = np.arange(40).reshape(10, 4)
    copy = pickle.loads(pickle.dumps(z))
    assert copy.shape == z.shape and copy.chunks == z.chunks
    np.testing.assert_array_equal(copy[...], z[...])
    if kind != "memory-store":  # a MemoryStore pickles as a copy of its dict
        assert copy.store == z.store


def test_device_arrays_pickle(local_array, data):
    z = cuzarr.open_array(local_array.store, mode="r", device="emulated")
    copy = pickle.loads(pickle.dumps(z))
    assert copy.device == "emulated" and copy.read_only
    np.testing.assert_array_equal(copy[...], data)


def test_forked_child_gets_a_fresh_thread_pool(local_array, data):
    """A forked worker inherits the pool object but not its threads: reads must not hang."""
    import multiprocessing

    local_array[...]  # start the parent's pool threads
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        total = pool.apply_async(_sum_in_child, (local_array,)).get(timeout=60)
    assert total == float(np.asarray(data).sum())


def _sum_in_child(array) -> float:
    return float(np.asarray(array[...]).sum())
