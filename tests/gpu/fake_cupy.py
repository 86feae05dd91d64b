"""A stand-in for the part of CuPy that cuzarr's CUDA backend uses, over host memory.

Its ``ndarray`` is *not* a NumPy array, and it keeps CuPy's rules on the host/device border:
``numpy.asarray(device_array)`` raises ``TypeError`` (CuPy refuses implicit device-to-host
copies), ufuncs and NumPy functions given a device array and a NumPy array raise ``TypeError``,
and moving data takes ``get``/``set``/``cupy.asarray``. So a host/device mix-up in the
``CUDABackend`` path fails on a machine without a GPU, as it would on one. ``RawModule`` compiles
the kernel source it is given for the host (``host_kernels``), so launches run the real kernels.
Streams and events are recorded but everything runs at once, in order.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import shutil
import tempfile
import types
from pathlib import Path
from typing import Any

import numpy as np

from . import host_kernels

IMPLICIT = "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a NumPy array explicitly."

uint8, uint32, int64, float32, float64 = np.uint8, np.uint32, np.int64, np.float32, np.float64


def _host_of(value: Any) -> Any:
    """The NumPy array behind a device array; anything else as it is."""
    return value._a if isinstance(value, ndarray) else value


def _refuse_host_arrays(values: Any) -> None:
    for value in values:
        if isinstance(value, np.ndarray) and value.ndim > 0:
            raise TypeError(f"Unsupported type {type(value)}")  # CuPy's message for a NumPy operand


def _device(result: Any) -> Any:
    if isinstance(result, np.ndarray):
        return _wrap(result)
    if isinstance(result, tuple):
        return tuple(_device(r) for r in result)
    return result


def _wrap(array: np.ndarray, keep: Any = None) -> ndarray:
    out = ndarray.__new__(ndarray)
    out._a, out._keep = array, keep
    return out


class _Pointer:
    def __init__(self, ptr: int, owner: Any = None):
        self.ptr, self.owner = int(ptr), owner


class ndarray:  # noqa: N801 - CuPy's name
    """A device array: a NumPy array underneath that NumPy itself may not see."""

    __array_priority__ = 100.0

    def __init__(
        self, shape: Any, dtype: Any = float, memptr: Any = None, strides: Any = None, order: str = "C"
    ):
        dtype = np.dtype(dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if memptr is None:
            self._a, self._keep = np.empty(shape, dtype, order=order), None
            return
        count = int(np.prod(shape)) * dtype.itemsize
        buffer = (ctypes.c_uint8 * max(count, 1)).from_address(memptr.ptr)
        self._a = np.ndarray(shape, dtype, buffer=buffer, strides=strides, order=order)
        self._keep = memptr

    # -- what CuPy arrays have --------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    strides = property(lambda self: self._a.strides)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: _wrap(self._a.T, self))
    data = property(lambda self: _Pointer(self._a.ctypes.data, self))

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        interface = dict(self._a.__array_interface__)
        interface.update(version=3, stream=1)
        interface.pop("descr", None)
        return interface

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(IMPLICIT)

    def __dlpack__(self, *args: Any, **kwargs: Any) -> Any:
        """DLPack export (here of host memory: a consumer such as torch gets a CPU tensor)."""
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._a.__dlpack_device__()

    def get(self, stream: Any = None, order: str = "C", out: np.ndarray | None = None, blocking: bool = True):
        if out is None:
            return np.array(self._a, order=order)
        if not isinstance(out, np.ndarray):
            raise TypeError("Only numpy.ndarray can be obtained from cupy.ndarray")
        np.copyto(out, self._a)
        return out

    def set(self, arr: np.ndarray, stream: Any = None) -> None:
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self._a.shape or arr.dtype != self._a.dtype:
            raise ValueError(
                f"set(): shape or dtype mismatch, {arr.shape} {arr.dtype} for {self.shape} {self.dtype}"
            )
        self._a[...] = arr

    def __getitem__(self, key: Any) -> Any:
        return _device(self._a[_index(key)])

    def __setitem__(self, key: Any, value: Any) -> None:
        self._a[_index(key)] = _host_of(value)  # NumPy values are copied to the device, as in CuPy

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        return (_device(row) for row in self._a)

    def __bool__(self) -> bool:
        return bool(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __repr__(self) -> str:
        return f"fake_cupy.{self._a!r}"

    def item(self) -> Any:
        return self._a.item()

    def tolist(self) -> Any:
        return self._a.tolist()

    def __getattr__(self, name: str) -> Any:
        """Methods CuPy shares with NumPy (reshape, view, astype, copy, all, ...), on the device."""
        if name.startswith("_"):
            raise AttributeError(name)
        attribute = getattr(self._a, name)
        if not callable(attribute):
            return _device(attribute)

        def method(*args: Any, **kwargs: Any) -> Any:
            _refuse_host_arrays(args)
            result = attribute(*[_host_of(a) for a in args], **{k: _host_of(v) for k, v in kwargs.items()})
            if isinstance(result, np.ndarray) and np.may_share_memory(result, self._a):
                return _wrap(result, self)
            return _device(result)

        return method

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        _refuse_host_arrays(inputs)
        out = kwargs.get("out")
        if out is not None:
            _refuse_host_arrays(out)
            kwargs["out"] = tuple(_host_of(o) for o in out)
        return _device(getattr(ufunc, method)(*[_host_of(i) for i in inputs], **kwargs))

    def __array_function__(self, function: Any, types_: Any, args: Any, kwargs: Any) -> Any:
        return _call_on_device(function, args, kwargs)


def _call_on_device(function: Any, args: Any, kwargs: dict[str, Any]) -> Any:
    """A NumPy function on device arrays (also inside lists and tuples), the result on the device;
    NumPy array arguments are refused, as CuPy refuses them."""
    flat = [*args, *kwargs.values()]
    _refuse_host_arrays([*flat, *(v for a in flat if isinstance(a, list | tuple) for v in a)])
    return _device(function(*[_unwrap(a) for a in args], **{k: _unwrap(v) for k, v in kwargs.items()}))


def _unwrap(value: Any) -> Any:
    """Device arrays (also inside a list or tuple, which keeps its type) as their NumPy arrays."""
    if isinstance(value, list | tuple) and any(isinstance(v, ndarray) for v in value):
        return type(value)(_host_of(v) for v in value)
    return _host_of(value)


def _index(key: Any) -> Any:
    if isinstance(key, tuple):
        return tuple(_host_of(k) for k in key)
    return _host_of(key)


#: the operators of device arrays, as the ufuncs they run
_OPERATORS = {
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "truediv": np.true_divide,
    "matmul": np.matmul,
    "and": np.bitwise_and,
    "or": np.bitwise_or,
    "xor": np.bitwise_xor,
}
for _name, _ufunc in _OPERATORS.items():
    setattr(ndarray, f"__{_name}__", lambda self, other, _u=_ufunc: _u(self, other))
    setattr(ndarray, f"__r{_name}__", lambda self, other, _u=_ufunc: _u(other, self))
ndarray.__neg__ = lambda self: np.negative(self)  # type: ignore[attr-defined]
ndarray.__invert__ = lambda self: np.invert(self)  # type: ignore[attr-defined]
ndarray.__hash__ = None  # type: ignore[assignment]


# -- array creation ----------------------------------------------------------------------------
def empty(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    return _wrap(np.empty(shape, dtype, order=order))


def zeros(shape: Any, dtype: Any = float, order: str = "C") -> ndarray:
    return _wrap(np.zeros(shape, dtype, order=order))


def full(shape: Any, fill_value: Any, dtype: Any = None, order: str = "C") -> ndarray:
    return _wrap(np.full(shape, _host_of(fill_value), dtype, order=order))


def asarray(value: Any, dtype: Any = None, order: Any = None) -> ndarray:
    """Host values are copied to the device; device arrays are returned (or cast) as they are."""
    if isinstance(value, ndarray):
        return value if dtype is None or np.dtype(dtype) == value.dtype else value.astype(dtype)
    if hasattr(value, "__cuda_array_interface__"):  # e.g. an nvCOMP array: a view of its memory
        interface = value.__cuda_array_interface__
        dt = np.dtype(interface["typestr"])
        count = int(np.prod(interface["shape"])) * dt.itemsize
        raw = (ctypes.c_uint8 * max(count, 1)).from_address(int(interface["data"][0]))
        return _wrap(np.frombuffer(raw, dt, count // dt.itemsize).reshape(interface["shape"]), value)
    return _wrap(np.array(value, dtype=dtype, order=order or "K", copy=True))


array = asarray


def ascontiguousarray(value: Any, dtype: Any = None) -> ndarray:
    return _wrap(np.ascontiguousarray(_host_of(asarray(value, dtype))))


def broadcast_to(value: ndarray, shape: Any) -> ndarray:
    return _wrap(np.broadcast_to(value._a, shape), value)


def isnan(value: ndarray) -> ndarray:
    return np.isnan(value)


def asnumpy(value: Any) -> np.ndarray:
    return value.get() if isinstance(value, ndarray) else np.asarray(value)


def get_array_module(*args: Any) -> Any:
    return _module if any(isinstance(a, ndarray) for a in args) else np


# -- cupy.cuda ---------------------------------------------------------------------------------
class Stream:
    _current: Stream | None = None

    def __init__(self, non_blocking: bool = False, ptr: int = 0):
        self.ptr = ptr or id(self)
        self.synchronized = 0

    def synchronize(self) -> None:
        self.synchronized += 1

    def __enter__(self) -> Stream:
        self._previous, Stream._current = Stream._current, self
        return self

    def __exit__(self, *exc: Any) -> None:
        Stream._current = self._previous


class Event:
    def __init__(self, block: bool = False, disable_timing: bool = False, interprocess: bool = False):
        self.recorded_on: Any = None

    def record(self, stream: Any = None) -> None:
        self.recorded_on = stream

    def synchronize(self) -> None:
        pass


class _Pool:
    def __init__(self) -> None:
        self.freed = 0

    def free_all_blocks(self) -> None:
        self.freed += 1


class OutOfMemoryError(MemoryError):
    def __init__(self, size: int = 0, total: int = 0, limit: int = 0):
        super().__init__(f"Out of memory allocating {size:,} bytes")
        self._size = size


_NULL_STREAM = Stream(ptr=0)
_NULL_STREAM.ptr = 0
_memory_pool, _pinned_pool = _Pool(), _Pool()


def _current_stream() -> Stream:
    return Stream._current or _NULL_STREAM


def _alloc_pinned(nbytes: int) -> bytearray:
    return bytearray(max(int(nbytes), 1))


def _unowned(ptr: int, size: int, owner: Any, device_id: int | None = None) -> _Pointer:
    return _Pointer(ptr, owner)


def _memory_pointer(memory: _Pointer, offset: int) -> _Pointer:
    return _Pointer(memory.ptr + offset, memory)


class RawModule:
    """Compiles ``code`` (a kernels/*.cu source) for the host; ``get_function`` launches it there."""

    _built: dict[str, dict] = {}

    def __init__(self, code: str | None = None, *, options: tuple = (), **kwargs: Any):
        digest = hashlib.sha1(code.encode()).hexdigest()
        if digest not in RawModule._built:
            folder = Path(tempfile.mkdtemp(prefix="fake-cupy-"))
            atexit.register(shutil.rmtree, folder, True)  # a loaded library outlives its file
            RawModule._built[digest] = host_kernels.build_source(code, folder / f"m{digest[:12]}")
        self._functions = RawModule._built[digest]

    def get_function(self, name: str):
        launcher = self._functions[name]
        sync = name in host_kernels.BLOCK_SYNC

        def launch(grid: tuple, block: tuple, args: tuple) -> None:
            gx, gy = (tuple(grid) + (1, 1))[:2]
            values = [a.data.ptr if isinstance(a, ndarray) else int(a) for a in args]
            # the host runs every CUDA thread in turn: a few blocks show the grid-stride loops work
            threads = block[0] if sync else min(block[0], 64)
            launcher(min(gx, 4), min(gy, 8), threads, *values)

        return launch


def _numpy_routine(name: str) -> Any:
    """Any other ``cupy.<name>``: NumPy's routine of that name on device arrays (CuPy mirrors
    NumPy's namespace); like CuPy's, it refuses NumPy array arguments."""
    routine = getattr(np, name, None)
    if routine is None or name.startswith("_"):
        raise AttributeError(f"module 'cupy' has no attribute {name!r}")
    if not callable(routine) or isinstance(routine, type):
        return routine

    def on_device(*args: Any, **kwargs: Any) -> Any:
        return _call_on_device(routine, args, kwargs)

    return on_device


_module = types.ModuleType("cupy")
cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 1,
        getDevice=lambda: 0,
        getDeviceProperties=lambda i: {"name": b"fake_cupy host"},
    ),
    get_current_stream=_current_stream,
    Stream=Stream,
    ExternalStream=lambda ptr, device_id=-1: Stream(ptr=ptr),
    Event=Event,
    alloc_pinned_memory=_alloc_pinned,
    UnownedMemory=_unowned,
    MemoryPointer=_memory_pointer,
    memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError),
    Device=lambda i=0: types.SimpleNamespace(id=i),
)


def module() -> types.ModuleType:
    """This file as the ``cupy`` module (what ``sys.modules['cupy']`` is set to)."""
    for name in (
        "ndarray", "empty", "zeros", "full", "asarray", "array", "ascontiguousarray", "broadcast_to",
        "isnan", "asnumpy", "get_array_module", "RawModule", "cuda", "uint8", "uint32", "int64", "float32", "float64",
    ):  # fmt: skip
        setattr(_module, name, globals()[name])
    _module.__getattr__ = _numpy_routine
    _module.get_default_memory_pool = lambda: _memory_pool
    _module.get_default_pinned_memory_pool = lambda: _pinned_pool
    _module.__version__ = "14.2.0"  # the CuPy it stands in for (a valid version: xarray parses it)
    return _module


def install(monkeypatch: Any) -> types.ModuleType:
    """Make ``import cupy`` and ``from nvidia import nvcomp`` give the stand-ins for one test
    (``pytest.skip`` where g++ is missing); fake CuPy, with ``nvcomp_calls`` logging nvCOMP's calls."""
    import sys

    import pytest

    from .fake_nvcomp import FakeNvcomp

    cupy, nvcomp = module(), FakeNvcomp()
    nvidia = types.ModuleType("nvidia")
    nvidia.nvcomp = nvcomp
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "nvidia", nvidia)
    monkeypatch.setitem(sys.modules, "nvidia.nvcomp", nvcomp)
    try:
        RawModule(code="// probe\n")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    cupy.nvcomp_calls = nvcomp.calls
    return cupy
