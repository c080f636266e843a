"""`idempotent`: run a queue or HTTP handler once per key, on any cloud, with a `Table`.

::

    from polyfn import App, Table, idempotent

    app = App("shop")
    done = Table("idempotency")

    @app.queue("payments")
    @idempotent(done, key="body.payment_id", ttl=24 * 3600)
    def charge(msg, ctx): ...

    @app.http("/orders", methods=["POST"])
    @idempotent(done, key="headers.Idempotency-Key")
    def create_order(req, ctx): ...

Per key, within `ttl` seconds of the first success:

- the first call runs the handler; its result is stored (an HTTP handler's response as the
  client got it; a queue handler's return value when it is JSON, else nothing);
- a repeat does not run it: an HTTP repeat gets the stored response, a queue repeat is
  acknowledged at once;
- a call while the first still runs gets a clear in-progress outcome: HTTP ``409`` with a JSON
  ``{"error": ...}``; a queue message raises `Conflict`, so the message fails and the queue
  delivers it again later;
- a failure (a raise, or an HTTP status of 500 or more) stores nothing, so a retry runs again;
- a record left "in progress" by an invocation that crashed stops counting once that
  invocation's deadline (the function's timeout) has passed, and the next call takes it over.

Everything goes through `Table`'s public API (`get`, and `put` with ``if_absent`` / ``if_version``
for the race between duplicates), so it works on every backend. One document per key and
function, keyed ``idem-<sha256>`` so any key is a valid document key on every cloud.
"""

from __future__ import annotations

import time

from polyfn._errors import ConfigError
from polyfn._resources import Conflict, ResourceError, Table

# `typing`, `functools` and `hashlib` load only when a handler is decorated: `import polyfn`
# stays light (tests/test_import_cost.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from polyfn._context import Context
    from polyfn._http import HttpResponse

    KeyFunction = Callable[[Any], Any]

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
# How many times a call re-reads the record after losing a race on it before it reports
# "in progress" (each loss means another invocation just wrote it).
_ATTEMPTS = 3


def idempotent(
    table: Table, key: str | KeyFunction, *, ttl: float = 3600
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Make a queue or HTTP handler run once per key within `ttl` seconds (see the module).

    `key` is a callable ``event -> str`` or one of these strings:

    - ``"body"``: the whole body (its SHA-256);
    - ``"body.<field>[.<field>...]"``: a field of the JSON body (``"body.order.id"``);
    - ``"headers.<Name>"``: an HTTP request header (``"headers.Idempotency-Key"``);
    - ``"attributes.<name>"``: a queue message attribute;
    - ``"id"``: the queue message's id (a redelivery of the same message is the repeat).

    A missing key answers HTTP 400 (`HTTPError`) or fails the message (`EventError`), so an event
    without a key never runs unguarded.
    """
    if not isinstance(table, Table):
        raise ConfigError(f"idempotent needs a Table handle, got {table!r}")
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise ConfigError(f"idempotent ttl must be seconds > 0, got {ttl!r}")
    import functools

    extract = _key_function(key)

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        guard = _Guard(table, extract, ttl, handler)

        @functools.wraps(handler)
        def wrapper(event: Any, ctx: Context, *rest: Any) -> Any:
            return guard.run(event, ctx, rest)

        implied = getattr(handler, "__polyfn_uses__", ())
        wrapper.__polyfn_uses__ = (*implied, table.get, table.put, table.delete)  # type: ignore[attr-defined]
        return wrapper

    return decorate


# -- keys ------------------------------------------------------------------------------------------


def _key_function(key: str | KeyFunction) -> KeyFunction:
    import functools

    if callable(key):
        return key
    if not isinstance(key, str) or not key:
        raise ConfigError(f"idempotent key= must be a callable or a key form, got {key!r}")
    source, _, rest = key.partition(".")
    if key == "body":
        return _whole_body
    if key == "id":
        return _message_id
    if source == "body" and rest:
        return functools.partial(_body_field, path=rest.split("."), form=key)
    if source == "headers" and rest:
        return functools.partial(_header, name=rest, form=key)
    if source == "attributes" and rest:
        return functools.partial(_attribute, name=rest, form=key)
    raise ConfigError(
        f"idempotent key={key!r} is not a key form: use 'body', 'body.<field>', "
        "'headers.<Name>', 'attributes.<name>', 'id', or a callable event -> str"
    )


def _missing(form: str, event: Any) -> Exception:
    """No key in the event: HTTP answers 400; a message fails (and ends dead-lettered)."""
    from polyfn._errors import EventError, HTTPError
    from polyfn._http import HttpRequest

    message = (
        f"idempotency key {form!r} is missing from the {type(event).__name__}; the event cannot "
        "be deduplicated (send the key, or choose another key= form)"
    )
    if isinstance(event, HttpRequest):
        return HTTPError(400, message)
    return EventError(message, field=form)


def _whole_body(event: Any) -> str:
    import hashlib

    body = getattr(event, "body", None)
    if not isinstance(body, bytes):
        raise _missing("body", event)
    return hashlib.sha256(body).hexdigest()


def _message_id(event: Any) -> str:
    from polyfn._events import QueueMessage

    if not isinstance(event, QueueMessage):
        raise _missing("id", event)
    return event.id


def _body_field(event: Any, *, path: list[str], form: str) -> Any:
    import json

    body = getattr(event, "body", None)
    try:
        found: Any = json.loads(body) if isinstance(body, bytes) else None
    except ValueError:
        found = None
    for part in path:
        if not isinstance(found, dict) or part not in found:
            raise _missing(form, event)
        found = found[part]
    if found is None:
        raise _missing(form, event)
    return found


def _header(event: Any, *, name: str, form: str) -> str:
    headers = getattr(event, "headers", None)
    value = headers.get(name) if headers is not None else None
    if not value:
        raise _missing(form, event)
    return str(value)


def _attribute(event: Any, *, name: str, form: str) -> str:
    attributes = getattr(event, "attributes", None)
    value = attributes.get(name) if isinstance(attributes, dict) else None
    if value is None:
        raise _missing(form, event)
    return str(value)


def record_key(function: str, key: Any) -> str:
    """The document key of `key`'s record: letters, digits and '-' fit every cloud's rules."""
    import hashlib

    from polyfn._http import dump_json

    text = key if isinstance(key, str) else dump_json(key).decode()
    digest = hashlib.sha256(f"{function}\0{text}".encode()).hexdigest()
    return f"idem-{digest}"


# -- the run ---------------------------------------------------------------------------------------


class _Guard:
    """One decorated handler: its table, key, ttl and the handler itself."""

    __slots__ = ("extract", "handler", "table", "ttl")

    def __init__(
        self, table: Table, extract: KeyFunction, ttl: float, handler: Callable[..., Any]
    ) -> None:
        self.table = table
        self.extract = extract
        self.ttl = ttl
        self.handler = handler

    def run(self, event: Any, ctx: Context, rest: tuple[Any, ...]) -> Any:
        from polyfn._http import HttpRequest

        is_http = isinstance(event, HttpRequest)
        doc_key = record_key(ctx.function_name, self.extract(event))
        table = self.table
        for _ in range(_ATTEMPTS):
            now = time.time()
            record = table.get(doc_key)
            status = record.get("status") if record is not None else None
            if record is not None and status == COMPLETED and record.get("expires", 0) > now:
                ctx.log.info("idempotent repeat: stored result", extra={"idempotency_key": doc_key})
                return _replay(record, is_http)
            if record is not None and status == IN_PROGRESS and record.get("until", 0) > now:
                return _in_progress(doc_key, is_http)
            claim = {
                "status": IN_PROGRESS,
                "until": now + _deadline(ctx),
                "function": ctx.function_name,
            }
            try:
                if record is None:
                    version = table.put(doc_key, claim, if_absent=True)
                else:  # expired: a finished run past its ttl, or a crashed invocation's claim
                    version = table.put(doc_key, claim, if_version=record.version)
            except Conflict:
                continue  # another invocation wrote the record first: read what it wrote
            return self._first_run(doc_key, version, event, ctx, rest, is_http=is_http)
        return _in_progress(doc_key, is_http)

    def _first_run(
        self,
        doc_key: str,
        version: str,
        event: Any,
        ctx: Context,
        rest: tuple[Any, ...],
        *,
        is_http: bool,
    ) -> Any:
        try:
            result = self.handler(event, ctx, *rest)
            stored: Any = None
            if is_http:
                from polyfn._http import to_response

                result = to_response(result)
                if result.status >= 500:
                    raise _ServerError(result)
                stored = _response_record(result)
            else:
                stored = _json_or_none(result)
        except _ServerError as failed:
            _release(self.table, doc_key, version, ctx)
            return failed.response
        except BaseException:
            _release(self.table, doc_key, version, ctx)
            raise
        record = {
            "status": COMPLETED,
            "expires": time.time() + self.ttl,
            "result": stored,
            "function": ctx.function_name,
        }
        try:
            self.table.put(doc_key, record, if_version=version)
        except Conflict:
            # Our claim outlived its deadline and another invocation took it over: it stores.
            ctx.log.warning(
                "idempotency record taken over while the handler ran (it ran past its deadline)",
                extra={"idempotency_key": doc_key},
            )
        except ResourceError as exc:
            # The handler's work is done: answer it. Without a record a repeat runs again, as
            # after a failure (a result too big for the table, the table unreachable).
            ctx.log.warning(
                "could not store the idempotent result: %s", exc, extra={"idempotency_key": doc_key}
            )
            _release(self.table, doc_key, version, ctx)
        return result


def _deadline(ctx: Context) -> float:
    """Seconds this invocation can still run: after them its claim may be taken over."""
    remaining = ctx.remaining_time()
    if remaining is not None:
        return max(remaining.total_seconds(), 1.0)
    from polyfn._app import DEFAULT_TIMEOUT_SECONDS

    return float(DEFAULT_TIMEOUT_SECONDS)


class _ServerError(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _release(table: Table, doc_key: str, version: str, ctx: Context) -> None:
    """Drop this invocation's claim so a retry runs again (a failure stores nothing)."""
    try:
        table.delete(doc_key, if_version=version)
    except ResourceError as exc:  # taken over meanwhile, or the table failed: it will expire
        ctx.log.warning(
            "could not release the idempotency record: %s", exc, extra={"idempotency_key": doc_key}
        )


def _json_or_none(result: Any) -> Any:
    import json

    from polyfn._http import dump_json

    try:
        return json.loads(dump_json(result))
    except (TypeError, ValueError):
        return None


def _response_record(resp: HttpResponse) -> dict[str, Any]:
    import base64

    return {
        "status": resp.status,
        "headers": [list(pair) for pair in resp.headers.multi_items()],
        "cookies": list(resp.cookies),
        "body": base64.b64encode(resp.body).decode(),
    }


def _replay(record: dict[str, Any], is_http: bool) -> Any:
    if not is_http:
        return record.get("result")
    import base64

    from polyfn._http import HttpResponse

    stored = record["result"]
    resp = HttpResponse(
        base64.b64decode(stored["body"]),
        stored["status"],
        [(name, value) for name, value in stored["headers"]],
        stored["cookies"],
    )
    return resp


def _in_progress(doc_key: str, is_http: bool) -> Any:
    message = (
        "a request with the same idempotency key is still being handled; retry after it finishes"
    )
    if is_http:
        from polyfn._http import HttpResponse

        return HttpResponse.json({"error": message, "idempotency": "in progress"}, 409)
    raise Conflict(
        f"{message} (record {doc_key}): this delivery fails so the queue redelivers it later",
        resource="idempotency",
        operation="in_progress",
    )
