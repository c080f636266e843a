"""Fixtures shared by the core tests."""

from __future__ import annotations

import io
import json
import logging

import pytest

from polyfn import Context
from polyfn._context import JsonFormatter


@pytest.fixture
def log_lines():
    """Every JSON log line polyfn writes during the test, parsed, as a callable."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("polyfn")
    Context("local", "f", "i").log  # noqa: B018 - installs polyfn's own handler first
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
