"""`app.subscribe` on Azure: a Service Bus topic trigger per subscriber, on its own subscription,
driven with the Datums the host sends and azure-functions' own Service Bus converter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polyfn_azure
import pytest

from polyfn import App, ConfigError, EventError, QueueMessage, Topic
from tests.azure._host import Host, load

TOPIC = "order-events"


def fan_out_app(seen: list[tuple[str, QueueMessage]]) -> App:
    app = App("fanout")

    @app.subscribe(Topic(TOPIC), retries=3)
    def audit(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("audit", msg))

    @app.subscribe(TOPIC)
    def notify(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("notify", msg))
        if msg.attributes.get("fail") == "notify":
            raise ValueError("notify failed")

    return app


@pytest.fixture
def seen() -> list[tuple[str, QueueMessage]]:
    return []


@pytest.fixture
def host(seen: list[tuple[str, QueueMessage]]) -> Host:
    return Host(polyfn_azure.function_app(fan_out_app(seen), service_bus_connection="Bus"))


def test_each_subscriber_has_a_topic_trigger_on_its_own_subscription(host: Host) -> None:
    for name in ("audit", "notify"):
        trigger = host.trigger(name)
        assert trigger["type"] == "serviceBusTrigger"
        assert trigger["topicName"] == TOPIC
        assert trigger["subscriptionName"] == name
        assert trigger["connection"] == "Bus"
        assert trigger["dataType"] == "BINARY"
        assert "queueName" not in trigger
        assert host.load_problems(name) == []


@pytest.mark.parametrize("name", ["audit", "notify"])
def test_a_topic_message_is_a_queue_message(
    host: Host, seen: list[tuple[str, QueueMessage]], name: str
) -> None:
    host.call(name, load("service_bus_topic_message.json"))
    ((ran, msg),) = seen
    assert ran == name
    assert msg.id == "5f1c0d2e3a4b45c6a7b8c9d0e1f2a3b4"
    assert msg.json() == {"event": "signup"}
    assert msg.queue == TOPIC
    assert msg.attributes == {"tenant": "acme"}
    assert msg.delivery_count == 1
    assert msg.group is None
    assert msg.enqueued_time == datetime(2026, 11, 27, 10, 7, 0, 500000, tzinfo=UTC)


def test_a_raise_fails_that_subscribers_invocation(host: Host) -> None:
    fixture = load("service_bus_topic_message.json")
    fixture["metadata"]["ApplicationProperties"]["value"] = {"fail": "notify"}
    with pytest.raises(ValueError, match="notify failed"):
        host.call("notify", fixture)
    host.call("audit", fixture)  # the other subscriber's copy is its own


def test_an_unreadable_message_names_the_topic_trigger(host: Host) -> None:
    fixture = load("service_bus_topic_message.json")
    del fixture["metadata"]["MessageId"]
    with pytest.raises(EventError, match=r"service bus topic trigger, field .MessageId."):
        host.call("audit", fixture)


def test_a_subscriber_name_too_long_for_a_subscription_is_refused() -> None:
    app = App("fanout")
    app.subscribe(TOPIC, function_name="s" * 51)(lambda msg, ctx: None)
    with pytest.raises(ConfigError, match="at most 50 characters"):
        polyfn_azure.function_app(app)
