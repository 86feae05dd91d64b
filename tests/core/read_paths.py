"""Fixture running a test module through both CPU read paths."""

from __future__ import annotations

import pytest

from cuzarr.buffer.cpu import CPUBackend


@pytest.fixture(autouse=True, scope="module", params=["fused", "batched"])
def host_read_path(request):
    """Fused per-chunk tasks (local and memory stores) and the batched fetch -> decode -> scatter
    path (every other store, and the device backends): selection tests must hold for both."""
    saved = CPUBackend.fuses_chunk_io
    CPUBackend.fuses_chunk_io = request.param == "fused"
    yield request.param
    CPUBackend.fuses_chunk_io = saved
