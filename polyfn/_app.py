"""`App`: the functions of one polyfn application, their triggers, and the HTTP pipeline."""

from __future__ import annotations

from sys import modules
from time import perf_counter

from polyfn._context import _COLD, begin_invocation
from polyfn._cors import MALFORMED_STATUS, CORSConfig, add_vary, is_origin
from polyfn._errors import ConfigError, EventError, HTTPError
from polyfn._events import STORAGE_KINDS
from polyfn._http import HttpResponse, dump_json, internal_error, response_problem, to_response
from polyfn._middleware import after, before, middleware_list
from polyfn._resources import (
    Bucket,
    Operation,
    Queue,
    Topic,
    enter_invocation,
    exit_invocation,
    operations_of,
)
from polyfn._routing import HTTP_METHODS, MethodNotAllowed, NoRoute, Route, Router
from polyfn._schedule import Schedule

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any, NoReturn

    from polyfn._context import Context
    from polyfn._http import HttpRequest
    from polyfn._middleware import AfterHook, BeforeHook, Middleware
    from polyfn._params import Signature

    Handler = Callable[..., Any]

# One default for every cloud and `polyfn serve`, so a function that declares no timeout behaves
# the same everywhere: Lambda's own default (3 s) is too short for most work, Cloud Functions'
# is 60 s and Azure's Consumption plan 5 min. The builders write it out explicitly.
DEFAULT_TIMEOUT_SECONDS = 60


class Settings:
    """Per-function deployment settings, declared once and mapped to each cloud's terms.

    `memory` in MB, `timeout` in seconds, `env` extra environment variables, `max_concurrency`
    the most instances or concurrent executions, `retries` how many times a failed event is
    retried, `dead_letter` the queue or topic that receives what still fails. `standalone` (HTTP
    only) deploys the route as its own cloud function instead of the app's shared HTTP function
    (see polyfn._groups).
    """

    __slots__ = (
        "dead_letter",
        "env",
        "max_concurrency",
        "memory",
        "retries",
        "standalone",
        "timeout",
    )

    def __init__(
        self,
        *,
        memory: int | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        max_concurrency: int | None = None,
        retries: int | None = None,
        dead_letter: str | None = None,
        standalone: bool = False,
    ) -> None:
        for label, value in (("memory", memory), ("max_concurrency", max_concurrency)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"{label} must be a positive integer, got {value!r}")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if retries is not None and (not isinstance(retries, int) or retries < 0):
            raise ConfigError(f"retries must be a non-negative integer, got {retries!r}")
        if not isinstance(standalone, bool):
            raise ConfigError(f"standalone must be True or False, got {standalone!r}")
        self.memory = memory
        self.timeout = timeout
        self.env: dict[str, str] = dict(env or {})
        self.max_concurrency = max_concurrency
        self.retries = retries
        self.dead_letter = dead_letter
        self.standalone = standalone

    @property
    def effective_timeout(self) -> float:
        """The declared timeout, or polyfn's documented default (`DEFAULT_TIMEOUT_SECONDS`)."""
        return self.timeout if self.timeout is not None else DEFAULT_TIMEOUT_SECONDS

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        set_ = {
            k: v for k, v in self.as_dict().items() if v is not None and v is not False and v != {}
        }
        return f"Settings({set_})"


def assert_never(value: NoReturn) -> NoReturn:
    """`typing.assert_never` without importing `typing` (the core's import budget): the last
    `case _:` of a `match` over the `Trigger` union calls it, so mypy --strict reports a trigger
    class that has no case of its own, and a run that still gets there fails loudly instead of
    treating the trigger as some other kind."""
    raise AssertionError(f"unhandled trigger {value!r}")


# Each trigger class carries what the core knows of its kind: `label` (the one word for the kind:
# `Function.trigger_label`, `App.functions_of`, messages, `polyfn serve`'s function list), `noun`
# (the phrase messages use: "is a queue function"), `describe()` (its line in `App.describe()`)
# and `bind()` (its checks and registration when a function declares it). What each cloud does
# with a trigger stays in that cloud's adapter, in a `match` with one case per class.


class HttpTrigger:
    """An HTTP route: its path template, methods and per-route options (a body model, CORSConfig,
    middleware, the handler's typed parameters); a new per-route option is one more keyword of
    `App.http` and one slot here."""

    __slots__ = ("body", "cors", "methods", "middleware", "path", "signature")
    label = "http"
    noun = "an HTTP function"

    def __init__(
        self,
        path: str,
        methods: tuple[str, ...],
        body: type[Any] | None,
        *,
        cors: CORSConfig | bool | None = None,
        middleware: tuple[Middleware, ...] = (),
    ) -> None:
        self.path = path
        self.methods = methods
        self.body = body
        # None: the app's CORSConfig; False: none for this route; a CORSConfig: this route's own.
        self.cors = cors
        self.middleware = middleware
        # The typed parameters and response model the handler declares (polyfn._params), or
        # None when it takes only (req, ctx[, model]).
        self.signature: Signature | None = None

    def describe(self) -> str:
        return f"{'|'.join(self.methods)} {self.path}"

    def bind(self, app: App, fn: Function) -> None:
        app.router.add(self.path, list(self.methods), fn)


class ScheduleTrigger:
    __slots__ = ("schedule",)
    label = "schedule"
    noun = "a schedule function"

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule

    def describe(self) -> str:
        return f"schedule {self.schedule}"

    def bind(self, app: App, fn: Function) -> None:
        pass


class StorageTrigger:
    __slots__ = ("bucket", "events", "prefix", "suffix")
    label = "storage"
    noun = "a storage function"

    def __init__(self, bucket: str, events: tuple[str, ...], prefix: str, suffix: str) -> None:
        self.bucket = bucket
        self.events = events
        self.prefix = prefix
        self.suffix = suffix

    def describe(self) -> str:
        what = f"storage {self.bucket} on {','.join(self.events)}"
        if self.prefix or self.suffix:
            what += f" ({self.prefix}*{self.suffix})"
        return what

    def bind(self, app: App, fn: Function) -> None:
        pass

    def accepts(self, bucket: str, kind: str, key: str) -> bool:
        """Whether an object event of `kind` (a `StorageEvent.kind`) for `key` in `bucket`
        triggers this function."""
        return (
            bucket == self.bucket
            and kind in self.events
            and key.startswith(self.prefix)
            and key.endswith(self.suffix)
        )


class QueueTrigger:
    __slots__ = ("batch_size", "fifo", "queue")
    label = "queue"
    noun = "a queue function"

    def __init__(self, queue: str, batch_size: int, fifo: bool) -> None:
        self.queue = queue
        self.batch_size = batch_size
        self.fifo = fifo

    def describe(self) -> str:
        return f"queue {self.queue}"

    def bind(self, app: App, fn: Function) -> None:
        app._check_queue_free(self.queue, fn.name)


class SubscribeTrigger:
    """A subscription of one function to a topic: every subscriber gets its own copy of each
    message published to `topic` (fan-out), delivered as a `QueueMessage`."""

    __slots__ = ("batch_size", "topic")
    label = "subscribe"
    noun = "a subscriber function"

    def __init__(self, topic: str, batch_size: int) -> None:
        self.topic = topic
        self.batch_size = batch_size

    def describe(self) -> str:
        return f"subscription to topic {self.topic}"

    def bind(self, app: App, fn: Function) -> None:
        app._check_new_subscription(self.topic, fn.handler, fn.name)


# A new trigger kind is one class above, one entry in each of these two lines, and one `case` in
# each `match` that mypy then reports as missing it.
Trigger = HttpTrigger | ScheduleTrigger | StorageTrigger | QueueTrigger | SubscribeTrigger
TRIGGER_TYPES: tuple[type[Trigger], ...] = (
    HttpTrigger,
    ScheduleTrigger,
    StorageTrigger,
    QueueTrigger,
    SubscribeTrigger,
)
TRIGGER_LABELS = tuple(t.label for t in TRIGGER_TYPES)


class Function:
    """One function of the app: its name, its trigger, its handler, its settings and the resource
    operations it declared in ``uses=`` (`allowed` holds them as (kind, name, operation) keys for
    the check each call makes)."""

    __slots__ = ("allowed", "handler", "name", "settings", "trigger", "uses")

    def __init__(
        self,
        name: str,
        trigger: Trigger,
        handler: Handler,
        settings: Settings,
        uses: tuple[Operation, ...] = (),
    ) -> None:
        self.name = name
        self.trigger = trigger
        self.handler = handler
        self.settings = settings
        self.uses = uses
        self.allowed = frozenset(op.key for op in uses)

    @property
    def trigger_label(self) -> str:
        """The word for the function's trigger kind: "http", "schedule", "storage", "queue"."""
        return self.trigger.label

    @property
    def kind(self) -> str:
        """`trigger_label`, by its first name (kept for code written against it)."""
        return self.trigger.label

    def __repr__(self) -> str:
        return f"Function({self.name!r}, {self.trigger_label})"


def _error_body(message: str, **extra: Any) -> bytes:
    return dump_json({"error": message, **extra})


class App:
    """A polyfn application: named functions bound to HTTP routes, schedules, buckets, queues and
    topic subscriptions.

    Adapters (polyfn_aws, polyfn_azure, polyfn_gcp) wrap one App into each cloud's entry point.
    """

    def __init__(
        self,
        name: str,
        *,
        cors: CORSConfig | None = None,
        middleware: Iterable[Middleware] = (),
    ) -> None:
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise ConfigError(f"app name {name!r} must be letters, digits, '-' or '_'")
        self.name = name
        self._functions: dict[str, Function] = {}
        self.router = Router()
        # Whether any route has CORS or middleware: without, a request takes the short path.
        self._http_extras = False
        self._cors: CORSConfig | None = None
        self.cors = cors
        self._middleware = middleware_list("App middleware", middleware)
        self._http_extras = self._cors is not None or bool(self._middleware)

    @property
    def cors(self) -> CORSConfig | None:
        """The CORS rules of every HTTP route that declares none of its own (None: none)."""
        return self._cors

    @cors.setter
    def cors(self, value: CORSConfig | None) -> None:
        if value is not None and not isinstance(value, CORSConfig):
            raise ConfigError(f"App cors= must be a polyfn.CORSConfig or None, got {value!r}")
        self._cors = value
        if value is not None:
            self._http_extras = True

    def cors_of(self, fn: Function) -> CORSConfig | None:
        """The CORS rules that apply to an HTTP function: its route's own, else the app's."""
        trigger = fn.trigger
        own = trigger.cors if isinstance(trigger, HttpTrigger) else None
        if own is None:
            return self._cors
        return own if isinstance(own, CORSConfig) else None

    # -- middleware --------------------------------------------------------------------------

    def use(self, *layers: Middleware) -> None:
        """Add app-wide middleware ``(req, ctx, call_next) -> response``, after (inside) those
        already added; they wrap every HTTP route's own middleware and handler."""
        self._middleware += middleware_list("app.use", layers)
        self._http_extras = True

    @property
    def middleware(self) -> tuple[Middleware, ...]:
        """The app-wide middleware, outermost first (add with `use`, `before`, `after`)."""
        return self._middleware

    def before(self, hook: BeforeHook) -> BeforeHook:
        """Decorator: run ``hook(req, ctx)`` before every HTTP handler (a non-None return
        answers instead of the handler)."""
        self.use(before(hook))
        return hook

    def after(self, hook: AfterHook) -> AfterHook:
        """Decorator: run ``hook(req, ctx, resp)`` on every HTTP answer (a non-None return
        replaces the answer)."""
        self.use(after(hook))
        return hook

    # -- declaration -------------------------------------------------------------------------

    def _register(
        self,
        trigger: Trigger,
        function_name: str | None,
        settings: dict[str, Any],
        uses: Iterable[Any] = (),
    ) -> Callable[[Handler], Handler]:
        try:
            built = Settings(**settings)
        except TypeError:
            # A keyword neither the decorator nor Settings takes (say method= for methods=):
            # name the decorator's own parameters, not Settings.__init__.
            raise _unknown_keywords(trigger.label, settings) from None
        declared = operations_of(uses, f"{trigger.label} function")

        def decorator(handler: Handler) -> Handler:
            name = function_name or getattr(handler, "__name__", None)
            if not name or not name.replace("_", "").replace("-", "").isalnum():
                raise ConfigError(f"function name {name!r} must be letters, digits, '-' or '_'")
            if name in self._functions:
                raise ConfigError(f"app {self.name!r} already has a function named {name!r}")
            # A wrapper such as `idempotent` declares the operations it calls itself.
            implied = operations_of(getattr(handler, "__polyfn_uses__", ()), f"function {name!r}")
            ops = tuple(dict.fromkeys((*declared, *implied)))
            fn = Function(name, trigger, handler, built, ops)
            trigger.bind(self, fn)
            self._functions[name] = fn
            return handler

        return decorator

    def _check_queue_free(self, queue: str, name: str) -> None:
        """Refuse a second consumer of `queue`: the clouds would not agree on who gets a message
        (Lambda's two mappings compete for it, Pub/Sub gives it to both, the local runtime only
        to the first)."""
        if self.subscribers(queue):
            raise ConfigError(
                f"queue {queue!r} of {name!r} has the name of a topic that functions subscribe to "
                f"({', '.join(f.name for f in self.subscribers(queue))}); give the queue and the "
                "topic different names (on GCP both would be one Pub/Sub topic)"
            )
        taken = self.queue_function(queue)
        if taken is not None:
            raise ConfigError(
                f"queue {queue!r} already feeds function {taken.name!r}; {name!r} cannot consume "
                "it too (each message goes to one consumer, and the clouds do not agree on which). "
                "To deliver each message to several functions, publish to a topic with one "
                "subscriber per function (app.subscribe)."
            )

    def _check_new_subscription(self, topic: str, handler: Handler, name: str) -> None:
        """Refuse a second subscription of one handler to `topic` (each message would run it
        twice) and a topic named like a queue (on GCP both are one Pub/Sub topic, and on AWS a
        queue function also takes SNS deliveries of its name: the two would share messages)."""
        for other in self.subscribers(topic):
            if other.handler is handler:
                raise ConfigError(
                    f"{name!r}: its handler is already subscribed to topic {topic!r} as function "
                    f"{other.name!r}; one subscription per function and topic (each message "
                    "would run it twice)"
                )
        consumer = self.queue_function(topic)
        if consumer is not None:
            raise ConfigError(
                f"{name!r} subscribes to topic {topic!r}, but {topic!r} is also the queue of "
                f"function {consumer.name!r}; give the topic and the queue different names "
                "(on GCP both would be one Pub/Sub topic)"
            )

    def http(
        self,
        path: str,
        methods: str | Iterable[str] | None = None,
        *,
        body: type[Any] | None = None,
        response_model: Any = None,
        status_code: int = 200,
        responses: Mapping[int, Any] | None = None,
        cors: CORSConfig | bool | None = None,
        middleware: Iterable[Middleware] | Middleware = (),
        function_name: str | None = None,
        uses: Iterable[Any] = (),
        **settings: Any,
    ) -> Callable[[Handler], Handler]:
        """Bind a handler ``(req, ctx) -> response`` to `path` and `methods` (default GET).

        With ``body=Model`` (a pydantic model) the request body is validated first and the
        handler is called as ``(req, ctx, model_instance)``; an invalid body is answered 400.
        Parameters the handler declares after those are read from the path, query string or
        headers and converted to their annotated types (polyfn.Path, Query, Header; invalid
        values are answered 400). With ``response_model=`` (a pydantic model or any type
        pydantic validates) a result other than an HttpResponse is validated and serialised,
        answered with `status_code`. `responses` documents the route's other answers for the
        OpenAPI document (status -> a description, or a model for its JSON body).


        `cors`: this route's own `CORSConfig` (False: none, even if the app has some; None: the
        app's; True: any origin, no credentials). `middleware`: this route's own layers, inside
        the app's (docs/http.md).
        """
        if cors is True:
            cors = CORSConfig()  # any origin, no credentials (Chalice's cors=True)
        if cors is not None and cors is not False and not isinstance(cors, CORSConfig):
            raise ConfigError(
                f"route {path!r}: cors= must be a polyfn.CORSConfig, False or None, got {cors!r}"
            )
        layers = middleware_list(f"route {path!r} middleware", middleware)
        if isinstance(methods, str):
            methods = (methods,)  # methods="POST" is one method, not P, O, S, T
        wanted = tuple(m.upper() if isinstance(m, str) else m for m in (methods or ("GET",)))
        for m in wanted:
            if m not in HTTP_METHODS:
                raise ConfigError(
                    f"route {path!r}: unknown HTTP method {m!r}; expected some of "
                    f"{', '.join(HTTP_METHODS)}"
                )
        if body is not None and not hasattr(body, "model_validate_json"):
            raise ConfigError(f"route {path!r}: body= must be a pydantic model class, got {body!r}")
        route = Route(path)  # validate the template now, so the error points at the decorator
        documented = _documented_responses(path, status_code, responses)
        trigger = HttpTrigger(path, wanted, body, cors=cors, middleware=layers)
        if cors is not None or layers:
            self._http_extras = True
        register = self._register(trigger, function_name, settings, uses)
        takes = 3 if body is not None else 2

        def decorator(handler: Handler) -> Handler:
            if (
                response_model is None
                and status_code == 200
                and not documented
                and _takes_only(handler, takes)
            ):
                return register(handler)  # nothing to read: the handler is called as it is
            from polyfn._params import bind, plan_signature

            signature = plan_signature(
                handler,
                tuple(route.names),
                has_body=body is not None,
                route=path,
                response_model=response_model,
                status_code=status_code,
                responses=documented,
            )
            if signature is None:
                return register(handler)
            trigger.signature = signature
            name = str(function_name or getattr(handler, "__name__", path))
            register(bind(handler, signature, name))
            return handler

        return decorator

    def schedule(
        self,
        schedule: str | Schedule,
        *,
        tz: str | None = None,
        function_name: str | None = None,
        uses: Iterable[Any] = (),
        **settings: Any,
    ) -> Callable[[Handler], Handler]:
        """Run a handler ``(event: TimerEvent, ctx)`` on a unix cron schedule (UTC unless `tz`)
        or a `Schedule.rate(...)`."""
        return self._register(
            ScheduleTrigger(Schedule.parse(schedule, tz)), function_name, settings, uses
        )

    def storage(
        self,
        bucket: str | Bucket,
        on: Iterable[str] = ("created",),
        *,
        prefix: str = "",
        suffix: str = "",
        function_name: str | None = None,
        uses: Iterable[Any] = (),
        **settings: Any,
    ) -> Callable[[Handler], Handler]:
        """Run a handler ``(event: StorageEvent, ctx)`` when objects in `bucket` (a name or a
        `Bucket` handle) change."""
        if isinstance(bucket, Bucket):
            bucket = bucket.name
        if isinstance(on, str):
            on = (on,)
        kinds = tuple(on)
        if not bucket:
            raise ConfigError("storage bucket name must not be empty")
        for kind in kinds:
            if kind not in STORAGE_KINDS:
                raise ConfigError(
                    f"storage on={kind!r}: expected one of {', '.join(STORAGE_KINDS)}"
                )
        if not kinds:
            raise ConfigError("storage on= must name at least one event kind")
        trigger = StorageTrigger(bucket, kinds, prefix, suffix)
        return self._register(trigger, function_name, settings, uses)

    def queue(
        self,
        queue: str | Queue,
        *,
        batch_size: int = 10,
        fifo: bool | None = None,
        function_name: str | None = None,
        uses: Iterable[Any] = (),
        **settings: Any,
    ) -> Callable[[Handler], Handler]:
        """Run a handler ``(msg: QueueMessage, ctx)`` for each message on `queue` (a name or a
        `Queue` handle, whose `fifo` is the default).

        A raise fails that message: it is retried or dead-lettered, never acknowledged.
        """
        if isinstance(queue, Queue):
            if fifo is None:
                fifo = queue.fifo
            queue = queue.name
        fifo = bool(fifo)
        if not queue:
            raise ConfigError("queue name must not be empty")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self._register(QueueTrigger(queue, batch_size, fifo), function_name, settings, uses)

    def subscribe(
        self,
        topic: str | Topic,
        *,
        batch_size: int = 1,
        function_name: str | None = None,
        uses: Iterable[Any] = (),
        **settings: Any,
    ) -> Callable[[Handler], Handler]:
        """Run a handler ``(msg: QueueMessage, ctx)`` for each message published to `topic` (a
        name or a `Topic` handle). Every function subscribed to a topic gets each message: this
        is fan-out, where a queue gives each message to its one consumer.

        A raise fails that message for this subscriber only: it is retried or dead-lettered as a
        queue message is. `batch_size` is how many messages one invocation may take where the
        cloud batches subscription deliveries (none of SNS, Service Bus and Pub/Sub push does:
        each delivers one message per invocation).
        """
        if isinstance(topic, Topic):
            topic = topic.name
        if not isinstance(topic, str) or not topic:
            raise ConfigError(
                f"subscribe: topic must be a non-empty name or a Topic, got {topic!r}"
            )
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        return self._register(SubscribeTrigger(topic, batch_size), function_name, settings, uses)

    # -- lookup ------------------------------------------------------------------------------

    @property
    def functions(self) -> list[Function]:
        return list(self._functions.values())

    def function(self, name: str) -> Function:
        try:
            return self._functions[name]
        except KeyError:
            raise ConfigError(
                f"app {self.name!r} has no function {name!r}; it has: "
                + (", ".join(self._functions) or "none")
            ) from None

    def functions_of(self, label: str) -> list[Function]:
        """The functions whose trigger is of kind `label` ("http", "schedule", ...)."""
        if label not in TRIGGER_LABELS:
            raise ConfigError(f"unknown trigger kind {label!r}; expected one of {TRIGGER_LABELS}")
        return [f for f in self._functions.values() if f.trigger.label == label]

    def storage_functions(self, bucket: str, kind: str, key: str) -> list[Function]:
        """The storage functions an object event in `bucket` of `kind` for `key` triggers."""
        return [
            f
            for f in self._functions.values()
            if isinstance(f.trigger, StorageTrigger) and f.trigger.accepts(bucket, kind, key)
        ]

    def queue_function(self, queue: str) -> Function | None:
        for f in self._functions.values():
            if isinstance(f.trigger, QueueTrigger) and f.trigger.queue == queue:
                return f
        return None

    def subscribers(self, topic: str) -> list[Function]:
        """The functions subscribed to `topic`, in declaration order."""
        return [
            f
            for f in self._functions.values()
            if isinstance(f.trigger, SubscribeTrigger) and f.trigger.topic == topic
        ]

    def describe(self) -> str:
        """One line per function, for error messages that say what the app serves."""
        lines = [f"{f.name}: {f.trigger.describe()}" for f in self._functions.values()]
        return "; ".join(lines) or "no functions"

    # -- invocation --------------------------------------------------------------------------

    def handle_http(
        self, req: HttpRequest, ctx: Context, *, function: Function | None = None
    ) -> HttpResponse:
        """Route, validate, call and convert: always returns a response, never raises.

        With `function`, only that function's route is considered (one cloud function per route).
        The invocation ends with its closing log line (duration, status), after its metrics.
        """
        started = perf_counter()
        begin_invocation(ctx, req)
        span = _start_span(ctx, "http", req) if "opentelemetry" in modules else None
        resp: HttpResponse | None = None  # None: no answer (the closing line says 500)
        try:
            resp = self._serve_http(req, ctx, function)
            return resp
        finally:
            if span is not None:
                status = resp.status if resp is not None else 500
                span.end(failed=status >= 500, status=status)
            if not ctx._runtime_closes:
                from polyfn._observe import close_http

                close_http(ctx, started, req, resp)

    def _serve_http(
        self, req: HttpRequest, ctx: Context, function: Function | None
    ) -> HttpResponse:
        extras = self._http_extras
        if extras and req.method == "OPTIONS" and "access-control-request-method" in req.headers:
            preflight = self._preflight(req, function)
            if preflight is not None:
                return preflight
        try:
            if function is None:
                route, fn, params = self.router.match(req.method, req.path)
            else:
                route, fn, params = self._match_one(function, req)
        except NoRoute:
            return HttpResponse(_error_body("not found"), 404, content_type="application/json")
        except MethodNotAllowed as exc:
            resp = HttpResponse(
                _error_body("method not allowed"), 405, content_type="application/json"
            )
            resp.headers.set("Allow", ", ".join(exc.allow))
            return resp
        if params:
            req.path_params.update(params)
        req.route = route.template
        if ctx.function_name != fn.name:
            # This request's own Context (its closing line names the function too).
            ctx.function_name = fn.name
            ctx._log = None
        trigger: HttpTrigger = fn.trigger  # type: ignore[assignment]  # the router holds HTTP only
        cors = self.cors_of(fn) if extras else None
        if cors is not None:
            origin = req.headers.get("origin")
            if origin is not None and not is_origin(origin):
                resp = HttpResponse(
                    _error_body("malformed Origin header"),
                    MALFORMED_STATUS,
                    content_type="application/json",
                )
                add_vary(resp, "Origin")
                return resp
        token = enter_invocation(ctx.provider, fn, ctx)
        try:
            if extras and (self._middleware or trigger.middleware):
                resp = self._through_middleware(fn, trigger, req, ctx)
            else:
                resp = self._call_handler(fn, trigger, req, ctx)
        except HTTPError as exc:
            resp = _http_error(exc)
        except Exception:
            ctx.log.exception(
                "unhandled exception in %s", fn.name, extra={"method": req.method, "path": req.path}
            )
            resp = internal_error(ctx.invocation_id)
        finally:
            exit_invocation(token)
        # Checked here, once for every cloud and `polyfn serve`: a CR or LF in a header would
        # inject header lines where a server writes them, and cloud front ends refuse the rest.
        problem = response_problem(resp)
        if problem is not None:
            ctx.log.error(
                "%s returned a response that cannot be sent: %s; answered 500 instead",
                fn.name,
                problem,
                extra={"method": req.method, "path": req.path},
            )
            resp = internal_error(ctx.invocation_id)
        if req.method == "HEAD":
            # The same status and headers as GET, no body (RFC 9110 section 9.3.2).
            resp.body = b""
        if cors is not None:
            cors.apply(req, resp)
        return resp

    def _call_handler(
        self, fn: Function, trigger: HttpTrigger, req: HttpRequest, ctx: Context
    ) -> HttpResponse:
        """Validate the body (when the route declares a model), call the handler, convert."""
        if trigger.body is not None:
            model = _validate_body(trigger.body, req)
            if isinstance(model, HttpResponse):
                return model
            req.model = model
            result = fn.handler(req, ctx, model)
        else:
            result = fn.handler(req, ctx)
        return to_response(result).normalized()

    def _through_middleware(
        self, fn: Function, trigger: HttpTrigger, req: HttpRequest, ctx: Context
    ) -> HttpResponse:
        """The handler inside the app's layers, then the route's (first declared outermost).
        An HTTPError becomes its answer at the layer it leaves, so outer layers see a response;
        other exceptions go up through each ``call_next``."""
        layers = (*self._middleware, *trigger.middleware)

        def call(index: int, request: HttpRequest) -> HttpResponse:
            if index == len(layers):
                try:
                    return self._call_handler(fn, trigger, request, ctx)
                except HTTPError as exc:
                    return _http_error(exc)

            def call_next(next_request: HttpRequest | None = None) -> HttpResponse:
                return call(index + 1, request if next_request is None else next_request)

            try:
                result = layers[index](request, ctx, call_next)
            except HTTPError as exc:
                return _http_error(exc)
            return to_response(result).normalized()

        return call(0, req)

    def _preflight(self, req: HttpRequest, function: Function | None) -> HttpResponse | None:
        """polyfn's answer to a CORS preflight, or None when no CORS rules cover the path (the
        OPTIONS request is then routed as any other)."""
        route = self.router.route_for(req.path)
        if route is None:
            return None
        method = (req.headers.get("access-control-request-method") or "").strip().upper()
        target = route.methods.get(method) or (
            route.methods.get("GET") if method == "HEAD" else None
        )
        if function is not None and function not in route.methods.values():
            return None
        if target is not None:
            cors = self.cors_of(target)
        else:
            # A method the route does not declare: the rules its functions share, if any (one
            # set of rules answers the preflight, which is then refused for the method).
            found = {id(c): c for c in map(self.cors_of, route.methods.values())}
            cors = next(iter(found.values())) if len(found) == 1 else None
        if cors is None:
            return None
        return cors.preflight(req, route.methods)

    def _match_one(
        self, function: Function, req: HttpRequest
    ) -> tuple[Route, Function, dict[str, str]]:
        trigger = function.trigger
        if not isinstance(trigger, HttpTrigger):
            raise ConfigError(f"function {function.name!r} is not an HTTP function")
        route, fn, params = self.router.match(req.method, req.path)
        if fn is not function:
            # The cloud routed this request to `function`; another function owns the path.
            raise NoRoute(req.path)
        return route, fn, params

    def invoke(self, function: Function, event: Any, ctx: Context) -> Any:
        """Call a non-HTTP function's handler; a raise is logged with its traceback and re-raised,
        so the adapter can fail the message or invocation as its cloud requires."""
        if ctx.function_name != function.name:
            ctx = ctx.with_function(function.name)
        # `begin_invocation`, inlined: this runs for every record of a batch.
        if _COLD[0]:
            begin_invocation(ctx, event)
        ctx._message = event
        ctx._trace = None
        closes = not ctx._runtime_closes
        started = perf_counter() if closes else 0.0
        span = _start_span(ctx, function.kind) if "opentelemetry" in modules else None
        token = enter_invocation(ctx.provider, function, ctx)
        failed = True
        try:
            result = function.handler(event, ctx)
            failed = False
            return result
        except Exception:
            ctx.log.exception("%s failed", function.name)
            raise
        finally:
            exit_invocation(token)
            if span is not None:
                span.end(failed=failed)
            if closes:
                from polyfn._observe import close_event

                close_event(ctx, started, function.kind, failed)


def _start_span(ctx: Context, kind: str, request: HttpRequest | None = None) -> Any:
    """The invocation's OpenTelemetry span, where the app has imported OpenTelemetry (polyfn never
    imports it itself); tracing never fails an invocation."""
    try:
        from polyfn._otel import start_span

        return start_span(ctx, kind, request)
    except Exception:  # a broken tracer setup must not fail the handler
        return None


def own_subscriber(
    served: Function, topic: str, error: type[EventError] = EventError, **where: str
) -> Function | None:
    """What a deployment of the one function `served` does with a message of `topic`: run
    `served` when it subscribes to `topic`; None when it is no subscriber (the adapter looks
    further: a queue function of that name, S3 notifications); `error` (with `where`: field,
    source) when it subscribes to another topic, since each subscriber is deployed with its
    own subscription and gets only its own topic's messages."""
    trigger = served.trigger
    if not isinstance(trigger, SubscribeTrigger):
        return None
    if trigger.topic != topic:
        raise error(
            f"a message of topic {topic!r} arrived where function {served.name!r} runs, the "
            f"subscriber of topic {trigger.topic!r}; subscribe the deployment of {topic!r}'s "
            "subscriber instead",
            **where,
        )
    return served


def _documented_responses(
    path: str, status_code: int, responses: Mapping[int, Any] | None
) -> dict[int, Any] | None:
    """`responses` checked (three-digit statuses); None when the route documents nothing."""
    for status in (status_code, *(responses or {})):
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ConfigError(f"route {path!r}: {status!r} is not an HTTP status (100-599)")
    if status_code == 200 and not responses:
        return None
    return dict(responses or {})


def _takes_only(handler: Handler, count: int) -> bool:
    """Whether `handler` is a plain function of at most `count` parameters, told from its code
    object: cheaper than `inspect.signature`, which the core does not import for such apps."""
    code = getattr(handler, "__code__", None)
    return (
        code is not None
        and not hasattr(handler, "__self__")
        and not hasattr(handler, "__wrapped__")
        and not hasattr(handler, "__signature__")
        and code.co_argcount + code.co_kwonlyargcount <= count
    )


def _unknown_keywords(decorator: str, given: Mapping[str, Any]) -> ConfigError:
    """The error for keywords `app.<decorator>()` does not take, naming the ones it does."""
    import difflib
    import inspect

    settings = [p for p in inspect.signature(Settings.__init__).parameters if p != "self"]
    method = getattr(App, decorator, None)
    own = (
        [p for p in inspect.signature(method).parameters if p not in ("self", "settings")]
        if method is not None
        else []
    )
    parts = []
    for key in (k for k in given if k not in settings):
        close = difflib.get_close_matches(key, own + settings, n=1)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    return ConfigError(
        f"app.{decorator}() got an unexpected keyword argument {', '.join(parts)}; it takes "
        + (f"{', '.join(own)} and the settings " if own else "the settings ")
        + ", ".join(settings)
    )


def _http_error(exc: HTTPError) -> HttpResponse:
    """The answer an HTTPError asks for: its status, its headers, its detail as JSON."""
    return HttpResponse(
        dump_json({"error": exc.detail if exc.detail is not None else _reason(exc.status)}),
        exc.status,
        exc.headers,
        content_type="application/json",
    ).normalized()


def _reason(status: int) -> str:
    from polyfn._http import reason_phrase

    return reason_phrase(status).lower()


def _is_json_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _validate_body(model: type[Any], req: HttpRequest) -> Any:
    """Validate a JSON body against a pydantic model: the instance, or a 400 or 415 response.

    A body that declares a type other than JSON is refused with 415, not parsed anyway: a
    ``text/plain`` POST is one a browser sends cross-site without a CORS preflight, so reading it
    as JSON would open JSON endpoints to cross-site requests. No Content-Type at all is read as
    JSON (clients that send none mean the raw body).
    """
    import pydantic

    body = req.body
    content_type = req.headers.get("content-type")
    if body and content_type and not _is_json_type(content_type):
        return HttpResponse(
            dump_json(
                {
                    "error": "request body must be JSON",
                    "detail": f"Content-Type is {content_type!r}; send application/json",
                }
            ),
            415,
            content_type="application/json",
        )
    try:
        return model.model_validate_json(body or b"null")
    except pydantic.ValidationError as exc:
        errors = [
            {
                "loc": ".".join(str(p) for p in err.get("loc", ())) or "body",
                "message": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors(include_url=False, include_input=False)
        ]
        message = (
            "request body is not valid JSON"
            if any(e["type"] == "json_invalid" for e in errors)
            else "request body failed validation"
        )
        return HttpResponse(
            dump_json({"error": message, "fields": errors}), 400, content_type="application/json"
        )
