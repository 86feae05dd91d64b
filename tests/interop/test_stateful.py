"""Random sequences of writes, resizes, appends and reopens, checked against a NumPy model and
against zarr-python (and tensorstore) reading the same store: the paths that only go wrong in combination (a
sharded edge chunk rewritten after a shrink, fill-value chunks dropped and written again)."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import cuzarr
from cuzarr.storage import LocalStore

from ..stateful_settings import STATEFUL

zarr = pytest.importorskip("zarr")

_ZSTD = [{"name": "zstd", "configuration": {"level": 1}}]
#: keyword arguments of the arrays the machine creates (``shards``: chunks per shard per axis)
LAYOUTS = [
    {"zarr_format": 3, "compressors": _ZSTD},
    {
        "zarr_format": 3,
        "compressors": None,
        "serializer": {"name": "bytes", "configuration": {"endian": "big"}},
    },
    {"zarr_format": 3, "compressors": _ZSTD, "shards": "end"},
    {"zarr_format": 3, "compressors": [{"name": "gzip", "configuration": {"level": 1}}], "shards": "start"},
    {
        "zarr_format": 3,
        "compressors": [
            {"name": "blosc", "configuration": {"cname": "lz4", "clevel": 3, "shuffle": "shuffle"}}
        ],
        "shards": "end",
    },
    {"zarr_format": 3, "compressors": _ZSTD, "config": {"write_empty_chunks": True}},
    {"zarr_format": 2, "compressors": {"id": "zstd", "level": 1}},
    {"zarr_format": 2, "compressors": None, "order": "F"},
    {"zarr_format": 2, "compressors": {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 2}},
]
DTYPES = ["int16", "float32", "uint8", "bool", ">f8", "complex64"]


def _dims(max_side: int = 12):
    return st.lists(st.integers(1, max_side), min_size=1, max_size=2).map(tuple)


def _resized(model: np.ndarray, shape: tuple[int, ...], fill: object) -> np.ndarray:
    """A new model: the overlap kept, the rest fill (cuzarr clears stale data when shrinking)."""
    out = np.full(shape, fill, dtype=model.dtype)
    overlap = tuple(slice(0, min(a, b)) for a, b in zip(model.shape, shape))
    out[overlap] = model[overlap]
    return out


class ArrayMachine(RuleBasedStateMachine):
    """One array in a LocalStore (a temporary directory zarr-python also reads); every rule
    changes or reads it and the model alike."""

    @initialize(
        layout=st.sampled_from(LAYOUTS),
        dtype=st.sampled_from(DTYPES),
        shape=_dims(),
        data=st.data(),
    )
    def create(self, layout, dtype, shape, data) -> None:
        self._directory = tempfile.TemporaryDirectory()
        self.store = LocalStore(self._directory.name)
        chunks = tuple(data.draw(st.integers(1, max(1, s)), label="chunk") for s in shape)
        kwargs = dict(layout)
        if "shards" in kwargs:
            shards = tuple(c * data.draw(st.integers(1, 3), label="per shard") for c in chunks)
            kwargs["shards"] = {"shape": shards, "index_location": kwargs["shards"]}
        if kwargs["zarr_format"] == 2 and np.dtype(dtype).byteorder == ">":
            dtype = "<f8"  # v2 keeps byte order in the dtype: covered by the interop tests
        if np.dtype(dtype).kind == "f" and data.draw(st.booleans(), label="NaN fill"):
            self.fill = np.array(np.nan, dtype)[()]
        else:
            self.fill = np.zeros((), dtype)[()] if dtype == "bool" else np.array(7, dtype)[()]
        self.array = cuzarr.create_array(
            self.store, shape=shape, chunks=chunks, dtype=dtype, fill_value=self.fill, **kwargs
        )
        self.model = np.full(shape, self.fill, dtype=dtype)

    def _values(self, data, shape: tuple[int, ...]) -> np.ndarray:
        dtype = self.model.dtype
        elements = None
        if dtype.kind == "f":
            elements = st.floats(-1e3, 1e3, width=32) | st.just(float("nan")) | st.just(-0.0)
        elif dtype.kind == "c":
            elements = st.complex_numbers(max_magnitude=1e3, width=64, allow_nan=False)
        return data.draw(hnp.arrays(dtype, shape, elements=elements), label="values")

    @rule(data=st.data())
    def write_basic(self, data) -> None:
        selection = data.draw(hnp.basic_indices(self.model.shape, allow_newaxis=False), label="basic")
        target = self.model[selection]
        value = self._values(data, np.shape(target))
        self.array[selection] = value
        self.model[selection] = value

    @rule(data=st.data())
    def write_orthogonal(self, data) -> None:
        selection = tuple(
            np.unique(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n), label="axis"))
            for n in self.model.shape
        )
        value = self._values(data, tuple(len(s) for s in selection))
        self.array.oindex[selection] = value
        self.model[np.ix_(*selection)] = value

    @rule(data=st.data())
    def write_points(self, data) -> None:
        count = data.draw(st.integers(1, 6), label="points")
        points = tuple(
            data.draw(hnp.arrays(np.intp, count, elements=st.integers(0, n - 1))) for n in self.model.shape
        )
        value = self._values(data, (count,))
        self.array.vindex[points] = value
        self.model[points] = value  # repeated points: the last value wins in both

    @rule(data=st.data())
    def write_fill(self, data) -> None:
        """Chunks that become all fill are dropped from the store (and read back as fill)."""
        selection = data.draw(hnp.basic_indices(self.model.shape, allow_newaxis=False), label="basic")
        self.array[selection] = self.fill
        self.model[selection] = self.fill

    @rule(shape=_dims())
    def resize(self, shape) -> None:
        if len(shape) != self.model.ndim:
            shape = (shape * self.model.ndim)[: self.model.ndim]
        self.array.resize(shape)
        self.model = _resized(self.model, shape, self.fill)

    @rule(data=st.data())
    def append(self, data) -> None:
        axis = data.draw(st.integers(0, self.model.ndim - 1), label="axis")
        shape = list(self.model.shape)
        shape[axis] = data.draw(st.integers(1, 5), label="appended")
        value = self._values(data, tuple(shape))
        self.array.append(value, axis=axis)
        self.model = np.concatenate([self.model, value], axis=axis)

    @rule()
    def reopen(self) -> None:
        self.array = cuzarr.open_array(self.store, mode="r+")

    def teardown(self) -> None:
        if hasattr(self, "_directory"):
            self._directory.cleanup()

    @rule(data=st.data())
    def read_selection(self, data) -> None:
        selection = data.draw(hnp.basic_indices(self.model.shape, allow_newaxis=False), label="read")
        np.testing.assert_array_equal(self.array[selection], self.model[selection])
        points = tuple(
            data.draw(hnp.arrays(np.intp, 3, elements=st.integers(0, n - 1))) for n in self.model.shape
        )
        np.testing.assert_array_equal(self.array.vindex[points], self.model[points])

    @rule()
    def tensorstore_reads_the_same(self) -> None:
        ts = pytest.importorskip("tensorstore")
        driver = "zarr3" if self.array.zarr_format == 3 else "zarr"
        spec = {"driver": driver, "kvstore": {"driver": "file", "path": self._directory.name}}
        np.testing.assert_array_equal(ts.open(spec, read=True).result().read().result(), self.model)

    @invariant()
    def same_as_model_and_for_zarr_python(self) -> None:
        if not hasattr(self, "array"):
            return
        assert self.array.shape == self.model.shape
        np.testing.assert_array_equal(self.array[...], self.model)
        theirs = zarr.open_array(self._directory.name, mode="r", zarr_format=self.array.zarr_format)
        assert theirs.shape == self.model.shape
        np.testing.assert_array_equal(theirs[...], self.model)


ArrayMachine.TestCase.settings = STATEFUL
TestArrayMachine = ArrayMachine.TestCase
