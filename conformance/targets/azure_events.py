"""Azure targets for schedule, storage, queue and subscription cases: timer trigger, blob trigger,
Event Grid (Event Grid and CloudEvents schema) blob events, Storage queue and Service Bus queue
triggers, Service Bus topic triggers.

Each driver renders what the Functions host sends the Python worker, written from the Azure docs
cited beside each renderer (no adapter code): the trigger value and trigger metadata as
`azure.functions.meta.Datum` values. It then does what the worker does: it takes the functions
``polyfn_azure.function_app(app).get_functions()`` indexes, finds the converter registered for
the trigger binding's type, checks that it accepts the parameter's annotation, builds the
argument with the converter's own ``decode`` and calls the function. A raise fails that
invocation, so the host redelivers (or retries) what it carried.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance import azure_worker
from conformance._spec import Outcome, Skip
from conformance.app_events import QUEUE
from conformance.cases.subscribe import copy_id

if TYPE_CHECKING:
    from conformance.cases.queue import Message, QueueCase
    from conformance.cases.schedule import ScheduleCase
    from conformance.cases.storage import StorageCase
    from conformance.cases.subscribe import SubscribeCase
    from polyfn import App

ACCOUNT = "conformanceacct"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TOPIC = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/conformance/providers/"
    f"Microsoft.Storage/storageAccounts/{ACCOUNT}"
)
BLOB_ENDPOINT = f"https://{ACCOUNT}.blob.core.windows.net"
# A Storage queue message is at most 64 KiB; base64 (the default messageEncoding) leaves 48 KiB:
# https://learn.microsoft.com/azure/storage/queues/storage-queues-introduction
_QUEUE_MESSAGE_MAX = 48 * 1024
# What the blob trigger can hand over in memory; bigger blobs need SDK-type bindings.
_BLOB_IN_MEMORY = 64 * 1024 * 1024

_indexed: dict[tuple[int, str], tuple[App, list[Any]]] = {}


def _functions(app: App, options: dict[str, Any]) -> list[Any]:
    """What the host indexes from ``polyfn_azure.function_app(app, **options)`` (built once per
    app and options: a FunctionApp refuses a second indexing of the same functions)."""
    key = (id(app), json.dumps(options, sort_keys=True))
    cached = _indexed.get(key)
    if cached is None or cached[0] is not app:
        import polyfn_azure

        cached = (app, list(polyfn_azure.function_app(app, **options).get_functions()))
        _indexed[key] = cached
    return cached[1]


def _trigger(fn: Any) -> Any:
    trigger = fn.get_trigger()
    if trigger is None:
        raise AssertionError(f"Azure function {fn.get_function_name()} has no trigger binding")
    return trigger


def _azure_function(
    app: App, name: str, trigger_types: tuple[str, ...], options: dict[str, Any]
) -> Any:
    """The indexed Azure function for polyfn function `name` with one of `trigger_types`."""
    indexed = _functions(app, options)
    found = [f for f in indexed if f.get_function_name() == name]
    if not found:
        names = [f.get_function_name() for f in indexed]
        raise AssertionError(f"no Azure function named {name!r}; indexed: {names}")
    fn = found[0]
    kind = _trigger(fn).type
    if kind not in trigger_types:
        raise Skip(f"{name} is bound by a {kind} trigger here, not {' or '.join(trigger_types)}")
    return fn


def _call(fn: Any, datum: Any, metadata: dict[str, Any]) -> BaseException | None:
    """Convert and call as the worker does; the exception the invocation raised, or None."""
    try:
        azure_worker.call(fn, datum, metadata)
    except AssertionError:  # the worker would not load or convert it: not an invocation
        raise
    except Exception as exc:  # the invocation failed; the host retries or redelivers
        return exc
    return None


def _datum(value: Any, kind: str) -> Any:
    from azure.functions.meta import Datum

    return Datum(value, kind)


def _dotnet(t: datetime) -> str:
    """A DateTimeOffset as the host serializes it ("2016-10-04T10:15:00+00:00")."""
    return t.astimezone(UTC).isoformat(timespec="seconds")


def _iso7(t: datetime) -> str:
    """Event Grid's time format, seven fractional digits ("2017-06-26T18:41:00.9584103Z")."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


# -- renderers ----------------------------------------------------------------------------------


def timer_info(scheduled: datetime, previous: datetime, past_due: bool) -> str:
    """The TimerInfo JSON of a timer trigger. While a tick runs, ScheduleStatus is the status
    saved after the previous one (Last = that occurrence, Next = this one); the listener updates
    it only after the invocation:
    https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#usage
    https://github.com/Azure/azure-webjobs-sdk-extensions/blob/dev/src/WebJobs.Extensions/Extensions/Timers/Listener/TimerListener.cs
    """
    return json.dumps(
        {
            "Schedule": {"AdjustForDST": True},
            "ScheduleStatus": {
                "Last": _dotnet(previous),
                "Next": _dotnet(scheduled),
                "LastUpdated": _dotnet(previous),
            },
            "IsPastDue": past_due,
        }
    )


def blob_url(container: str, name: str) -> str:
    return f"{BLOB_ENDPOINT}/{container}/{quote(name, safe='/')}"


def blob_trigger_metadata(case: StorageCase) -> dict[str, Any]:
    """Trigger metadata of the blob trigger: BlobTrigger ("container/name"), Uri, Properties,
    Metadata: https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#blob-metadata
    """
    properties = {
        "ContentLength": case.size,
        "ContentType": case.content_type,
        "ETag": f'"0x{case.etag[:15].upper()}"',
        "LastModified": _dotnet(case.time),
        "BlobType": "BlockBlob",
        "CreatedOn": _dotnet(case.time),
    }
    return {
        "BlobTrigger": _datum(f"{case.bucket}/{case.key}", "string"),
        "Uri": _datum(blob_url(case.bucket, case.key), "string"),
        "Properties": _datum(json.dumps(properties), "json"),
        "Metadata": _datum("{}", "json"),
    }


def blob_event_data(case: StorageCase) -> dict[str, Any]:
    """The `data` of Microsoft.Storage.BlobCreated / BlobDeleted:
    https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage"""
    data: dict[str, Any] = {
        "api": "PutBlob" if case.kind == "created" else "DeleteBlob",
        "clientRequestId": str(uuid.uuid4()),
        "requestId": str(uuid.uuid4()),
        "contentType": case.content_type,
        "blobType": "BlockBlob",
        "url": blob_url(case.bucket, case.key),
        "sequencer": "00000000000004420000000000028963",
        "storageDiagnostics": {"batchId": str(uuid.uuid4())},
    }
    if case.kind == "created":
        data["eTag"] = f'"0x{case.etag[:15].upper()}"'
        data["contentLength"] = case.size
    return data


def _blob_event_type(case: StorageCase) -> str:
    return (
        "Microsoft.Storage.BlobCreated"
        if case.kind == "created"
        else "Microsoft.Storage.BlobDeleted"
    )


def _blob_subject(case: StorageCase) -> str:
    return f"/blobServices/default/containers/{case.bucket}/blobs/{case.key}"


def eventgrid_blob_event(case: StorageCase) -> dict[str, Any]:
    """One blob event in the Event Grid schema:
    https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage#event-grid-event-schema
    """
    return {
        "topic": TOPIC,
        "subject": _blob_subject(case),
        "eventType": _blob_event_type(case),
        "eventTime": _iso7(case.time),
        "id": str(uuid.uuid4()),
        "data": blob_event_data(case),
        "dataVersion": "",
        "metadataVersion": "1",
    }


def cloudevents_blob_event(case: StorageCase) -> dict[str, Any]:
    """One blob event in the CloudEvents 1.0 schema:
    https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage#cloud-event-schema"""
    return {
        "source": TOPIC,
        "subject": _blob_subject(case),
        "type": _blob_event_type(case),
        "time": _iso7(case.time),
        "id": str(uuid.uuid4()),
        "data": blob_event_data(case),
        "specversion": "1.0",
    }


def queue_trigger(m: Message) -> tuple[Any, dict[str, Any]]:
    """A Storage queue message as the host hands it over: the body (base64 removed, the
    default messageEncoding) and its metadata Id, DequeueCount, InsertionTime, ExpirationTime,
    NextVisibleTime, PopReceipt:
    https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#message-metadata
    """
    text = m.text
    body = _datum(text, "string") if text is not None else _datum(m.body, "bytes")
    metadata = {
        "Id": _datum(m.id, "string"),
        "DequeueCount": _datum(m.delivery_count, "int"),
        "InsertionTime": _datum(_dotnet(m.enqueued_time), "string"),
        "ExpirationTime": _datum(_dotnet(m.enqueued_time + timedelta(days=7)), "string"),
        "NextVisibleTime": _datum(_dotnet(m.enqueued_time + timedelta(minutes=10)), "string"),
        "PopReceipt": _datum(base64.b64encode(m.id.encode()).decode(), "string"),
        "QueueTrigger": body,
    }
    return body, metadata


def servicebus_trigger(m: Message, queue: str, *, session: bool) -> tuple[Any, dict[str, Any]]:
    """A Service Bus message as the host hands it over (cardinality one): the body and the
    message metadata, with application properties in UserProperties/ApplicationProperties:
    https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#message-metadata
    """
    text = m.text
    body = _datum(text, "string") if text is not None else _datum(m.body, "bytes")
    props = json.dumps(m.attrs)
    metadata = {
        "MessageId": _datum(m.id, "string"),
        "DeliveryCount": _datum(m.delivery_count, "int"),
        "EnqueuedTimeUtc": _datum(_dotnet(m.enqueued_time), "string"),
        "ExpiresAtUtc": _datum(_dotnet(m.enqueued_time + timedelta(days=14)), "string"),
        "LockedUntil": _datum(_dotnet(m.enqueued_time + timedelta(minutes=1)), "string"),
        "LockToken": _datum(str(uuid.uuid5(uuid.NAMESPACE_URL, m.id)), "string"),
        "SequenceNumber": _datum(1000 + m.delivery_count, "int"),
        "ContentType": _datum("application/json" if m.body.startswith(b"{") else "", "string"),
        "UserProperties": _datum(props, "json"),
        "ApplicationProperties": _datum(props, "json"),
        "MessageReceiver": _datum(json.dumps({"EntityPath": queue}), "json"),
    }
    if session:  # the message's SessionId is its group: https://learn.microsoft.com/azure/service-bus-messaging/message-sessions
        metadata["SessionId"] = _datum(m.group, "string")
    return body, metadata


# -- targets ------------------------------------------------------------------------------------


class _AzureTarget:
    cloud = "azure"
    name = ""
    trigger = ""
    # polyfn_azure.function_app options: the app settings / host.json of this deployment.
    options: dict[str, Any] = {}

    def __repr__(self) -> str:
        return f"<target {self.name}>"


class Timer(_AzureTarget):
    name = "azure-timer"
    trigger = "schedule"

    def run(self, case: ScheduleCase, app: App) -> Outcome:
        from conformance.cases.schedule import tick_result

        fn = _azure_function(app, case.function, ("timerTrigger",), self.options)
        tick = case.fire()
        datum = _datum(timer_info(tick.scheduled_time, tick.previous_time, case.past_due), "json")
        error = _call(fn, datum, {})
        if error is not None:
            raise error
        return Outcome(result=tick_result(tick, None))


def _storage_functions(app: App, bucket: str, kind: str) -> list[str]:
    """The app's storage functions on `bucket` for `kind` (each is one Azure function, whose
    trigger or Event Grid subscription filters on the container and the event type)."""
    return [
        f.name
        for f in app.functions_of("storage")
        if getattr(f.trigger, "bucket", None) == bucket and kind in getattr(f.trigger, "events", ())
    ]


class _StorageTarget(_AzureTarget):
    trigger = "storage"
    trigger_types: tuple[str, ...] = ()

    def invocation(self, case: StorageCase) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def run(self, case: StorageCase, app: App) -> Outcome:
        datum, metadata = self.invocation(case)
        for name in _storage_functions(app, case.bucket, case.kind):
            fn = _azure_function(app, name, self.trigger_types, self.options)
            error = _call(fn, datum, metadata)
            if error is not None:
                raise error
        return Outcome()


class BlobTrigger(_StorageTarget):
    """The blob trigger (standard polling source, or its Event Grid source: the same invocation)."""

    name = "azure-blob"
    trigger_types = ("blobTrigger",)
    options = {"storage_trigger": "blob"}

    def invocation(self, case: StorageCase) -> tuple[Any, dict[str, Any]]:
        if case.kind != "created":
            raise Skip("the blob trigger fires for new and updated blobs only, never for deletes")
        if (case.size or 0) > _BLOB_IN_MEMORY:
            raise Skip("the blob trigger reads the blob into memory; a blob this size cannot")
        content = (b"conformance " * ((case.size or 0) // 12 + 1))[: case.size or 0]
        return _datum(content, "bytes"), blob_trigger_metadata(case)


class BlobTriggerEventGridSource(BlobTrigger):
    """The blob trigger with ``source="EventGrid"``: the host learns of new blobs from Event Grid
    instead of scanning, then invokes the function exactly as the polling trigger does:
    https://learn.microsoft.com/azure/azure-functions/functions-event-grid-blob-trigger"""

    name = "azure-blob-eventgrid-source"
    options = {"storage_trigger": "blob", "blob_source": "EventGrid"}

    def run(self, case: StorageCase, app: App) -> Outcome:
        for name in _storage_functions(app, case.bucket, "created"):
            fn = _azure_function(app, name, self.trigger_types, self.options)
            source = json.loads(fn.get_function_json())["bindings"][0].get("source")
            if source != "EventGrid":
                raise AssertionError(f"{name}: blob trigger source is {source!r}, not EventGrid")
        return super().run(case, app)


class EventGridBlob(_StorageTarget):
    """An Event Grid trigger subscribed to the storage account's blob events."""

    name = "azure-eventgrid-blob"
    trigger_types = ("eventGridTrigger",)
    options = {"storage_trigger": "eventgrid"}

    def invocation(self, case: StorageCase) -> tuple[Any, dict[str, Any]]:
        return _datum(json.dumps(eventgrid_blob_event(case)), "json"), {}


class EventGridBlobCloudEvents(EventGridBlob):
    """The same subscription with the CloudEvents 1.0 delivery schema."""

    name = "azure-eventgrid-blob-cloudevents"

    def invocation(self, case: StorageCase) -> tuple[Any, dict[str, Any]]:
        return _datum(json.dumps(cloudevents_blob_event(case)), "json"), {}


class _QueueTarget(_AzureTarget):
    """One message per invocation; a raise fails it, so the host delivers it again.

    For an ordered (FIFO) case the messages of a group share a Service Bus session: the host
    hands a session's messages over one at a time under the session lock, so after one fails
    (is abandoned) the later ones of that session wait until it is delivered again.
    """

    trigger = "queue"
    trigger_types: tuple[str, ...] = ()

    def invocation(self, m: Message, queue: str, fifo: bool) -> tuple[Any, dict[str, Any]]:
        raise NotImplementedError

    def check_case(self, case: QueueCase) -> None:
        raise NotImplementedError

    def run(self, case: QueueCase, app: App) -> Outcome:
        self.check_case(case)
        fn = app.queue_function(case.queue)
        if fn is None:
            raise AssertionError(f"the conformance app has no function on queue {case.queue!r}")
        azure_fn = _azure_function(app, fn.name, self.trigger_types, self.options)
        invocations = [self.invocation(m, case.queue, case.fifo) for m in case.messages]
        failed: list[str] = []
        errors: list[str] = []
        waiting: set[str | None] = set()
        for m, (datum, metadata) in zip(case.messages, invocations, strict=True):
            if case.fifo and m.group in waiting:
                failed.append(m.id)
                continue
            error = _call(azure_fn, datum, metadata)
            if error is not None:
                failed.append(m.id)
                errors.append(repr(error))
                waiting.add(m.group)
        delivery = "fifo" if case.fifo else "single"
        return Outcome(failed=failed, result={"delivery": delivery, "native": errors})


class StorageQueue(_QueueTarget):
    name = "azure-queue"
    trigger_types = ("queueTrigger",)

    def check_case(self, case: QueueCase) -> None:
        if case.fifo:
            raise Skip("Storage queues keep no order; polyfn puts FIFO queues on Service Bus")
        if case.has_attributes:
            raise Skip("Storage queue messages carry a body only, no attributes")
        if any(len(m.body) > _QUEUE_MESSAGE_MAX for m in case.messages):
            raise Skip("a Storage queue message is at most 64 KiB (48 KiB before base64)")

    def invocation(self, m: Message, queue: str, fifo: bool) -> tuple[Any, dict[str, Any]]:
        return queue_trigger(m)


class ServiceBusQueue(_QueueTarget):
    name = "azure-servicebus"
    trigger_types = ("serviceBusTrigger",)
    options = {"service_bus_queues": [QUEUE]}

    def check_case(self, case: QueueCase) -> None:
        return None

    def invocation(self, m: Message, queue: str, fifo: bool) -> tuple[Any, dict[str, Any]]:
        return servicebus_trigger(m, queue, session=fifo)


class ServiceBusTopic(_AzureTarget):
    """A Service Bus topic with one subscription per subscriber function, named after it, and a
    topic trigger on each: every subscription holds its own copy of each message, delivered one
    at a time, and a raise abandons that copy alone. A subscription's messages carry the queue
    metadata, their receiver's entity path being ``<topic>/Subscriptions/<subscription>``:
    https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger
    """

    name = "azure-servicebus-topic"
    trigger = "subscribe"

    def run(self, case: SubscribeCase, app: App) -> Outcome:
        failed: list[str] = []
        errors: list[str] = []
        for fn in case.functions:
            azure_fn = _azure_function(app, fn, ("serviceBusTrigger",), self.options)
            binding = json.loads(azure_fn.get_function_json())["bindings"][0]
            if (binding.get("topicName"), binding.get("subscriptionName")) != (case.topic, fn):
                raise AssertionError(f"{fn}: not bound to its subscription of {case.topic}")
            entity = f"{case.topic}/Subscriptions/{fn}"
            for m in case.messages:
                datum, metadata = servicebus_trigger(m, entity, session=False)
                error = _call(azure_fn, datum, metadata)
                if error is not None:
                    failed.append(copy_id(fn, m))
                    errors.append(repr(error))
        return Outcome(failed=failed, result={"native": errors})


TARGETS: list[Any] = [
    Timer(),
    BlobTrigger(),
    BlobTriggerEventGridSource(),
    EventGridBlob(),
    EventGridBlobCloudEvents(),
    StorageQueue(),
    ServiceBusQueue(),
    ServiceBusTopic(),
]
