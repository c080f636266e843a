"""`polyfn_gcp.cloud_event(app)`: the CloudEvent function functions-framework serves
(--signature-type cloudevent) for Cloud Storage, Pub/Sub and Cloud Scheduler-through-Pub/Sub.

functions-framework parses binary- and structured-mode CloudEvents and converts legacy background
events (event_conversion.background_event_to_cloud_event) before calling this function. It answers
"OK" (200) when the function returns and 500 when it raises (Flask's error handler, registered as
crash_handler in functions_framework.create_app), and a non-2xx makes Eventarc and Pub/Sub
redeliver: so every failure here, of reading or of the handler, is raised, never swallowed.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

from polyfn import ConfigError, EventError
from polyfn._app import QueueTrigger, SubscribeTrigger
from polyfn._values import arrived
from polyfn_gcp._context import TRACE_HEADER, TRACEPARENT_HEADER, make_context, trace_id
from polyfn_gcp._dispatch import message_function, run_all, schedule_function, storage_functions
from polyfn_gcp._names import SCHEDULE_ATTRIBUTE
from polyfn_gcp._pubsub import (
    CLOUDEVENT_SOURCE,
    PUBSUB_TYPE,
    peek_attributes,
    read_message,
    topic_from_source,
)
from polyfn_gcp._storage import SOURCE as STORAGE_SOURCE
from polyfn_gcp._storage import STORAGE_TYPES, storage_event
from polyfn_gcp._timer import PUBSUB_SOURCE, tick_from_message

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from polyfn import App, Function

SOURCE = "CloudEvent (Cloud Storage object event or Pub/Sub messagePublished)"


def cloud_event(app: App, function: str | None = None) -> Callable[[Any], None]:
    """The CloudEvent function for functions-framework: ``event = polyfn_gcp.cloud_event(app)``
    in main.py, then ``functions-framework --target event --signature-type cloudevent``.

    With `function`, only that polyfn function (a storage, queue, subscriber or schedule
    function) is served.
    """
    only = app.function(function) if function is not None else None
    if only is not None and only.trigger_label == "http":
        raise ConfigError(
            f"function {only.name!r} is an HTTP function; serve it with polyfn_gcp.http(app)"
        )

    def polyfn_cloud_event(event: Any) -> None:
        handle(app, only, event)

    polyfn_cloud_event.__qualname__ = polyfn_cloud_event.__name__ = "event"
    _guard_reading(sys.modules.get("flask"))
    return polyfn_cloud_event


# Where functions-framework reads a request before it calls the function: its view
# (functions_framework._cloud_event_view_func_wrapper's view_func), which calls the cloudevents
# library's from_http and its own event_conversion. Both raise what they meet in a mangled request
# (a TypeError for a list `specversion`, a KeyError for a legacy event without resource.name, a
# RecursionError for deep JSON), which would reach Eventarc as a bare crash.
_READER_VIEW = ("functions_framework", "view_func")
_READER_MODULES = ("functions_framework", "cloudevents")
_GUARD = "polyfn_gcp.reading_guard"
_QUOTED_ERROR = 200


def _guard_reading(flask: Any) -> None:
    """Make what functions-framework raises while reading a request an `EventError`.

    functions-framework executes main.py inside its Flask app's context (create_app), so the app
    that will serve this function is `current_app` here; its error handler sees each exception
    before the 500 crash handler, and turns only those raised by the request's reading into an
    EventError (the function and every other exception pass through unchanged).
    """
    if flask is None or not flask.has_app_context():
        return
    flask_app = flask.current_app._get_current_object()
    if flask_app.extensions.get(_GUARD):
        return
    flask_app.extensions[_GUARD] = True
    flask_app.register_error_handler(Exception, _reading_failed)


def _reading_failed(exc: Exception) -> Any:
    from werkzeug.exceptions import HTTPException

    if isinstance(exc, HTTPException):  # functions-framework's own 400: its answer stands
        return exc
    if not _raised_by_reader(exc):
        raise exc
    detail = f"{type(exc).__name__}: {exc}"
    if len(detail) > _QUOTED_ERROR:
        detail = detail[: _QUOTED_ERROR - 3] + "..."
    raise EventError(
        f"functions-framework could not read the request as a CloudEvent or a legacy event "
        f"({detail})",
        field="body",
        source=SOURCE,
    ) from exc


def _raised_by_reader(exc: BaseException) -> bool:
    """Whether `exc` rose from functions-framework's view itself or from the library code it
    calls to read the request, before any function was called."""
    tb = exc.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        module = str(frame.f_globals.get("__name__", ""))
        if (module, frame.f_code.co_name) == _READER_VIEW:
            callee = tb.tb_next
            if callee is None:
                return True
            called = str(callee.tb_frame.f_globals.get("__name__", ""))
            return called.split(".", 1)[0] in _READER_MODULES
        tb = tb.tb_next
    return False


def handle(app: App, only: Function | None, event: Any) -> None:
    """Read one CloudEvent and run the function(s) it is for; raise on any failure."""
    started = time.monotonic()
    get_attributes = getattr(event, "get_attributes", None)
    if get_attributes is None:
        raise ConfigError(
            "polyfn_gcp.cloud_event(app) was called with "
            f"{type(event).__name__}, not a CloudEvent: serve it with "
            "functions-framework --signature-type cloudevent"
        )
    attributes: Mapping[str, Any] = get_attributes()
    # A structured-mode event's attributes are whatever JSON its sender wrote: read each one as
    # text before using it (a list is unhashable, a deep one too deep to print).
    ce_type = _text(attributes.get("type"))
    data = _parsed(event.get_data())
    if ce_type in STORAGE_TYPES:
        storage = storage_event(attributes, data, raw=event)
        functions = storage_functions(app, only, storage, STORAGE_SOURCE)
        target: Any = storage
    elif ce_type == PUBSUB_TYPE:
        functions, target = _pubsub(app, only, attributes, data)
    else:
        raise EventError(
            f"CloudEvent type {ce_type or arrived(attributes.get('type'))!r} is not one polyfn "
            f"serves (serving: {only.name if only else app.describe()})",
            field="type",
            source=SOURCE,
        )
    if not functions:
        return
    ctx = make_context(
        functions[0].name,
        _text(attributes.get("id")) or "",
        trace=_trace(attributes),
        started=started,
        raw=event,
        trace_headers=_trace_headers(attributes),
    )
    run_all(app, functions, target, ctx)


def _pubsub(
    app: App, only: Function | None, attributes: Mapping[str, Any], data: Any
) -> tuple[list[Function], Any]:
    event_id = _text(attributes.get("id"))
    tick = peek_attributes(data, source=CLOUDEVENT_SOURCE, prefix="data.").get(SCHEDULE_ATTRIBUTE)
    if tick is not None:
        fn = schedule_function(app, only, tick, PUBSUB_SOURCE)
        msg = read_message(
            data, queue="", source=CLOUDEVENT_SOURCE, prefix="data.", fallback_id=event_id
        )
        return [fn], tick_from_message(fn, msg)
    queue = topic_from_source(attributes.get("source"))
    if queue is None:
        # A raw push body converted by functions-framework names the topic only if the push URL
        # path held "projects/P/topics/T"; one served queue or subscriber function still says
        # which it is.
        if only is not None and isinstance(only.trigger, QueueTrigger):
            queue = only.trigger.queue
        elif only is not None and isinstance(only.trigger, SubscribeTrigger):
            queue = only.trigger.topic
        if queue is None:
            raise EventError(
                f"source {arrived(attributes.get('source'))} names no topic "
                "(expected //pubsub.googleapis.com/projects/PROJECT/topics/TOPIC)",
                field="source",
                source=CLOUDEVENT_SOURCE,
            )
    fn = message_function(app, only, queue, CLOUDEVENT_SOURCE)
    msg = read_message(
        data, queue=queue, source=CLOUDEVENT_SOURCE, prefix="data.", fallback_id=event_id
    )
    return [fn], msg


def _parsed(data: Any) -> Any:
    """CloudEvent data as JSON values: the cloudevents library leaves bytes or text it could not
    read as JSON (a binary-mode event with a non-JSON content type) as they came."""
    if isinstance(data, bytes | bytearray | str):
        try:
            return json.loads(data)
        except ValueError:
            return data
        except RecursionError:
            raise EventError(
                "the data nests JSON too deeply to read", field="data", source=SOURCE
            ) from None
    return data


def _trace_headers(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """The CloudEvent's traceparent extension, else the request's trace headers."""
    traceparent = _text(attributes.get("traceparent"))
    if traceparent:
        return {TRACEPARENT_HEADER: traceparent}
    flask = sys.modules.get("flask")  # functions-framework serves through Flask; never import it
    if flask is not None and flask.has_request_context():
        return flask.request.headers  # type: ignore[no-any-return]
    return {}


def _text(value: Any) -> str | None:
    """A CloudEvent attribute that must be text (type, id), or None when it is anything else."""
    return value if isinstance(value, str) else None


def _trace(attributes: Mapping[str, Any]) -> str | None:
    """The trace id: the CloudEvent's traceparent extension, else the request's trace headers."""
    found = trace_id(None, _text(attributes.get("traceparent")))
    if found:
        return found
    flask = sys.modules.get("flask")  # functions-framework serves through Flask; never import it
    if flask is not None and flask.has_request_context():
        headers = flask.request.headers
        return trace_id(headers.get(TRACE_HEADER), headers.get(TRACEPARENT_HEADER))
    return None
