"""polyfn: write a cloud function once; run it on AWS Lambda, Azure Functions and Google Cloud.

This module only re-exports; every name lives in a private module of its own.
"""

from polyfn._app import App, Function, Settings
from polyfn._context import Context
from polyfn._cors import CORSConfig
from polyfn._errors import (
    ConfigError,
    EventError,
    HTTPError,
    MessagesFailedError,
    MetricError,
    PolyfnError,
    ScheduleError,
)
from polyfn._events import QueueMessage, StorageEvent, TimerEvent
from polyfn._http import HttpRequest, HttpResponse
from polyfn._lazy import lazy_attributes as _lazy_attributes
from polyfn._middleware import after, before
from polyfn._multidict import Headers, QueryParams
from polyfn._params import Header, Path, Query
from polyfn._resources import (
    AccessDenied,
    Bucket,
    Conflict,
    Document,
    NotFound,
    ObjectInfo,
    Queue,
    ResourceError,
    Secret,
    SendResult,
    Table,
    Topic,
)
from polyfn._schedule import Schedule

# Names most apps never use load on first access (PEP 562), so `import polyfn` stays cheap on a
# cold start: their modules, and what those import, cost milliseconds together.
_LAZY = {
    "EventSamples": "polyfn._provider",
    "Option": "polyfn._provider",
    "Principal": "polyfn._auth",
    "Provider": "polyfn._provider",
    "api_key": "polyfn._auth",
    "asgi": "polyfn._web",
    "cloud_auth": "polyfn._auth",
    "idempotent": "polyfn._idempotency",
    "jwt_bearer": "polyfn._auth",
    "wsgi": "polyfn._web",
}
TYPE_CHECKING = False
if TYPE_CHECKING:
    from polyfn._auth import Principal, api_key, cloud_auth, jwt_bearer
    from polyfn._idempotency import idempotent
    from polyfn._provider import EventSamples, Option, Provider
    from polyfn._web import asgi, wsgi


__getattr__ = _lazy_attributes("polyfn", _LAZY, globals())


__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "App",
    "Bucket",
    "CORSConfig",
    "ConfigError",
    "Conflict",
    "Context",
    "Document",
    "EventError",
    "EventSamples",
    "Function",
    "HTTPError",
    "Header",
    "Headers",
    "HttpRequest",
    "HttpResponse",
    "MessagesFailedError",
    "MetricError",
    "NotFound",
    "ObjectInfo",
    "Option",
    "Path",
    "PolyfnError",
    "Principal",
    "Provider",
    "Query",
    "QueryParams",
    "Queue",
    "QueueMessage",
    "ResourceError",
    "Schedule",
    "ScheduleError",
    "Secret",
    "SendResult",
    "Settings",
    "StorageEvent",
    "Table",
    "TimerEvent",
    "Topic",
    "after",
    "api_key",
    "asgi",
    "before",
    "cloud_auth",
    "idempotent",
    "jwt_bearer",
    "wsgi",
]
