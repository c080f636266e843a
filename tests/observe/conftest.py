"""Capturing what polyfn logs, as each cloud's collector would read it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from polyfn._logs import JsonFormatter, ensure_logging


@pytest.fixture
def lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every JSON line the ``polyfn`` logger writes during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = ensure_logging()
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def root_records() -> Iterator[list[logging.LogRecord]]:
    """The records that reach the root logger from Azure invocations (where the Python worker's
    handler sits)."""
    keep = _Keep()
    root = logging.getLogger()
    root.addHandler(keep)
    yield keep.records
    root.removeHandler(keep)
