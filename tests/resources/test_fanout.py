"""`Topic.publish` reaches every subscriber locally: in process through `polyfn.testing.Client`
and for real under `polyfn serve` (tests/resources/apps/fanout.py)."""

from __future__ import annotations

import base64
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from polyfn.testing import Client
from tests.local._serve import Served
from tests.resources.apps import fanout
from tests.resources.test_pipeline import _call

if TYPE_CHECKING:
    from collections.abc import Iterator

BODY = b"\x00\xffbinary \xe2\x9c\x93"


def test_a_publish_runs_every_subscriber_with_its_own_copy(tmp_path: Path) -> None:
    client = Client(fanout.app, state_dir=tmp_path / "state")
    resp = client.post("/events?n=1&tenant=acme", body=BODY)
    assert resp.status == 202
    traceparents = set()
    with client:
        for name in ("audit", "mailer"):
            doc = fanout.seen.get(f"{name}-1")
            assert doc is not None, name
            assert base64.b64decode(doc["body_b64"]) == BODY
            attributes = dict(doc["attributes"])
            # polyfn's publish adds the publishing request's trace (docs/observability.md).
            traceparents.add(attributes.pop("traceparent"))
            assert attributes == {"n": "1", "tenant": "acme"}
            assert doc["queue"] == "order-events"  # the topic, not the subscription queue
            assert doc["delivery_count"] == 1
    assert len(traceparents) == 1  # both copies continue the one trace
    assert client.messages("order-events~audit") == []
    assert client.messages("order-events~mailer") == []


def test_a_subscriber_raise_fails_only_its_copy_then_dead_letters_it(tmp_path: Path) -> None:
    client = Client(fanout.app, state_dir=tmp_path / "state")
    with pytest.raises(RuntimeError, match="mailer failed on purpose"):
        client.publish("order-events", b"x", attributes={"n": "2", "fail": "mailer"})
    with client:
        assert fanout.seen.get("audit-2") is not None  # the other subscriber's copy went through
        assert fanout.seen.get("mailer-2") is None
    # retries=1: one more delivery, then the copy moves to the subscription's dead-letter queue
    with pytest.raises(RuntimeError, match="mailer failed on purpose"):
        client.drain()
    assert client.messages("order-events~mailer") == []
    (dead,) = client.messages("order-events~mailer-dead")
    assert dead.body == b"x"
    assert dead.attributes["fail"] == "mailer"


def test_a_publish_before_a_subscriber_exists_is_not_delivered_to_it(tmp_path: Path) -> None:
    from polyfn import App, Topic

    lonely = App("lonely")
    with Client(lonely, state_dir=tmp_path / "state") as client:
        Topic("nobody-listens").publish(b"dropped")
        assert client.drain() == 0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    server = Served(str(Path(fanout.__file__)), tmp_path)
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.e2e
def test_fan_out_under_polyfn_serve(served: Served) -> None:
    req = urllib.request.Request(served.url + "/events?n=3", data=BODY, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 202
    found: dict[str, Any] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(found) < 2:
        for name in ("audit", "mailer"):
            status, doc = _call(f"{served.url}/seen/{name}-3")
            if status == 200:
                found[name] = doc
        time.sleep(0.1)
    assert set(found) == {"audit", "mailer"}, served.stderr()
    for doc in found.values():
        assert base64.b64decode(doc["body_b64"]) == BODY
        assert doc["queue"] == "order-events"
    invocations = [line for line in served.log_lines() if line.get("message") == "invocation"]
    assert {line["function"] for line in invocations} >= {"publish", "audit", "mailer"}
