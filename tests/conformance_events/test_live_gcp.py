"""The GCP event targets' renderings over a real functions-framework server on 127.0.0.1.

The in-process matrix uses functions-framework's Flask app through its test client; here the same
requests travel over HTTP to ``functions-framework --signature-type cloudevent`` serving the event
functions, whose handlers write what they saw to a file. A raise must answer non-2xx (so Pub/Sub
and Eventarc deliver again) and a finished handler 2xx.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.app_events import SEEN_FILE_ENV, STORAGE_FUNCTION
from conformance.cases import queue as queue_cases
from conformance.cases import storage as storage_cases
from conformance.targets import gcp_events
from tests.conftest import free_port, running

pytestmark = pytest.mark.e2e

MAIN = """\
import polyfn_gcp
from conformance.app_events import event_app

event = polyfn_gcp.cloud_event(event_app("conformance-live"))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("ff-events")
    (root / "main.py").write_text(MAIN)
    seen = root / "seen.jsonl"
    port = free_port()
    cmd = [
        sys.executable, "-m", "functions_framework", "--target", "event",
        "--signature-type", "cloudevent", "--source", str(root / "main.py"),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    env = {**os.environ, SEEN_FILE_ENV: str(seen)}
    with running(cmd, port, env=env, cwd=str(root)):
        yield f"http://127.0.0.1:{port}", seen


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _seen(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_pubsub_batch_acks_exactly_what_finished(server: tuple[str, Path]) -> None:
    url, seen_file = server
    case = next(c for c in queue_cases.CASES if c.name == "json-10-several-fail")
    before = len(_seen(seen_file))
    statuses = {}
    for m in case.messages:
        body, headers = gcp_events.binary_mode(
            gcp_events.pubsub_attributes(m, case.queue),
            gcp_events.pubsub_envelope(m, attempt=True),
        )
        statuses[m.id] = _post(url + "/", body, headers)
    assert {i for i, s in statuses.items() if not 200 <= s < 300} == set(
        case.expected_failed("single")
    )
    assert [s["id"] for s in _seen(seen_file)[before:]] == case.ids


@pytest.mark.parametrize("mode", ["binary", "structured", "legacy"])
def test_storage_event_with_a_unicode_key_over_the_wire(
    server: tuple[str, Path], mode: str
) -> None:
    url, seen_file = server
    case = next(c for c in storage_cases.CASES if c.name == "created-unicode")
    if mode == "binary":
        body, headers = gcp_events.binary_mode(
            gcp_events.storage_attributes(case), gcp_events.object_resource(case)
        )
    elif mode == "structured":
        body, headers = gcp_events.structured_mode(
            gcp_events.storage_attributes(case), gcp_events.object_resource(case)
        )
    else:
        body = json.dumps(gcp_events.legacy_storage_event(case)).encode()
        headers = {"Content-Type": "application/json"}
    before = len(_seen(seen_file))
    assert _post(url + "/", body, headers) == 200
    assert _seen(seen_file)[before:] == [
        {
            "fn": STORAGE_FUNCTION,
            "kind": "created",
            "bucket": case.bucket,
            "key": case.key,
            "size": case.size,
        }
    ]
