"""Capturing what polyfn logs, as each cloud's collector would read it."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from polyfn._logs import _OWN_HANDLER, JsonFormatter, ensure_logging


@contextmanager
def capture_lines(route: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every JSON line the ``polyfn`` logger writes meanwhile, parsed, on one of the two routes a
    line takes: "direct", the logger as polyfn sets it up (lines written straight to its
    handler's stream, here swapped for a buffer); "logging", the logger with a handler the app
    added (each line a LogRecord through `logging`)."""
    stream = io.StringIO()
    logger = ensure_logging()
    if route == "direct":
        own = _OWN_HANDLER[0]
        assert own is not None
        # Only polyfn's own handler (pytest's log capture may have added its own).
        others = [h for h in logger.handlers if h is not own]
        logger.handlers = [own]
        saved = own.setStream(stream)  # type: ignore[attr-defined]
        try:
            yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
        finally:
            own.setStream(saved)  # type: ignore[attr-defined]
            logger.handlers = [own, *others]
        return
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


@pytest.fixture(params=["direct", "logging"])
def lines(request: pytest.FixtureRequest) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every JSON line the ``polyfn`` logger writes during the test, parsed, on each route."""
    with capture_lines(request.param) as read:
        yield read


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
