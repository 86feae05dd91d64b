"""The torch datasets over an array opened with ``device="cuda"``, on the CuPy stand-in
(``tests/gpu/fake_cupy.py``): batches leave the device through DLPack, never through NumPy,
which CuPy refuses. The stand-in's memory is the host's, so the tensors are CPU tensors here;
``test_torch.test_cuda_tensors_through_dlpack`` checks CUDA tensors on a GPU."""

from __future__ import annotations

import pytest

import cuzarr
from tests.gpu import fake_cupy

torch = pytest.importorskip("torch")
from cuzarr.integrations.torch import ChunkDataset, ChunkIterableDataset  # noqa: E402


def test_device_arrays_reach_torch_through_dlpack(monkeypatch, local_array, data):
    fake_cupy.install(monkeypatch)
    z = cuzarr.open_array(local_array.store, mode="r", device="cuda")
    dataset = ChunkDataset(z)
    torch.testing.assert_close(dataset.get_batch([4, 1, 4]), torch.from_numpy(data[[4, 1, 4]]))
    torch.testing.assert_close(dataset[7], torch.from_numpy(data[7]))
    samples = list(ChunkIterableDataset(z))
    assert len(samples) == len(data)
    torch.testing.assert_close(torch.stack(samples), torch.from_numpy(data))
