"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import pytest

# Every sample trigger of an HTTP source with a path option: (provider, trigger).
HTTP_SOURCES = [
    ("aws", "http-rest"),
    ("aws", "http-api"),
    ("aws", "http-api-v1"),
    ("aws", "function-url"),
    ("aws", "alb"),
    ("aws", "alb-multi"),
    ("azure", "http"),
    ("gcp", "http"),
]


@pytest.fixture(params=HTTP_SOURCES, ids=[f"{p}-{t}" for p, t in HTTP_SOURCES])
def http_source(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Each HTTP sample source in turn, as (provider, trigger)."""
    return request.param  # type: ignore[no-any-return]
