"""The CUDA kernel sources (``kernels/*.cu``) compiled for the host, and ``EmulatedOps`` running them.

``nvcc`` only proves the kernels compile; a GPU is needed to run them, and few sessions have
one. With ``cuda_host_shim.h`` (CUDA's thread indices, ``__syncthreads`` and ``__byte_perm`` on
the host) g++ builds each ``.cu`` file into a shared library, with one ``launch_<kernel>``
function per kernel. ``HostKernelOps`` is the emulated backend's ``DeviceOps`` with its NumPy
reference kernels swapped for these: the same descriptor tables, over the same host addresses,
go through the code that the GPU runs.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from cuzarr.gpu import descriptors as d
from cuzarr.gpu.cuda_ops import _KERNEL_FILES, _WORK, kernel_dir
from cuzarr.gpu.emulated_ops import EmulatedOps

SHIM = Path(__file__).with_name("cuda_host_shim.h")
_KERNEL = re.compile(r'extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)', re.S)
#: kernels that call ``__syncthreads``: their block's threads must run side by side
BLOCK_SYNC = {"checksum_batch"}


def _ctype(declaration: str) -> type:
    if "*" in declaration:
        return ctypes.c_void_p
    if "long long" in declaration:
        return ctypes.c_longlong
    if re.fullmatch(r"(const\s+)?int\s+\w+", declaration):
        return ctypes.c_int
    raise ValueError(f"no ctypes type for kernel parameter {declaration!r}")


def _launchers(source: str) -> tuple[str, dict[str, list[type]]]:
    """C++ ``launch_<kernel>(gx, gy, bx, <kernel parameters>)`` for every kernel in ``source``."""
    code, signatures = [], {}
    for name, params in _KERNEL.findall(source):
        declarations = [p.strip() for p in params.split(",") if p.strip()]
        names = [re.findall(r"\w+", p)[-1] for p in declarations]
        sync = "true" if name in BLOCK_SYNC else "false"
        code.append(
            f'extern "C" void launch_{name}(unsigned gx, unsigned gy, unsigned bx, {", ".join(declarations)}) '
            f"{{ cuzarr_launch({name}, dim3{{gx, gy, 1}}, dim3{{bx, 1, 1}}, {sync}, {', '.join(names)}); }}"
        )
        signatures[name] = [ctypes.c_uint, ctypes.c_uint, ctypes.c_uint, *map(_ctype, declarations)]
    return "\n".join(code), signatures


def build_source(source: str, stem: Path) -> dict[str, ctypes._CFuncPtr]:
    """Compile one kernel source text with g++ (files ``stem``.cu/.cpp/.so); ``{kernel: launcher}``."""
    compiler = shutil.which("g++")
    if compiler is None:
        raise RuntimeError("g++ is needed to run the CUDA kernel sources on the host")
    launchers, signatures = _launchers(source)
    cu, unit, library = stem.with_suffix(".cu"), stem.with_suffix(".cpp"), stem.with_suffix(".so")
    cu.write_text(source)
    unit.write_text(f'#include "{SHIM}"\n#include "{cu}"\n{launchers}\n')
    subprocess.run(
        [compiler, "-std=c++20", "-O1", "-shared", "-fPIC", "-pthread", str(unit), "-o", str(library)],
        check=True,
        capture_output=True,
        text=True,
    )
    loaded = ctypes.CDLL(str(library))
    functions = {}
    for name, argtypes in signatures.items():
        function = getattr(loaded, f"launch_{name}")
        function.argtypes, function.restype = argtypes, None
        functions[name] = function
    return functions


def build(out_dir: Path) -> dict[str, ctypes._CFuncPtr]:
    """Compile every ``kernels/*.cu`` into ``out_dir``; ``{kernel: launch function}``."""
    functions = {}
    for cu in sorted(kernel_dir().glob("*.cu")):
        functions.update(build_source(cu.read_text(), out_dir / cu.stem))
    return functions


class HostKernelOps(EmulatedOps):
    """``EmulatedOps`` whose kernel launches and checksums run the compiled ``.cu`` sources.

    ``grid_cap`` shrinks the launch grid CudaOps would use (their loops stride over any grid,
    and a host runs every CUDA thread one at a time); ``threads`` sets the block size of the
    per-descriptor kernels (the checksum kernel always gets its 256).
    """

    def __init__(self, kernels: dict, *, grid_cap: tuple[int, int] = (4, 8), threads: int = 64, **kwargs):
        super().__init__(**kwargs)
        self.kernels, self.grid_cap, self.threads = kernels, grid_cap, threads

    def launch(self, kernel: str, table: np.ndarray) -> None:
        self._count(kernel)
        if not len(table):
            return
        work = int(table[_WORK.get(kernel, "nbytes")].max())
        (gx, gy), (bx,) = d.launch_grid(len(table), work, self.threads)
        table = np.ascontiguousarray(table)
        self.kernels[kernel](
            min(gx, self.grid_cap[0]), min(gy, self.grid_cap[1]), bx, table.ctypes.data, len(table)
        )

    def checksum(self, table: np.ndarray, kind: int) -> tuple[np.ndarray, np.ndarray]:
        self._count("checksum")
        n = len(table)
        values, ok = np.zeros(n, np.uint32), np.zeros(n, np.uint8)
        if n:
            table = np.ascontiguousarray(table)
            self.kernels["checksum_batch"](
                min(n, self.grid_cap[0]),
                1,
                d.CHECKSUM_THREADS,
                table.ctypes.data,
                n,
                kind,
                values.ctypes.data,
                ok.ctypes.data,
            )
        return values, ok


def kernel_names() -> set[str]:
    """Every kernel ``CudaOps`` launches (the host build must provide each)."""
    return set(_KERNEL_FILES)
