"""The AWS resource backend without a server: SendMessageBatch answers that moto does not give
(entries failed by the sender's fault, throttled entries) through botocore's own Stubber, the
readers' handling of polyfn's base64 marker, the name rules, the DynamoDB value mapping and the
error mapping."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import polyfn_aws
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from polyfn_aws import _resources as aws

from polyfn import AccessDenied, Conflict, EventError, NotFound, Queue, ResourceError
from polyfn._provider import register
from polyfn._resources import reset_backends

from .conftest import Seen, event, lambda_context, make_app

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/bulk"


class _StandIn(type(polyfn_aws.provider)):  # type: ignore[misc]
    """The AWS provider with `backend` as its resource backend."""

    def __init__(self, backend: aws.AwsBackend) -> None:
        self.backend = backend

    def resources(self) -> aws.AwsBackend:
        return self.backend


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, aws.AwsBackend]]:
    """An SQS client whose answers a test queues up (botocore's Stubber), in the AWS backend
    that handles use outside an invocation (POLYFN_PROVIDER=aws)."""
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("sqs", region_name="us-east-1", endpoint_url="https://sqs.invalid")
    backend = aws.AwsBackend()
    backend._clients["sqs"] = client
    monkeypatch.setenv("POLYFN_PROVIDER", "aws")
    monkeypatch.setenv("POLYFN_QUEUE_BULK", URL)
    monkeypatch.setattr(aws, "BATCH_BACKOFF_SECONDS", 0.0)
    register(_StandIn(backend))
    with Stubber(client) as stub:
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"MaximumMessageSize": "262144"}},
            {"QueueUrl": URL, "AttributeNames": ["MaximumMessageSize"]},
        )
        yield stub, backend
        stub.assert_no_pending_responses()
    register(polyfn_aws.provider)
    reset_backends()


def batch(indexes: list[int]) -> dict[str, Any]:
    return {
        "QueueUrl": URL,
        "Entries": [{"Id": str(i), "MessageBody": f"m{i}"} for i in indexes],
    }


def test_send_batch_reports_exactly_the_failed_entries_and_retries_throttled_ones(stubbed):
    stub, _ = stubbed
    ok = lambda ids: [{"Id": str(i), "MessageId": f"id-{i}", "MD5OfMessageBody": "x"} for i in ids]  # noqa: E731
    stub.add_response(
        "send_message_batch",
        {
            "Successful": ok(range(8)),
            "Failed": [
                {"Id": "8", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "no"},
                {"Id": "9", "SenderFault": False, "Code": "RequestThrottled"},
            ],
        },
        batch(list(range(10))),
    )
    stub.add_response("send_message_batch", {"Successful": ok([9]), "Failed": []}, batch([9]))
    stub.add_response(
        "send_message_batch", {"Successful": ok([10, 11]), "Failed": []}, batch([10, 11])
    )
    result = Queue("bulk").send_batch([f"m{i}" for i in range(12)])
    assert [i for i, _ in result.failed] == [8]
    assert "InvalidParameterValue" in str(result.failed[0][1])
    assert result.ids == [f"id-{i}" for i in range(8)] + [None, "id-9", "id-10", "id-11"]


def test_throttling_that_outlasts_the_retries_is_reported(stubbed):
    stub, _ = stubbed
    for _ in range(aws.BATCH_RETRIES + 1):
        stub.add_response(
            "send_message_batch",
            {"Successful": [], "Failed": [{"Id": "0", "SenderFault": False, "Code": "Throttled"}]},
            batch([0]),
        )
    result = Queue("bulk").send_batch(["m0"])
    assert [i for i, _ in result.failed] == [0]
    assert "Throttled" in str(result.failed[0][1])


def test_a_later_chunk_that_fails_whole_marks_its_entries_and_keeps_the_sent_ones(stubbed):
    stub, _ = stubbed
    ok = [{"Id": str(i), "MessageId": f"id-{i}", "MD5OfMessageBody": "x"} for i in range(10)]
    stub.add_response(
        "send_message_batch", {"Successful": ok, "Failed": []}, batch(list(range(10)))
    )
    stub.add_client_error("send_message_batch", "AccessDenied", "no", 403)
    result = Queue("bulk").send_batch([f"m{i}" for i in range(12)])
    assert [i for i, _ in result.failed] == [10, 11]
    assert isinstance(result.failed[0][1], AccessDenied)
    assert result.ids[:10] == [f"id-{i}" for i in range(10)]


def test_a_first_chunk_that_fails_whole_raises(stubbed):
    stub, _ = stubbed
    stub.add_client_error("send_message_batch", "AWS.SimpleQueueService.NonExistentQueue", "", 400)
    with pytest.raises(NotFound, match="POLYFN_QUEUE_BULK"):
        Queue("bulk").send_batch(["a"])


# -- the readers ---------------------------------------------------------------------------------


def marked_sqs(body: str, marker: str = "base64") -> dict[str, Any]:
    ev = event("sqs")
    del ev["Records"][1:]
    ev["Records"][0]["body"] = body
    ev["Records"][0]["messageAttributes"][aws.ENCODING_ATTRIBUTE] = {
        "stringValue": marker,
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    return ev


def test_the_sqs_reader_decodes_a_marked_body_and_drops_the_marker():
    seen = Seen()
    ev = marked_sqs(base64.b64encode(b"\x00\x01 nul").decode())
    assert polyfn_aws.handler(make_app(seen))(ev, lambda_context()) == {"batchItemFailures": []}
    message = seen[0][1]
    assert message.body == b"\x00\x01 nul"
    assert set(message.attributes) == {"tenant", "priority", "blob"}


@pytest.mark.parametrize(("body", "marker"), [("not base64!", "base64"), ("AAEC", "gzip")])
def test_an_unreadable_marked_sqs_body_fails_its_record(body, marker):
    seen = Seen()
    ev = marked_sqs(body, marker)
    answer = polyfn_aws.handler(make_app(seen))(ev, lambda_context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": ev["Records"][0]["messageId"]}]}
    assert seen == []


def test_the_sns_reader_decodes_a_marked_message():
    seen = Seen()
    ev = event("sns")
    sns = ev["Records"][0]["Sns"]
    sns["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:orders"
    sns["Message"] = base64.b64encode(bytes(range(128))).decode()
    sns["MessageAttributes"][aws.ENCODING_ATTRIBUTE] = {"Type": "String", "Value": "base64"}
    polyfn_aws.handler(make_app(seen))(ev, lambda_context())
    assert seen[0][1].body == bytes(range(128))
    assert set(seen[0][1].attributes) == {"tenant", "blob"}
    sns["Message"] = "%%%"
    with pytest.raises(EventError, match=r"not valid base64.*Sns\.MessageAttributes"):
        polyfn_aws.handler(make_app(Seen()))(ev, lambda_context())


# -- wire, names, values, errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "encoded"),
    [
        (b"text", False),
        ("ü ✓ 🎉\t\r\n".encode(), False),
        (b"", True),
        (b"\xff", True),
        (b"nul\x00", True),
        (b"esc\x1b", True),
        ("\ufffe".encode(), True),  # outside XML's characters
    ],
)
def test_wire_body_sends_sqs_text_as_is_and_everything_else_base64(body, encoded):
    text, marked = aws.wire_body(body)
    assert marked is encoded
    assert (base64.b64decode(text) if marked else text.encode()) == body


@pytest.mark.parametrize(
    ("kind", "name", "rule"),
    [
        ("bucket", "ab", "3 to 63"),
        ("bucket", "Uploads", "lowercase"),
        ("bucket", "-uploads", "begin and end"),
        ("bucket", "a..b", "adjacent dots"),
        ("bucket", "192.168.5.4", "IP address"),
        ("bucket", "xn--abc", "xn--"),
        ("bucket", "data-s3alias", "-s3alias"),
        ("queue", "q" * 81, "1 to 80"),
        ("queue", "orders.v2", "letters, digits"),
        ("topic", "a b", "letters, digits"),
        ("table", "ab", "3 to 255"),
        ("table", "a/b", "underscores"),
        ("secret", "a b", "ASCII letters"),
    ],
)
def test_name_rules_name_the_rule_broken(kind, name, rule):
    assert rule in (aws.broken_name_rule(kind, name) or "")


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("bucket", "my-uploads.2024"),
        ("queue", "jobs.fifo"),
        ("topic", "order_events-1"),
        ("table", "Carts.v1"),
        ("secret", "prod/stripe+key@x"),
    ],
)
def test_valid_names_pass(kind, name):
    assert aws.broken_name_rule(kind, name) is None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**37), 10**37)
    | st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: f == 0 or 1e-129 < abs(f) < 1e125
    )
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1).filter(lambda k: k not in aws.RESERVED_FIELDS), JSON))
@example(document={"N": None})  # a field named like DynamoDB's number type
def test_documents_map_to_dynamodb_values_and_back_exactly(document):
    item = json.loads(json.dumps(aws.to_item(document, "t")))  # what the wire carries
    # DynamoDB trims a number's zeros ("1.0" is stored as "1"): what it would answer.
    for value in _numbers(item):
        value["N"] = _dynamodb_number(value["N"])
    fields, version = aws.from_item({**item, "pk": {"S": "k"}, "_version": {"N": "3"}})
    assert version == "3"
    assert json.dumps(fields, sort_keys=True) == json.dumps(document, sort_keys=True)
    assert _types(fields) == _types(document)


def _numbers(value: Any) -> Iterator[dict[str, str]]:
    if isinstance(value, dict):
        # A typed number: {"N": "<digits>"} (a map's field named "N" holds a typed value).
        if len(value) == 1 and isinstance(value.get("N"), str):
            yield value
        for inner in value.values():
            yield from _numbers(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _numbers(inner)


def _dynamodb_number(text: str) -> str:
    from decimal import Context, Decimal

    number = Context(prec=38).normalize(Decimal(text))
    return format(number, "f") if abs(number.adjusted()) < 30 else str(number)


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return type(value).__name__


def test_numbers_dynamodb_cannot_hold_are_refused():
    for bad in (1e300, -1e200, 5e-324, 10**40 + 1, math.nan):
        with pytest.raises(ResourceError, match="does not fit DynamoDB's numbers"):
            aws.to_item({"x": bad}, "t")


def client_error(code: str, status: int = 400) -> Exception:
    from botocore.exceptions import ClientError

    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "Op")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("NoSuchBucket", NotFound),
        ("AWS.SimpleQueueService.NonExistentQueue", NotFound),
        ("ResourceNotFoundException", NotFound),
        ("NotFound", NotFound),
        ("NoSuchKey", NotFound),
        ("AccessDenied", AccessDenied),
        ("AccessDeniedException", AccessDenied),
        ("AuthorizationError", AccessDenied),
        ("ConditionalCheckFailedException", Conflict),
        ("ThrottlingException", ResourceError),
        ("InternalError", ResourceError),
    ],
)
def test_client_errors_map_to_neutral_errors(code, expected):
    error = aws.to_resource_error(client_error(code), "queue", "orders", "send")
    assert type(error) is expected
    assert "queue 'orders'" in str(error) and "send failed" in str(error)


def test_a_missing_resource_error_says_which_variable_to_set(monkeypatch):
    Queue("audit-log")
    error = aws.to_resource_error(client_error("QueueDoesNotExist"), "queue", "audit-log", "send")
    assert "POLYFN_QUEUE_AUDIT_LOG is not set" in str(error)
    monkeypatch.setenv("POLYFN_QUEUE_AUDIT_LOG", "prod-audit")
    error = aws.to_resource_error(client_error("QueueDoesNotExist"), "queue", "prod-audit", "send")
    assert "queue (AWS name 'prod-audit', from POLYFN_QUEUE_AUDIT_LOG)" in str(error)
    assert "check that POLYFN_QUEUE_AUDIT_LOG names an existing queue" in str(error)


def test_an_error_that_is_not_boto3s_is_left_alone():
    error = KeyError("x")
    assert aws.to_resource_error(error, "queue", "q", "send") is error


def test_importing_polyfn_aws_registers_the_backend_without_loading_it():
    code = (
        "import sys, polyfn_aws\n"
        "from polyfn._provider import registered\n"
        "assert registered()['aws'] is polyfn_aws.provider\n"
        "print('polyfn_aws._resources' in sys.modules, 'boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
