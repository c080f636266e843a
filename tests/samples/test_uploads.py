"""samples/uploads through its three entry files: S3 notifications (direct and through
EventBridge) into lambda_function.handler, Event Grid blob events into the eventGridTrigger of
function_app.py, and Cloud Storage CloudEvents into main.event.

Each cloud spells the key its own way (S3 form-encodes it, Azure puts it in a blob URL and a
subject, GCS sends it raw in JSON and percent-encoded in a ce-subject header); the handler must
read the object under the same decoded key, write its index object, and delete that index when
the object is deleted. The bucket is the local twin (tests/samples/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from conformance.cases.storage import StorageCase
from conformance.targets import aws_events, azure_events, gcp_events
from polyfn import Bucket, NotFound
from tests.samples._native import (
    app_module,
    aws_invoke,
    aws_validate,
    azure_call,
    azure_host,
    gcp_client,
)

KEY = "incoming/Q3 report+final (été) 日本.csv"
WHEN = datetime(2026, 11, 27, 9, 30, 12, 345000, tzinfo=UTC)


CSV = b"region,total\nnorth,10\nsouth,12\n"


class Index:
    """The index objects the sample wrote into its bucket (the local twin here)."""

    def __init__(self) -> None:
        self.bucket = Bucket("uploads")

    def __iter__(self) -> Iterator[str]:
        for info in self.bucket.list("index/"):
            yield "incoming/" + info.key.removeprefix("index/").removesuffix(".json")

    def __getitem__(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.bucket.read(app_module("uploads").index_key(key)))
        return found

    def upload(self, key: str, data: bytes = CSV) -> None:
        self.bucket.write(key, data)


@pytest.fixture
def index() -> Index:
    return Index()


def case(kind: str, key: str = KEY, size: int | None = 5120) -> StorageCase:
    return StorageCase(
        f"uploads-{kind}",
        kind,
        key,
        size if kind == "created" else None,
        WHEN,
        content_type="text/csv",
        bucket="uploads",
    )


def aws_s3(c: StorageCase) -> None:
    event = aws_validate("S3Model", aws_events.s3_notification(c))
    assert aws_invoke("uploads", event) is None


def aws_s3_eventbridge(c: StorageCase) -> None:
    event = aws_events.s3_eventbridge(c)
    assert aws_invoke("uploads", aws_validate("S3EventNotificationEventBridgeModel", event)) is None


def azure_eventgrid(c: StorageCase) -> None:
    from azure.functions.meta import Datum

    event = azure_events.eventgrid_blob_event(c)
    assert azure_call("uploads", "index_upload", Datum(json.dumps(event), "json")) is None


def azure_cloudevents(c: StorageCase) -> None:
    from azure.functions.meta import Datum

    event = azure_events.cloudevents_blob_event(c)
    assert azure_call("uploads", "index_upload", Datum(json.dumps(event), "json")) is None


def _gcp(render: Callable[..., tuple[bytes, dict[str, str]]], c: StorageCase) -> None:
    body, headers = render(gcp_events.storage_attributes(c), gcp_events.object_resource(c))
    resp = gcp_client("uploads", "event", "cloudevent").post("/", data=body, headers=headers)
    assert 200 <= resp.status_code < 300, f"answered {resp.status_code}: {resp.get_data()!r}"


DELIVERIES: dict[str, Callable[[StorageCase], None]] = {
    "aws-s3": aws_s3,
    "aws-s3-eventbridge": aws_s3_eventbridge,
    "azure-eventgrid": azure_eventgrid,
    "azure-eventgrid-cloudevents": azure_cloudevents,
    "gcp-storage-binary": lambda c: _gcp(gcp_events.binary_mode, c),
    "gcp-storage-structured": lambda c: _gcp(gcp_events.structured_mode, c),
}


@pytest.mark.parametrize("delivery", sorted(DELIVERIES))
def test_created_object_is_read_and_indexed_under_its_decoded_key(
    delivery: str, index: Index
) -> None:
    index.upload(KEY)
    DELIVERIES[delivery](case("created"))
    assert list(index) == [KEY]
    entry = index[KEY]
    assert entry["key"] == KEY
    assert entry["bucket"] == "uploads"
    assert entry["size"] == len(CSV)  # what the handler read, not what the event announced
    assert (entry["columns"], entry["rows"]) == (["region", "total"], 2)
    assert datetime.fromisoformat(entry["time"]) == WHEN.replace(
        microsecond=entry_microseconds(delivery)
    )


def entry_microseconds(delivery: str) -> int:
    # EventBridge's event time has whole seconds; the others carry milliseconds or more.
    return 0 if delivery == "aws-s3-eventbridge" else WHEN.microsecond


@pytest.mark.parametrize("delivery", sorted(DELIVERIES))
def test_deleted_object_leaves_the_index(delivery: str, index: Index) -> None:
    for key in (KEY, "incoming/other.csv"):
        index.upload(key)
        DELIVERIES[delivery](case("created", key))
    index.bucket.delete(KEY)
    DELIVERIES[delivery](case("deleted"))
    assert list(index) == ["incoming/other.csv"]


@pytest.mark.parametrize("delivery", sorted(DELIVERIES))
def test_a_created_event_for_an_object_already_gone_fails_it(delivery: str, index: Index) -> None:
    """The object was deleted before its event ran: reading it raises NotFound, so the event
    fails (the cloud retries it) and no index is written."""
    with pytest.raises((NotFound, AssertionError)) as caught:
        DELIVERIES[delivery](case("created"))
    if caught.type is AssertionError:  # over HTTP (GCP): the failure is the status Eventarc sees
        assert "answered 500" in str(caught.value)
    assert list(index) == []


@pytest.mark.parametrize(
    "key",
    [
        "incoming/a+b.csv",  # a literal plus: %2B in S3's form encoding, never a space
        "incoming/a b.csv",  # a space: + in S3's form encoding
        "incoming/sub/dir/%41.csv",  # a literal percent sign is not decoded twice
    ],
)
@pytest.mark.parametrize("delivery", sorted(DELIVERIES))
def test_reserved_characters_arrive_as_written(delivery: str, key: str, index: Index) -> None:
    index.upload(key)
    DELIVERIES[delivery](case("created", key))
    assert list(index) == [key]
    assert index[key]["rows"] == 2


def test_s3_form_encoding_is_what_the_event_carries() -> None:
    # The rendered S3 record holds the key as S3 writes it; the handler still saw KEY above.
    record = aws_events.s3_notification(case("created"))["Records"][0]
    assert record["s3"]["object"]["key"] == (
        "incoming/Q3+report%2Bfinal+%28%C3%A9t%C3%A9%29+%E6%97%A5%E6%9C%AC.csv"
    )


def test_azure_binds_an_event_grid_trigger_because_the_sample_wants_deletes() -> None:
    # The blob trigger never fires for deletes; a function with on=["created", "deleted"] gets
    # an Event Grid subscription instead.
    host = azure_host("uploads")
    assert host.trigger("index_upload")["type"] == "eventGridTrigger"
    assert host.load_problems("index_upload") == []
