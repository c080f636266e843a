"""Sample native Azure Functions invocations for ``polyfn events azure TRIGGER``, and running
one through the adapter for ``polyfn invoke --provider azure`` (in conformance.hosts.azure, the
one emulation of the host and worker).

A sample is what the Functions host sends the Python worker, as JSON: the gRPC
``InvocationRequest``'s ``inputData`` (one ``ParameterBinding`` with its ``TypedData``) and
``triggerMetadata`` (name -> ``TypedData``), in protobuf's JSON mapping (bytes as base64).
https://github.com/Azure/azure-functions-language-worker-protobuf/blob/dev/src/proto/FunctionRpc.proto
`invoke` hands the invocation to conformance.hosts.azure, which turns those TypedData into the
values the worker builds and passes them to azure-functions' own converters and to the function
that `polyfn_azure.function_app` registered.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from polyfn._local._sample_args import Catalog, SampleValues, render, wire_path

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn._app import App

ACCOUNT = "shopstorage"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
# The HTTP routes' default prefix (host.json extensions.http.routePrefix):
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint
ROUTE_PREFIX = "api"

TRIGGERS: dict[str, str] = {
    "http": "HTTP trigger (httpTrigger)",
    "timer": "timer trigger (timerTrigger)",
    "blob": "blob trigger (blobTrigger), the blob's content and properties",
    "eventgrid-blob": "Event Grid trigger, Microsoft.Storage.BlobCreated/BlobDeleted",
    "queue": "Storage queue trigger (queueTrigger)",
    "servicebus": "Service Bus queue trigger (serviceBusTrigger)",
}
KINDS: dict[str, str] = {
    "http": "http",
    "timer": "schedule",
    "blob": "storage",
    "eventgrid-blob": "storage",
    "queue": "queue",
    "servicebus": "queue",
}
# The binding type each sample feeds (its Datum goes to that binding's converter).
BINDINGS: dict[str, str] = {
    "http": "httpTrigger",
    "timer": "timerTrigger",
    "blob": "blobTrigger",
    "eventgrid-blob": "eventGridTrigger",
    "queue": "queueTrigger",
    "servicebus": "serviceBusTrigger",
}
_EXTRA: dict[str, dict[str, str]] = {
    "timer": {"past_due": "false"},
    "blob": {"content": "order_id,total\n42,9.99\n"},
    "servicebus": {"group": ""},
}
# A blob trigger's sample carries content, not a size or kind; Storage queue messages carry no
# attributes (Service Bus messages carry application properties, so "servicebus" keeps attr.*).
_DROP: dict[str, tuple[str, ...]] = {"blob": ("size", "kind"), "queue": ("attr",)}


_CATALOG = Catalog(KINDS, extra=_EXTRA, drop=_DROP)
OVERRIDES: dict[str, dict[str, str]] = _CATALOG.overrides()


def _json(value: Any) -> dict[str, str]:
    return {"json": json.dumps(value)}


def _string(value: str) -> dict[str, str]:
    return {"string": value}


def _bytes(value: bytes) -> dict[str, str]:
    return {"bytes": base64.b64encode(value).decode()}


def _uuid(seed: str) -> str:
    d = hashlib.sha256(seed.encode()).hexdigest()
    return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"


def _invocation(
    name: str, data: dict[str, Any], metadata: dict[str, Any], v: SampleValues, function: str
) -> dict[str, Any]:
    metadata = {
        **metadata,
        "sys": _json(
            {"MethodName": function, "UtcNow": v["time"], "RandGuid": _uuid("rand" + function)}
        ),
    }
    return {
        "invocationId": _uuid("invocation" + function + json.dumps(data)),
        "functionId": _uuid("function" + function),
        "inputData": [{"name": name, "data": data}],
        "triggerMetadata": metadata,
    }


def _http(v: SampleValues) -> dict[str, Any]:
    # The host's RpcHttp: single-valued headers and query (repeated query keys are only in url).
    # The host's url carries the path as the client sent it (percent-encoded).
    url = f"https://shop.azurewebsites.net/{ROUTE_PREFIX}{wire_path(v['path'])}"
    if v["query"]:
        url += "?" + v["query"]
    headers = {
        "accept": "application/json",
        "host": "shop.azurewebsites.net",
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": f"{v['source_ip']}:53018",
    }
    headers.update({k.lower(): val for k, val in v.prefixed("header").items()})
    body = v["body"]
    if body and "content-type" not in headers:
        headers["content-type"] = "application/json"
    query: dict[str, str] = {}
    for key, value in parse_qsl(v["query"], keep_blank_values=True):
        query.setdefault(key, value)
    http: dict[str, Any] = {
        "method": v["method"],
        "url": url,
        "headers": headers,
        "query": query,
        "params": {},
    }
    if body:
        http["body"] = _string(body)
        http["rawBody"] = _string(body)
    metadata = {"Query": _json(query), "Headers": _json(headers)}
    return _invocation("req", {"http": http}, metadata, v, "http_function")


def _timer(v: SampleValues) -> dict[str, Any]:
    # TimerInfo as the host serialises it (Schedule, ScheduleStatus, IsPastDue):
    # https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#usage
    past_due = v.choice("past_due", ("true", "false")) == "true"
    info = {
        "Schedule": {"AdjustForDST": True},
        "ScheduleStatus": {
            "Last": "0001-01-01T00:00:00",
            "Next": v["time"],
            "LastUpdated": "0001-01-01T00:00:00",
        },
        "IsPastDue": past_due,
    }
    return _invocation("timer", _json(info), {"timer": _json(info)}, v, v["function"])


def _blob_url(bucket: str, key: str) -> str:
    return f"https://{ACCOUNT}.blob.core.windows.net/{bucket}/{quote(key)}"


def _blob(v: SampleValues) -> dict[str, Any]:
    # Blob trigger metadata: BlobTrigger (container/name), Uri, Properties, Metadata:
    # https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#blob-metadata
    content = v["content"].encode()
    bucket, key = v["bucket"], v["key"]
    properties = {
        "ContentLength": len(content),
        **v.present(ContentType="content_type"),
        "ETag": f'"{v["etag"]}"',
        "LastModified": v["time"],
        "CreatedOn": v["time"],
        "BlobType": "Block",
    }
    metadata = {
        "BlobTrigger": _string(f"{bucket}/{key}"),
        "Uri": _string(_blob_url(bucket, key)),
        "Properties": _json(properties),
        "Metadata": _json({}),
        "name": _string(key),
    }
    return _invocation("blob", _bytes(content), metadata, v, "blob_function")


def _eventgrid_blob(v: SampleValues) -> dict[str, Any]:
    # Event Grid schema of Blob Storage events:
    # https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage
    kind = v.choice("kind", ("created", "deleted"))
    bucket, key = v["bucket"], v["key"]
    data: dict[str, Any] = {
        "api": "PutBlob" if kind == "created" else "DeleteBlob",
        "clientRequestId": _uuid("client" + key),
        "requestId": _uuid("request" + key),
        **v.present(contentType="content_type"),
        "blobType": "BlockBlob",
        "url": _blob_url(bucket, key),
        "sequencer": "0000000000000000000000000000201B00000000004092a5",
        "storageDiagnostics": {"batchId": _uuid("batch" + key)},
    }
    if kind == "created":
        data.update(v.present(contentLength="size"))
        if v["etag"]:
            data["eTag"] = f"0x{v['etag'][:15].upper()}"
    event = {
        "topic": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/shop/providers/"
        f"Microsoft.Storage/storageAccounts/{ACCOUNT}",
        "subject": f"/blobServices/default/containers/{bucket}/blobs/{key}",
        "eventType": "Microsoft.Storage.BlobCreated"
        if kind == "created"
        else "Microsoft.Storage.BlobDeleted",
        "eventTime": v["time"],
        "id": _uuid("event" + key + kind),
        "data": data,
        "dataVersion": "",
        "metadataVersion": "1",
    }
    return _invocation("event", _json(event), {}, v, "eventgrid_function")


def _queue(v: SampleValues) -> dict[str, Any]:
    # Storage queue trigger metadata:
    # https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#message-metadata
    # The host has already base64-decoded the message (host.json messageEncoding).
    metadata = {
        "Id": _string(v["id"]),
        "DequeueCount": _json(v.integer("delivery_count")),
        "InsertionTime": _json(v["time"]),
        "ExpirationTime": _json("2026-01-22T02:00:00+00:00"),
        "NextVisibleTime": _json("2026-01-15T02:10:00+00:00"),
        "PopReceipt": _string("AgAAAAMAAAAAAAAAtKnxvqmF3AE="),
        "QueueTrigger": _string(v["body"]),
    }
    return _invocation("msg", _bytes(v["body"].encode()), metadata, v, "queue_function")


def _servicebus(v: SampleValues) -> dict[str, Any]:
    # Service Bus trigger metadata:
    # https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#message-metadata
    properties = v.prefixed("attr")
    metadata: dict[str, Any] = {
        "MessageId": _string(v["id"]),
        "DeliveryCount": _json(v.integer("delivery_count")),
        "EnqueuedTimeUtc": _json(v["time"]),
        "ExpiresAtUtc": _json("2026-01-29T02:00:00Z"),
        "SequenceNumber": _json(7),
        "ContentType": _string("application/json"),
        "LockToken": _string(_uuid("lock" + v["id"])),
        "UserProperties": _json(properties),
        "ApplicationProperties": _json(properties),
    }
    if v["group"]:
        metadata["SessionId"] = _string(v["group"])
    return _invocation("msg", _bytes(v["body"].encode()), metadata, v, "servicebus_function")


_BUILDERS: dict[str, Callable[[SampleValues], dict[str, Any]]] = {
    "http": _http,
    "timer": _timer,
    "blob": _blob,
    "eventgrid-blob": _eventgrid_blob,
    "queue": _queue,
    "servicebus": _servicebus,
}


def sample_event(trigger: str, **overrides: Any) -> dict[str, Any]:
    """A host-shaped Azure invocation for `trigger` (a key of `TRIGGERS`), with `overrides`."""
    return render("azure", trigger, overrides, builders=_BUILDERS, catalog=_CATALOG)


def trigger_of(event: dict[str, Any]) -> str | None:
    """Which of `TRIGGERS` a host-shaped invocation looks like (None: none of them)."""
    inputs = event.get("inputData")
    if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], dict):
        return None
    data = inputs[0].get("data")
    metadata = event.get("triggerMetadata") or {}
    if not isinstance(data, dict) or not isinstance(metadata, dict):
        return None
    if "http" in data:
        return "http"
    if "timer" in metadata:
        return "timer"
    if "BlobTrigger" in metadata:
        return "blob"
    if "DequeueCount" in metadata:
        return "queue"
    if "DeliveryCount" in metadata:
        return "servicebus"
    if "json" in data:
        try:
            payload = json.loads(data["json"])
        except (TypeError, ValueError):
            return None
        if isinstance(payload, dict) and str(
            payload.get("eventType", payload.get("type", ""))
        ).startswith("Microsoft.Storage.Blob"):
            return "eventgrid-blob"
    return None


# -- invoke ------------------------------------------------------------------------------------
# The host and worker around the call are conformance's one emulation of them
# (conformance.hosts.azure, in polyfn-conformance: the extra polyfn-azure[invoke]); what stays
# here is what the sample catalog knows: which sample feeds which binding.


def decode(event: dict[str, Any], binding: str) -> Any:
    """The object azure-functions' converter for `binding` builds from a host-shaped invocation,
    as conformance's emulation of the host hands it to the worker (`conformance.hosts.azure`)."""
    from conformance.hosts import azure as host
    from polyfn._errors import EventError

    try:
        return host.decode(event, binding)
    except host.HostError as exc:
        raise EventError(str(exc), field=exc.field, source=exc.source) from exc


# Request headers the Functions host and App Service's front end add (ARR affinity and the
# original URL, the client certificate, the site's own routing):
# https://learn.microsoft.com/azure/app-service/reference-app-settings#domain-and-dns
PLATFORM_HEADERS = ("x-arr-", "x-ms-", "x-waws-", "x-site-deployment-id", "x-original-url")


def _method_name(event: dict[str, Any]) -> str:
    try:
        name = json.loads(event["triggerMetadata"]["sys"]["json"])["MethodName"]
    except (KeyError, TypeError, ValueError):
        return ""
    return name if isinstance(name, str) else ""


def read_event(event: dict[str, Any]) -> Any:
    """The neutral value of a host-shaped invocation: azure-functions' converter builds the
    trigger's object, and polyfn_azure's library functions read it. A Storage queue message
    names no queue (its ``queue`` is empty)."""
    from polyfn._errors import EventError
    from polyfn_azure import _library

    trigger = trigger_of(event)
    if trigger is None:
        raise EventError(f"none of the Azure invocations polyfn reads ({', '.join(TRIGGERS)})")
    native = decode(event, BINDINGS[trigger])
    readers: dict[str, Callable[[Any], Any]] = {
        "http": lambda req: _library.http_request(req, ROUTE_PREFIX),
        # The TimerRequest names no function; the invocation's sys metadata does.
        "schedule": lambda timer: _library.timer_event(timer, name=_method_name(event)),
        "storage": _library.storage_event,
        "queue": _library.queue_messages,
    }
    return readers[KINDS[trigger]](native)


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned, or None when it is no HTTP answer."""
    from conformance.hosts import azure as host

    return host.http_status(result)


def invoke(app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
    """Run a host-shaped invocation through ``polyfn_azure.function_app(app)`` in conformance's
    emulation of the host and worker (`conformance.hosts.azure.invoke`). Returns (the
    InvocationResponse's outputs, True), or its failure and False when the function raised. An
    `EventError` (an invocation the adapter, the host or a converter cannot read) propagates."""
    import polyfn_azure
    from conformance.hosts import azure as host
    from polyfn._errors import EventError

    looks_like = trigger_of(event)

    def check(binding: str) -> None:
        if looks_like is not None and BINDINGS[looks_like] != binding:
            matching = [t for t, b in BINDINGS.items() if b == binding]
            raise EventError(
                f"this is a {looks_like} invocation ({BINDINGS[looks_like]}), but Azure function "
                f"{function!r} is bound with {binding}; use `polyfn events azure "
                f"{' or '.join(matching)}`",
                field="inputData[0].data",
                source="azure host",
            )

    try:
        return host.invoke(
            polyfn_azure.function_app(app),
            function,
            event,
            check=check,
            passes=lambda exc: isinstance(exc, EventError),
        )
    except host.HostError as exc:
        raise EventError(str(exc), field=exc.field, source=exc.source) from exc
