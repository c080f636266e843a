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


@pytest.fixture(autouse=True)
def sample_resources(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The samples' handles on their cloud's real backend: AWS on moto_server (this module's
    other server, functions-framework, gets Google's emulators in its own environment)."""
    from polyfn._resources import reset_backends

    # Outside an invocation too (the test's own restock and reads): the AWS backend.
    monkeypatch.setenv("POLYFN_PROVIDER", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", os.environ.get("AWS_ACCESS_KEY_ID") or "testing")
    monkeypatch.setenv(
        "AWS_SECRET_ACCESS_KEY", os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing"
    )
    reset_backends()
    yield
    reset_backends()


# -- orders on a real functions-framework server ------------------------------------------------


@pytest.fixture(scope="module")
def orders_server(pubsub_emulator: str, firestore_emulator: str) -> Iterator[Server]:
    """samples/orders/main.py under functions-framework, its table in the Firestore emulator
    and its queue (a Pub/Sub topic) in the Pub/Sub emulator."""
    import importlib

    project = "polyfn-test"
    suffix = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "GOOGLE_CLOUD_PROJECT": project,
        "PUBSUB_EMULATOR_HOST": pubsub_emulator,
        "FIRESTORE_EMULATOR_HOST": firestore_emulator,
        "POLYFN_TABLE_ORDERS": f"orders{suffix}",
        "POLYFN_QUEUE_ORDERS": f"orders-{suffix}",
    }
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = pubsub_emulator
    try:
        publisher = importlib.import_module("google.cloud.pubsub_v1").PublisherClient()
        publisher.create_topic(name=f"projects/{project}/topics/orders-{suffix}")
    finally:
        if previous is None:
            del os.environ["PUBSUB_EMULATOR_HOST"]
        else:
            os.environ["PUBSUB_EMULATOR_HOST"] = previous
    port = free_port()
    cmd = [
        sys.executable, "-m", "functions_framework",
        "--target", "http", "--source", str(SAMPLES / "orders" / "main.py"),
        "--signature-type", "http", "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    with running(cmd, port, env=env):
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
    """S3 notifies SQS; the handler reads the CSV from moto's S3 and writes its index object
    there (the AWS backend on boto3), and deletes it when the CSV goes."""
    uploads = app_module("uploads")
    s3, sqs = _clients(moto_url)
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
    index_key = uploads.index_key(key)

    def indexed() -> bool:
        return uploads.uploads.info(index_key) is not None

    def drain(until: Any) -> None:
        deadline = time.monotonic() + 20
        while not until() and time.monotonic() < deadline:
            records = _poll(sqs, url, arn)
            if records:
                assert _finish(sqs, url, records, aws_invoke("uploads", {"Records": records})) == []

    s3.put_object(Bucket="uploads", Key=key, Body=b"a,b\n1,2\n")
    drain(indexed)
    index = json.loads(s3.get_object(Bucket="uploads", Key=index_key)["Body"].read())
    assert (index["key"], index["bucket"], index["size"]) == (key, "uploads", 8)
    assert (index["columns"], index["rows"]) == (["a", "b"], 1)
    s3.delete_object(Bucket="uploads", Key=key)
    drain(lambda: not indexed())
    assert not indexed()


def test_worker_failed_message_really_comes_back_from_sqs(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real SQS messages into the worker's handler; the stock and the reservations in DynamoDB
    (tables of their own, mapped by POLYFN_TABLE_*), the failed order back on the queue."""
    import boto3  # type: ignore[import-untyped]

    from conformance.resource_harnesses import new_table

    _, sqs = _clients(moto_url)
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name=REGION)
    for table in ("stock", "reservations"):
        name = f"{table}-{uuid.uuid4().hex[:8]}"
        new_table(ddb, name)
        monkeypatch.setenv(f"POLYFN_TABLE_{table.upper()}", name)
    worker = app_module("worker")
    worker.restock("apple", 10)
    worker.restock("pear", 3)
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
    worker.restock("pear", 2)  # stock arrives before the message is visible again

    again: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not again and time.monotonic() < deadline:
        again = _poll(sqs, url, arn)
    assert [r["messageId"] for r in again] == [pear]
    assert again[0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert _finish(sqs, url, again, aws_invoke("worker", {"Records": again})) == []
    stock = {sku: worker.stock.get(sku) for sku in ("apple", "pear")}
    assert {sku: (d["available"], d["reserved"]) for sku, d in stock.items()} == {
        "apple": (8, 2),
        "pear": (0, 5),
    }
    item = ddb.get_item(TableName=os.environ["POLYFN_TABLE_STOCK"], Key={"pk": {"S": "pear"}})
    assert "Item" in item  # the document is in moto's DynamoDB
    assert _poll(sqs, url, arn) == []  # nothing left, nothing lost
