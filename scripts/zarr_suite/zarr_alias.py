"""pytest plugin for ``scripts/zarr_suite/run.sh``: ``import zarr`` gives cuzarr.

zarr-python's public modules (``zarr``, ``zarr.api.*``, ``zarr.storage``, ``zarr.errors``,
``zarr.codecs``) resolve to cuzarr's; every other zarr module (``zarr.core.*``, ``zarr.abc.*``,
``zarr.testing.*``, ...) becomes a stub whose names raise ``StubUsed`` when called, so the tests of
zarr-python's internals fail on their own and the rest exercise cuzarr. Loaded with ``-p`` so it
runs before zarr's conftest imports anything.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Sequence
from typing import Any

PUBLIC = {
    "zarr": "cuzarr",
    "zarr.api": "cuzarr.api",
    "zarr.api.synchronous": "cuzarr.api.synchronous",
    "zarr.api.asynchronous": "cuzarr.api.asynchronous",
    "zarr.storage": "cuzarr.storage",
    "zarr.errors": "cuzarr.errors",
    "zarr.codecs": "cuzarr.codecs",
    "zarr.abc.store": "cuzarr.storage",  # the Store ABC (zarr.abc.store.Store)
}
_WARNINGS: dict[str, type[Warning]] = {}


class StubUsed(Exception):
    """A test reached a zarr-python internal that cuzarr does not provide."""


class StubMeta(type):
    """Stubs are classes (tests subclass and annotate with them); using one raises."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith(("__", "pytest")):
            raise AttributeError(name)
        return stub(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return args[0]  # used as a decorator at import time: leave the function alone
        raise StubUsed(f"zarr internal {cls.__qualname__} used")

    def __getitem__(cls, item: Any) -> Any:
        return cls  # generic aliases in annotations

    def __or__(cls, other: Any) -> Any:
        return cls

    __ror__ = __or__


def stub(name: str) -> Any:
    """A stub for ``name``; warning classes are real ones, so ``filterwarnings`` marks parse."""
    short = name.rsplit(".", 1)[-1]
    if short.endswith("Warning"):
        return _WARNINGS.setdefault(name, type(short, (UserWarning,), {}))
    return StubMeta(short, (), {"__qualname__": name})


class _LenientModule(types.ModuleType):
    """A module whose missing names are stubs (pytest's own probes still miss)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("__", "pytest")):
            raise AttributeError(name)
        return stub(f"{self.__name__}.{name}")


class ZarrFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "zarr" or fullname.startswith("zarr."):
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _LenientModule(spec.name)
        if spec.name in PUBLIC:
            real = importlib.import_module(PUBLIC[spec.name])
            hidden = ("__name__", "__spec__", "__loader__", "__path__")
            module.__dict__.update({k: v for k, v in real.__dict__.items() if k not in hidden})
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


for _name in [k for k in sys.modules if k == "zarr" or k.startswith("zarr.")]:
    del sys.modules[_name]
sys.meta_path.insert(0, ZarrFinder())
