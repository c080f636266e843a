"""The samples against real servers on 127.0.0.1: orders behind a `functions-framework` process
serving samples/orders/main.py (gunicorn, as on Cloud Run), and moto_server's S3 and SQS feeding
the uploads and worker samples' lambda_function.handler the way Lambda's SQS poller does: what
moto itself writes (the S3 notification, the receive counts) reaches the handler, and a message
the handler failed really comes back on the queue."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_moto import REGION, lambda_record
from tests.conftest import free_port, running
from tests.gcp.conftest import Server
from tests.samples._native import SAMPLES, app_module, aws_invoke, aws_validate

pytestmark = pytest.mark.e2e


# -- orders on a real functions-framework server ------------------------------------------------


@pytest.fixture(scope="module")
def orders_server() -> Iterator[Server]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "functions_framework",
        "--target", "http", "--source", str(SAMPLES / "orders" / "main.py"),
        "--signature-type", "http", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with running(cmd, port, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}):
        yield Server(port, Path(os.devnull))  # a client only: the sample records nothing


def send(server: Server, method: str, path: str, body: Any = None) -> tuple[int, Any, bytes]:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if data else {}
    return server.send(method, path, data, headers)


def test_orders_over_the_wire(orders_server: Server) -> None:
    status, headers, body = send(orders_server, "POST", "/orders", {"sku": "fig", "quantity": 2})
    assert status == 201
    order = json.loads(body)
    assert headers["Location"] == f"/orders/{order['id']}"
    status, _, body = send(orders_server, "GET", f"/orders/{order['id']}")
    assert (status, json.loads(body)) == (200, order)
    status, _, body = send(orders_server, "POST", "/orders", {"sku": "fig", "quantity": 1001})
    assert status == 400
    assert [f["loc"] for f in json.loads(body)["fields"]] == ["quantity"]
    assert send(orders_server, "DELETE", f"/orders/{order['id']}")[0] == 204
    assert send(orders_server, "DELETE", f"/orders/{order['id']}")[0] == 404
    status, headers, _ = send(orders_server, "PATCH", "/orders")
    assert (status, headers["Allow"]) == (405, "GET, POST")


# -- moto: S3 -> SQS -> uploads, SQS -> worker --------------------------------------------------


def _clients(moto_url: str) -> tuple[Any, Any]:
    import boto3  # type: ignore[import-untyped]

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name=REGION)
    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name=REGION)
    return s3, sqs


def _queue(sqs: Any, name: str) -> tuple[str, str]:
    """A new, empty queue `name` (a server CI reuses may hold one from an earlier run)."""
    with contextlib.suppress(sqs.exceptions.QueueDoesNotExist):
        sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"])
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def _poll(sqs: Any, url: str, arn: str, visibility: int = 30) -> list[dict[str, Any]]:
    """One receive as the Lambda poller does it, as Lambda records (Powertools-validated)."""
    messages = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        WaitTimeSeconds=1,
        VisibilityTimeout=visibility,
        AttributeNames=["All"],
    ).get("Messages", [])
    records = [lambda_record(m, arn) for m in messages]
    if records:
        aws_validate("SqsModel", {"Records": records})
    return records


def _finish(sqs: Any, url: str, records: list[dict[str, Any]], result: Any) -> list[str]:
    """What the poller does with the handler's answer: delete every record not listed in
    batchItemFailures; the listed ones stay and come back after their visibility timeout."""
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for record in records:
        if record["messageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
    return sorted(failed)


def test_uploads_from_moto_s3_notifications_via_sqs(moto_url: str) -> None:
    s3, sqs = _clients(moto_url)
    index: dict[str, Any] = app_module("uploads").INDEX
    index.clear()
    url, arn = _queue(sqs, f"uploads-events-{uuid.uuid4().hex[:8]}")
    # The sample's bucket name is the physical name; a server CI reuses may have it already.
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket="uploads")
    s3.put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "QueueConfigurations": [
                {"QueueArn": arn, "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]}
            ]
        },
    )
    key = f"incoming/{uuid.uuid4().hex[:6]} Q3 report+final (été).csv"

    def drain(until: Any) -> None:
        deadline = time.monotonic() + 20
        while not until() and time.monotonic() < deadline:
            records = _poll(sqs, url, arn)
            if records:
                assert _finish(sqs, url, records, aws_invoke("uploads", {"Records": records})) == []

    s3.put_object(Bucket="uploads", Key=key, Body=b"a,b\n1,2\n")
    drain(lambda: key in index)
    assert index[key]["size"] == 8
    assert index[key]["bucket"] == "uploads"
    s3.delete_object(Bucket="uploads", Key=key)
    drain(lambda: key not in index)
    assert key not in index


def test_worker_failed_message_really_comes_back_from_sqs(moto_url: str) -> None:
    _, sqs = _clients(moto_url)
    worker = app_module("worker")
    worker.STOCK.clear()
    worker.STOCK.update({"apple": 10, "pear": 3})
    worker.RESERVED.clear()
    url, arn = _queue(sqs, "orders")  # the sample's queue name is the physical name
    bodies = [{"sku": "apple", "quantity": 2}, {"sku": "pear", "quantity": 5}]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))

    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(records) < len(bodies) and time.monotonic() < deadline:
        records += _poll(sqs, url, arn, visibility=1)
    assert len(records) == 2
    failed = _finish(sqs, url, records, aws_invoke("worker", {"Records": records}))
    pear = next(r["messageId"] for r in records if "pear" in r["body"])
    assert failed == [pear]
    worker.STOCK["pear"] = 5  # stock arrives before the message is visible again

    again: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not again and time.monotonic() < deadline:
        again = _poll(sqs, url, arn)
    assert [r["messageId"] for r in again] == [pear]
    assert again[0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert _finish(sqs, url, again, aws_invoke("worker", {"Records": again})) == []
    assert sorted((r["sku"], r["try"]) for r in worker.RESERVED) == [("apple", 1), ("pear", 2)]
    assert _poll(sqs, url, arn) == []  # nothing left, nothing lost
    worker.RESERVED.clear()
