"""``cuzarr`` command line: the subcommand table and ``cuzarr bench`` on a tiny array."""

from __future__ import annotations

import json

import numpy as np
import pytest

import cuzarr
from cuzarr import cli


def test_subcommands_are_registered_in_one_table():
    assert "bench" in cli.SUBCOMMANDS
    with pytest.raises(SystemExit):
        cli.main([])


def test_bench_runs_the_default_set_and_writes_a_record(tmp_path, capsys, monkeypatch):
    pytest.importorskip("psutil")
    suite = cli._find_suite(None)
    monkeypatch.setattr(suite, "available_libraries", lambda: ("cuzarr",))
    assert cli.main(["bench", "--size", "256", "--repeat", "1", "--count", "2", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "full_read" in printed and "chunk_reads" in printed
    (record_path,) = tmp_path.glob("*.json")
    record = json.loads(record_path.read_text())
    assert record["machine"]["cores"] >= 1 and "cuzarr" in record["versions"]
    questions = {(r["case"], r["question"]) for r in record["results"]}
    assert ("512 zstd", "full_write") in questions and ("128 zstd", "full_read") in questions
    assert all(r["min_s"] <= r["median_s"] <= r["max_s"] for r in record["results"])


def test_bench_runs_only_the_cases_asked_for(tmp_path, capsys, monkeypatch):
    pytest.importorskip("psutil")
    suite = cli._find_suite(None)
    monkeypatch.setattr(suite, "available_libraries", lambda: ("cuzarr",))
    args = [
        "bench",
        "--set",
        "full",
        "--case",
        "gzip",
        "--size",
        "256",
        "--repeat",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert cli.main(args) == 0
    (record_path,) = tmp_path.glob("*.json")
    assert {r["case"] for r in json.loads(record_path.read_text())["results"]} == {"512 gzip"}
    with pytest.raises(SystemExit, match="no case of the 'full' set matches"):
        cli.main([*args[:4], "nothing-like-this", *args[5:]])


@pytest.fixture
def hierarchy(tmp_path):
    root = cuzarr.group(store=str(tmp_path / "h.zarr"))
    t = root.create_group("temperature")
    a = t.create_array(name="t2m", shape=(6, 8), chunks=(3, 4), dtype="f4")
    a[...] = np.arange(48, dtype="f4").reshape(6, 8)
    return tmp_path / "h.zarr"


def test_info_and_tree(hierarchy, capsys):
    assert cli.main(["info", str(hierarchy), "--path", "temperature/t2m"]) == 0
    out = capsys.readouterr().out
    assert "Chunk shape" in out and "(3, 4)" in out and "Chunks Initialized" in out
    assert cli.main(["tree", str(hierarchy)]) == 0
    out = capsys.readouterr().out
    assert "temperature" in out and "t2m" in out and "(6, 8) float32" in out


def test_user_mistakes_exit_2_without_traceback(tmp_path, capsys):
    assert cli.main(["info", str(tmp_path / "missing.zarr")]) == 2
    err = capsys.readouterr().err
    assert "missing.zarr" in err and "Traceback" not in err
    np.save(tmp_path / "x.npy", np.zeros(3))
    assert cli.main(["convert", str(tmp_path / "nope.npy"), str(tmp_path / "o.zarr")]) == 2
    assert "nope.npy" in capsys.readouterr().err


def test_convert_npy_with_chunks_codec_and_shards_then_resume(tmp_path, capsys):
    data = np.arange(40 * 30, dtype="i2").reshape(40, 30)
    np.save(tmp_path / "in.npy", data)
    dest = str(tmp_path / "out.zarr")
    args = [
        "convert",
        str(tmp_path / "in.npy"),
        dest,
        "--chunks",
        "5,5",
        "--shards",
        "10,15",
        "--codec",
        "gzip",
    ]
    assert cli.main(args) == 0
    z = cuzarr.open_array(dest, mode="r")
    assert z.chunks == (5, 5) and z.shards == (10, 15) and z.compressors[0].codec_name == "gzip"
    np.testing.assert_array_equal(z[...], data)
    assert "wrote 8 stored objects" in capsys.readouterr().out
    assert cli.main(args) == 0  # resuming: everything is already there
    assert "wrote 0 stored objects, skipped 8" in capsys.readouterr().out


def test_convert_zarr_v2_to_v3_and_copy(tmp_path, capsys):
    data = np.arange(64, dtype="f8").reshape(8, 8)
    cuzarr.create_array(
        store=str(tmp_path / "v2.zarr"), shape=(8, 8), chunks=(4, 4), dtype="f8", zarr_format=2
    )[...] = data
    assert cli.main(["convert", str(tmp_path / "v2.zarr"), str(tmp_path / "v3.zarr"), "--chunks", "8,2"]) == 0
    v3 = cuzarr.open_array(str(tmp_path / "v3.zarr"), mode="r")
    assert v3.zarr_format == 3 and v3.chunks == (8, 2)
    np.testing.assert_array_equal(v3[...], data)
    assert cli.main(["copy", str(tmp_path / "v3.zarr"), str(tmp_path / "copy.zarr")]) == 0
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path / "copy.zarr"), mode="r")[...], data)


def test_convert_hdf5_dataset(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "in.h5", "w") as f:
        f["group/data"] = np.arange(12).reshape(3, 4)
    assert cli.main(["convert", f"{tmp_path / 'in.h5'}:/group/data", str(tmp_path / "h.zarr")]) == 0
    np.testing.assert_array_equal(
        cuzarr.open_array(str(tmp_path / "h.zarr"))[...], np.arange(12).reshape(3, 4)
    )
    assert cli.main(["convert", f"{tmp_path / 'in.h5'}:/nope", str(tmp_path / "n.zarr")]) == 2
    assert "/nope" in capsys.readouterr().err


def test_clean_removes_only_stale_temp_files(tmp_path, capsys):
    import os
    import time

    z = cuzarr.create_array(str(tmp_path / "a.zarr"), shape=(8,), chunks=(4,), dtype="i4")
    z[...] = np.arange(8)
    stale = tmp_path / "a.zarr" / "c" / f".1.{'ab' * 16}.partial"
    live = tmp_path / "a.zarr" / "c" / f".0.{'cd' * 16}.partial"
    for path in (stale, live):
        path.write_bytes(b"torn")
    old = time.time() - 7200
    os.utime(stale, (old, old))
    assert cli.main(["clean", str(tmp_path / "a.zarr")]) == 0
    assert "removed 1 stale temp file" in capsys.readouterr().out
    assert not stale.exists() and live.exists()
    assert cli.main(["clean", str(tmp_path / "a.zarr"), "--min-age", "0"]) == 0
    assert "removed 1 stale temp file" in capsys.readouterr().out and not live.exists()
    assert cli.main(["clean", f"file://{tmp_path / 'a.zarr'}", "--min-age", "0"]) == 0
    assert "removed 0 stale temp files" in capsys.readouterr().out
    np.testing.assert_array_equal(cuzarr.open_array(str(tmp_path / "a.zarr"))[...], np.arange(8))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["clean", "MISSING"], "no such directory"),
        (["clean", "s3://bucket/a.zarr"], "local directories"),
        (["clean", ".", "--min-age", "-5"], "--min-age"),
    ],
)
def test_clean_user_mistakes_exit_2(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "missing") if a == "MISSING" else str(tmp_path) if a == "." else a for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def _struct_source(path) -> np.ndarray:
    """A v3 record array spelled ``struct`` (tensorstore's and the spec's spelling) at ``path``."""
    dtype = np.dtype([("a", "<i4"), ("b", "<f8")])
    data = np.array([(i, i / 4) for i in range(6)], dtype)
    with cuzarr.config.set(record_type_name="struct"):
        cuzarr.create_array(str(path), shape=(6,), chunks=(3,), dtype=dtype)[...] = data
    return data


def _doc(path) -> dict:
    return json.loads((path / "zarr.json").read_bytes())


def test_info_shows_the_stored_record_spelling(tmp_path, capsys):
    _struct_source(tmp_path / "s.zarr")
    assert cli.main(["info", str(tmp_path / "s.zarr")]) == 0
    assert "Data type          : struct(a: int32, b: float64)\n" in capsys.readouterr().out
    cuzarr.create_array(str(tmp_path / "d.zarr"), shape=(2,), dtype=[("p", [("x", "f4")]), ("t", "M8[s]")])
    assert cli.main(["info", str(tmp_path / "d.zarr")]) == 0
    out = capsys.readouterr().out
    assert "structured(p: structured(x: float32), t: numpy.datetime64(unit=s, scale_factor=1))" in out
    cuzarr.create_array(str(tmp_path / "f.zarr"), shape=(2,), dtype="f4")
    assert cli.main(["info", str(tmp_path / "f.zarr")]) == 0
    assert "Data type          : float32\n" in capsys.readouterr().out


def test_convert_and_copy_keep_the_record_spelling(tmp_path, capsys):
    data = _struct_source(tmp_path / "s.zarr")
    source = _doc(tmp_path / "s.zarr")
    assert cli.main(["convert", str(tmp_path / "s.zarr"), str(tmp_path / "c.zarr"), "--chunks", "2"]) == 0
    assert cli.main(["copy", str(tmp_path / "s.zarr"), str(tmp_path / "k.zarr")]) == 0
    for name in ("c.zarr", "k.zarr"):
        doc = _doc(tmp_path / name)
        assert (doc["data_type"], doc["fill_value"]) == (source["data_type"], source["fill_value"]), name
        assert doc["codecs"][0] == {"name": "bytes", "configuration": {"endian": "little"}}, name
        assert cuzarr.open_array(str(tmp_path / name), mode="r")[...].tobytes() == data.tobytes()
    structured = ["convert", str(tmp_path / "s.zarr"), str(tmp_path / "z.zarr"), "--record-type-name"]
    assert cli.main([*structured, "structured"]) == 0
    doc = _doc(tmp_path / "z.zarr")
    assert doc["data_type"]["name"] == "structured" and isinstance(doc["fill_value"], str)  # base64
    zarr = pytest.importorskip("zarr")  # zarr-python 3.1 reads only the "structured" spelling
    assert zarr.open_array(str(tmp_path / "z.zarr"), mode="r")[...].tobytes() == data.tobytes()
    capsys.readouterr()
    v2 = ["convert", str(tmp_path / "s.zarr"), str(tmp_path / "v2.zarr"), "--zarr-format", "2"]
    assert cli.main([*v2, "--record-type-name", "struct"]) == 2
    assert "--record-type-name needs --zarr-format 3" in capsys.readouterr().err
    assert cli.main(v2) == 0
    assert cuzarr.open_array(str(tmp_path / "v2.zarr"), mode="r")[...].tobytes() == data.tobytes()


_RECORD = np.dtype([("a", "<i4"), ("b", "<f8")])

# (dtype, fill value): a numeric one, NaN, and a record (a fill value per field)
_FILLS = [("i4", -1), ("f8", np.nan), (_RECORD, np.array((7, 2.5), _RECORD)[()])]


def _sparse_source(path, zarr_format: int, dtype, fill) -> cuzarr.Array:
    """An 8x6 array in 4x3 chunks with only its first chunk written (the rest reads as ``fill``)."""
    source = cuzarr.create_array(
        str(path), shape=(8, 6), chunks=(4, 3), dtype=dtype, fill_value=fill, zarr_format=zarr_format
    )
    source[:4, :3] = np.ones((4, 3), dtype=source.dtype)
    return source


def _fill_bytes(array: cuzarr.Array) -> bytes:
    """The fill value bit for bit (so NaN equals NaN and a record compares field by field)."""
    return np.asarray(array.fill_value, dtype=array.dtype).tobytes()


@pytest.mark.parametrize(("dtype", "fill"), _FILLS, ids=["int", "nan", "record"])
@pytest.mark.parametrize("dest_format", [2, 3])
@pytest.mark.parametrize("source_format", [2, 3])
@pytest.mark.parametrize("chunks", ["4,3", "2,6"], ids=["same-chunks", "rechunked"])
def test_convert_keeps_a_zarr_sources_fill_value(
    tmp_path, capsys, source_format, dest_format, dtype, fill, chunks
):
    source = _sparse_source(tmp_path / "s.zarr", source_format, dtype, fill)
    dest = str(tmp_path / "d.zarr")
    argv = ["convert", str(tmp_path / "s.zarr"), dest, "--chunks", chunks, "--zarr-format", str(dest_format)]
    assert cli.main(argv) == 0
    converted = cuzarr.open_array(dest, mode="r")
    assert _fill_bytes(converted) == _fill_bytes(source)
    assert converted[...].tobytes() == source[...].tobytes()
    # the chunks the source never wrote stay unwritten (and read as the fill value): only the
    # destination chunks overlapping the written corner are stored
    assert converted.nchunks_initialized == (1 if chunks == "4,3" else 2)
    assert converted[6:, 4:].tobytes() == np.full((2, 2), source.fill_value, source.dtype).tobytes()


def test_convert_v2_source_without_fill_value(tmp_path, capsys):
    source = cuzarr.create_array(
        str(tmp_path / "s.zarr"), shape=(4,), chunks=(2,), dtype="f8", fill_value=None, zarr_format=2
    )
    source[:2] = [1.0, 2.0]
    for fmt in ("2", "3"):
        dest = str(tmp_path / f"v{fmt}.zarr")
        assert cli.main(["convert", str(tmp_path / "s.zarr"), dest, "--zarr-format", fmt]) == 0
        converted = cuzarr.open_array(dest, mode="r")
        np.testing.assert_array_equal(converted[...], source[...])
        assert converted.fill_value == (None if fmt == "2" else 0.0)  # v3 always has one: the default


def test_convert_refuses_to_resume_into_another_fill_value(tmp_path, capsys):
    _sparse_source(tmp_path / "s.zarr", 3, "i4", -1)
    dest = str(tmp_path / "d.zarr")
    cuzarr.create_array(dest, shape=(8, 6), chunks=(4, 3), dtype="i4")  # fill value 0
    argv = ["convert", str(tmp_path / "s.zarr"), dest]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "fill value" in err and "--overwrite" in err and "Traceback" not in err
    assert cli.main([*argv, "--overwrite"]) == 0
    assert cuzarr.open_array(dest, mode="r").fill_value == -1
    assert cli.main(argv) == 0  # resuming the same conversion
    assert "wrote 0 stored objects, skipped 1" in capsys.readouterr().out


@pytest.mark.parametrize(("dtype", "fill"), _FILLS, ids=["int", "nan", "record"])
@pytest.mark.parametrize("zarr_format", [2, 3])
def test_copy_command_keeps_the_fill_value_and_unwritten_chunks(tmp_path, capsys, zarr_format, dtype, fill):
    source = _sparse_source(tmp_path / "s.zarr", zarr_format, dtype, fill)
    assert cli.main(["copy", str(tmp_path / "s.zarr"), str(tmp_path / "c.zarr")]) == 0
    copied = cuzarr.open_array(str(tmp_path / "c.zarr"), mode="r")
    assert _fill_bytes(copied) == _fill_bytes(source)
    assert copied[...].tobytes() == source[...].tobytes()
    assert copied.nchunks_initialized == source.nchunks_initialized == 1
