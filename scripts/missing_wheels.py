"""Print the wheels of a folder whose distribution the running interpreter does not have.

Used by ``gpu_check.sh`` on the offline GPU machine: its image already holds CuPy, NumPy,
PyTorch and many of our dependencies' dependencies, and ``pip install --target`` would not
notice them (it installs everything it is given), so only what is missing is installed.

    python scripts/missing_wheels.py wheelhouse
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path


def distribution(wheel: Path) -> str:
    """A wheel's distribution name (the part of the file name before the version)."""
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def installed(name: str) -> bool:
    try:
        importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing(folder: Path) -> list[Path]:
    wheels = sorted(folder.glob("*.whl"))
    return [wheel for wheel in wheels if not installed(distribution(wheel))]


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "wheelhouse")
    for wheel in missing(folder):
        print(wheel)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
