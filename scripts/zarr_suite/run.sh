#!/bin/bash
# Run zarr-python's own test suite with `import zarr` resolved to cuzarr (a compatibility probe,
# not part of `make test`: most failures there are tests of zarr-python's internals).
#
#   scripts/zarr_suite/run.sh tests/test_api.py -q -W ignore [pytest args...]
#
# Downloads the zarr sdist matching the installed zarr (the test peer) and pytest-asyncio into
# .zarr-suite/ (ignored) on first use. See zarr_alias.py for what resolves to cuzarr.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
py="${PY:-$root/.venv/bin/python}"
cache="$root/.zarr-suite"
version="$("$py" -c 'import zarr; print(zarr.__version__)')"
suite="$cache/zarr-$version"
if [ ! -d "$suite/tests" ]; then
    mkdir -p "$cache"
    "$py" -m pip download -q --no-deps --no-binary :all: "zarr==$version" -d "$cache"
    tar -xzf "$cache/zarr-$version.tar.gz" -C "$cache"
    # zarr's pytest options name plugins this probe does not install
    sed -i 's/"--benchmark-columns", "min,mean,stddev,outliers,rounds,iterations",//; s/"--benchmark-disable",.*//; s/"--strict-config", //' "$suite/pyproject.toml"
fi
if [ ! -d "$cache/deps/pytest_asyncio" ]; then
    "$py" -m pip install -q --no-deps --target "$cache/deps" pytest-asyncio
fi
cd "$suite"
PYTHONPATH="$root/scripts/zarr_suite:$cache/deps" exec "$py" -m pytest -p zarr_alias -p pytest_asyncio \
    -p no:cacheprovider "$@"
