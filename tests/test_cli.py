"""``cuzarr`` command line: the subcommand table and ``cuzarr bench`` on a tiny array."""

from __future__ import annotations

import json

import pytest

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
