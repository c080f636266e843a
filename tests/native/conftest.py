"""Fixtures of the native-handler tests: the app of tests/native/app.py, a clean record of what its
third-party handlers saw, and the polyfn log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.local.conftest import local_log as polyfn_log
from tests.native import app as native_app
from tests.native import lambda_handlers

__all__ = ["polyfn_log"]  # the polyfn log records of a test (the local tests' fixture)


@pytest.fixture
def seen() -> Iterator[list[dict[str, Any]]]:
    lambda_handlers.SEEN.clear()
    native_app.ANSWER[0] = None
    yield lambda_handlers.SEEN
    lambda_handlers.SEEN.clear()


def logged_errors(records: list[logging.LogRecord]) -> str:
    """The text of every ERROR record with its exception, as the log line would carry it."""
    out = []
    for record in records:
        if record.levelno >= logging.ERROR:
            out.append(record.getMessage())
            if record.exc_info and record.exc_info[1] is not None:
                out.append(str(record.exc_info[1]))
    return "\n".join(out)
