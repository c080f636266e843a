"""`app.subscribe` on Lambda: SNS invokes each subscriber's own Lambda with the topic's message;
a whole-app handler refuses a topic it cannot serve with one subscriber."""

from __future__ import annotations

from typing import Any

import polyfn_aws
import pytest

from polyfn import App, EventError, QueueMessage, Topic

from .conftest import event, lambda_context

TOPIC = "signups"  # the topic of tests/events/aws/sns.json


def fan_out_app(seen: list[tuple[str, QueueMessage]], *, fail: str = "") -> App:
    app = App("fanout")

    @app.subscribe(Topic(TOPIC))
    def audit(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("audit", msg))
        if fail == "audit":
            raise ValueError("audit failed")

    @app.subscribe(TOPIC)
    def welcome(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("welcome", msg))

    @app.subscribe("other-topic")
    def other(msg: QueueMessage, ctx: Any) -> None:
        seen.append(("other", msg))

    return app


@pytest.mark.parametrize("function", ["audit", "welcome"])
def test_each_subscriber_lambda_runs_its_own_function(function: str) -> None:
    seen: list[tuple[str, QueueMessage]] = []
    handler = polyfn_aws.handler(fan_out_app(seen), function=function)
    assert handler(event("sns"), lambda_context()) is None
    ((name, message),) = seen
    assert name == function
    assert message.queue == TOPIC
    assert message.json() == {"event": "signup"}
    assert message.attributes == {"tenant": "acme", "blob": "AAEC/w=="}


def test_a_subscriber_raise_fails_the_invocation_so_sns_retries_it() -> None:
    seen: list[tuple[str, QueueMessage]] = []
    handler = polyfn_aws.handler(fan_out_app(seen, fail="audit"), function="audit")
    with pytest.raises(ValueError, match="audit failed"):
        handler(event("sns"), lambda_context())


def test_a_subscriber_lambda_refuses_another_topics_message() -> None:
    handler = polyfn_aws.handler(fan_out_app([]), function="other")
    expected = r"'signups' arrived where function 'other' runs, the subscriber of topic 'other-"
    with pytest.raises(EventError, match=expected):
        handler(event("sns"), lambda_context())


def test_a_whole_app_handler_refuses_a_topic_with_several_subscribers() -> None:
    seen: list[tuple[str, QueueMessage]] = []
    handler = polyfn_aws.handler(fan_out_app(seen))
    with pytest.raises(EventError, match=r"2 subscribers \('audit', 'welcome'\)") as info:
        handler(event("sns"), lambda_context())
    assert "function=NAME" in str(info.value)
    assert seen == []


def test_a_whole_app_handler_runs_the_one_subscriber() -> None:
    seen: list[tuple[str, QueueMessage]] = []
    handler = polyfn_aws.handler(fan_out_app(seen))
    ev = event("sns")
    ev["Records"][0]["Sns"]["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:other-topic"
    handler(ev, lambda_context())
    assert [name for name, _ in seen] == ["other"]


def test_a_subscriber_lambda_refuses_an_sqs_batch() -> None:
    handler = polyfn_aws.handler(fan_out_app([]), function="audit")
    with pytest.raises(EventError, match="'audit' \\(subscribe\\)"):
        handler(event("sqs"), lambda_context())
