"""Stress settings: ``CUZARR_STRESS=1`` (``make stress``) runs the full counts; ``make test``
runs a few rounds of each so the machinery is exercised on every change."""

from __future__ import annotations

import os
from collections import Counter

import pytest

FULL = os.environ.get("CUZARR_STRESS", "") not in ("", "0")
STRESS_STATS: Counter[str] = Counter()


def rounds(full: int, quick: int) -> int:
    """``full`` under ``make stress``, ``quick`` otherwise."""
    return full if FULL else quick


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STRESS_STATS:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(STRESS_STATS.items()))
        terminalreporter.write_line(f"cuzarr stress: {detail}")
