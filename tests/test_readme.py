"""The README's examples marked as tested run as written (with ``import cuzarr as zarr``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"<!-- tested[^>]*-->\s*```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_tested_blocks():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_block_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile("import numpy as np\nimport cuzarr as zarr\n" + block, str(README), "exec"), {})
