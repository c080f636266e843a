"""Fixtures of the local-runtime tests."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def local_log() -> Iterator[list[logging.LogRecord]]:
    """Every record the ``polyfn`` loggers write during the test (invocation lines, handlers'
    `ctx.log`, the runtime's own warnings)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("polyfn")
    logger.addHandler(handler)
    try:
        yield records
    finally:
        logger.removeHandler(handler)
