"""Library use without `App`: an Azure function of your own (v2 programming model) reads its
trigger's `azure.functions` object into polyfn's neutral values and writes neutral results back.

The functions are the ones `polyfn_azure.function_app` itself runs, so a function moved from one
style to the other sees the same values. The same names exist in polyfn_aws and polyfn_gcp
(docs/library.md):

- `http_request(req, route_prefix="api")` -> `HttpRequest` (the host's route prefix is dropped
  from the path), and `http_response(response)` -> `azure.functions.HttpResponse`.
- `queue_messages(msg, queue="")` -> `list[QueueMessage]` (a Storage queue or Service Bus
  message, or a list of them from a ``cardinality="many"`` trigger); `queue` names the queue,
  which the message does not carry. `batch_response(failed_ids)` returns None when nothing
  failed and otherwise raises `MessagesFailedError`: Azure has no per-message answer, so the
  invocation fails and the host retries its message(s) (Storage queues up to ``maxDequeueCount``,
  then the poison queue; Service Bus up to ``MaxDeliveryCount``, then the dead-letter queue).
- `storage_event(event)` -> `StorageEvent` (a blob trigger's `InputStream`, or an Event Grid
  BlobCreated / BlobDeleted `EventGridEvent`).
- `timer_event(timer, name=..., schedule=...)` -> `TimerEvent` (the TimerRequest names neither).

An input they cannot read is an `EventError` that names the field and the trigger expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn._errors import fail_messages
from polyfn_azure._http import request_from_azure, response_to_azure
from polyfn_azure._options import DEFAULT_ROUTE_PREFIX
from polyfn_azure._queue import service_bus_message, storage_message
from polyfn_azure._storage import blob_event, event_grid_event
from polyfn_azure._timer import timer_event

if TYPE_CHECKING:
    from collections.abc import Iterable

    import azure.functions as func

    from polyfn import HttpRequest, HttpResponse, QueueMessage, StorageEvent

__all__ = [
    "batch_response",
    "http_request",
    "http_response",
    "queue_messages",
    "storage_event",
    "timer_event",
]

# Azure retries a failed invocation's message: Storage queues up to maxDequeueCount (5) then the
# poison queue, Service Bus up to the queue's MaxDeliveryCount (10) then the dead-letter queue.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#poison-messages
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#poison-messages
RETRY = (
    "the Azure Functions host retries the invocation's message(s), then moves them to the "
    "poison queue (Storage) or the dead-letter queue (Service Bus)"
)


def http_request(req: func.HttpRequest, route_prefix: str = DEFAULT_ROUTE_PREFIX) -> HttpRequest:
    """The neutral request of an HTTP trigger's request, without the host's `route_prefix`."""
    return request_from_azure(req, route_prefix)


def http_response(response: HttpResponse) -> func.HttpResponse:
    """The `azure.functions.HttpResponse` carrying `response` whole (every header and cookie)."""
    return response_to_azure(response)


def queue_messages(msg: Any, queue: str = "") -> list[QueueMessage]:
    """The neutral messages of a Storage queue or Service Bus trigger's message (or list of
    messages); `queue` is the queue's name as the message's ``queue`` (the trigger binding
    knows it, the message does not)."""
    items = msg if isinstance(msg, list) else [msg]
    # A Storage queue message counts dequeues; a Service Bus message counts deliveries.
    return [
        storage_message(queue, m) if hasattr(m, "dequeue_count") else service_bus_message(queue, m)
        for m in items
    ]


def batch_response(failed: Iterable[str]) -> None:
    """None when `failed` is empty; otherwise raises `MessagesFailedError`, which fails the
    invocation (Azure has no per-message answer: every message of the invocation is retried)."""
    fail_messages(failed, RETRY)


def storage_event(event: Any) -> StorageEvent:
    """The neutral event of a blob trigger's `azure.functions.InputStream` (always "created":
    the trigger fires for new and updated blobs) or of an Event Grid blob event."""
    if hasattr(event, "get_json"):
        return event_grid_event(event)
    return blob_event(None, event)
