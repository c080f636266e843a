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
from polyfn_gcp._context import TRACE_HEADER, TRACEPARENT_HEADER, make_context, trace_id
from polyfn_gcp._dispatch import queue_function, run_all, schedule_function, storage_functions
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

    With `function`, only that polyfn function (a storage, queue or schedule function) is served.
    """
    only = app.function(function) if function is not None else None
    if only is not None and only.kind == "http":
        raise ConfigError(
            f"function {only.name!r} is an HTTP function; serve it with polyfn_gcp.http(app)"
        )

    def polyfn_cloud_event(event: Any) -> None:
        handle(app, only, event)

    polyfn_cloud_event.__qualname__ = polyfn_cloud_event.__name__ = "event"
    return polyfn_cloud_event


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
    ce_type = attributes.get("type")
    data = _parsed(event.get_data())
    if ce_type in STORAGE_TYPES:
        storage = storage_event(attributes, data, raw=event)
        functions = storage_functions(app, only, storage, STORAGE_SOURCE)
        target: Any = storage
    elif ce_type == PUBSUB_TYPE:
        functions, target = _pubsub(app, only, attributes, data)
    else:
        raise EventError(
            f"CloudEvent type {ce_type!r} is not one polyfn serves (serving: "
            f"{only.name if only else app.describe()})",
            field="type",
            source=SOURCE,
        )
    if not functions:
        return
    ctx = make_context(
        functions[0].name,
        str(attributes.get("id") or ""),
        trace=_trace(attributes),
        started=started,
        raw=event,
        trace_headers=_trace_headers(attributes),
    )
    run_all(app, functions, target, ctx)


def _pubsub(
    app: App, only: Function | None, attributes: Mapping[str, Any], data: Any
) -> tuple[list[Function], Any]:
    event_id = attributes.get("id") if isinstance(attributes.get("id"), str) else None
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
        # path held "projects/P/topics/T"; one served queue function still says which it is.
        if only is not None and only.kind == "queue":
            queue = getattr(only.trigger, "queue", None)
        if queue is None:
            raise EventError(
                f"source {attributes.get('source')!r} names no topic "
                "(expected //pubsub.googleapis.com/projects/PROJECT/topics/TOPIC)",
                field="source",
                source=CLOUDEVENT_SOURCE,
            )
    fn = queue_function(app, only, queue, CLOUDEVENT_SOURCE)
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
    return data


def _trace_headers(attributes: Mapping[str, Any]) -> Mapping[str, Any]:
    """The CloudEvent's traceparent extension, else the request's trace headers."""
    if attributes.get("traceparent"):
        return {TRACEPARENT_HEADER: attributes.get("traceparent")}
    flask = sys.modules.get("flask")  # functions-framework serves through Flask; never import it
    if flask is not None and flask.has_request_context():
        return flask.request.headers  # type: ignore[no-any-return]
    return {}


def _trace(attributes: Mapping[str, Any]) -> str | None:
    """The trace id: the CloudEvent's traceparent extension, else the request's trace headers."""
    found = trace_id(None, attributes.get("traceparent"))
    if found:
        return found
    flask = sys.modules.get("flask")  # functions-framework serves through Flask; never import it
    if flask is not None and flask.has_request_context():
        headers = flask.request.headers
        return trace_id(headers.get(TRACE_HEADER), headers.get(TRACEPARENT_HEADER))
    return None
