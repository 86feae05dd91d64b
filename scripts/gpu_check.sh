#!/usr/bin/env bash
# The one script a GPU device session runs, from the repository root:
#   1. installs the offline wheels (make wheelhouse) that the image lacks into .gpusite/;
#   2. prints nvidia-smi and the versions; 3. runs the GPU tests (tests/gpu and the integrations'
#   GPU variants); 4. runs the GPU read benchmark.
# The image's python3 is itself a virtual environment (/opt/torch/.venv) holding CuPy, PyTorch,
# pytest, hypothesis and tensorstore. A venv made from it would not see them (venvs do not
# chain: --system-site-packages means the base interpreter's packages), so nothing is installed
# into a venv: the missing wheels go to a --target folder on PYTHONPATH, with cuzarr's src/.
# Everything it produces goes to $OUT (default ./gpu-out). Each stage has its own time limit,
# so a hang in one still leaves the others' results. Exit status: the pytest status.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-out}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
SITE="$ROOT/.gpusite"

if [ ! -d wheelhouse ]; then
    echo "no wheelhouse/ here: run 'make wheelhouse' on a machine with network access first" | tee "$OUT/error.txt"
    exit 2
fi
# only the distributions this interpreter does not have (pip --target would not see them installed)
"$PY" scripts/missing_wheels.py wheelhouse > "$OUT/wheels.txt"
mkdir -p "$SITE"
# shellcheck disable=SC2046  # one wheel path per line, no spaces in wheel names
timeout 120 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" $(cat "$OUT/wheels.txt") 2>&1 | tail -5 | tee "$OUT/pip.txt"
export PYTHONPATH="$SITE:$ROOT/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export CUZARR_KERNELS="$ROOT/kernels"

nvidia-smi 2>&1 | tee "$OUT/nvidia-smi.txt"
"$PY" -c "import cupy, numpy, numcodecs, zarr, cuzarr; from nvidia import nvcomp; print('cupy', cupy.__version__, 'nvcomp', nvcomp.__version__, 'numpy', numpy.__version__, 'numcodecs', numcodecs.__version__, 'zarr', zarr.__version__, 'cuzarr from', cuzarr.__file__)" 2>&1 | tee "$OUT/versions.txt"

# tests/gpu, then the GPU variants of the dask, xarray and torch integrations
# --continue-on-collection-errors: one test file that fails to import must not cost the others
timeout 240 "$PY" -m pytest -m gpu -q -p no:cacheprovider --tb=short -rs --continue-on-collection-errors \
    tests/gpu tests/integrations 2>&1 | tee "$OUT/pytest-gpu.txt"
status=${PIPESTATUS[0]}

timeout 200 "$PY" benchmarks/gpu_read.py --device cuda --json "$OUT/gpu_read.json" 2>&1 | tee "$OUT/gpu_read.txt"
mkdir -p benchmarks/results && cp -f "$OUT/gpu_read.json" benchmarks/results/ 2>/dev/null || true
exit "$status"
