"""The `ResourceHarness` of each backend (conformance/resources.py): local twins, AWS, Azure, GCP.

Each hands out new resources on its backend, created with the cloud's own SDK, and reads a queue
the way its consumer function is served: the SDK receives the message as the cloud's trigger would,
and the adapter's public entry point (`polyfn_aws.handler`, `polyfn_azure.function_app`,
`polyfn_gcp.http`) turns it into the `QueueMessage` a handler gets. Only public handles and
adapter entry points are used, never a backend's internals.

Where no emulator exists the harness says so: Key Vault and Secret Manager run over fakes that
answer as the services' REST references show (`FAKE_TRANSPORT`), and Service Bus (Azure's fifo
queues and topics) has no broker here, so those cases raise `Skip` with `NO_BROKER`.

A harness is opened with `with harness_for(provider) as make:` (`make()` returns a fresh
harness); outside pytest the opener arranges the environment itself and restores it afterwards.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import threading
import time
import uuid
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from conformance._spec import Skip
from polyfn import App, Bucket, Queue, QueueMessage, Secret, Table, Topic

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from conformance.resources import ResourceHarness

__all__ = [
    "FAKE_TRANSPORT",
    "NO_BROKER",
    "AwsHarness",
    "AzureHarness",
    "FakeKeyVault",
    "FakeSecretManager",
    "GcpHarness",
    "LocalHarness",
]

FAKE_TRANSPORT = "fake transport"
NO_BROKER = "no Service Bus broker"
# The cases each backend runs over a fake of the service (its cells say so).
FAKE_TRANSPORT_CASES = {
    "azure": ("case_secret_value_and_missing",),
    "gcp": ("case_secret_value_and_missing",),
}


def _unique(prefix: str, sep: str = "") -> str:
    return f"{prefix}{sep}{uuid.uuid4().hex[:10]}"


# -- local -----------------------------------------------------------------------------------------


class LocalHarness:
    """Fresh local resources in the state folder `POLYFN_STATE_DIR` names; `receive` reads the
    SQLite queue as `polyfn serve` does and builds the QueueMessage its consumer would get."""

    provider = "local"

    def __init__(self, state: Path) -> None:
        from polyfn._local._resources import MAX_MESSAGE_BYTES

        self.state = state
        self.max_message_bytes = MAX_MESSAGE_BYTES

    def bucket(self) -> Bucket:
        return Bucket(_unique("b-"))

    def queue(self, fifo: bool = False) -> Queue:
        return Queue(_unique("q-"), fifo=fifo)

    def table(self) -> Table:
        return Table(_unique("t"))

    def secret(self, value: str) -> Secret:
        secret = Secret(_unique("s-"))
        path = self.state / "secrets.json"
        found = json.loads(path.read_text()) if path.exists() else {}
        found[secret.name] = value
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found))
        return secret

    def missing_secret(self) -> Secret:
        return Secret(_unique("missing-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        from polyfn._local._invoke import stored_queue_message
        from polyfn._local._resources import current_state

        store = current_state().queue
        taken = store.receive(queue.name, count, 30.0, fifo=queue.fifo)
        for stored in taken:
            store.ack(stored)
        return [stored_queue_message(s) for s in taken]

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        from polyfn._local._resources import current_state, subscription_queue

        topic = Topic(_unique("topic-"))
        queues = [Queue(subscription_queue(topic.name, f"fn{i}")) for i in range(subscribers)]
        for queue in queues:
            current_state().subscribe(topic.name, queue.name)
        return topic, queues


# -- AWS -------------------------------------------------------------------------------------------

# SQS's default MaximumMessageSize, which the harness gives its queues.
SQS_MAX_MESSAGE_BYTES = 262_144


def aws_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _lambda_context() -> Any:
    from awslambdaric.lambda_context import LambdaContext

    deadline = int(time.time() * 1000) + 30_000
    arn = f"arn:aws:lambda:{aws_region()}:123456789012:function:consumer"
    return LambdaContext(str(uuid.uuid4()), None, None, deadline, arn)


def sqs_records(sqs: Any, url: str, arn: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """Up to `count` messages received from `url` within `timeout` seconds (deleted there), as
    the records Lambda's SQS poller delivers (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)."""
    records: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        for m in sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, count - len(records)),
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", []):
            records.append(
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m.get("Attributes", {}),
                    # Lambda's shape of message attributes (lower camel case).
                    "messageAttributes": {
                        name: {
                            "stringValue": a["StringValue"],
                            "stringListValues": [],
                            "binaryListValues": [],
                            "dataType": a["DataType"],
                        }
                        for name, a in m.get("MessageAttributes", {}).items()
                    },
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": aws_region(),
                }
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return records


def sns_event(envelope: dict[str, Any], topic_arn: str) -> dict[str, Any]:
    """What SNS hands a subscribed Lambda, built from the envelope it delivered to an SQS
    subscription (https://docs.aws.amazon.com/sns/latest/dg/sns-lambda-as-subscriber.html)."""
    record = {
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:sub",
        "EventSource": "aws:sns",
        "Sns": {
            "SignatureVersion": "1",
            "Timestamp": envelope["Timestamp"],
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "MessageId": envelope["MessageId"],
            "Message": envelope["Message"],
            "MessageAttributes": envelope.get("MessageAttributes", {}),
            "Type": "Notification",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?unsubscribe",
            "TopicArn": topic_arn,
            "Subject": None,
        },
    }
    return {"Records": [record]}


def new_table(ddb: Any, name: str) -> None:
    """A DynamoDB table of the shape polyfn's Table expects (a string hash key ``pk``)."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def new_queue(sqs: Any, name: str, **attributes: str) -> tuple[str, str]:
    """Create an SQS queue; its (url, arn)."""
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    found = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return url, found["Attributes"]["QueueArn"]


class AwsHarness:
    """New resources on the AWS endpoint the environment names (boto3 reads AWS_ENDPOINT_URL)."""

    provider = "aws"
    max_message_bytes = SQS_MAX_MESSAGE_BYTES

    def __init__(self, client: Callable[[str], Any] | None = None) -> None:
        self.client = client or _boto3_client
        self.queues: dict[str, tuple[str, str]] = {}  # handle name -> (url, arn)
        self.subscriptions: dict[str, str] = {}  # subscription queue name -> topic ARN

    def bucket(self) -> Bucket:
        name = _unique("b-")
        self.client("s3").create_bucket(Bucket=name)
        return Bucket(name)

    def queue(self, fifo: bool = False) -> Queue:
        name = _unique("q-")
        attributes = {"MaximumMessageSize": str(SQS_MAX_MESSAGE_BYTES)}
        if fifo:
            attributes["FifoQueue"] = "true"
        sqs_name = name + ".fifo" if fifo else name
        self.queues[name] = new_queue(self.client("sqs"), sqs_name, **attributes)
        return Queue(name, fifo=fifo)

    def table(self) -> Table:
        name = _unique("t")
        new_table(self.client("dynamodb"), name)
        return Table(name)

    def secret(self, value: str) -> Secret:
        name = _unique("s-")
        self.client("secretsmanager").create_secret(Name=name, SecretString=value)
        return Secret(name)

    def missing_secret(self) -> Secret:
        return Secret(_unique("missing-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        import polyfn_aws

        url, arn = self.queues[queue.name]
        records = sqs_records(self.client("sqs"), url, arn, count, timeout)
        got: list[QueueMessage] = []
        app = App("consumer")
        topic_arn = self.subscriptions.get(queue.name)
        # A subscriber is a queue function of the topic's name, as SNS invokes it directly.
        bound = topic_arn.rsplit(":", 1)[-1] if topic_arn else queue.name

        @app.queue(bound, fifo=queue.fifo)
        def consumer(msg: QueueMessage, ctx: Any) -> None:
            got.append(msg)

        handler = polyfn_aws.handler(app)
        if topic_arn is None:
            if records:
                answer = handler(_valid("SqsModel", {"Records": records}), _lambda_context())
                if answer != {"batchItemFailures": []}:
                    raise AssertionError(f"the consumer reported failures: {answer}")
        else:
            for record in records:
                event = sns_event(json.loads(record["body"]), topic_arn)
                handler(_valid("SnsModel", event), _lambda_context())
        return got

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        name = _unique("topic-")
        topic_arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        queues = [self.queue() for _ in range(subscribers)]
        for queue in queues:
            self.subscriptions[queue.name] = topic_arn
            endpoint = self.queues[queue.name][1]
            self.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint)
        return Topic(name), queues


def _valid(model: str, event: dict[str, Any]) -> dict[str, Any]:
    """`event` after Powertools' parser model `model` accepted it (the shape Lambda sends)."""
    from aws_lambda_powertools.utilities.parser import models

    getattr(models, model).model_validate(event)
    return event


def _boto3_client(service: str) -> Any:
    import boto3  # type: ignore[import-untyped]

    return boto3.client(service, region_name=aws_region())


# -- Azure -----------------------------------------------------------------------------------------

# A Storage queue holds 64 KiB of base64 (the host's default messageEncoding): 3/4 of it raw.
STORAGE_QUEUE_RAW_MAX = 65536 // 4 * 3
FAKE_VAULT_URL = "https://vault.vault.azure.net"


class FakeKeyVault:
    """An azure-core HttpTransport answering Key Vault's Get Secret as its REST reference shows:
    GET {vault}/secrets/{name}/?api-version=7.x -> {"value", "id", "attributes"}; unknown -> 404
    {"error": {"code": "SecretNotFound"}}.
    https://learn.microsoft.com/rest/api/keyvault/secrets/get-secret/get-secret
    """

    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.paths: list[str] = []

    def __enter__(self) -> FakeKeyVault:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, request: Any, **kwargs: Any) -> Any:
        import io
        from urllib.parse import urlsplit

        import requests
        from azure.core.rest._requests_basic import RestRequestsTransportResponse

        path = urlsplit(request.url).path
        self.paths.append(path)
        name = path.split("/secrets/")[1].strip("/").split("/")[0]
        body: dict[str, Any]
        if name in self.secrets:
            status = 200
            body = {
                "value": self.secrets[name],
                "id": f"{FAKE_VAULT_URL}/secrets/{name}/0123",
                "attributes": {"enabled": True},
            }
        else:
            status, body = 404, {"error": {"code": "SecretNotFound", "message": "not found"}}
        inner = requests.Response()
        inner.status_code = status
        inner.reason = "OK" if status == 200 else "Not Found"
        inner.headers.update({"content-type": "application/json"})
        inner._content = json.dumps(body).encode()
        inner.raw = io.BytesIO(inner._content)
        inner.url = request.url
        return RestRequestsTransportResponse(  # type: ignore[no-untyped-call]
            request=request, internal_response=inner
        )


class FakeCredential:
    """A token credential that never asks Entra ID (the fake vault takes any token)."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("token", 4_102_444_800)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("token", 4_102_444_800)


@contextlib.contextmanager
def fake_key_vault(vault: FakeKeyVault) -> Iterator[FakeKeyVault]:
    """Every SecretClient made meanwhile talks to `vault` (restored afterwards)."""
    from azure.keyvault.secrets import SecretClient

    real_init = SecretClient.__init__

    def init(self: Any, url: str, credential: Any, **kwargs: Any) -> None:
        real_init(self, url, FakeCredential(), transport=vault, verify_challenge_resource=False)

    SecretClient.__init__ = init  # type: ignore[method-assign,assignment]
    try:
        yield vault
    finally:
        SecretClient.__init__ = real_init  # type: ignore[method-assign]


def azure_queue_delivery(queue: str, message: Any) -> QueueMessage:
    """A Storage queue message received with azure-storage-queue, handed to polyfn_azure's
    function app as the host would (base64 removed, its metadata), through azure-functions'
    own converter; the QueueMessage the handler got."""
    from conformance.cases.queue import Message
    from conformance.targets.azure_events import _azure_function, _call, queue_trigger

    got: list[QueueMessage] = []
    app = App("consumer")

    @app.queue(queue)
    def consume(msg: QueueMessage, ctx: Any) -> None:
        got.append(msg)

    fn = _azure_function(app, "consume", ("queueTrigger",), {})
    sent = Message(
        id=message.id,
        body=base64.b64decode(message.content),
        enqueued_time=message.inserted_on or datetime.now(UTC),
        delivery_count=message.dequeue_count or 1,
    )
    datum, metadata = queue_trigger(sent)
    error = _call(fn, datum, metadata)
    if error is not None:
        raise AssertionError(f"the consumer failed: {error!r}") from error
    return got[0]


class AzureHarness:
    """New resources on the Storage account of `connection` (Azurite here); secrets in a fake
    Key Vault; fifo queues and topics (Service Bus) skip."""

    provider = "azure"
    max_message_bytes = STORAGE_QUEUE_RAW_MAX

    def __init__(self, connection: str, vault: FakeKeyVault) -> None:
        self.connection = connection
        self.vault = vault

    def bucket(self) -> Bucket:
        from azure.storage.blob import BlobServiceClient

        name = _unique("b-")
        BlobServiceClient.from_connection_string(self.connection).create_container(name)
        return Bucket(name)

    def queue(self, fifo: bool = False) -> Queue:
        from azure.storage.queue import QueueClient

        if fifo:
            raise Skip(f"{NO_BROKER}: a fifo queue is a Service Bus queue (AMQP, no emulator)")
        name = _unique("q-")
        QueueClient.from_connection_string(self.connection, name).create_queue()
        return Queue(name)

    def table(self) -> Table:
        from azure.data.tables import TableServiceClient

        name = _unique("t")
        TableServiceClient.from_connection_string(self.connection).create_table(name)
        return Table(name)

    def secret(self, value: str) -> Secret:
        secret = Secret(_unique("s-"))
        self.vault.secrets[secret.name] = value
        return secret

    def missing_secret(self) -> Secret:
        return Secret(_unique("missing-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        from azure.storage.queue import QueueClient

        reader = QueueClient.from_connection_string(self.connection, queue.name)
        got: list[QueueMessage] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            batch = list(reader.receive_messages(max_messages=count - len(got)))
            for message in batch:
                got.append(azure_queue_delivery(queue.name, message))
                reader.delete_message(message)
            if not batch:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        return got

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        raise Skip(f"{NO_BROKER}: a topic is a Service Bus topic (AMQP, no emulator)")


# -- GCP -------------------------------------------------------------------------------------------

PUBSUB_MESSAGE_MAX = 10_000_000  # Pub/Sub's limit on a message's data


class FakeSecretManager(BaseHTTPRequestHandler):
    """Secret Manager's REST `versions.access`, as its reference documents it:
    GET /v1/{name=projects/*/secrets/*/versions/*}:access -> AccessSecretVersionResponse
    {"name", "payload": {"data": base64, "dataCrc32c": int64 as a string}}; an unknown secret is
    404 with a google.rpc.Status body.
    https://cloud.google.com/secret-manager/docs/reference/rest/v1/projects.secrets.versions/access
    """

    secrets: dict[str, bytes] = {}
    requests: list[str] = []
    _path = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access$")

    def do_GET(self) -> None:
        self.requests.append(self.path)
        match = self._path.match(self.path.split("?")[0])
        data = self.secrets.get(match.group(2)) if match else None
        if match is None or data is None:
            self._answer(
                404,
                {"error": {"code": 404, "message": "Secret not found", "status": "NOT_FOUND"}},
            )
            return
        project, secret, version = match.groups()
        number = "1" if version == "latest" else version
        self._answer(
            200,
            {
                "name": f"projects/{project}/secrets/{secret}/versions/{number}",
                "payload": {
                    "data": base64.b64encode(data).decode(),
                    "dataCrc32c": str(zlib.crc32(data)),
                },
            },
        )

    def _answer(self, status: int, body: object) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def fake_secret_manager() -> Iterator[str]:
    """A FakeSecretManager on 127.0.0.1; yields its endpoint."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSecretManager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def pubsub_push_body(received: Any, project: str, sub: str) -> dict[str, Any]:
    """The push request body Pub/Sub would POST for a pulled message.
    https://cloud.google.com/pubsub/docs/push#receive_push"""
    message = received.message
    return {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "publishTime": message.publish_time.isoformat().replace("+00:00", "Z"),
            "orderingKey": message.ordering_key,
        },
        "subscription": f"projects/{project}/subscriptions/{sub}",
    }


def gcp_push_delivery(queue: str, body: dict[str, Any]) -> QueueMessage:
    """Deliver a push body to a queue function through polyfn_gcp's HTTP entry, served by
    functions-framework's own app; the QueueMessage the handler got."""
    import polyfn_gcp

    from conformance.targets.gcp_events import client

    got: list[QueueMessage] = []
    app = App("consumer")

    @app.queue(queue)
    def consume(msg: QueueMessage, ctx: Any) -> None:
        got.append(msg)

    answer = client(app, "http").post(polyfn_gcp.queue_push_path(queue), json=body)
    if answer.status_code not in (200, 204) or len(got) != 1:
        raise AssertionError(f"push delivery answered {answer.status_code}: {answer.data!r}")
    return got[0]


def _google(module: str) -> Any:
    """A Google client library module (imported by name: mypy has no stubs for them)."""
    import importlib

    return importlib.import_module(module)


def _varint_size(n: int) -> int:
    return max(1, (n.bit_length() + 6) // 7)


def pubsub_largest_data(topic_path: str) -> int:
    """The largest message data (no attributes, no ordering key) whose PublishRequest fits
    Pub/Sub's 10,000,000 bytes: the request's protobuf encoding counts the topic name and the
    framing of the message too (field tag, length prefixes)."""
    base = 1 + _varint_size(len(topic_path.encode())) + len(topic_path.encode())
    n = PUBSUB_MESSAGE_MAX - base
    while True:
        inner = 1 + _varint_size(n) + n  # PubsubMessage.data
        if base + 1 + _varint_size(inner) + inner <= PUBSUB_MESSAGE_MAX:
            return n
        n -= 1


class GcpHarness:
    """New resources on the Google endpoints the environment names (the emulators here);
    secrets on a fake Secret Manager."""

    provider = "gcp"

    def __init__(self, project: str) -> None:
        self.project = project
        # queue handle name -> (topic it is bound to, its subscription)
        self.subscriptions: dict[str, tuple[str, str]] = {}
        self._last_topic = _unique("t", "-")

    @property
    def max_message_bytes(self) -> int:
        """The largest body the last queue made takes (its topic name counts, see above)."""
        return pubsub_largest_data(f"projects/{self.project}/topics/{self._last_topic}")

    def bucket(self) -> Bucket:
        from google.auth.credentials import AnonymousCredentials

        storage = _google("google.cloud.storage")
        name = _unique("polyfn-b", "-")
        anonymous = AnonymousCredentials()  # type: ignore[no-untyped-call]
        storage.Client(project=self.project, credentials=anonymous).create_bucket(name)
        return Bucket(name)

    def _subscribe(self, topic: str, ordering: bool) -> str:
        pubsub_v1 = _google("google.cloud.pubsub_v1")
        subscriber = pubsub_v1.SubscriberClient()
        sub = _unique("s", "-")
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(self.project, sub),
                "topic": f"projects/{self.project}/topics/{topic}",
                "enable_message_ordering": ordering,
            }
        )
        return sub

    def _topic(self) -> str:
        pubsub_v1 = _google("google.cloud.pubsub_v1")
        name = _unique("t", "-")
        publisher = pubsub_v1.PublisherClient()
        publisher.create_topic(name=publisher.topic_path(self.project, name))
        return name

    def queue(self, fifo: bool = False) -> Queue:
        topic = self._last_topic = self._topic()
        self.subscriptions[topic] = (topic, self._subscribe(topic, fifo))
        return Queue(topic, fifo=fifo)

    def table(self) -> Table:
        return Table(_unique("t"))

    def secret(self, value: str) -> Secret:
        secret = Secret(_unique("s", "-"))
        FakeSecretManager.secrets[secret.name] = value.encode()
        return secret

    def missing_secret(self) -> Secret:
        return Secret(_unique("missing", "-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        pubsub_v1 = _google("google.cloud.pubsub_v1")
        topic, sub = self.subscriptions[queue.name]
        subscriber = pubsub_v1.SubscriberClient()
        path = subscriber.subscription_path(self.project, sub)
        got: list[QueueMessage] = []
        deadline = time.monotonic() + timeout
        while len(got) < count and time.monotonic() < deadline:
            response = subscriber.pull(
                request={"subscription": path, "max_messages": count - len(got)},
                timeout=timeout,
            )
            received = list(response.received_messages)
            if not received:
                time.sleep(0.1)
                continue
            # An ordered subscription hands a group's messages out in order: keep pull order.
            got.extend(
                gcp_push_delivery(topic, pubsub_push_body(r, self.project, sub)) for r in received
            )
            subscriber.acknowledge(
                request={"subscription": path, "ack_ids": [r.ack_id for r in received]}
            )
        return got

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        topic = self._topic()
        queues = []
        for _ in range(subscribers):
            sub = self._subscribe(topic, False)
            self.subscriptions[sub] = (topic, sub)
            queues.append(Queue(sub))
        return Topic(topic), queues


# -- opening a backend outside pytest ----------------------------------------------------------


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    from polyfn._resources import reset_backends

    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reset_backends()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_backends()


@contextlib.contextmanager
def open_harness(provider: str) -> Iterator[Callable[[], ResourceHarness]]:
    """`make_handles` for `provider` with its environment arranged (the endpoints must already
    be in the environment for a cloud: see `configured`)."""
    if provider == "local":
        import tempfile

        from polyfn._local._resources import STATE_ENV, STORAGE_ENV

        with tempfile.TemporaryDirectory(prefix="polyfn-resources-") as folder:
            state = Path(folder) / "state"
            saved_storage = os.environ.pop(STORAGE_ENV, None)
            try:
                with _environ({STATE_ENV: str(state), "POLYFN_PROVIDER": "local"}):
                    yield lambda: LocalHarness(state)
            finally:
                if saved_storage is not None:
                    os.environ[STORAGE_ENV] = saved_storage
        return
    if provider == "aws":
        import polyfn_aws  # noqa: F401 - registers the aws backend

        with _environ({"POLYFN_PROVIDER": "aws", "AWS_REGION": aws_region()}):
            yield AwsHarness
        return
    if provider == "azure":
        import polyfn_azure  # noqa: F401 - registers the azure backend

        connection = os.environ["AzureWebJobsStorage"]  # noqa: SIM112 - the Functions setting
        vault = FakeKeyVault({})
        with (
            fake_key_vault(vault),
            _environ({"POLYFN_PROVIDER": "azure", "POLYFN_KEYVAULT_URL": FAKE_VAULT_URL}),
        ):
            yield lambda: AzureHarness(connection, vault)
        return
    if provider == "gcp":
        import polyfn_gcp  # noqa: F401 - registers the gcp backend

        project = os.environ.get("GOOGLE_CLOUD_PROJECT") or "polyfn-test"
        with (
            fake_secret_manager() as endpoint,
            _environ(
                {
                    "POLYFN_PROVIDER": "gcp",
                    "GOOGLE_CLOUD_PROJECT": project,
                    "POLYFN_SECRETMANAGER_ENDPOINT": endpoint,
                }
            ),
        ):
            yield lambda: GcpHarness(project)
        return
    raise ValueError(f"no resource harness for provider {provider!r}")
