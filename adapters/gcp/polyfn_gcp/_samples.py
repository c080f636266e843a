"""Sample native Google Cloud events for ``polyfn events gcp TRIGGER``, and running one through
the adapter for ``polyfn invoke --provider gcp``.

A sample is what reaches functions-framework: an HTTP request (``method``, ``path``, ``query``,
``headers``, ``body``) for HTTP functions and Cloud Scheduler HTTP targets; a CloudEvent in its
JSON form for Eventarc's Cloud Storage and Pub/Sub events (delivered in binary content mode, as
Eventarc does); a legacy background event (``context`` + ``data``) for the older Cloud Storage
trigger. `invoke` sends it through functions-framework's own Flask app serving
`polyfn_gcp.http` or `polyfn_gcp.cloud_event` (conformance.hosts.gcp, the one emulation of
Cloud Run's functions-framework host).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from polyfn._local._sample_args import Catalog, SampleValues, render, wire_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn._app import App

PROJECT = "shop-project"
HOST = "shop-abc123-uc.a.run.app"

TRIGGERS: dict[str, str] = {
    "http": "HTTP request to an HTTP function",
    "storage": "Cloud Storage CloudEvent (Eventarc), object finalized/deleted",
    "storage-legacy": "Cloud Storage legacy background event (google.storage.object.*)",
    "pubsub": "Pub/Sub messagePublished CloudEvent (Eventarc)",
    "scheduler-http": "Cloud Scheduler HTTP target request",
}
KINDS: dict[str, str] = {
    "http": "http",
    "storage": "storage",
    "storage-legacy": "storage",
    "pubsub": "queue",
    "scheduler-http": "schedule",
}
_EXTRA: dict[str, dict[str, str]] = {"pubsub": {"group": ""}}

# Cloud Storage event types, CloudEvents and legacy:
# https://cloud.google.com/functions/docs/calling/storage#event_types
_STORAGE_TYPES = {
    "created": ("google.cloud.storage.object.v1.finalized", "google.storage.object.finalize"),
    "deleted": ("google.cloud.storage.object.v1.deleted", "google.storage.object.delete"),
}
_PUBSUB_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"


_CATALOG = Catalog(KINDS, extra=_EXTRA)
OVERRIDES: dict[str, dict[str, str]] = _CATALOG.overrides()


def _id(seed: str) -> str:
    return str(int(hashlib.sha256(seed.encode()).hexdigest()[:15], 16))


def _http(v: SampleValues) -> dict[str, Any]:
    headers = {
        "Accept": "application/json",
        "Host": HOST,
        "User-Agent": "curl/8.5.0",
        "X-Forwarded-For": v["source_ip"],
        "X-Forwarded-Proto": "https",
        "Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    extra = v.prefixed("header")
    # Header names are case-insensitive: a --set header replaces the default of any case.
    overridden = {name.lower() for name in extra}
    headers = {k: val for k, val in headers.items() if k.lower() not in overridden}
    headers.update(extra)
    body = v["body"]
    if body and not any(k.lower() == "content-type" for k in headers):
        headers["Content-Type"] = "application/json"
    return {
        "method": v["method"],
        # The request line's path, as the client sent it (percent-encoded).
        "path": wire_path(v["path"]),
        "query": v["query"],
        "headers": headers,
        "body": body,
    }


def _scheduler_http(v: SampleValues) -> dict[str, Any]:
    # Cloud Scheduler's HTTP target sends these headers:
    # https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
    from polyfn._app import App, Function, ScheduleTrigger, Settings
    from polyfn._schedule import Schedule
    from polyfn_gcp._names import schedule_path, scheduler_job_name

    fn = Function(
        v["function"], ScheduleTrigger(Schedule.cron("0 2 * * *")), lambda e, c: None, Settings()
    )
    job = scheduler_job_name(App(v["app"]), fn)
    return {
        "method": "POST",
        "path": schedule_path(fn),
        "query": "",
        "headers": {
            "Host": HOST,
            "User-Agent": "Google-Cloud-Scheduler",
            "X-CloudScheduler": "true",
            "X-CloudScheduler-JobName": job,
            "X-CloudScheduler-ScheduleTime": v["time"],
            "Content-Type": "application/octet-stream",
        },
        "body": "",
    }


def _object(v: SampleValues, kind: str) -> dict[str, Any]:
    # The StorageObjectData fields (sizes and generations are strings):
    # https://cloud.google.com/storage/docs/json_api/v1/objects#resource
    bucket, key = v["bucket"], v["key"]
    generation = "1768442400000000"
    data: dict[str, Any] = {
        "kind": "storage#object",
        "id": f"{bucket}/{key}/{generation}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{bucket}/o/{key}",
        "name": key,
        "bucket": bucket,
        "generation": generation,
        "metageneration": "1",
        **v.present(contentType="content_type"),
        "timeCreated": v["time"].replace("Z", ".000Z"),
        "updated": v["time"].replace("Z", ".000Z"),
        "storageClass": "STANDARD",
        "timeStorageClassUpdated": v["time"].replace("Z", ".000Z"),
        # int64 as a decimal string, as the JSON API writes it
        **{k: str(n) for k, n in v.present(size="size").items()},
        "md5Hash": base64.b64encode(bytes.fromhex(v["etag"])).decode()
        if len(v["etag"]) == 32
        else "",
        "etag": "CIDgk7X3jpIDEAE=",
    }
    if kind == "deleted":
        data["timeDeleted"] = data["updated"]
    return data


def _storage(v: SampleValues) -> dict[str, Any]:
    # https://cloud.google.com/eventarc/docs/cloudevents#cloud-storage
    kind = v.choice("kind", tuple(_STORAGE_TYPES))
    return {
        "specversion": "1.0",
        "type": _STORAGE_TYPES[kind][0],
        "source": f"//storage.googleapis.com/projects/_/buckets/{v['bucket']}",
        "subject": f"objects/{v['key']}",
        "id": _id("storage" + v["key"] + kind),
        "time": v["time"].replace("Z", ".000000Z"),
        "datacontenttype": "application/json",
        "data": _object(v, kind),
    }


def _storage_legacy(v: SampleValues) -> dict[str, Any]:
    # The background-event payload of the older Cloud Storage trigger:
    # https://cloud.google.com/functions/1stgendocs/writing/write-event-driven-functions#background_functions
    kind = v.choice("kind", tuple(_STORAGE_TYPES))
    return {
        "context": {
            "eventId": _id("legacy" + v["key"] + kind),
            "timestamp": v["time"].replace("Z", ".000Z"),
            "eventType": _STORAGE_TYPES[kind][1],
            "resource": {
                "service": "storage.googleapis.com",
                "name": f"projects/_/buckets/{v['bucket']}/objects/{v['key']}",
                "type": "storage#object",
            },
        },
        "data": _object(v, kind),
    }


def _pubsub(v: SampleValues) -> dict[str, Any]:
    # https://cloud.google.com/eventarc/docs/cloudevents#pubsub and the push message format,
    # https://cloud.google.com/pubsub/docs/push#receive_push
    topic = v["queue"]
    message: dict[str, Any] = {
        "data": base64.b64encode(v["body"].encode()).decode(),
        "attributes": v.prefixed("attr"),
        "messageId": _id("pubsub" + v["id"]),
        "message_id": _id("pubsub" + v["id"]),
        "publishTime": v["time"].replace("Z", ".123Z"),
        "publish_time": v["time"].replace("Z", ".123Z"),
    }
    if v["group"]:
        message["orderingKey"] = v["group"]
    return {
        "specversion": "1.0",
        "type": _PUBSUB_TYPE,
        "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{topic}",
        "id": message["messageId"],
        "time": v["time"].replace("Z", ".123Z"),
        "datacontenttype": "application/json",
        "data": {
            "message": message,
            "subscription": f"projects/{PROJECT}/subscriptions/eventarc-{topic}-sub",
            "deliveryAttempt": v.integer("delivery_count"),
        },
    }


_BUILDERS: dict[str, Callable[[SampleValues], dict[str, Any]]] = {
    "http": _http,
    "storage": _storage,
    "storage-legacy": _storage_legacy,
    "pubsub": _pubsub,
    "scheduler-http": _scheduler_http,
}


def sample_event(trigger: str, **overrides: Any) -> dict[str, Any]:
    """A native GCP event for `trigger` (a key of `TRIGGERS`), with `overrides` applied."""
    return render("gcp", trigger, overrides, builders=_BUILDERS, catalog=_CATALOG)


def trigger_of(event: dict[str, Any]) -> str | None:
    """Which of `TRIGGERS` `event` looks like (None: none of them)."""
    if "specversion" in event:
        kind = str(event.get("type", ""))
        if kind.startswith("google.cloud.storage.object."):
            return "storage"
        return "pubsub" if kind == _PUBSUB_TYPE else None
    context = event.get("context")
    if isinstance(context, dict) and str(context.get("eventType", "")).startswith(
        "google.storage.object."
    ):
        return "storage-legacy"
    if "method" in event:
        headers = event.get("headers") or {}
        if isinstance(headers, dict) and any(k.lower() == "x-cloudscheduler" for k in headers):
            return "scheduler-http"
        return "http"
    return None


# -- invoke ------------------------------------------------------------------------------------
# functions-framework around the call is conformance's one emulation of Cloud Run
# (conformance.hosts.gcp, in polyfn-conformance: the extra polyfn-gcp[invoke]); what stays here
# is how a sample of this catalog is sent.


def _request(event: dict[str, Any], trigger: str | None) -> tuple[str, dict[str, Any]]:
    """The signature of the function to serve, and the test-client request (path, method,
    headers, data) a sample arrives as."""
    from conformance.hosts import gcp as host
    from polyfn._errors import EventError

    if trigger in ("storage", "pubsub"):
        # Eventarc delivers in binary content mode.
        attributes = {k: str(v) for k, v in event.items() if k not in ("data", "datacontenttype")}
        data, headers = host.binary_mode(attributes, event.get("data"))
        return "cloudevent", {"path": "/", "method": "POST", "headers": headers, "data": data}
    if trigger == "storage-legacy":
        return "cloudevent", {"path": "/", "method": "POST", "json": event}
    if trigger not in ("http", "scheduler-http"):
        raise EventError(
            "not an HTTP request (method, path), a CloudEvent (specversion) or a legacy "
            "background event (context, data)",
            source="gcp",
        )
    headers_in = event.get("headers") or {}
    if not isinstance(headers_in, dict):
        raise EventError("expected an object of header values", field="headers", source="gcp http")
    pairs = [
        (str(name), str(item))
        for name, value in headers_in.items()
        for item in (value if isinstance(value, list) else [value])
    ]
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body), validate=True)
        except ValueError:
            raise EventError("body is not base64", field="body", source="gcp http") from None
    else:
        data = str(body).encode()
    return "http", {
        "path": str(event.get("path") or "/"),
        "method": str(event.get("method", "GET")),
        "query_string": str(event.get("query") or ""),
        "headers": pairs,
        "data": data,
    }


def invoke(app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
    """Send `event` through functions-framework's app serving ``polyfn_gcp.http(app,
    function=...)`` or ``polyfn_gcp.cloud_event(app, function=...)`` (conformance's
    `conformance.hosts.gcp.invoke`); returns the HTTP response (status, headers, body) and
    whether the function did not fail the invocation (no 5xx; a 4xx is a refused request, see
    `http_status`). An `EventError` (the adapter cannot read the event) propagates."""
    from conformance.hosts import gcp as host
    from polyfn._errors import PolyfnError

    signature, request = _request(event, trigger_of(event))
    return host.invoke(
        app, function, signature, request, passes=lambda exc: isinstance(exc, PolyfnError)
    )


# Request headers Google's front end adds (its load balancer's trace and the W3C trace context
# it propagates): https://cloud.google.com/load-balancing/docs/https#target-proxies and
# https://cloud.google.com/trace/docs/trace-context
PLATFORM_HEADERS = ("x-cloud-trace-context", "traceparent", "x-appengine-", "x-goog-")


def read_event(event: dict[str, Any]) -> Any:
    """The neutral value of a GCP event: the request functions-framework's Flask app would hand
    over (an HTTP request, or a CloudEvent read by the cloudevents library and functions-
    framework's legacy-event conversion), read by polyfn_gcp's library functions."""
    import flask
    from cloudevents.http import from_http
    from functions_framework.event_conversion import background_event_to_cloud_event
    from werkzeug.test import EnvironBuilder

    from polyfn_gcp import _library

    trigger = trigger_of(event)
    _, kwargs = _request(event, trigger)
    request = flask.Request(EnvironBuilder(**kwargs).get_environ())
    if trigger == "http":
        return _library.http_request(request)
    if trigger == "scheduler-http":
        return _library.timer_event(request)
    if trigger == "storage-legacy":
        return _library.storage_event(background_event_to_cloud_event(request))
    cloud_event = from_http(dict(request.headers), request.get_data())
    if trigger == "pubsub":
        return _library.queue_messages(cloud_event)
    return _library.storage_event(cloud_event)


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned (every GCP answer is an HTTP response)."""
    from conformance.hosts import gcp as host

    return host.http_status(result)
