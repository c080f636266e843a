"""GCP targets for schedule, storage, queue and subscription cases: Cloud Storage CloudEvents
(binary and structured mode) and legacy background events, Pub/Sub messagePublished CloudEvents
and push bodies (to the whole app, or to each subscriber's own function), Cloud Scheduler through
an HTTP target and through Pub/Sub.

Each driver renders the HTTP request Eventarc, Pub/Sub or Cloud Scheduler sends, written from the
Google docs cited beside each renderer (no adapter code), and posts it to functions-framework's
own Flask app (``functions_framework.create_app(...).test_client()``) serving
``polyfn_gcp.cloud_event(app)`` or ``polyfn_gcp.http(app)`` (``function=`` for one function's
deployment): functions-framework parses the
CloudEvent (or converts the legacy event) exactly as it does in production. A 2xx answer is an
acknowledgement; anything else makes the sender deliver again.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance._spec import Outcome, Skip
from conformance.cases.subscribe import copy_id

if TYPE_CHECKING:
    from collections.abc import Callable

    from conformance.cases.queue import Message, QueueCase
    from conformance.cases.schedule import ScheduleCase, Tick
    from conformance.cases.storage import StorageCase
    from conformance.cases.subscribe import SubscribeCase
    from polyfn import App

PROJECT = "conformance-project"
SUBSCRIPTION = f"projects/{PROJECT}/subscriptions/eventarc-us-central1-conformance-sub-042"
STORAGE_TYPES = {
    "created": "google.cloud.storage.object.v1.finalized",
    "deleted": "google.cloud.storage.object.v1.deleted",
}
LEGACY_STORAGE_TYPES = {
    "created": "google.storage.object.finalize",
    "deleted": "google.storage.object.delete",
}
PUBSUB_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
SCHEDULE_ATTRIBUTE = "polyfn-schedule"  # the cross-adapter convention for Pub/Sub ticks

# main.py for functions-framework: it serves whatever app `serving` holds when the Flask app is
# created, so one source file serves every conformance app.
_MAIN = """\
from conformance.targets.gcp_events import entry

event = entry("cloudevent")
http = entry("http")
"""
DELIVERY_AUTH_ENV = "POLYFN_GCP_DELIVERY_AUTH"
_serving: list[tuple[App, str | None]] = []
_clients: dict[tuple[int, str, str | None], tuple[App, Any]] = {}
_main_dir: list[Path] = []


def entry(signature: str) -> Callable[..., Any]:
    """The polyfn_gcp function for the app (or the one function of it) being served (called
    from the generated main.py)."""
    import polyfn_gcp

    app, function = _serving[-1]
    if signature == "cloudevent":
        return polyfn_gcp.cloud_event(app, function=function)
    # A local harness: its deliveries carry no Google-signed token, so the OIDC check is off
    # (the documented switch; polyfn_gcp's own tests cover the check).
    previous = os.environ.get(DELIVERY_AUTH_ENV)
    os.environ[DELIVERY_AUTH_ENV] = "off"
    try:
        return polyfn_gcp.http(app, function=function)
    finally:
        if previous is None:
            os.environ.pop(DELIVERY_AUTH_ENV, None)
        else:
            os.environ[DELIVERY_AUTH_ENV] = previous


def client(app: App, signature: str, function: str | None = None) -> Any:
    """A test client of functions-framework's app serving `app`, or only its `function` as the
    deployed function of that one does (built once per app and function)."""
    key = (id(app), signature, function)
    cached = _clients.get(key)
    if cached is None or cached[0] is not app:
        import functions_framework

        if not _main_dir:
            _main_dir.append(Path(tempfile.mkdtemp(prefix="polyfn-conformance-gcp-")))
            (_main_dir[0] / "main.py").write_text(_MAIN)
        _serving.append((app, function))
        try:
            target = "event" if signature == "cloudevent" else "http"
            flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
                target, str(_main_dir[0] / "main.py"), signature
            )
        finally:
            _serving.pop()
        cached = (app, flask_app.test_client())
        _clients[key] = cached
    return cached[1]


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _post(
    app: App,
    signature: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    function: str | None = None,
) -> Any:
    return client(app, signature, function).post(path, data=body, headers=headers)


def _ce_header(value: str) -> str:
    """A CloudEvents attribute as an HTTP header value: percent-encode space, '"', '%' and
    everything outside printable ASCII (HTTP binding 3.1.3.2):
    https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
    """
    return "".join(
        ch if 0x21 <= ord(ch) <= 0x7E and ch not in '"%' else quote(ch, safe="") for ch in value
    )


def binary_mode(attributes: dict[str, str], data: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A CloudEvent in binary content mode: attributes as ce- headers, data as the JSON body."""
    headers = {f"ce-{k}": _ce_header(v) for k, v in attributes.items()}
    headers["Content-Type"] = "application/json"
    return json.dumps(data).encode(), headers


def structured_mode(
    attributes: dict[str, str], data: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    """A CloudEvent in structured content mode: one application/cloudevents+json document."""
    document = {**attributes, "datacontenttype": "application/json", "data": data}
    return json.dumps(document).encode(), {
        "Content-Type": "application/cloudevents+json; charset=utf-8"
    }


# -- Cloud Storage ------------------------------------------------------------------------------


def object_resource(case: StorageCase) -> dict[str, Any]:
    """The Cloud Storage object resource, the data of every object event (for a delete, the
    metadata the object had): https://cloud.google.com/storage/docs/json_api/v1/objects#resource
    https://cloud.google.com/storage/docs/pubsub-notifications#payload"""
    generation = case.version
    escaped = quote(case.key, safe="")
    t = _rfc3339(case.time)
    return {
        "kind": "storage#object",
        "id": f"{case.bucket}/{case.key}/{generation}",
        "selfLink": f"https://www.googleapis.com/storage/v1/b/{case.bucket}/o/{escaped}",
        "name": case.key,
        "bucket": case.bucket,
        "generation": generation,
        "metageneration": "1",
        "contentType": case.content_type,
        "timeCreated": t,
        "updated": t,
        "storageClass": "STANDARD",
        "timeStorageClassUpdated": t,
        # int64 values are JSON strings in Google APIs
        "size": str(case.size if case.size is not None else 524288),
        "md5Hash": base64.b64encode(bytes.fromhex(case.etag)).decode(),
        "mediaLink": (
            f"https://storage.googleapis.com/download/storage/v1/b/{case.bucket}/o/{escaped}"
            f"?generation={generation}&alt=media"
        ),
        "crc32c": "rTVTeQ==",
        "etag": "CJ+A7ffS3YEDEAE=",
    }


def storage_attributes(case: StorageCase) -> dict[str, str]:
    """CloudEvent attributes of a Cloud Storage event through Eventarc:
    https://cloud.google.com/eventarc/docs/cloudevents#cloud-storage"""
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4().int)[:16],
        "source": f"//storage.googleapis.com/projects/_/buckets/{case.bucket}",
        "type": STORAGE_TYPES[case.kind],
        "subject": f"objects/{case.key}",
        "time": _rfc3339(case.time),
    }


def legacy_storage_event(case: StorageCase) -> dict[str, Any]:
    """A 1st-gen (background function) Cloud Storage event, which functions-framework converts:
    https://cloud.google.com/functions/1stgendocs/calling/storage
    https://github.com/GoogleCloudPlatform/functions-framework-conformance/blob/main/docs/mapping.md
    """
    return {
        "context": {
            "eventId": str(uuid.uuid4().int)[:16],
            "timestamp": _rfc3339(case.time),
            "eventType": LEGACY_STORAGE_TYPES[case.kind],
            "resource": {
                "service": "storage.googleapis.com",
                "name": f"projects/_/buckets/{case.bucket}/objects/{case.key}",
                "type": "storage#object",
            },
        },
        "data": object_resource(case),
    }


# -- Pub/Sub ------------------------------------------------------------------------------------


def pubsub_message(m: Message, *, published: datetime | None = None) -> dict[str, Any]:
    """A PubsubMessage as push and Eventarc deliver it (both id and time spellings):
    https://cloud.google.com/pubsub/docs/push#receive_push"""
    t = _rfc3339(published or m.enqueued_time)
    message: dict[str, Any] = {
        "data": base64.b64encode(m.body).decode(),
        "messageId": m.id,
        "message_id": m.id,
        "publishTime": t,
        "publish_time": t,
    }
    if m.attributes:
        message["attributes"] = m.attrs
    if m.group is not None:
        message["orderingKey"] = m.group
    return message


def pubsub_envelope(
    m: Message, *, attempt: bool, published: datetime | None = None
) -> dict[str, Any]:
    """``{"message", "subscription", "deliveryAttempt"}``; deliveryAttempt only exists on a
    subscription with a dead-letter policy:
    https://cloud.google.com/pubsub/docs/handling-failures#track-delivery-attempts"""
    envelope: dict[str, Any] = {
        "message": pubsub_message(m, published=published),
        "subscription": SUBSCRIPTION,
    }
    if attempt:
        envelope["deliveryAttempt"] = m.delivery_count
    return envelope


def pubsub_attributes(m: Message, topic: str) -> dict[str, str]:
    """CloudEvent attributes of a Pub/Sub message through Eventarc:
    https://cloud.google.com/eventarc/docs/cloudevents#pubsub"""
    return {
        "specversion": "1.0",
        "id": m.id,
        "source": f"//pubsub.googleapis.com/projects/{PROJECT}/topics/{topic}",
        "type": PUBSUB_TYPE,
        "time": _rfc3339(m.enqueued_time),
    }


# -- targets ------------------------------------------------------------------------------------


class _GcpTarget:
    cloud = "gcp"
    name = ""
    trigger = ""

    def __repr__(self) -> str:
        return f"<target {self.name}>"


def _acked(resp: Any) -> bool:
    return 200 <= int(resp.status_code) < 300


class _StorageTarget(_GcpTarget):
    trigger = "storage"
    signature = "cloudevent"

    def request(self, case: StorageCase) -> tuple[bytes, dict[str, str]]:
        raise NotImplementedError

    def run(self, case: StorageCase, app: App) -> Outcome:
        body, headers = self.request(case)
        resp = _post(app, self.signature, "/", body, headers)
        if not _acked(resp):
            raise AssertionError(f"{self.name}: HTTP {resp.status_code}: {resp.get_data()[:500]!r}")
        return Outcome(status=resp.status_code, result=resp.get_data(as_text=True))


class StorageBinary(_StorageTarget):
    name = "gcp-storage"

    def request(self, case: StorageCase) -> tuple[bytes, dict[str, str]]:
        return binary_mode(storage_attributes(case), object_resource(case))


class StorageStructured(_StorageTarget):
    name = "gcp-storage-structured"

    def request(self, case: StorageCase) -> tuple[bytes, dict[str, str]]:
        return structured_mode(storage_attributes(case), object_resource(case))


class StorageLegacy(_StorageTarget):
    name = "gcp-storage-legacy"

    def request(self, case: StorageCase) -> tuple[bytes, dict[str, str]]:
        return json.dumps(legacy_storage_event(case)).encode(), {"Content-Type": "application/json"}


class _QueueTarget(_GcpTarget):
    """Pub/Sub delivers each message on its own; a non-2xx answer makes it redeliver that one.

    An ordered (FIFO) case publishes each group under its ordering key: Pub/Sub then has one
    message of a key outstanding at a time, and after a nack redelivers that message and the
    later ones of its key: https://cloud.google.com/pubsub/docs/ordering
    """

    trigger = "queue"
    signature = "cloudevent"

    def request(self, m: Message, queue: str) -> tuple[str, bytes, dict[str, str]]:
        raise NotImplementedError

    def check_case(self, case: QueueCase) -> None:
        return None

    def run(self, case: QueueCase, app: App) -> Outcome:
        self.check_case(case)
        requests = [self.request(m, case.queue) for m in case.messages]
        failed: list[str] = []
        answers: list[str] = []
        waiting: set[str | None] = set()
        for m, (path, body, headers) in zip(case.messages, requests, strict=True):
            if case.fifo and m.group in waiting:
                failed.append(m.id)
                continue
            resp = _post(app, self.signature, path, body, headers)
            answers.append(f"{resp.status_code}")
            if not _acked(resp):
                failed.append(m.id)
                waiting.add(m.group)
        delivery = "fifo" if case.fifo else "single"
        return Outcome(failed=failed, result={"delivery": delivery, "native": answers})


class PubSub(_QueueTarget):
    """Eventarc's messagePublished CloudEvent (binary mode), from a subscription with a
    dead-letter policy, so deliveryAttempt is present."""

    name = "gcp-pubsub"

    def request(self, m: Message, queue: str) -> tuple[str, bytes, dict[str, str]]:
        body, headers = binary_mode(pubsub_attributes(m, queue), pubsub_envelope(m, attempt=True))
        return "/", body, headers


class PubSubPush(_QueueTarget):
    """A push subscription posting to the HTTP function's queue path, without a dead-letter
    policy (no deliveryAttempt: Pub/Sub does not count deliveries then)."""

    name = "gcp-pubsub-push"
    signature = "http"

    def check_case(self, case: QueueCase) -> None:
        if any(m.delivery_count > 1 for m in case.messages):
            raise Skip("without a dead-letter policy Pub/Sub does not count deliveries")

    def request(self, m: Message, queue: str) -> tuple[str, bytes, dict[str, str]]:
        body = json.dumps(pubsub_envelope(m, attempt=False)).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
        }
        return f"/_polyfn/queue/{quote(queue, safe='')}", body, headers


class PubSubLegacyPush(_QueueTarget):
    """A raw push body posted to the CloudEvent function at ``/projects/P/topics/T``, which
    functions-framework converts into a messagePublished CloudEvent (its conversion keeps data,
    attributes, id and publish time only)."""

    name = "gcp-pubsub-legacy"

    def check_case(self, case: QueueCase) -> None:
        if any(m.delivery_count > 1 for m in case.messages):
            raise Skip("functions-framework's push conversion drops deliveryAttempt")
        if case.fifo:
            raise Skip("functions-framework's push conversion drops the ordering key")

    def request(self, m: Message, queue: str) -> tuple[str, bytes, dict[str, str]]:
        body = json.dumps(pubsub_envelope(m, attempt=False)).encode()
        return f"/projects/{PROJECT}/topics/{queue}", body, {"Content-Type": "application/json"}


class PubSubSubscription(_GcpTarget):
    """One Cloud Function per subscriber, each with its own Eventarc trigger (and so its own
    Pub/Sub subscription) on the topic, as `polyfn build` deploys them: each function gets the
    messagePublished CloudEvent of every message, and a non-2xx answer makes that subscription
    alone redeliver it. The subscriptions have a dead-letter policy, so deliveryAttempt counts:
    https://cloud.google.com/eventarc/docs/cloudevents#pubsub"""

    name = "gcp-pubsub-subscription"
    trigger = "subscribe"

    def run(self, case: SubscribeCase, app: App) -> Outcome:
        requests = [
            binary_mode(pubsub_attributes(m, case.topic), pubsub_envelope(m, attempt=True))
            for m in case.messages
        ]
        failed: list[str] = []
        answers: list[str] = []
        for fn in case.functions:
            for m, (body, headers) in zip(case.messages, requests, strict=True):
                resp = _post(app, "cloudevent", "/", body, headers, function=fn)
                answers.append(f"{resp.status_code}")
                if not _acked(resp):
                    failed.append(copy_id(fn, m))
        return Outcome(failed=failed, result={"native": answers})


class SchedulerHttp(_GcpTarget):
    """A Cloud Scheduler job with an HTTP target posting to the HTTP function:
    https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
    A past-due tick is a retry of a failed attempt (the job's retryConfig), hours later."""

    name = "gcp-scheduler-http"
    trigger = "schedule"

    def run(self, case: ScheduleCase, app: App) -> Outcome:
        from polyfn_gcp import scheduler_job_name

        from conformance.cases.schedule import tick_result

        fn = app.function(case.function)
        tick = case.fire()
        headers = {
            "X-CloudScheduler": "true",
            "X-CloudScheduler-JobName": scheduler_job_name(app, fn),
            "X-CloudScheduler-ScheduleTime": tick.scheduled_time.isoformat(),
            "User-Agent": "Google-Cloud-Scheduler",
            "Content-Type": "application/octet-stream",
        }
        resp = _post(app, "http", f"/_polyfn/schedule/{fn.name}", b"", headers)
        if not _acked(resp):
            raise AssertionError(f"{self.name}: HTTP {resp.status_code}: {resp.get_data()[:500]!r}")
        return Outcome(status=resp.status_code, result=tick_result(tick, resp.status_code))


class SchedulerPubSub(_GcpTarget):
    """A Cloud Scheduler job with a Pub/Sub target; the tick carries the attribute
    "polyfn-schedule" and arrives as a messagePublished CloudEvent. Cloud Scheduler publishes a
    moment after the minute; a past-due tick is a redelivery (deliveryAttempt above 1) hours later:
    https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#PubsubTarget
    """

    name = "gcp-scheduler-pubsub"
    trigger = "schedule"

    def run(self, case: ScheduleCase, app: App) -> Outcome:
        from conformance.cases.queue import Message
        from conformance.cases.schedule import tick_result

        tick: Tick = case.fire()
        published = tick.scheduled_time + timedelta(milliseconds=812)
        m = Message(
            id=str(uuid.uuid4().int)[:16],
            body=b"tick",
            enqueued_time=published,
            attributes=((SCHEDULE_ATTRIBUTE, case.function),),
            delivery_count=4 if case.past_due else 1,
        )
        topic = f"{case.function}-ticks"
        body, headers = binary_mode(pubsub_attributes(m, topic), pubsub_envelope(m, attempt=True))
        resp = _post(app, "cloudevent", "/", body, headers)
        if not _acked(resp):
            raise AssertionError(f"{self.name}: HTTP {resp.status_code}: {resp.get_data()[:500]!r}")
        return Outcome(status=resp.status_code, result=tick_result(tick, resp.status_code))


TARGETS: list[Any] = [
    SchedulerHttp(),
    SchedulerPubSub(),
    StorageBinary(),
    StorageStructured(),
    StorageLegacy(),
    PubSub(),
    PubSubPush(),
    PubSubSubscription(),
    PubSubLegacyPush(),
]
