"""`app.subscribe`: the topic subscription trigger in the core (fan-out to several functions)."""

from __future__ import annotations

from typing import Any

import pytest

from polyfn import App, ConfigError, QueueMessage, Topic
from polyfn._app import SubscribeTrigger


def handler(msg: QueueMessage, ctx: Any) -> None:
    return None


def another() -> Any:
    """A handler of its own (a subscription is refused for a handler already on the topic)."""
    return lambda msg, ctx: None


def test_several_functions_subscribe_to_one_topic_by_name_or_handle() -> None:
    app = App("fanout")
    events = Topic("order-events")
    app.subscribe(events, function_name="audit", retries=2, uses=[events.publish])(handler)
    app.subscribe("order-events", function_name="notify", batch_size=5)(another())
    app.subscribe("other", function_name="elsewhere")(handler)
    assert [f.name for f in app.subscribers("order-events")] == ["audit", "notify"]
    assert [f.name for f in app.functions_of("subscribe")] == ["audit", "notify", "elsewhere"]
    audit = app.function("audit")
    assert isinstance(audit.trigger, SubscribeTrigger)
    assert (audit.kind, audit.trigger.topic, audit.trigger.batch_size) == (
        "subscribe", "order-events", 1
    )  # fmt: skip
    assert audit.settings.retries == 2
    assert audit.allowed == {("topic", "order-events", "publish")}
    assert app.function("notify").trigger.batch_size == 5  # type: ignore[union-attr]
    assert "audit: subscription to topic order-events" in app.describe()


def test_one_handler_cannot_subscribe_twice_to_one_topic() -> None:
    app = App("fanout")
    app.subscribe("t", function_name="first")(handler)
    with pytest.raises(ConfigError, match="already subscribed to topic 't' as function 'first'"):
        app.subscribe("t", function_name="second")(handler)
    app.subscribe("u", function_name="third")(handler)  # another topic is fine


def test_a_topic_and_a_queue_cannot_share_a_name() -> None:
    app = App("clash")
    app.queue("jobs", function_name="worker")(handler)
    with pytest.raises(ConfigError, match="also the queue of function 'worker'"):
        app.subscribe("jobs", function_name="listener")(another())
    app.subscribe("news", function_name="reader")(handler)
    with pytest.raises(ConfigError, match=r"name of a topic that functions subscribe to \(reader"):
        app.queue("news", function_name="consumer")(another())


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("",), {}, "topic must be a non-empty name or a Topic"),
        ((None,), {}, "topic must be a non-empty name or a Topic"),
        (("t",), {"batch_size": 0}, "batch_size must be a positive integer"),
        (("t",), {"retires": 1}, "'retires' \\(did you mean 'retries'\\?\\)"),
    ],
)
def test_bad_declarations_are_config_errors(
    args: tuple[Any, ...], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        App("bad").subscribe(*args, **kwargs)(handler)
