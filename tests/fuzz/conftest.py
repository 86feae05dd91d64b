"""Fuzzing settings: the case count per test comes from ``CUZARR_FUZZ_EXAMPLES`` so that
``make test`` runs a few thousand cases in total and ``make fuzz`` runs 100,000+.

Every case runs under a wall-clock bound (``case_timeout``): a hang fails the test instead of
stalling the suite. ``FUZZ_STATS`` counts the cases tried, for the closing report.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, settings

#: Cases per fuzz test; ``make test`` leaves it at the default (a few thousand in total).
EXAMPLES = int(os.environ.get("CUZARR_FUZZ_EXAMPLES", "40"))
#: Seconds one case may take before it counts as a hang.
CASE_TIMEOUT_S = float(os.environ.get("CUZARR_FUZZ_CASE_TIMEOUT", "10"))

settings.register_profile(
    "cuzarr-fuzz",
    max_examples=EXAMPLES,
    deadline=None,  # the hang bound is case_timeout's (fixed), not hypothesis' (relative)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=os.environ.get("CUZARR_FUZZ_SEED") is None and EXAMPLES <= 500,
    database=None,
)
FUZZ = settings.get_profile("cuzarr-fuzz")
FUZZ_STATS: Counter[str] = Counter()


class CaseTimeout(Exception):
    """A fuzz case ran past ``CASE_TIMEOUT_S``: treated as a hang."""


@contextmanager
def case_timeout(what: str, seconds: float = CASE_TIMEOUT_S) -> Iterator[None]:
    """Fail a case that takes longer than ``seconds`` (SIGALRM; main thread only, else unbounded)."""
    FUZZ_STATS[what] += 1
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _expired(signum: int, frame: object) -> None:
        raise CaseTimeout(f"{what}: case ran longer than {seconds} s (hang?)")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FUZZ_STATS:
        total = sum(FUZZ_STATS.values())
        detail = ", ".join(f"{k}={v}" for k, v in sorted(FUZZ_STATS.items()))
        terminalreporter.write_line(f"cuzarr fuzz: {total} cases tried ({detail})")
