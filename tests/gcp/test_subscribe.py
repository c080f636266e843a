"""`app.subscribe` on GCP through functions-framework's own app: each subscriber is a Cloud
Function with its own Eventarc trigger on the topic, so each deployment runs only its own
subscriber on the messagePublished CloudEvent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from polyfn_gcp._names import function_id

from polyfn import EventError
from tests.gcp.conftest import Served, load_event

FANOUT = Path(__file__).parent / "apps" / "fanout.py"


def published(**attributes: str) -> dict[str, Any]:
    """The messagePublished CloudEvent of a message on topic order-events."""
    event = load_event("pubsub_cloudevent.json")
    event["source"] = "//pubsub.googleapis.com/projects/sample-project/topics/order-events"
    event["data"]["message"]["attributes"] = attributes
    return event


def served(target: str) -> Served:
    target_app = Served(target, "cloudevent", source=FANOUT)
    target_app.seen.clear()
    return target_app


@pytest.mark.parametrize("name", ["audit", "notify"])
def test_each_subscriber_function_runs_only_its_own_subscriber(name: str) -> None:
    target = served(f"polyfn_{name}")
    resp = target.post_binary(published(origin="checkout"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert target.seen == [
        {
            "fn": name,
            "ctx_function": name,
            "queue": "order-events",
            "body": '{"order": 42}',
            "attributes": {"origin": "checkout"},
            "delivery_count": 3,
        }
    ]


def test_a_subscriber_raise_answers_500_so_its_subscription_redelivers() -> None:
    notify = served("polyfn_notify")
    assert notify.post_structured(published(fail="notify")).status_code == 500
    audit = served("polyfn_audit")
    assert audit.post_structured(published(fail="notify")).status_code == 200


def test_a_subscriber_function_refuses_another_topic() -> None:
    target = Served("polyfn_audit", "cloudevent", source=FANOUT, propagate=True)
    with pytest.raises(EventError, match=r"topic 'orders'.*subscriber of topic 'order-events'"):
        target.post_binary(load_event("pubsub_cloudevent.json"))


def test_the_whole_app_entry_refuses_a_topic_with_several_subscribers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("K_SERVICE", raising=False)
    monkeypatch.delenv("FUNCTION_TARGET", raising=False)
    target = Served("event", "cloudevent", source=FANOUT, propagate=True)
    target.seen.clear()
    with pytest.raises(EventError, match=r"2 subscribers \('audit', 'notify'\)"):
        target.post_binary(published())
    assert target.seen == []


@pytest.mark.parametrize(
    ("variable", "value"),
    [("FUNCTION_TARGET", "polyfn_notify"), ("K_SERVICE", "fanout-notify")],
)
def test_the_whole_app_entry_runs_the_subscriber_this_deployment_is(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    target = served("event")
    notify = target.module.app.function("notify")
    assert function_id(target.module.app, notify) == "fanout-notify"  # what the build names it
    monkeypatch.setenv(variable, value)
    assert target.post_binary(published()).status_code == 200
    assert [seen["fn"] for seen in target.seen] == ["notify"]
