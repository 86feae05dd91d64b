"""Shared fixtures: a clean global config for every test; ``gpu`` tests skip without a device.

``CUZARR_FAKE_CUDA=1`` runs the ``gpu`` tests without a GPU, over the CuPy and nvCOMP stand-ins
(``tests/gpu/fake_cupy.py``): a dry run of the device suite (``make gpu-suite-on-host``, part of
``make test``) that finds mistakes in the CUDA path and in the GPU tests before a device session
spends time on them. Tests marked ``real_gpu`` need what the stand-ins cannot do (device memory
limits, late-running copies, DLPack into torch): skipped there, run for real on a GPU.
"""

from __future__ import annotations

import os

import pytest

import cuzarr

if os.environ.get("CUZARR_FAKE_CUDA"):
    from tests.gpu import fake_cupy

    fake_cupy.install(pytest.MonkeyPatch())  # for the whole session: never undone


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
    """Tests marked ``gpu`` skip cleanly without CuPy and a CUDA device (and those marked
    ``real_gpu`` in the stand-in dry run)."""
    if os.environ.get("CUZARR_FAKE_CUDA"):
        skip = pytest.mark.skip(reason="needs a real GPU (not the CuPy stand-in)")
        for item in items:
            if item.get_closest_marker("real_gpu") is not None:
                item.add_marker(skip)
        return
    if not any(item.get_closest_marker("gpu") for item in items) or _has_device():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
