"""S3 events through `polyfn_aws.handler`: direct, via SQS, via SNS, via SNS then SQS, and on
EventBridge; keys decoded once and exactly; test events skipped; unbound buckets refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polyfn_aws
import pytest
from polyfn_aws._storage import from_record

from polyfn import EventError

from .conftest import Seen, event, lambda_context, load, make_app, validate

KEY = "incoming/red flower+1 (1).jpg"


def run(ev: dict[str, Any], fail: set[str] | None = None, **kw: Any) -> tuple[Any, Seen]:
    seen = Seen()
    result = polyfn_aws.handler(make_app(seen, fail), **kw)(ev, lambda_context("req-s3"))
    return result, seen


def test_direct_notification():
    result, seen = run(event("s3_put"))
    assert result is None
    assert seen.names() == ["on_upload"]
    ev = seen[0][1]
    assert (ev.kind, ev.bucket, ev.key, ev.size) == ("created", "uploads", KEY, 2048)
    assert ev.etag == "0123456789abcdef0123456789abcdef"
    assert ev.version == "096fKKXTRTtl3on89fVO.nfljtsv6qko"
    assert ev.time == datetime(2024, 3, 10, 13, 40, 52, 123000, tzinfo=UTC)
    assert ev.content_type is None
    assert seen[0][2].function_name == "on_upload"


def test_delete_has_no_size():
    _, seen = run(event("s3_delete"))
    ev = seen[0][1]
    assert (ev.kind, ev.key, ev.size) == ("deleted", "incoming/red flower.jpg", None)


@pytest.mark.parametrize("name", ["s3_sqs", "s3_sns_sqs"])
def test_through_sqs(name):
    result, seen = run(event(name))
    assert result == {"batchItemFailures": []}
    assert [(f, e.key) for f, e, _ in seen] == [("on_upload", KEY)]


@pytest.mark.parametrize("name", ["s3_sqs", "s3_sns_sqs"])
def test_through_sqs_a_raise_fails_that_record(name):
    result, _ = run(event(name), fail={KEY})
    message_id = event(name)["Records"][0]["messageId"]
    assert result == {"batchItemFailures": [{"itemIdentifier": message_id}]}


def test_sns_then_sqs_with_raw_delivery_is_the_plain_notification():
    ev = event("s3_sns_sqs")
    ev["Records"][0]["body"] = json.loads(ev["Records"][0]["body"])["Message"]
    validate("S3SqsEventNotificationModel", ev)
    result, seen = run(ev)
    assert result == {"batchItemFailures": []}
    assert seen[0][1].key == KEY


def test_through_sns():
    result, seen = run(event("s3_sns"))
    assert result is None
    assert [(f, e.key) for f, e, _ in seen] == [("on_upload", KEY)]
    with pytest.raises(RuntimeError, match="cannot process"):
        run(event("s3_sns"), fail={KEY})


def test_s3_test_event_is_skipped():
    result, seen = run(event("s3_test_event_sqs"))
    assert result == {"batchItemFailures": []}
    assert seen == []
    direct = json.loads(load("s3_test_event_sqs")["Records"][0]["body"])
    assert run(direct)[1] == []


def test_eventbridge_object_created_and_deleted():
    _, seen = run(event("s3_eventbridge_created"))
    ev = seen[0][1]
    assert (ev.kind, ev.bucket, ev.key, ev.size) == ("created", "uploads", KEY, 2048)
    assert ev.etag == "b1946ac92492d2347c6235b4d2611184"
    assert ev.version == "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e"
    assert ev.time == datetime(2024, 3, 10, 13, 40, 52, tzinfo=UTC)
    _, seen = run(event("s3_eventbridge_deleted"))
    ev = seen[0][1]
    assert (ev.kind, ev.key, ev.size) == ("deleted", KEY, None)


@pytest.mark.parametrize(
    "key",
    ["incoming/a+b.txt", "incoming/100%25.txt", "incoming/red%20flower.jpg", "incoming/€/ü.txt"],
)
def test_eventbridge_keys_are_taken_verbatim(key):
    # The EventBridge structure documents the key without encoding; decoding it anyway would
    # turn a real "+" into a space, so whatever spelling arrives reaches the handler unchanged.
    ev = event("s3_eventbridge_created")
    ev["detail"]["object"]["key"] = key
    _, seen = run(validate("S3EventNotificationEventBridgeModel", ev))
    assert seen[0][1].key == key


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("a+b.txt", "a b.txt"),
        ("a%2Bb.txt", "a+b.txt"),
        ("%E2%82%AC%2F%C3%BC.txt", "€/ü.txt"),
        ("dir/sub%3Ddir/x%3Fy", "dir/sub=dir/x?y"),
        ("100%25+done", "100% done"),
    ],
)
def test_notification_keys_are_decoded_like_forms(encoded, key):
    ev = event("s3_put")
    ev["Records"][0]["s3"]["object"]["key"] = encoded
    record = validate("S3Model", ev)["Records"][0]
    assert from_record(record).key == key  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("event_name", "function", "kind"),
    [
        ("ObjectCreated:CompleteMultipartUpload", "on_upload", "created"),
        ("ObjectRemoved:DeleteMarkerCreated", "on_upload", "deleted"),
        ("LifecycleExpiration:Delete", "on_upload", "deleted"),
        ("LifecycleTransition", "on_archive", "archived"),
        ("IntelligentTiering", "on_archive", "archived"),
        ("ObjectTagging:Put", "on_archive", "metadata_updated"),
        ("ObjectAcl:Put", "on_archive", "metadata_updated"),
        ("ObjectRestore:Completed", None, None),
        ("Replication:OperationFailedReplication", None, None),
    ],
)
def test_event_names_map_to_neutral_kinds(event_name, function, kind):
    ev = event("s3_put")
    ev["Records"][0]["eventName"] = event_name
    _, seen = run(validate("S3Model", ev))
    if function is None:
        assert seen == []
    else:
        assert [(f, e.kind) for f, e, _ in seen] == [(function, kind)]


@pytest.mark.parametrize(
    ("detail_type", "function", "kind"),
    [
        ("Object Storage Class Changed", "on_archive", "archived"),
        ("Object Tags Added", "on_archive", "metadata_updated"),
        ("Object Restore Completed", None, None),
    ],
)
def test_eventbridge_detail_types_map_to_neutral_kinds(detail_type, function, kind):
    ev = event("s3_eventbridge_created")
    ev["detail-type"] = detail_type
    _, seen = run(validate("S3EventNotificationEventBridgeModel", ev))
    assert [(f, e.kind) for f, e, _ in seen] == ([(function, kind)] if function else [])


def test_unknown_event_name_is_an_event_error():
    ev = event("s3_put")
    ev["Records"][0]["eventName"] = "ObjectTeleported:Put"
    with pytest.raises(EventError, match=r"Records\[0\]\.eventName"):
        run(ev)


def test_a_key_outside_the_prefix_triggers_nothing():
    ev = event("s3_put")
    ev["Records"][0]["s3"]["object"]["key"] = "elsewhere/x.txt"
    assert run(ev)[1] == []


def test_a_bucket_nobody_serves_is_an_event_error_that_says_what_the_app_serves():
    ev = event("s3_put")
    ev["Records"][0]["s3"]["bucket"]["name"] = "invoices"
    with pytest.raises(EventError) as info:
        run(ev)
    assert "s3://invoices/" in str(info.value) and "on_upload: storage uploads" in str(info.value)
    sqs = event("s3_sqs")
    sqs["Records"][0]["body"] = json.dumps(ev)
    with pytest.raises(EventError, match="invoices"):
        run(sqs)


def test_a_lambda_for_one_storage_function_refuses_another_bucket():
    _, seen = run(event("s3_put"), function="on_upload")
    assert seen.names() == ["on_upload"]
    ev = event("s3_put")
    ev["Records"][0]["s3"]["bucket"]["name"] = "invoices"
    with pytest.raises(EventError, match="serves 'on_upload'"):
        run(ev, function="on_upload")


def test_a_staged_bucket_reaches_its_function(monkeypatch: pytest.MonkeyPatch) -> None:
    # With the template's Stage set, S3 names the bucket "uploads-prod" and the builder sets
    # POLYFN_BUCKET_UPLOADS to it: the function deployed for bucket "uploads" takes the event.
    ev = json.loads(json.dumps(event("s3_put")).replace('"uploads"', '"uploads-prod"'))
    with pytest.raises(EventError, match="uploads-prod"):
        run(ev, function="on_upload")
    monkeypatch.setenv("POLYFN_BUCKET_UPLOADS", "uploads-prod")
    _, seen = run(ev, function="on_upload")
    assert seen.names() == ["on_upload"]
    assert seen[0][1].bucket == "uploads-prod"
