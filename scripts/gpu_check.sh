#!/usr/bin/env bash
# The one script a GPU device session runs, from the repository root:
#   1. installs the offline wheels (make wheelhouse) into .gpuvenv, cuzarr itself via PYTHONPATH;
#   2. prints nvidia-smi; 3. runs the GPU tests (tests/gpu and the integrations' GPU variants);
#   4. runs the GPU read benchmark.
# Everything it produces is copied to $OUT (default ./gpu-out). Each stage has its own time limit
# so a hang in one still leaves the others' results. Exit status: the pytest status.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
VENV="$ROOT/.gpuvenv"

if [ ! -d wheelhouse ]; then
    echo "no wheelhouse/ here: run 'make wheelhouse' on a machine with network access first" | tee "$OUT/error.txt"
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    # the device image already has CuPy, PyTorch, pytest, hypothesis, tensorstore: reuse them
    "$PY" -m venv --system-site-packages "$VENV"
fi
# cuzarr's own dependencies first (an import error would skip every GPU test), then the peers
timeout 240 "$VENV/bin/pip" install -q --no-index --find-links wheelhouse \
    nvidia-nvcomp-cu13 kvikio-cu13 numcodecs crc32c zstandard deflate fsspec filelock zarr "dask[array]" \
    2>&1 | tail -5 | tee "$OUT/pip.txt"
export PYTHONPATH="$ROOT/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export CUZARR_KERNELS="$ROOT/kernels"

nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt"
"$VENV/bin/python" -c "import cupy, numpy; from nvidia import nvcomp; print('cupy', cupy.__version__, 'nvcomp', nvcomp.__version__, 'numpy', numpy.__version__)" 2>&1 | tee "$OUT/versions.txt"

# tests/gpu, then the GPU variants of the dask, xarray and torch integrations
timeout 300 "$VENV/bin/python" -m pytest -m gpu -q -p no:cacheprovider --tb=short -rs \
    tests/gpu tests/integrations 2>&1 | tee "$OUT/pytest-gpu.txt"
status=${PIPESTATUS[0]}

timeout 240 "$VENV/bin/python" benchmarks/gpu_read.py --device cuda --json "$OUT/gpu_read.json" 2>&1 | tee "$OUT/gpu_read.txt"
mkdir -p benchmarks/results && cp -f "$OUT/gpu_read.json" benchmarks/results/ 2>/dev/null || true
exit "$status"
