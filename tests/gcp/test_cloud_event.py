"""polyfn_gcp.cloud_event through functions-framework's own app: CloudEvents in binary and
structured mode, and legacy background events converted by functions-framework itself."""

from __future__ import annotations

import base64

import pytest

from polyfn import EventError
from tests.gcp.conftest import Served, load_event

MODES = ["binary", "structured"]
STORAGE_KINDS = {
    "google.cloud.storage.object.v1.finalized": "created",
    "google.cloud.storage.object.v1.deleted": "deleted",
    "google.cloud.storage.object.v1.archived": "archived",
    "google.cloud.storage.object.v1.metadataUpdated": "metadata_updated",
}


def send(target: Served, event, mode):
    return target.post_binary(event) if mode == "binary" else target.post_structured(event)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("ce_type", sorted(STORAGE_KINDS))
def test_storage_events_in_both_modes(event_target, fresh, mode, ce_type):
    event = load_event("storage_cloudevent.json")
    event["type"] = ce_type
    resp = send(event_target, event, mode)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert event_target.seen == [
        {
            "fn": "on_upload",
            "kind": STORAGE_KINDS[ce_type],
            "bucket": "uploads",
            "key": "incoming/report 2024+final é.csv",
            "size": 1048576,
            "etag": "COu8mb3Dn+kCEAE=",
            "content_type": "text/csv",
            "version": "1714994055917163",
            "time": "2024-05-06T15:14:15.917163+00:00",
            "ctx_function": "on_upload",
            "invocation_id": "9270981834963375",
        }
    ]


def test_storage_numbers_as_json_numbers_and_zero_size(event_target, fresh):
    event = load_event("storage_cloudevent.json")
    event["data"].update(size=0, generation=96883251)
    assert event_target.post_binary(event).status_code == 200
    assert (event_target.seen[0]["size"], event_target.seen[0]["version"]) == (0, "96883251")


def test_legacy_storage_event_converted_by_functions_framework(event_target, fresh):
    resp = event_target.post_legacy(load_event("storage_legacy.json"))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    seen = event_target.seen[0]
    assert (seen["kind"], seen["bucket"], seen["key"], seen["size"]) == (
        "created", "uploads", "folder/Test.cs", 352
    )  # fmt: skip
    assert seen["time"] == "2020-04-23T07:38:57.772000+00:00"
    assert seen["invocation_id"] == "1147091835525187"


@pytest.mark.parametrize(
    ("legacy_type", "kind"),
    [
        ("google.storage.object.delete", "deleted"),
        ("google.storage.object.archive", "archived"),
        ("google.storage.object.metadataUpdate", "metadata_updated"),
    ],
)
def test_every_legacy_storage_type(event_target, fresh, legacy_type, kind):
    body = load_event("storage_legacy.json")
    body["context"]["eventType"] = legacy_type
    assert event_target.post_legacy(body).status_code == 200
    assert event_target.seen[0]["kind"] == kind


def test_prefix_suffix_and_kind_filters_skip_without_failing(event_target, fresh):
    event = load_event("storage_cloudevent.json")
    event["source"] = "//storage.googleapis.com/projects/_/buckets/images"
    event["data"].update(bucket="images", name="other/cat.png")
    assert event_target.post_binary(event).status_code == 200  # acknowledged, nobody called
    event["data"]["name"] = "incoming/cat.png"
    event["type"] = "google.cloud.storage.object.v1.deleted"
    assert event_target.post_binary(event).status_code == 200
    assert event_target.seen == []
    event["type"] = "google.cloud.storage.object.v1.finalized"
    assert event_target.post_binary(event).status_code == 200
    assert [s["fn"] for s in event_target.seen] == ["on_image"]


def test_bucket_and_key_from_source_and_subject_when_data_lacks_them(event_target, fresh):
    event = load_event("storage_cloudevent.json")
    del event["data"]["bucket"], event["data"]["name"]
    assert event_target.post_binary(event).status_code == 200
    assert event_target.seen[0]["key"] == "incoming/report 2024+final é.csv"


def test_a_failing_storage_handler_answers_500_so_eventarc_redelivers(event_target, fresh):
    event = load_event("storage_cloudevent.json")
    event["data"]["name"] = "incoming/fail.txt"
    resp = event_target.post_binary(event)
    assert resp.status_code == 500
    assert event_target.seen[0]["key"] == "incoming/fail.txt"  # it ran, and was not acknowledged


@pytest.mark.parametrize("mode", MODES)
def test_pubsub_message_published(event_target, fresh, mode):
    resp = send(event_target, load_event("pubsub_cloudevent.json"), mode)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert event_target.seen == [
        {
            "fn": "on_order",
            "id": "11937871541052637",
            "queue": "orders",
            "body_b64": base64.b64encode(b'{"order": 42}').decode(),
            "attributes": {"origin": "checkout", "priority": "high"},
            "delivery_count": 3,
            "enqueued_time": "2024-05-06T15:14:16.211000+00:00",
            "group": "customer-7",
            "ctx_function": "on_order",
            "invocation_id": "11937871541052637",
        }
    ]


def test_legacy_pubsub_event_converted_by_functions_framework(event_target, fresh):
    assert event_target.post_legacy(load_event("pubsub_legacy.json")).status_code == 200
    seen = event_target.seen[0]
    assert (seen["queue"], seen["id"], seen["attributes"]) == (
        "orders", "1215011316659232", {"origin": "legacy"}
    )  # fmt: skip
    assert base64.b64decode(seen["body_b64"]) == b'{"order": 7}'
    assert seen["enqueued_time"] == "2020-05-18T12:13:19+00:00"


def test_raw_push_body_posted_to_the_topic_path_is_converted_with_its_topic(event_target, fresh):
    # functions-framework reads the topic from a push URL path holding projects/P/topics/T.
    resp = event_target.post_legacy(
        load_event("pubsub_push.json"), path="/projects/sample-project/topics/orders"
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert event_target.seen[0]["queue"] == "orders"


def test_raw_push_body_without_topic_needs_a_one_function_target(event_target_raising):
    with pytest.raises(EventError) as info:
        event_target_raising.post_legacy(load_event("pubsub_push.json"))
    assert info.value.field == "source"
    only = Served("only_orders", "cloudevent")
    assert only.post_legacy(load_event("pubsub_push.json")).status_code == 200
    assert only.seen[0]["id"] == "2070443601311540"


def test_a_failing_message_answers_500_so_pubsub_redelivers(event_target, fresh):
    event = load_event("pubsub_cloudevent.json")
    event["data"]["message"]["data"] = base64.b64encode(b"fail").decode()
    resp = event_target.post_structured(event)
    # functions-framework's crash_handler: 500 with X-Google-Status: crash, no traceback.
    assert (resp.status_code, resp.headers.get("X-Google-Status")) == (500, "crash")
    assert b"order handler failed" not in resp.get_data()
    assert len(event_target.seen) == 1


def test_scheduler_tick_through_pubsub(event_target, fresh):
    assert event_target.post_binary(load_event("scheduler_pubsub.json")).status_code == 200
    assert event_target.seen == [
        {
            "fn": "nightly",
            "name": "nightly",
            "schedule": "0 2 * * *",
            "scheduled_time": "2024-05-07T02:00:00+00:00",
            "past_due": True,
            "ctx_function": "nightly",
        }
    ]


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda e: e.update(type="google.cloud.firestore.document.v1.written"), "type"),
        (lambda e: e.update(source="//pubsub.googleapis.com/projects/p/topics/payments"), None),
        (lambda e: e["data"]["message"].update(data="%%%"), "data.message.data"),
        (lambda e: e["data"]["message"].update(attributes={"n": 1}), "data.message.attributes.n"),
        (lambda e: e["data"].update(deliveryAttempt="twice"), "data.deliveryAttempt"),
        (lambda e: e["data"]["message"].update(publishTime="noon"), "data.message.publishTime"),
        (lambda e: e["data"]["message"]["attributes"].update({"polyfn-schedule": "x"}), None),
        (lambda e: e.update(data=[1, 2]), "data"),
    ],
)
def test_unreadable_pubsub_events_raise_event_errors(event_target_raising, mangle, field):
    event = load_event("pubsub_cloudevent.json")
    mangle(event)
    with pytest.raises(EventError) as info:
        event_target_raising.post_binary(event)
    assert info.value.field == field
    assert info.value.source


@pytest.mark.parametrize(
    ("mangle", "field"),
    [
        (lambda e: e["data"].update(size="big"), "data.size"),
        (lambda e: e["data"].update(generation={"n": 1}), "data.generation"),
        (lambda e: e.update(data="plain text"), "data"),
        (lambda e: (e["data"].pop("name"), e.pop("subject")), "data.name"),
        (lambda e: (e["data"].pop("bucket"), e.update(source="//x")), "data.bucket"),
    ],
)
def test_unreadable_storage_events_raise_event_errors(event_target_raising, mangle, field):
    event = load_event("storage_cloudevent.json")
    mangle(event)
    with pytest.raises(EventError) as info:
        event_target_raising.post_binary(event)
    assert info.value.field == field
    assert "Cloud Storage" in str(info.value)


def test_an_event_for_a_bucket_nobody_watches_says_what_the_app_serves(event_target_raising):
    event = load_event("storage_cloudevent.json")
    event["data"]["bucket"] = "logs"
    with pytest.raises(EventError) as info:
        event_target_raising.post_binary(event)
    assert "'logs'" in str(info.value) and "on_upload: storage uploads" in str(info.value)


def test_cloud_event_refuses_http_functions_and_non_cloudevents():
    import polyfn_gcp

    from polyfn import App, ConfigError

    app = App("t")

    @app.http("/x")
    def x(req, ctx):
        return None

    with pytest.raises(ConfigError):
        polyfn_gcp.cloud_event(app, function="x")
    with pytest.raises(ConfigError, match="signature-type cloudevent"):
        polyfn_gcp.cloud_event(app)(object())
