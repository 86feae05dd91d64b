"""Every CUDA kernel compiles with nvcc (no GPU needed), so syntax errors never wait for a device."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

KERNELS = sorted((Path(__file__).resolve().parents[2] / "kernels").glob("*.cu"))


def test_kernel_sources_exist():
    names = {k.stem for k in KERNELS}
    assert {"shuffle", "bitshuffle", "byteswap", "scatter", "checksum"} <= names


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not installed")
@pytest.mark.parametrize("source", KERNELS, ids=lambda p: p.name)
def test_kernel_compiles(source, tmp_path):
    result = subprocess.run(
        ["nvcc", "-arch=sm_90", "--cubin", "-o", str(tmp_path / "out.cubin"), str(source)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_kernel_names_match_ops():
    from cuzarr.gpu.ops import KERNEL_TABLES

    text = "\n".join(k.read_text() for k in KERNELS)
    for name in [*KERNEL_TABLES, "checksum_batch"]:
        assert f'extern "C" __global__ void {name}(' in text
