"""Cloud Scheduler HTTP ticks and Pub/Sub push deliveries through polyfn_gcp.http: 2xx only when
the handler finished, so Cloud Scheduler and Pub/Sub retry everything else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from polyfn_gcp import queue_push_path, schedule_path

from tests.gcp.conftest import load_event


def tick(http_target, name="nightly", **header_changes):
    request = load_event("scheduler_http.json")
    headers = {**request["headers"], **header_changes}
    headers = {k: v for k, v in headers.items() if v is not None}
    return http_target.client.open(
        f"/_polyfn/schedule/{name}", method=request["method"], headers=headers
    )


def test_scheduler_tick_becomes_a_timer_event(http_target, fresh):
    resp = tick(http_target)
    assert resp.status_code == 204, resp.get_data(as_text=True)
    assert http_target.seen == [
        {
            "fn": "nightly",
            "name": "nightly",
            "schedule": "0 2 * * *",
            "scheduled_time": "2024-05-07T02:00:00.381000+00:00",
            "past_due": True,  # the fixture's schedule time is long gone
            "ctx_function": "nightly",
        }
    ]


def test_a_tick_on_time_is_not_past_due_and_the_full_job_resource_name_is_accepted(
    http_target, fresh
):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    resp = tick(
        http_target,
        **{
            "X-CloudScheduler-ScheduleTime": now,
            "X-CloudScheduler-JobName": "projects/p/locations/us-central1/jobs/shop-nightly",
        },
    )
    assert resp.status_code == 204
    assert http_target.seen[0]["past_due"] is False


def test_a_tick_without_schedule_time_has_none(http_target, fresh):
    assert tick(http_target, **{"X-CloudScheduler-ScheduleTime": None}).status_code == 204
    assert http_target.seen[0]["scheduled_time"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"X-CloudScheduler-JobName": None}, "X-CloudScheduler-JobName"),
        ({"X-CloudScheduler-JobName": "shop-other"}, "X-CloudScheduler-JobName"),
        ({"X-CloudScheduler-ScheduleTime": "yesterday"}, "X-CloudScheduler-ScheduleTime"),
    ],
)
def test_unreadable_ticks_are_400_naming_the_header(http_target, fresh, changes, field):
    resp = tick(http_target, **changes)
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["field"] == field
    assert body["source"] == "Cloud Scheduler HTTP target"
    assert http_target.seen == []


@pytest.mark.parametrize("name", ["unknown", "echo", "on_order"])
def test_ticks_for_no_schedule_function_are_404_logging_what_is_served(http_target, name, caplog):
    resp = tick(http_target, name=name, **{"X-CloudScheduler-JobName": f"shop-{name}"})
    # The client learns nothing of the app's functions, queues and buckets; the log says it all.
    assert (resp.status_code, resp.get_json()) == (404, {"error": "not found"})
    assert b"nightly" not in resp.get_data() and b"orders" not in resp.get_data()
    assert "nightly: schedule 0 2 * * *" in caplog.text


def test_a_failing_tick_is_500_so_cloud_scheduler_retries(http_target):
    resp = tick(
        http_target, name="failing_tick", **{"X-CloudScheduler-JobName": "shop-failing_tick"}
    )
    assert resp.status_code == 500
    assert resp.get_json()["error"] == "internal error"
    assert b"tick failed" not in resp.get_data()


def push(http_target, body, queue="orders", method="POST"):
    return http_target.client.open(queue_push_path(queue), method=method, json=body)


def test_push_body_becomes_a_queue_message(http_target, fresh):
    resp = push(http_target, load_event("pubsub_push.json"))
    assert resp.status_code == 204, resp.get_data(as_text=True)
    assert http_target.seen == [
        {
            "fn": "on_order",
            "id": "2070443601311540",
            "queue": "orders",
            "body_b64": base64.b64encode(b'{"order": 42}').decode(),
            "attributes": {"origin": "checkout"},
            "delivery_count": 2,
            "enqueued_time": "2021-02-26T19:13:55.749000+00:00",
            "group": "customer-7",
            "ctx_function": "on_order",
            "invocation_id": http_target.seen[0]["invocation_id"],
        }
    ]


def test_push_without_delivery_attempt_or_data_is_a_first_delivery_of_an_empty_body(
    http_target, fresh
):
    body = load_event("pubsub_push.json")
    del body["deliveryAttempt"], body["message"]["data"], body["message"]["orderingKey"]
    assert push(http_target, body).status_code == 204
    seen = http_target.seen[0]
    assert (seen["delivery_count"], seen["body_b64"], seen["group"]) == (1, "", None)


def test_a_failing_message_is_not_acknowledged(http_target, fresh):
    body = load_event("pubsub_push.json")
    body["message"]["data"] = base64.b64encode(b"fail").decode()
    resp = push(http_target, body)
    assert resp.status_code == 500  # Pub/Sub redelivers anything but 102/200/201/202/204
    assert http_target.seen[0]["body_b64"] == base64.b64encode(b"fail").decode()


def test_a_scheduler_tick_pushed_through_pubsub_runs_the_schedule(http_target, fresh):
    body = load_event("pubsub_push.json")
    body["message"]["attributes"] = {"polyfn-schedule": "nightly"}
    body["message"]["publishTime"] = "2024-05-07T02:00:00.627Z"
    assert push(http_target, body, queue="polyfn-shop-ticks").status_code == 204
    assert http_target.seen[0]["fn"] == "nightly"
    assert http_target.seen[0]["scheduled_time"] == "2024-05-07T02:00:00+00:00"


def test_push_errors(http_target, fresh, caplog):
    resp = push(http_target, load_event("pubsub_push.json"), queue="payments")
    assert (resp.status_code, resp.get_json()) == (404, {"error": "not found"})
    assert "'payments'" in caplog.text and "on_order: queue orders" in caplog.text
    resp = http_target.client.get(queue_push_path("orders"))
    assert (resp.status_code, resp.headers["Allow"]) == (405, "POST")
    resp = http_target.client.post(queue_push_path("orders"), data=b"not json")
    assert (resp.status_code, resp.get_json()["field"]) == (400, "body")
    body = load_event("pubsub_push.json")
    body["message"]["data"] = "!!not base64!!"
    resp = push(http_target, body)
    assert (resp.status_code, resp.get_json()["field"]) == (400, "message.data")
    body = load_event("pubsub_push.json")
    del body["message"]["messageId"], body["message"]["message_id"]
    resp = push(http_target, body)
    assert (resp.status_code, resp.get_json()["field"]) == (400, "message.messageId")
    assert http_target.seen == []


def test_paths_from_names_module():
    from polyfn import App

    app = App("shop")

    @app.schedule("0 2 * * *")
    def nightly(event, ctx):
        return None

    assert schedule_path(app.function("nightly")) == "/_polyfn/schedule/nightly"
    assert queue_push_path("orders") == "/_polyfn/queue/orders"
