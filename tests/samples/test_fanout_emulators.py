"""samples/fanout end to end on the emulators, through its real entry files: the HTTP function
publishes to the topic on the cloud's own service, each subscriber's copy is taken from that
service and handed to that subscriber's deployment the way the cloud invokes it, and the tables
the subscribers write live in the cloud's database emulator.

- AWS on moto_server: SNS -> one SQS subscription per subscriber (moto cannot invoke a Lambda,
  so each queue's SNS envelope becomes the SNS event Lambda gets), DynamoDB tables.
- Google Cloud on the Pub/Sub and Firestore emulators: one subscription per subscriber, each
  pulled message turned into Eventarc's messagePublished CloudEvent for that subscriber.
- Azure: a topic is a Service Bus topic, and Service Bus has no emulator on this machine (its
  emulator is an AMQP broker in a container; Azurite has blob, queue and table only), so the
  fan-out sample runs on Azure's entry only against the local twins (test_fanout.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.aws.test_moto import REGION
from tests.samples._native import app_module, aws_validate, http, json_of, use_moto

pytestmark = pytest.mark.e2e

SUBSCRIBERS = ("notify", "tally")
EVENTS = [{"type": "created", "order": 1}, {"type": "created", "order": 2}, {"type": "shipped"}]
PROJECT = "polyfn-test"


@pytest.fixture(autouse=True)
def sample_resources() -> Iterator[None]:
    """Replaces the local twins of tests/samples/conftest.py: each test names its cloud."""
    from polyfn._resources import reset_backends

    reset_backends()
    yield
    reset_backends()


def _tables(monkeypatch: pytest.MonkeyPatch) -> str:
    """Fresh tables for this run (POLYFN_TABLE_*: table names are letters and digits)."""
    suffix = uuid.uuid4().hex[:8]
    monkeypatch.setenv("POLYFN_TABLE_NOTIFICATIONS", f"notifications{suffix}")
    monkeypatch.setenv("POLYFN_TABLE_TALLIES", f"tallies{suffix}")
    return suffix


def _publish_all() -> list[str]:
    ids = []
    for event in EVENTS:
        answer = http("fanout", "aws" if os.environ["POLYFN_PROVIDER"] == "aws" else "gcp",
                      "POST", "/events", json_body=event)  # fmt: skip
        assert answer.status == 202, answer.body
        ids.append(json_of(answer)["published"])
    return ids


def _drain(take: Callable[[], list[Any]], count: int) -> list[Any]:
    got: list[Any] = []
    deadline = time.monotonic() + 20
    while len(got) < count and time.monotonic() < deadline:
        got += take()
    return got


def _check_tables(ids: list[str]) -> None:
    fanout = app_module("fanout")
    assert fanout.tallies.get("created")["count"] == 2
    assert fanout.tallies.get("shipped")["count"] == 1
    for message_id, event in zip(ids, EVENTS, strict=True):
        note = fanout.notifications.get(message_id)
        assert note == {"type": event["type"], "event": event}


def test_fanout_on_moto_sns_sqs_and_dynamodb(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3  # type: ignore[import-untyped]
    import polyfn_aws

    from conformance.resource_harnesses import new_queue, new_table, sns_event

    use_moto(monkeypatch, moto_url, REGION)
    suffix = _tables(monkeypatch)
    sqs, sns, ddb = (boto3.client(s, region_name=REGION) for s in ("sqs", "sns", "dynamodb"))
    for table in ("notifications", "tallies"):
        new_table(ddb, f"{table}{suffix}")
    # The topic keeps the logical name (CreateTopic of an existing name returns it); the
    # subscriber Lambdas are bound by that name.
    topic_arn = sns.create_topic(Name="order-events")["TopicArn"]
    queues = {}
    for name in SUBSCRIBERS:
        url, arn = new_queue(sqs, f"fanout-{name}-{suffix}")
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
        queues[name] = url

    ids = _publish_all()
    app = app_module("fanout").app
    for name, url in queues.items():
        handler = polyfn_aws.handler(app, function=name)  # each subscriber its own Lambda

        def take(url: str = url) -> list[Any]:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            return answer.get("Messages", [])

        messages = _drain(take, len(EVENTS))
        assert len(messages) == len(EVENTS)
        for message in messages:
            event = aws_validate("SnsModel", sns_event(json.loads(message["Body"]), topic_arn))
            handler(event, _lambda_context())
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    _check_tables(ids)


def _lambda_context() -> Any:
    from tests.aws.conftest import lambda_context

    return lambda_context(str(uuid.uuid4()))


def test_fanout_on_the_pubsub_and_firestore_emulators(
    pubsub_emulator: str, firestore_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import polyfn_gcp
    from cloudevents.http import CloudEvent
    from google.api_core.exceptions import AlreadyExists
    from google.cloud import pubsub_v1

    from conformance.resource_harnesses import pubsub_push_body

    monkeypatch.setenv("POLYFN_PROVIDER", "gcp")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator)
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator)
    suffix = _tables(monkeypatch)
    # The topic keeps the logical name (a rerun on the same emulator finds it there); each run
    # subscribes anew, and a subscription gets only what is published after it exists.
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(PROJECT, "order-events")
    with contextlib.suppress(AlreadyExists):
        publisher.create_topic(name=topic)
    subscriptions = {}
    for name in SUBSCRIBERS:
        subscriptions[name] = f"fanout-{name}-{suffix}"
        path = subscriber.subscription_path(PROJECT, subscriptions[name])
        subscriber.create_subscription(request={"name": path, "topic": topic})

    ids = _publish_all()
    app = app_module("fanout").app
    for name, sub in subscriptions.items():
        deliver = polyfn_gcp.cloud_event(app, name)  # each subscriber its own Cloud Function
        path = subscriber.subscription_path(PROJECT, sub)

        def take(path: str = path) -> list[Any]:
            answer = subscriber.pull(request={"subscription": path, "max_messages": 10})
            return list(answer.received_messages)

        received = _drain(take, len(EVENTS))
        assert len(received) == len(EVENTS)
        for message in received:
            attributes = {
                "specversion": "1.0",
                "id": message.message.message_id,
                "source": f"//pubsub.googleapis.com/{topic}",
                "type": "google.cloud.pubsub.topic.v1.messagePublished",
            }
            deliver(CloudEvent(attributes, pubsub_push_body(message, PROJECT, sub)))
        subscriber.acknowledge(
            request={"subscription": path, "ack_ids": [m.ack_id for m in received]}
        )
    _check_tables(ids)
