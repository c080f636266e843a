"""Timer, blob, Event Grid, Storage queue and Service Bus functions, fed host-shaped Datums
through azure-functions' own converters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from polyfn import EventError, QueueMessage, StorageEvent, TimerEvent
from tests.azure._host import Host, load
from tests.azure.conftest import Recorder


def only(rec: Recorder, name: str) -> object:
    assert [n for n, _ in rec.seen] == [name]
    return rec.seen[0][1]


def test_timer_tick_carries_the_due_occurrence(host: Host, rec: Recorder) -> None:
    host.call("nightly", load("timer_request.json"))
    event = only(rec, "nightly")
    assert isinstance(event, TimerEvent)
    assert event.name == "nightly"
    assert str(event.schedule) == "0 2 * * *"
    assert event.scheduled_time == datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    assert event.past_due is False


def test_past_due_tick_without_monitor(host: Host, rec: Recorder) -> None:
    fixture = load("timer_request.json")
    fixture["data"]["value"] = {"Schedule": {"AdjustForDST": True}, "IsPastDue": True}
    host.call("nightly", fixture)
    event = only(rec, "nightly")
    assert event.past_due is True  # type: ignore[attr-defined]
    assert event.scheduled_time is None  # type: ignore[attr-defined]


def test_blob_trigger_gives_a_created_event(host: Host, rec: Recorder) -> None:
    host.call("on_upload", load("blob_trigger.json"))
    event = only(rec, "on_upload")
    assert isinstance(event, StorageEvent)
    assert (event.kind, event.bucket, event.key) == (
        "created",
        "uploads",
        "incoming/report 2026+final.csv",
    )
    assert event.size == 10
    assert event.etag == '"0x8DCF1A2B3C4D5E6"'
    assert event.content_type == "text/csv"
    assert event.version == "2026-11-27T10:00:00.1234567Z"
    assert event.time == datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_event_grid_schema_blob_created(host: Host, rec: Recorder) -> None:
    host.call("on_change", load("eventgrid_blob_created.json"))
    event = only(rec, "on_change")
    assert isinstance(event, StorageEvent)
    assert (event.kind, event.bucket, event.key) == (
        "created",
        "uploads",
        "incoming/report 2026+final.csv",
    )
    assert event.size == 524288
    assert event.etag == "0x8D4BCC2E4835CD0"
    assert event.version == "2026-11-27T10:00:00.1234567Z"
    assert event.time == datetime(2026, 11, 27, 10, 0, 0, 958410, tzinfo=UTC)


def test_cloudevents_schema_blob_deleted(host: Host, rec: Recorder) -> None:
    host.call("on_change", load("cloudevents_blob_deleted.json"))
    event = only(rec, "on_change")
    assert isinstance(event, StorageEvent)
    assert (event.kind, event.bucket, event.key) == ("deleted", "uploads", "old/ünïcode file.txt")
    assert event.size is None
    assert event.content_type == "text/plain"
    assert event.time == datetime(2026, 11, 27, 11, 30, 0, 123456, tzinfo=UTC)


def test_event_for_another_container_is_an_event_error(host: Host, rec: Recorder) -> None:
    fixture = load("eventgrid_blob_created.json")
    event = fixture["data"]["value"]
    event["subject"] = "/blobServices/default/containers/other/blobs/x.txt"
    event["data"]["url"] = "https://shopstore.blob.core.windows.net/other/x.txt"
    with pytest.raises(EventError, match=r"'other'.*on_change"):
        host.call("on_change", fixture)
    assert rec.seen == []


def test_non_blob_event_type_is_an_event_error(host: Host) -> None:
    fixture = load("eventgrid_blob_created.json")
    fixture["data"]["value"]["eventType"] = "Microsoft.Resources.ResourceWriteSuccess"
    with pytest.raises(EventError) as info:
        host.call("on_change", fixture)
    assert info.value.field == "eventType"


def test_storage_queue_message(host: Host, rec: Recorder) -> None:
    host.call("on_order", load("storage_queue_message.json"))
    msg = only(rec, "on_order")
    assert isinstance(msg, QueueMessage)
    assert msg.id == "b0d1a2c3-0000-4e5f-8a9b-0123456789ab"
    assert msg.json() == {"order": 42}
    assert msg.queue == "orders"
    assert msg.delivery_count == 2
    assert msg.enqueued_time == datetime(2026, 11, 27, 10, 5, tzinfo=UTC)
    assert msg.attributes == {}


def test_service_bus_message(host: Host, rec: Recorder) -> None:
    host.call("on_payment", load("service_bus_message.json"))
    msg = only(rec, "on_payment")
    assert isinstance(msg, QueueMessage)
    assert msg.id == "87c66eaf88e84119b66a26278a7b4149"
    assert msg.body == b"\x00\x01\x02\x03\xfe\xff"
    assert msg.queue == "payments"
    assert msg.delivery_count == 3
    assert msg.group == "customer-17"
    assert msg.attributes == {"source": "web", "priority": "5", "urgent": "true"}
    assert msg.enqueued_time == datetime(2026, 11, 27, 10, 6, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "fixture"),
    [
        ("nightly", "timer_request.json"),
        ("on_upload", "blob_trigger.json"),
        ("on_change", "eventgrid_blob_created.json"),
        ("on_order", "storage_queue_message.json"),
        ("on_payment", "service_bus_message.json"),
    ],
)
def test_a_raise_fails_the_invocation(host: Host, rec: Recorder, name: str, fixture: str) -> None:
    # The exception reaches the worker, which reports the invocation failed: the host retries,
    # poisons or dead-letters the input; nothing is acknowledged.
    rec.fail = True
    with pytest.raises(RuntimeError, match="failed on purpose"):
        host.call(name, load(fixture))


def test_filtered_event_grid_event_is_skipped_not_failed(host: Host, rec: Recorder) -> None:
    import polyfn_azure

    from polyfn import App

    app = App("filter")

    @app.storage("uploads", on=["deleted"], suffix=".png")
    def pngs_gone(event: object, ctx: object) -> None:
        rec.record("pngs_gone", event)

    h = Host(polyfn_azure.function_app(app))
    h.call("pngs_gone", load("eventgrid_blob_created.json"))  # a created .csv: not for it
    assert rec.seen == []


def test_zero_byte_blob_has_size_zero(host: Host, rec: Recorder) -> None:
    # azure-functions' InputStream.length turns ContentLength 0 into None; the adapter reads 0.
    fixture = load("blob_trigger.json")
    fixture["data"] = {"type": "bytes", "value": ""}
    fixture["metadata"]["Properties"]["value"]["ContentLength"] = 0
    assert host.decode("on_upload", fixture).length is None
    host.call("on_upload", fixture)
    event = only(rec, "on_upload")
    assert event.size == 0  # type: ignore[attr-defined]
