"""The neutral resource cases (conformance/resources.py) on the AWS backend, against moto_server:
handles talk to S3, SQS, SNS, DynamoDB and Secrets Manager through boto3, and a queue is read the
way its consumer function is served, through `polyfn_aws.handler` (SQS records as Lambda's poller
delivers them; a topic's subscribers get what SNS hands a subscribed Lambda)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import polyfn_aws
import pytest

from polyfn import App, Bucket, Queue, QueueMessage, Secret, Table, Topic
from polyfn._resources import reset_backends

from ._aws_resources import REGION, new_queue, new_table, sns_event, sqs_records
from .conftest import lambda_context, validate

cases = pytest.importorskip(
    "conformance.resources",
    reason="the neutral resource cases (conformance/resources.py) are not on this branch yet",
)
Skip = pytest.importorskip("conformance._spec").Skip

pytestmark = pytest.mark.e2e

# The MaximumMessageSize the harness gives its queues (SQS's default).
MAX_MESSAGE_BYTES = 262_144


class AwsHarness:
    """New resources on moto_server, each under a unique name."""

    provider = "aws"
    max_message_bytes = MAX_MESSAGE_BYTES

    def __init__(self, client: Callable[[str], Any]) -> None:
        self.client = client
        self.queues: dict[str, tuple[str, str]] = {}  # handle name -> (url, arn)
        self.subscriptions: dict[str, str] = {}  # subscription queue name -> topic ARN

    @staticmethod
    def _name(prefix: str) -> str:
        return prefix + uuid.uuid4().hex[:10]

    def bucket(self) -> Bucket:
        name = self._name("b-")
        self.client("s3").create_bucket(Bucket=name)
        return Bucket(name)

    def queue(self, fifo: bool = False) -> Queue:
        name = self._name("q-")
        attributes = {"MaximumMessageSize": str(MAX_MESSAGE_BYTES)}
        if fifo:
            attributes["FifoQueue"] = "true"
        sqs_name = name + ".fifo" if fifo else name
        self.queues[name] = new_queue(self.client("sqs"), sqs_name, **attributes)
        return Queue(name, fifo=fifo)

    def table(self) -> Table:
        name = self._name("t")
        new_table(self.client("dynamodb"), name)
        return Table(name)

    def secret(self, value: str) -> Secret:
        name = self._name("s-")
        self.client("secretsmanager").create_secret(Name=name, SecretString=value)
        return Secret(name)

    def missing_secret(self) -> Secret:
        return Secret(self._name("missing-"))

    def receive(self, queue: Queue, count: int, timeout: float = 10.0) -> list[QueueMessage]:
        url, arn = self.queues[queue.name]
        records = sqs_records(self.client("sqs"), url, arn, count, timeout, exact=False)
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
                answer = handler(validate("SqsModel", {"Records": records}), lambda_context())
                assert answer == {"batchItemFailures": []}
        else:
            for record in records:
                handler(sns_event(json.loads(record["body"]), topic_arn), lambda_context())
        return got

    def subscribed_topic(self, subscribers: int) -> tuple[Topic, list[Queue]]:
        name = self._name("topic-")
        topic_arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        queues = [self.queue() for _ in range(subscribers)]
        for queue in queues:
            self.subscriptions[queue.name] = topic_arn
            endpoint = self.queues[queue.name][1]
            self.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=endpoint)
        return Topic(name), queues


@pytest.fixture
def make_handles(
    moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], AwsHarness]]:
    import boto3

    monkeypatch.setenv("POLYFN_PROVIDER", "aws")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_REGION", REGION)
    reset_backends()

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=moto_url, region_name=REGION)

    yield lambda: AwsHarness(client)
    reset_backends()


# DynamoDB checks a condition and writes atomically
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalUpdate);
# moto_server does not: its put_item checks the condition, then writes, with no lock, on a
# threaded server, so two racing conditional writes can both pass there (seen: a counter of 30
# increments ending at 28). The cases that race writers cannot judge the backend on moto; the
# same conditions, one writer at a time, run in case_table_conditional_writes.
NOT_ON_MOTO = {
    "case_table_concurrent_if_absent": "moto's conditional writes are not atomic",
    "case_table_concurrent_if_version_counter": "moto's conditional writes are not atomic",
}


@pytest.mark.parametrize("case", cases.CASES, ids=lambda c: c.__name__)
def test_resource_case_on_aws(case: Callable[[Any], None], make_handles: Any) -> None:
    if case.__name__ in NOT_ON_MOTO:
        pytest.skip(NOT_ON_MOTO[case.__name__])
    try:
        case(make_handles)
    except Skip as why:
        pytest.skip(str(why))
