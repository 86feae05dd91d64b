"""Shared fixtures: a clean global config for every test; ``gpu`` tests skip without a device."""

from __future__ import annotations

import pytest

import cuzarr


@pytest.fixture(autouse=True)
def _reset_config():
    yield
    cuzarr.config.reset()


def _has_device() -> bool:
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` skip cleanly without CuPy and a CUDA device."""
    if not any(item.get_closest_marker("gpu") for item in items) or _has_device():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
