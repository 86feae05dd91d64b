"""The GPU machine's script: which carried wheels it installs (only those the image lacks)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _missing_wheels():
    spec = importlib.util.spec_from_file_location("missing_wheels", ROOT / "scripts" / "missing_wheels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_wheels_of_missing_distributions_are_listed(tmp_path):
    module = _missing_wheels()
    for name in (
        "numpy-2.5.2-cp312-cp312-manylinux_2_28_x86_64.whl",  # installed here: left out
        "typing_extensions-4.16.0-py3-none-any.whl",
        "Surely.Not_Installed_pkg-1.0-py3-none-any.whl",  # any spelling of the name
        "nvidia_nvcomp_cu13_not_here-6.0.0.12-py3-none-manylinux_2_28_x86_64.whl",
    ):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "README.txt").write_text("not a wheel")
    listed = [path.name for path in module.missing(tmp_path)]
    assert listed == [
        "Surely.Not_Installed_pkg-1.0-py3-none-any.whl",
        "nvidia_nvcomp_cu13_not_here-6.0.0.12-py3-none-manylinux_2_28_x86_64.whl",
    ]
    assert module.distribution(tmp_path / listed[0]) == "surely-not-installed-pkg"
    out = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "missing_wheels.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert [Path(p).name for p in out] == listed


def test_the_script_installs_into_a_target_folder_not_a_venv():
    """The image's python3 is a venv: a venv made from it would not see CuPy, pytest or torch."""
    script = (ROOT / "scripts" / "gpu_check.sh").read_text()
    assert "-m venv" not in script
    assert "--target" in script and "missing_wheels.py" in script and "PYTHONPATH=" in script


def test_gpu_benchmark_runs_its_cuda_path_over_the_stand_ins(monkeypatch):
    """``benchmarks/gpu_read.py --device cuda`` end to end over the CuPy and nvCOMP stand-ins:
    every cuzarr reader (both nvCOMP size modes) reads the right data, and the record has the
    per-phase details the device run is for. The numbers mean nothing here."""
    import argparse

    from tests.gpu import fake_cupy

    fake_cupy.install(monkeypatch)
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("gpu_read", ROOT / "benchmarks" / "gpu_read.py")
    gpu_read = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_read)
    args = argparse.Namespace(
        device="cuda", size=2048, chunk=512, repeat=1, skip_peers=True, nvcomp_config="both", json=None
    )
    summary = gpu_read.run(args)
    assert summary["errors"] == {}
    for case in ("zstd", "blosc-lz4-shuffle", "sharded-zstd"):
        assert set(summary["gb_per_s"][case]) == {"cuzarr-cuda", "cuzarr-cuda[sizes]", "cuzarr-cpu"}
        details = summary["cuzarr_device_read"][f"{case} cuzarr-cuda"]
        assert details["phases"]["decode"]["calls"] >= 1 and details["nvcomp_offsets_form"] is True
