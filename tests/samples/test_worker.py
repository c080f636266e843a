"""samples/worker through its three entry files, with a batch in which one order cannot be served.

- SQS into lambda_function.handler: the answer lists exactly that message in
  ``batchItemFailures``; the others are reserved and deleted by Lambda.
- Storage queue into function_app.py: each message is its own invocation; the failing one
  raises, so the host makes the message visible again (and poisons it after maxDequeueCount).
- Pub/Sub CloudEvents into main.event: the failing message is answered 500, so Pub/Sub
  redelivers it.

Then the failed message comes back (a redelivery, after stock arrived) and is reserved: every
order of the batch is reserved exactly once, nothing lost and nothing doubled. The stock lives in
the sample's Table, the local twin here (tests/samples/conftest.py)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from conformance.cases.queue import Message
from conformance.targets import aws_events, azure_events, gcp_events
from tests.samples._native import (
    app_module,
    aws_invoke,
    aws_validate,
    azure_call,
    azure_host,
    gcp_client,
)

SENT = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
ORDERS = [
    {"sku": "apple", "quantity": 2},
    {"sku": "pear", "quantity": 5},  # only 3 pears in stock: this one fails
    {"sku": "apple", "quantity": 1},
    {"sku": "pear", "quantity": 3},
]
FAILING = 1


class Stock:
    """The sample's `stock` table (the local twin here), read as {sku: (available, reserved)}."""

    def __init__(self) -> None:
        self.module = app_module("worker")
        self.module.restock("apple", 10)
        self.module.restock("pear", 3)

    def levels(self) -> dict[str, tuple[int, int]]:
        found = {}
        for sku in ("apple", "pear"):
            doc = self.module.stock.get(sku)
            found[sku] = (doc["available"], doc["reserved"])
        return found


@pytest.fixture
def state() -> Stock:
    return Stock()


def messages(delivery: int = 1) -> list[Message]:
    return [
        Message(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"order-{i}")),
            body=json.dumps(order).encode(),
            enqueued_time=SENT + timedelta(seconds=i),
            delivery_count=delivery,
        )
        for i, order in enumerate(ORDERS)
    ]


# -- each cloud: deliver a batch, return the ids the cloud would deliver again -------------------


def sqs(batch: list[Message]) -> list[str]:
    records = [
        aws_events.sqs_record(
            "orders",
            m.id,
            m.body.decode(),
            sent=m.enqueued_time,
            receive_count=m.delivery_count,
        )
        for m in batch
    ]
    event = aws_validate("SqsModel", {"Records": records})
    result = aws_invoke("worker", event)
    # Lambda deletes every record not listed; the listed ones come back after the visibility
    # timeout: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html
    return [failure["itemIdentifier"] for failure in result["batchItemFailures"]]


def storage_queue(batch: list[Message]) -> list[str]:
    again = []
    for m in batch:
        body, metadata = azure_events.queue_trigger(m)
        try:
            azure_call("worker", "reserve_stock", body, metadata)
        except Exception as exc:  # the invocation failed: the host leaves the message queued
            assert type(exc).__name__ == "OutOfStockError"
            again.append(m.id)
    return again


def pubsub(batch: list[Message]) -> list[str]:
    client = gcp_client("worker", "event", "cloudevent")
    again = []
    for m in batch:
        body, headers = gcp_events.binary_mode(
            gcp_events.pubsub_attributes(m, "orders"), gcp_events.pubsub_envelope(m, attempt=True)
        )
        resp = client.post("/", data=body, headers=headers)
        if not 200 <= resp.status_code < 300:  # not acknowledged: Pub/Sub delivers it again
            assert resp.status_code == 500
            assert b"OutOfStock" not in resp.get_data()  # no traceback to the sender
            again.append(m.id)
    return again


CLOUDS = {"aws-sqs": sqs, "azure-storage-queue": storage_queue, "gcp-pubsub": pubsub}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_one_failing_order_is_redelivered_alone_and_nothing_is_lost(
    cloud: str, state: Stock
) -> None:
    first = messages()
    again = CLOUDS[cloud](first)
    assert again == [first[FAILING].id]
    assert state.levels() == {"apple": (7, 3), "pear": (0, 3)}

    state.module.restock("pear", 5)  # a delivery arrives; the redelivered order can now be served
    redelivered = [m for m in messages(delivery=2) if m.id in again]
    assert CLOUDS[cloud](redelivered) == []
    # Every order reserved once: 2 + 1 apples, 3 + 5 pears.
    assert state.levels() == {"apple": (7, 3), "pear": (0, 8)}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_a_message_delivered_twice_reserves_once(cloud: str, state: Stock) -> None:
    """At-least-once delivery: the same message again is acknowledged without a second
    reservation (idempotent on the reservations table)."""
    apple = messages()[0]
    assert CLOUDS[cloud]([apple]) == []
    assert CLOUDS[cloud]([messages(delivery=2)[0]]) == []
    assert state.levels()["apple"] == (8, 2)


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_a_batch_that_all_succeeds_acknowledges_everything(cloud: str, state: Stock) -> None:
    state.module.restock("pear", 100)
    assert CLOUDS[cloud](messages()) == []
    assert state.levels() == {"apple": (7, 3), "pear": (95, 8)}


def test_concurrent_workers_never_oversell(state: Stock) -> None:
    """Twenty reservations of one apple from eight threads against ten apples: the conditional
    writes let exactly ten through, the others fail out of stock (and are redelivered)."""
    from concurrent.futures import ThreadPoolExecutor

    batch = [
        Message(id=f"apple-{i}", body=b'{"sku": "apple", "quantity": 1}', enqueued_time=SENT)
        for i in range(20)
    ]
    with ThreadPoolExecutor(8) as pool:
        again = [i for failed in pool.map(lambda m: sqs([m]), batch) for i in failed]
    assert len(again) == 10
    assert state.levels()["apple"] == (0, 10)


def test_a_body_that_is_not_json_fails_only_its_own_record(state: Stock) -> None:
    good, _, *_ = messages()
    bad = Message(id="not-json", body=b"apple x2", enqueued_time=SENT)
    assert sqs([bad, good]) == ["not-json"]
    assert state.levels()["apple"] == (8, 2)


def test_azure_binds_a_storage_queue_trigger_on_orders() -> None:
    trigger = azure_host("worker").trigger("reserve_stock")
    assert (trigger["type"], trigger["queueName"]) == ("queueTrigger", "orders")
    assert azure_host("worker").load_problems("reserve_stock") == []
