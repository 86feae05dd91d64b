"""Every selection kind, read and write, sharded or not, on the CPU and the emulated GPU backend."""

from __future__ import annotations

import numpy as np
import pytest

import cuzarr
from cuzarr.storage import MemoryStore

SELECTIONS = {
    "basic": lambda a: (slice(3, 50, 2), slice(None, None, -3)),
    "int-and-slice": lambda a: (7, slice(10, 40)),
    "oindex": lambda a: ("oindex", ([5, 1, 40, 40], slice(None, None, 3))),
    "oindex-bool": lambda a: ("oindex", (np.arange(64) % 5 == 0, [0, 63, 7])),
    "vindex": lambda a: ("vindex", ([1, 2, 60, 2], [3, 4, 63, 4])),
    "mask": lambda a: ("vindex", (a % 7 == 0,)),
    "blocks": lambda a: ("blocks", (slice(1, 3), 2)),
}


def _apply(array, kind, selection, value=None):
    target = getattr(array, kind) if kind in ("oindex", "vindex", "blocks") else array
    if value is None:
        return target[selection]
    target[selection] = value
    return None


def _model_index(a, kind, selection):
    if kind == "oindex":
        return np.ix_(*[np.arange(n)[s] for s, n in zip(selection, a.shape)])
    if kind == "blocks":
        return tuple(
            slice(s.start * 8, s.stop * 8) if isinstance(s, slice) else slice(s * 8, s * 8 + 8)
            for s in selection
        )
    if kind == "vindex" and len(selection) == 1:
        return selection[0]
    return selection


@pytest.mark.parametrize("device", ["cpu", "emulated"])
@pytest.mark.parametrize("sharded", [False, True])
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_selection_read_write_on_backend(device, sharded, name):
    model = np.arange(64 * 64, dtype="f4").reshape(64, 64)
    layout = {"chunks": (8, 8), "shards": (32, 32) if sharded else None}
    z = cuzarr.create_array(store=MemoryStore(), shape=model.shape, dtype="f4", device=device, **layout)
    z[...] = model
    spec = SELECTIONS[name](model)
    kind, selection = spec if isinstance(spec[0], str) else ("basic", spec)
    index = _model_index(model, kind, selection)
    result = _apply(z, kind, selection)
    assert isinstance(result, np.ndarray)  # the emulated backend also returns NumPy
    np.testing.assert_array_equal(result, model[index])
    value = -np.arange(model[index].size, dtype="f4").reshape(model[index].shape)
    _apply(z, kind, selection, value)
    if kind == "vindex" and len(selection) == 2:  # repeated points: the last write wins
        for i, (r, c) in enumerate(zip(*selection)):
            model[r, c] = value[i]
    else:
        model[index] = value
    np.testing.assert_array_equal(z[...], model)


@pytest.mark.parametrize("device", ["cpu", "emulated"])
def test_threads_reading_one_array_get_their_own_staging(device):
    from concurrent.futures import ThreadPoolExecutor

    model = np.arange(256 * 64, dtype="f4").reshape(256, 64)
    z = cuzarr.create_array(store=MemoryStore(), shape=model.shape, chunks=(8, 64), dtype="f4", device=device)
    z[...] = model
    rows = [slice(i, i + 32) for i in range(0, 256, 32)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            results = list(pool.map(lambda s: z[s], rows))
            for s, result in zip(rows, results):
                np.testing.assert_array_equal(result, model[s])
