"""Hypothesis settings shared by the state-machine tests: a quick deterministic set of sequences
in ``make test``, ``CUZARR_STATEFUL_EXAMPLES`` of them (random) under ``make fuzz``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("CUZARR_STATEFUL_EXAMPLES", "20"))

STATEFUL = settings(
    max_examples=EXAMPLES,
    stateful_step_count=12,
    deadline=None,
    derandomize=EXAMPLES <= 25,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
