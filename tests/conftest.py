"""Shared fixtures: a clean global config for every test."""

from __future__ import annotations

import pytest

import cuzarr


@pytest.fixture(autouse=True)
def _reset_config():
    yield
    cuzarr.config.reset()
