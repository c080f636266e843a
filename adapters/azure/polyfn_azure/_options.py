"""`AzureOptions`: how one polyfn app maps onto one Azure Functions app.

Everything here mirrors a setting of the Functions host (host.json) or of a binding, so the
adapter reads requests the way the host that delivers them is configured, and the build step
writes the same values into host.json.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from polyfn import ConfigError

if TYPE_CHECKING:
    from collections.abc import Iterable

# host.json extensions.http.routePrefix defaults to "api": every HTTP route lives under /api/.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook#hostjson-settings
DEFAULT_ROUTE_PREFIX = "api"

# FunctionApp(http_auth_level=...): FUNCTION (a key per call, Azure's default), ANONYMOUS, ADMIN.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#http-auth
AUTH_LEVELS = ("ANONYMOUS", "FUNCTION", "ADMIN")

# blob_trigger(source=...): polling (logs and a container scan) or Event Grid notifications.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#configuration
BLOB_SOURCES = ("LogsAndContainerScan", "EventGrid")

# How storage functions are bound: the blob trigger (created or updated blobs only) or an Event Grid
# subscription delivering Microsoft.Storage.BlobCreated / BlobDeleted to an eventGridTrigger.
STORAGE_TRIGGERS = ("blob", "eventgrid")

# host.json extensions.queues.messageEncoding: "base64" (the default) or "none". The host decodes
# before the worker sees the message, so the adapter gets the decoded bytes either way.
# https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue#host-json
MESSAGE_ENCODINGS = ("base64", "none")

# The app settings that hold connection strings: AzureWebJobsStorage is the host's own storage
# account; Service Bus has no default, this is the name the build step writes.
DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"
DEFAULT_SERVICE_BUS_CONNECTION = "ServiceBusConnection"


class AzureOptions:
    """Options of `polyfn_azure.function_app(app, **options)`.

    - `route_prefix`: host.json ``extensions.http.routePrefix`` ("api"); stripped from the path
      the app sees.
    - `auth_level`: the FunctionApp's HTTP auth level ("FUNCTION", Azure's default: a caller sends
      a function key as ``x-functions-key`` or ``?code=``, which the app then sees in its query).
    - `storage_trigger`: "blob" binds ``on=["created"]`` storage functions to the blob trigger;
      "eventgrid" binds every storage function to an Event Grid trigger. Functions that also want
      deletes always use Event Grid: the blob trigger sees only new and updated blobs.
    - `blob_source`: the blob trigger's source, "LogsAndContainerScan" or "EventGrid".
    - `storage_connection`: the app setting with the storage account (blob and queue triggers).
    - `service_bus_queues`: queue names that are Service Bus queues (the others are Storage
      queues); a ``fifo=True`` queue is always a Service Bus queue with sessions.
    - `service_bus_connection`: the app setting with the Service Bus connection.
    - `queue_message_encoding`: host.json ``extensions.queues.messageEncoding``.
    """

    __slots__ = (
        "auth_level",
        "blob_source",
        "queue_message_encoding",
        "route_prefix",
        "service_bus_connection",
        "service_bus_queues",
        "storage_connection",
        "storage_trigger",
    )

    def __init__(
        self,
        *,
        route_prefix: str = DEFAULT_ROUTE_PREFIX,
        auth_level: str = "FUNCTION",
        storage_trigger: str = "blob",
        blob_source: str = "LogsAndContainerScan",
        storage_connection: str = DEFAULT_STORAGE_CONNECTION,
        service_bus_queues: Iterable[str] = (),
        service_bus_connection: str = DEFAULT_SERVICE_BUS_CONNECTION,
        queue_message_encoding: str = "base64",
    ) -> None:
        if not isinstance(route_prefix, str):
            raise ConfigError(f"route_prefix must be a string, got {route_prefix!r}")
        _one_of(
            "auth_level",
            auth_level.upper() if isinstance(auth_level, str) else auth_level,
            AUTH_LEVELS,
        )
        _one_of("storage_trigger", storage_trigger, STORAGE_TRIGGERS)
        _one_of("blob_source", blob_source, BLOB_SOURCES)
        _one_of("queue_message_encoding", queue_message_encoding, MESSAGE_ENCODINGS)
        for label, value in (
            ("storage_connection", storage_connection),
            ("service_bus_connection", service_bus_connection),
        ):
            if not isinstance(value, str) or not value:
                raise ConfigError(f"{label} must name an app setting, got {value!r}")
        if isinstance(service_bus_queues, str):
            service_bus_queues = (service_bus_queues,)
        self.route_prefix = route_prefix.strip("/")
        self.auth_level = auth_level.upper()
        self.storage_trigger = storage_trigger
        self.blob_source = blob_source
        self.storage_connection = storage_connection
        self.service_bus_queues = tuple(service_bus_queues)
        self.service_bus_connection = service_bus_connection
        self.queue_message_encoding = queue_message_encoding

    def host_json_extensions(self) -> dict[str, Any]:
        """The host.json ``extensions`` settings these options assume (for the build step)."""
        return {
            "http": {"routePrefix": self.route_prefix},
            "queues": {"messageEncoding": self.queue_message_encoding},
        }

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"AzureOptions({fields})"


def _one_of(label: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{label} must be one of {', '.join(allowed)}; got {value!r}")
