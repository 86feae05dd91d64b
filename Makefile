# cuzarr developer commands. A fresh machine needs only `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NVCC ?= nvcc
KERNELS := $(wildcard kernels/*.cu)
# The PyTorch loader's tests need torch. Only a CPU build is asked for (PyPI's is a CUDA build of
# several GB): it installs where pip can find one (here: the wheel in PIP_FIND_LINKS), and the
# torch tests skip elsewhere. `make TORCH_CPU= test` leaves torch out.
TORCH_CPU ?= torch==2.13.0+cpu

.PHONY: install demo test lint kernels bench gpu-test gpu-dry-run gpu-suite-on-host wheelhouse clean fuzz stress

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	test -z "$(TORCH_CPU)" || $(PY) -m pip install -q "$(TORCH_CPU)" 2>/dev/null \
		|| echo "no CPU build of torch at hand ($(TORCH_CPU)): the torch loader tests will skip"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

# Every CUDA kernel must compile, even on machines without a GPU.
kernels:
	@set -e; for f in $(KERNELS); do \
		echo "nvcc $$f"; $(NVCC) -arch=sm_90 --cubin -o /dev/null $$f; \
	done

test: $(STAMP) lint kernels
	$(PY) -m pytest -q -p no:cacheprovider tests
	$(MAKE) --no-print-directory gpu-suite-on-host

# The GPU suite (tests marked gpu) without a GPU, over the CuPy and nvCOMP stand-ins in
# tests/gpu (see tests/conftest.py): finds mistakes in the CUDA path and in the GPU tests
# before a device session spends its minutes on them.
gpu-suite-on-host: $(STAMP)
	CUZARR_FAKE_CUDA=1 $(PY) -m pytest -q -p no:cacheprovider -m gpu tests/gpu tests/integrations

# Long reliability runs (`make test` runs a few thousand fuzz cases and a few kills of each):
# 100,000+ fuzz cases (hypothesis, 1500 per test) and 1,000 random sequences of writes, resizes
# and appends (and of hierarchy edits) checked against models and zarr-python; then 50 SIGKILLs
# per layout plus the full thread/process stress and the remote-fault tests.
fuzz: $(STAMP)
	CUZARR_FUZZ_EXAMPLES=1500 CUZARR_STATEFUL_EXAMPLES=1000 $(PY) -m pytest -q -p no:cacheprovider tests/fuzz tests/interop/test_stateful.py tests/group/test_stateful_hierarchy.py

stress: $(STAMP)
	CUZARR_STRESS=1 $(PY) -m pytest -q -p no:cacheprovider tests/stress tests/storage/test_retry.py

# On the GPU machine: offline install from wheelhouse/, GPU tests, GPU benchmark (results in $$OUT).
gpu-test:
	bash scripts/gpu_check.sh

# The GPU benchmark through the emulated backend: a dry run of the device script's last stage.
gpu-dry-run: $(STAMP)
	$(PY) benchmarks/gpu_read.py --device emulated --size 2048

bench: $(STAMP)
	$(PY) benchmarks/read_write.py

# Wheels the offline GPU machine lacks (its image has CuPy, PyTorch, pytest, tensorstore): Python 3.12.
wheelhouse:
	$(PY) -m pip download -q -d wheelhouse --only-binary=:all: --python-version 3.12 \
		--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
		"nvidia-nvcomp-cu13" "kvikio-cu13" numcodecs crc32c zstandard "deflate>=0.9" fsspec filelock "zarr>=3.1" \
		"dask[array]"
	# kvikio pulls CuPy (69 MB) and NumPy (16 MB), which the image has: drop them to fit the 64 MiB carry
	# (xarray, with pandas, is on the image too, so it is not downloaded at all)
	rm -f wheelhouse/cupy_cuda* wheelhouse/numpy-*
	du -sh wheelhouse

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
