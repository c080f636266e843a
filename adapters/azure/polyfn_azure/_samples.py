"""Sample native Azure Functions invocations for ``polyfn events azure TRIGGER``, and running
one through the adapter for ``polyfn invoke --provider azure``.

A sample is what the Functions host sends the Python worker, as JSON: the gRPC
``InvocationRequest``'s ``inputData`` (one ``ParameterBinding`` with its ``TypedData``) and
``triggerMetadata`` (name -> ``TypedData``), in protobuf's JSON mapping (bytes as base64).
https://github.com/Azure/azure-functions-language-worker-protobuf/blob/dev/src/proto/FunctionRpc.proto
`invoke` turns those TypedData into `azure.functions.meta.Datum` values as the worker does, and
hands them to azure-functions' own converters and to the function that
`polyfn_azure.function_app` registered.
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
        "ContentType": v["content_type"],
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
        "contentType": v["content_type"],
        "blobType": "BlockBlob",
        "url": _blob_url(bucket, key),
        "sequencer": "0000000000000000000000000000201B00000000004092a5",
        "storageDiagnostics": {"batchId": _uuid("batch" + key)},
    }
    if kind == "created":
        data.update({"eTag": f"0x{v['etag'][:15].upper()}", "contentLength": int(v["size"])})
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


def to_datum(typed: Any, where: str) -> Any:
    """A host TypedData (protobuf JSON) as the `azure.functions.meta.Datum` the worker builds
    from it (azure-functions-python-worker, bindings/datumdef.py, Datum.from_typed_data)."""
    from azure.functions.meta import Datum

    from polyfn._errors import EventError

    if not isinstance(typed, dict) or len(typed) != 1:
        raise EventError(
            "expected a TypedData object with one of string, json, bytes, int, double, http",
            field=where,
            source="azure host",
        )
    ((kind, value),) = typed.items()
    if kind == "http":
        if not isinstance(value, dict):
            raise EventError("expected an RpcHttp object", field=where, source="azure host")

        def strings(name: str) -> dict[str, Any]:
            found = value.get(name) or {}
            if not isinstance(found, dict):
                raise EventError(
                    "expected a map of strings", field=f"{where}.http.{name}", source="azure host"
                )
            return {k: Datum(str(v), "string") for k, v in found.items()}

        body = value.get("body")
        return Datum(
            {
                "method": Datum(str(value.get("method", "")), "string"),
                "url": Datum(str(value.get("url", "")), "string"),
                "headers": strings("headers"),
                "body": to_datum(body, f"{where}.http.body")
                if body is not None
                else Datum(b"", "bytes"),
                "params": strings("params"),
                "query": strings("query"),
            },
            "http",
        )
    if kind == "bytes":
        try:
            return Datum(base64.b64decode(value, validate=True), "bytes")
        except (TypeError, ValueError) as exc:
            raise EventError(
                f"bytes are not base64: {exc}", field=where, source="azure host"
            ) from None
    if kind in ("string", "json"):
        return Datum(str(value), kind)
    if kind in ("int", "double"):
        return Datum(int(value) if kind == "int" else float(value), kind)
    raise EventError(f"unsupported TypedData kind {kind!r}", field=where, source="azure host")


def _context_class() -> type:
    import threading

    import azure.functions as func
    from azure.functions import _abc

    class _Trace(_abc.TraceContext):
        def __init__(self, traceparent: str) -> None:
            self._parent = traceparent

        @property
        def trace_state(self) -> str:
            return ""

        @property
        def trace_parent(self) -> str:
            return self._parent

        @property
        def attributes(self) -> dict[str, str]:
            return {}

    class _Context(func.Context):
        """The worker's invocation context, for the function's ``context`` parameter."""

        def __init__(self, invocation_id: str, function_name: str) -> None:
            self._invocation_id = invocation_id
            self._function_name = function_name
            digest = hashlib.sha256(invocation_id.encode()).hexdigest()
            self._trace = _Trace(f"00-{digest[:32]}-{digest[32:48]}-01")

        @property
        def invocation_id(self) -> str:
            return self._invocation_id

        @property
        def thread_local_storage(self) -> type[threading.local]:
            return threading.local

        @property
        def function_name(self) -> str:
            return self._function_name

        @property
        def function_directory(self) -> str:
            import os

            return os.getcwd()

        @property
        def trace_context(self) -> _abc.TraceContext:
            return self._trace

        @property
        def retry_context(self) -> Any:
            return None

    return _Context


def _body_typed(raw: bytes, headers: dict[str, Any]) -> dict[str, str]:
    """A response body as TypedData JSON: text (a text type, no Content-Encoding, UTF-8) as a
    string, so it reads as it is; anything else as base64 bytes."""
    from polyfn._http import is_text_content

    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if is_text_content(lower.get("content-type"), lower.get("content-encoding")):
        try:
            return _string(raw.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return _bytes(raw)


def _http_result(datum: Any) -> dict[str, Any]:
    """The RpcHttp the worker returns to the host, as JSON (a text body as a string, any other
    body as base64 bytes)."""
    value = datum.value
    body = value["body"]
    raw = body.value if isinstance(body.value, bytes) else str(body.value).encode()
    cookies = [
        c.output(header="").strip()
        for cookie in value.get("cookies") or []
        for c in cookie.values()
    ]
    headers = {name: d.value for name, d in value["headers"].items()}
    return {
        "statusCode": value["status_code"].value,
        "headers": headers,
        "cookies": cookies,
        "body": _body_typed(raw, headers),
    }


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned, or None when it is no HTTP answer."""
    try:
        return int(result["returnValue"]["http"]["statusCode"])
    except (KeyError, TypeError, ValueError):
        return None


def invoke(app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
    """Run a host-shaped invocation through ``polyfn_azure.function_app(app)``: each input's
    TypedData becomes a Datum, the trigger binding's azure-functions converter decodes it, the
    registered function runs, and an HTTP result goes back through HttpResponseConverter.
    Returns (the InvocationResponse's outputs, True), or its failure and False when the
    function raised. An `EventError` (an invocation the adapter or converter cannot read)
    propagates."""
    import asyncio
    import inspect
    import traceback

    from azure.functions import meta
    from azure.functions.http import HttpResponseConverter

    import polyfn_azure
    from polyfn._errors import EventError

    fa = polyfn_azure.function_app(app)
    registered = {f.get_function_name(): f for f in fa.get_functions()}
    if function not in registered:
        raise EventError(
            f"polyfn_azure.function_app registers no Azure function {function!r} (it has "
            f"{', '.join(str(n) for n in registered)})",
            source="azure host",
        )
    az_fn = registered[function]
    trigger = az_fn.get_trigger()
    if trigger is None:
        raise EventError(f"Azure function {function!r} has no trigger binding", source="azure host")
    inputs = event.get("inputData")
    if not isinstance(inputs, list) or not inputs or not isinstance(inputs[0], dict):
        raise EventError(
            "expected a list of parameter bindings", field="inputData", source="azure host"
        )
    looks_like = trigger_of(event)
    if looks_like is not None and BINDINGS[looks_like] != trigger.get_binding_name():
        matching = [t for t, b in BINDINGS.items() if b == trigger.get_binding_name()]
        raise EventError(
            f"this is a {looks_like} invocation ({BINDINGS[looks_like]}), but Azure function "
            f"{function!r} is bound with {trigger.get_binding_name()}; use `polyfn events azure "
            f"{' or '.join(matching)}`",
            field="inputData[0].data",
            source="azure host",
        )
    metadata_json = event.get("triggerMetadata") or {}
    if not isinstance(metadata_json, dict):
        raise EventError("expected an object", field="triggerMetadata", source="azure host")
    metadata = {k: to_datum(v, f"triggerMetadata.{k}") for k, v in metadata_json.items()}
    datum = to_datum(inputs[0].get("data"), "inputData[0].data")
    converter = meta.get_binding_registry().get(  # type: ignore[no-untyped-call]
        trigger.get_binding_name()
    )
    try:
        decoded = converter.decode(datum, trigger_metadata=metadata)
    except (KeyError, TypeError, ValueError, NotImplementedError) as exc:
        raise EventError(
            f"azure-functions' {converter.__name__} cannot read it: {type(exc).__name__}: {exc}",
            field="inputData[0].data",
            source=f"azure {trigger.get_binding_name()}",
        ) from exc
    user_function = az_fn.get_user_function()
    invocation_id = str(event.get("invocationId") or "00000000-0000-0000-0000-000000000000")
    kwargs: dict[str, Any] = {trigger.name: decoded}
    if "context" in inspect.signature(user_function).parameters:
        kwargs["context"] = _context_class()(invocation_id, function)
    try:
        result = user_function(**kwargs)
        if inspect.isawaitable(result):
            result = asyncio.run(result)  # type: ignore[arg-type]
    except EventError:
        raise
    except Exception as exc:
        # The worker reports a raise as a failed InvocationResponse; the host then retries or
        # poisons the input as the trigger's extension decides.
        return {
            "invocationId": invocation_id,
            "result": {
                "status": "Failure",
                "exception": {
                    "message": f"{type(exc).__name__}: {exc}",
                    "stackTrace": "".join(traceback.format_tb(exc.__traceback__)),
                },
            },
        }, False
    response: dict[str, Any] = {"invocationId": invocation_id, "result": {"status": "Success"}}
    if result is not None:
        out = HttpResponseConverter.encode(result, expected_type=None)
        response["returnValue"] = (
            {"http": _http_result(out)} if out.type == "http" else {out.type: out.value}
        )
    return response, True
