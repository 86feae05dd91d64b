# cuzarr developer commands. A fresh machine needs only `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
NVCC ?= nvcc
KERNELS := $(wildcard kernels/*.cu)

.PHONY: install demo test lint kernels bench gpu-test wheelhouse clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
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

gpu-test: $(STAMP)
	$(PY) -m pytest -q -m gpu tests

bench: $(STAMP)
	$(PY) benchmarks/read_write.py

# Wheels for the offline GPU machine (Python 3.12, manylinux x86_64).
wheelhouse:
	$(PY) -m pip download -q -d wheelhouse --only-binary=:all: --python-version 3.12 \
		--platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
		"cupy-cuda13x" "nvidia-nvcomp-cu13" "kvikio-cu13" numpy numcodecs crc32c fsspec pytest hypothesis \
		"zarr>=3.1" tensorstore

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
