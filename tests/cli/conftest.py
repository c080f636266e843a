"""Fixtures shared by the CLI tests."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

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


def open_gcp_sample(client: Any, sample: dict[str, Any]) -> Any:
    """Send a GCP HTTP sample (method, path, query, headers, body) through a Flask test client."""
    return client.open(
        sample["path"],
        method=sample["method"],
        query_string=sample["query"],
        headers=sample["headers"],
        data=sample["body"],
    )


@pytest.fixture(scope="module")
def ff_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A functions-framework source recording what its HTTP (`web`) and CloudEvent (`event`)
    functions receive."""
    source = tmp_path_factory.mktemp("ff") / "ff_recorder_main.py"
    source.write_text(
        textwrap.dedent("""
        import flask
        GOT = []

        def web(request: flask.Request):
            GOT.append((request.method, request.path, request.args.getlist("a"),
                        dict(request.headers)))
            return "ok"

        def event(cloud_event):
            GOT.append((cloud_event["type"], cloud_event.get("subject"), cloud_event.data))
    """)
    )
    return source
