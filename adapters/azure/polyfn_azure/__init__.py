"""polyfn on Azure Functions: ``app = polyfn_azure.function_app(my_app)`` in function_app.py.

This module only re-exports; every name lives in a private module of its own.
"""

from polyfn._provider import register
from polyfn_azure._app import function_app, serve_http
from polyfn_azure._context import make_context
from polyfn_azure._http import UndeliverableCookieError, request_from_azure, response_to_azure
from polyfn_azure._options import AzureOptions
from polyfn_azure._provider import provider
from polyfn_azure._queue import service_bus_message, storage_message
from polyfn_azure._routes import route_template
from polyfn_azure._samples import sample_event
from polyfn_azure._schedule import from_ncrontab, to_ncrontab
from polyfn_azure._storage import blob_event, event_grid_event
from polyfn_azure._timer import timer_event

# The runtime entry registers its provider: a deployed zip carries no entry-point metadata, and a
# resource handle finds its cloud's backend through it.
register(provider)

__all__ = [
    "AzureOptions",
    "UndeliverableCookieError",
    "blob_event",
    "event_grid_event",
    "from_ncrontab",
    "function_app",
    "make_context",
    "provider",
    "request_from_azure",
    "response_to_azure",
    "route_template",
    "sample_event",
    "serve_http",
    "service_bus_message",
    "storage_message",
    "timer_event",
    "to_ncrontab",
]
