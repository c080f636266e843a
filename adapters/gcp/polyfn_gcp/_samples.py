"""Sample native Google Cloud events for ``polyfn events gcp TRIGGER``, and running one through
the adapter for ``polyfn invoke --provider gcp``.

A sample is what reaches functions-framework: an HTTP request (``method``, ``path``, ``query``,
``headers``, ``body``) for HTTP functions and Cloud Scheduler HTTP targets; a CloudEvent in its
JSON form for Eventarc's Cloud Storage and Pub/Sub events (delivered in binary content mode, as
Eventarc does); a legacy background event (``context`` + ``data``) for the older Cloud Storage
trigger. `invoke` sends it through functions-framework's own Flask app
(``create_app(...).test_client()``) serving `polyfn_gcp.http` or `polyfn_gcp.cloud_event`.
"""

from __future__ import annotations

import base64
import hashlib
import json
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
    headers.update(v.prefixed("header"))
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
        "contentType": v["content_type"],
        "timeCreated": v["time"].replace("Z", ".000Z"),
        "updated": v["time"].replace("Z", ".000Z"),
        "storageClass": "STANDARD",
        "timeStorageClassUpdated": v["time"].replace("Z", ".000Z"),
        "size": str(v.integer("size")),
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

_SOURCE = '''"""The entry point functions-framework loads for `polyfn invoke --provider gcp`."""
from polyfn_gcp._samples import _entry

{target} = _entry("{target}")
'''
_target: list[Any] = []


def _entry(kind: str) -> Any:
    """A plain function wrapping the adapter entry (functions-framework wants a function)."""
    import polyfn_gcp

    app, function = _target[-1]
    if kind == "http":
        # `polyfn invoke` runs a sample locally: no Google-signed token to check.
        inner_http = polyfn_gcp.http(
            app, function=function, delivery_auth=polyfn_gcp.DeliveryAuth.disabled()
        )

        def http(request: Any) -> Any:
            return inner_http(request)

        return http
    inner_event = polyfn_gcp.cloud_event(app, function=function)

    def event(cloud_event: Any) -> None:
        inner_event(cloud_event)

    return event


def _request(event: dict[str, Any], trigger: str | None) -> tuple[str, dict[str, Any]]:
    """The target to call and the test-client request (path, method, headers, data)."""
    from polyfn._errors import EventError

    if trigger in ("storage", "pubsub"):
        # Eventarc delivers in binary content mode: attributes as ce- headers, data as the body.
        # https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#31-binary-content-mode
        headers = {
            f"ce-{k}": str(v) for k, v in event.items() if k not in ("data", "datacontenttype")
        }
        headers["Content-Type"] = str(event.get("datacontenttype", "application/json"))
        return "event", {
            "path": "/",
            "method": "POST",
            "headers": headers,
            "data": json.dumps(event.get("data")).encode(),
        }
    if trigger == "storage-legacy":
        return "event", {"path": "/", "method": "POST", "json": event}
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
    function=...)`` or ``polyfn_gcp.cloud_event(app, function=...)``; returns the HTTP response
    (status, headers, body) and whether the function did not fail the invocation (no 5xx; a 4xx
    is a refused request, see `http_status`). An `EventError` (the adapter cannot read the
    event) propagates."""
    import os
    import tempfile

    import functions_framework

    from polyfn._errors import PolyfnError
    from polyfn_gcp._context import TIMEOUT_ENV

    target, request = _request(event, trigger_of(event))
    with tempfile.TemporaryDirectory(prefix="polyfn-invoke-") as folder:
        source = os.path.join(folder, "polyfn_invoke_main.py")
        with open(source, "w", encoding="utf-8") as fh:
            fh.write(_SOURCE.format(target=target))
        _target.append((app, function))
        try:
            flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
                target, source, "http" if target == "http" else "cloudevent"
            )
        finally:
            _target.pop()
    # Let exceptions out of the test client, so an EventError is told apart from a handler's
    # raise; the latter is answered as functions-framework's crash handler would.
    flask_app.config["PROPAGATE_EXCEPTIONS"] = True
    client = flask_app.test_client()
    # Cloud Run tells the function its request timeout, the function's timeout setting (polyfn's
    # default unless declared); the adapter's ctx.remaining_time() counts down from it.
    timeout_set = TIMEOUT_ENV not in os.environ
    if timeout_set:
        os.environ[TIMEOUT_ENV] = f"{app.function(function).settings.effective_timeout:g}"
    try:
        response = client.open(**request)
    except PolyfnError:
        raise
    except Exception as exc:
        body, status, headers = functions_framework.crash_handler(exc)  # type: ignore[no-untyped-call]
        return {"status": status, "headers": headers, "body": body}, False
    finally:
        if timeout_set:
            del os.environ[TIMEOUT_ENV]
    raw = response.get_data()
    result: dict[str, Any] = {"status": response.status_code, "headers": {}}
    for name, value in response.headers.items():
        result["headers"].setdefault(name, []).append(value)
    try:
        result["body"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        result["body"] = base64.b64encode(raw).decode()
        result["isBase64Encoded"] = True
    return result, response.status_code < 500


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned (every GCP answer is an HTTP response)."""
    status = result.get("status") if isinstance(result, dict) else None
    return status if type(status) is int else None
