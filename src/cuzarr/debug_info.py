"""``cuzarr.print_debug_info()``: the versions a bug report needs, laid out as zarr-python's."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

#: Distributions ``import cuzarr`` needs (pyproject's dependencies).
REQUIRED = ("numpy", "numcodecs", "crc32c", "fsspec", "filelock", "zstandard", "deflate")
#: Optional distributions, by what they enable; each tuple lists the names one package ships under
#: (the first installed one is shown).
OPTIONAL = (
    ("cupy", "cupy-cuda13x", "cupy-cuda12x"),
    ("nvidia-nvcomp-cu13", "nvidia-nvcomp-cu12"),
    ("kvikio-cu13", "kvikio-cu12", "kvikio"),
    ("zarr",),
    ("tensorstore",),
    ("dask",),
    ("xarray",),
    ("s3fs",),
    ("aiohttp",),
)


def installed_version(*distributions: str) -> tuple[str, str] | None:
    """``(name, version)`` of the first of ``distributions`` that is installed, else None."""
    for name in distributions:
        try:
            return name, version(name)
        except PackageNotFoundError:
            continue
    return None


def debug_info_lines() -> list[str]:
    """The lines ``print_debug_info`` prints (platform, Python, cuzarr, then dependencies)."""
    from . import __version__

    lines = [
        f"platform: {platform.platform()}",
        f"python: {platform.python_version()}",
        f"cuzarr: {__version__}",
        "",
    ]
    missing = []
    for title, groups in (("Required", [(n,) for n in REQUIRED]), ("Optional", OPTIONAL)):
        lines.append(f"**{title} dependencies:**")
        for names in groups:
            found = installed_version(*names)
            if found is None:
                missing.append(names[0])
            else:
                lines.append(f"{found[0]}: {found[1]}")
        lines.append("")
    if missing:
        lines += ["**Not Installed:**", *missing]
    return lines


def print_debug_info() -> None:
    """Print the platform, Python, cuzarr and dependency versions, for bug reports."""
    print("\n".join(debug_info_lines()))


__all__ = ["print_debug_info"]
