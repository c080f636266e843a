"""Resources: module-level handles to the buckets, queues, topics, tables and secrets handlers use.

A handle is a name and nothing else until its first operation: creating one contacts nothing, so
handles live at module level beside the `App`. On first use a handle asks the *backend* of the
cloud it runs on (the invocation's `Context.provider`, or the environment outside an invocation)
for a client of that kind, keeps it for the life of the process and reuses it on every warm
invocation. Each adapter distribution supplies its cloud's backend on its cloud's official SDK;
`polyfn serve` and `polyfn.testing` use the local twin in `polyfn._local._resources`.

The backend seam is the five ``*Backend`` protocols at the end of this module: a provider (or an
in-house cloud) implements them and returns its `Backend` from ``Provider.resources()`` (see
`polyfn._provider`); ``Provider.detect(environ)`` says where a handle used outside an invocation
runs.

Permissions: a function declares the operations it calls with ``uses=[uploads.read,
orders.send]`` (the bound methods are the tokens). While a function runs, calling an operation it
did not declare raises `AccessDenied` naming the token to add, on every cloud and locally, before
the cloud's own AccessDenied would. Outside an invocation (a script, a migration job, a test that
calls a handle directly) every operation is allowed.

Physical names: the builder sets ``POLYFN_<KIND>_<NAME>`` (``POLYFN_BUCKET_UPLOADS``: the logical
name upper-cased, every character that is not a letter or digit replaced by ``_``) to the name the
resource has in that cloud; without it the logical name is used.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from time import monotonic

from polyfn._context import TRACEPARENT
from polyfn._errors import ConfigError, PolyfnError

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime, timedelta
    from typing import Any, Protocol

    from polyfn._app import Function
    from polyfn._context import Context

    Body = bytes | bytearray | memoryview | str | dict[str, Any] | list[Any]
else:
    Protocol = object


# -- errors ------------------------------------------------------------------------------------


class ResourceError(PolyfnError):
    """An operation on a resource failed. `resource` is ``kind:name`` and `operation` the call.

    The cloud SDK's own exception, where there is one, is attached as ``__cause__``.
    """

    def __init__(self, message: str, *, resource: str | None = None, operation: str | None = None):
        self.resource = resource
        self.operation = operation
        super().__init__(message)


class NotFound(ResourceError):  # noqa: N818 - a public contract name
    """The object, document, secret or resource does not exist."""


class AccessDenied(ResourceError):  # noqa: N818 - a public contract name
    """The function did not declare the operation in ``uses=``, or the cloud refused it."""


class Conflict(ResourceError):  # noqa: N818 - a public contract name
    """A conditional write lost: `if_absent` found a document, or `if_version` did not match."""


# -- the invocation a handle runs in -------------------------------------------------------------

# (provider, function, context) of the invocation running on this thread or task, set by `App`
# around each handler call. A handle reads it to pick its cloud's backend, to check the function's
# `uses=` and to carry the invocation's trace on what it sends. A None function pins the provider
# with no check (a test's own calls inside `with Client(app):`). One variable, not one per
# concern: each set and reset costs on every queue record.
_CURRENT: ContextVar[tuple[str, Function | None, Context | None] | None] = ContextVar(
    "polyfn_invocation", default=None
)


def enter_invocation(
    provider: str, function: Function | None, ctx: Context | None = None
) -> object:
    """Mark `function` as running on `provider` in this context (None: code outside any function
    that must still use `provider`), handling `ctx`; returns the reset token."""
    return _CURRENT.set((provider, function, ctx))


def exit_invocation(token: object) -> None:
    _CURRENT.reset(token)  # type: ignore[arg-type]


def current_context() -> Context | None:
    """The Context of the invocation running here, or None outside any."""
    current = _CURRENT.get()
    return current[2] if current is not None else None


def with_traceparent(attributes: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """`attributes` plus the running invocation's ``traceparent`` (unless they carry one), so
    the function that receives the message continues this trace."""
    ctx = current_context()
    if ctx is None or (attributes and TRACEPARENT in attributes):
        return attributes
    return {**(attributes or {}), TRACEPARENT: ctx.trace.traceparent()}


def current_provider() -> str:
    """The cloud a handle talks to: the running invocation's, else ``POLYFN_PROVIDER``, else the
    provider whose runtime the environment shows (each provider's `detect`), else ``"local"``."""
    current = _CURRENT.get()
    if current is not None:
        return current[0]
    chosen = os.environ.get("POLYFN_PROVIDER")
    if chosen:
        return chosen
    from polyfn._provider import LOCAL, detect

    return detect(os.environ) or LOCAL


# -- backends ------------------------------------------------------------------------------------

_BACKENDS: dict[str, Backend] = {}


def backend_for(provider: str) -> Backend:
    """The process-wide backend of `provider`, built on first use by the provider's
    `resources()` (``"local"`` is the core's own)."""
    found = _BACKENDS.get(provider)
    if found is not None:
        return found
    from polyfn._provider import LOCAL
    from polyfn._provider import provider as provider_named

    if provider == LOCAL:
        from polyfn._local._resources import LocalBackend

        built: Backend = LocalBackend()
    else:
        try:
            built = provider_named(provider).resources()
        except ConfigError as exc:
            raise ResourceError(
                f"no resource backend for provider {provider!r}: {exc} Or set POLYFN_PROVIDER "
                "to a provider that is installed."
            ) from exc
    _BACKENDS[provider] = built
    return built


def forget_backend(provider: str) -> None:
    """Drop the built backend of `provider` (its provider object was replaced)."""
    _BACKENDS.pop(provider, None)


class LazyClient:
    """One SDK client per process, made by `make` on first use under a lock (threads share it):
    what every cloud backend keeps for each service it talks to."""

    def __init__(self, make: Callable[[], Any]) -> None:
        import threading

        self._make = make
        self._value: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._make()
        return self._value


_IMPORTED: dict[tuple[str, str], Any] = {}


def imported(module: str, name: str) -> Any:
    """``from module import name``, run once: backends call it on their hot paths, where an
    import statement inside a function costs ~0.5 µs per call even when the module is loaded."""
    found = _IMPORTED.get((module, name))
    if found is None:
        import importlib

        found = _IMPORTED[(module, name)] = getattr(importlib.import_module(module), name)
    return found


def reset_backends() -> None:
    """Forget every built backend and client (tests that switch endpoints or state folders)."""
    _BACKENDS.clear()
    _GENERATION[0] += 1


# -- handles -------------------------------------------------------------------------------------

# Bumped by `reset_backends`: a handle whose clients are of an older generation drops them. (A
# counter, not a list of every handle: a handle made per invocation must not live for ever.)
_GENERATION = [0]


def env_name(kind: str, name: str) -> str:
    """The variable holding a handle's physical name: ``POLYFN_BUCKET_UPLOADS``."""
    cleaned = "".join(c if c.isascii() and c.isalnum() else "_" for c in name.upper())
    return f"POLYFN_{kind.upper()}_{cleaned}"


def _environ_key(variable: str) -> object:
    """`variable` as os.environ stores its keys (bytes on POSIX: CPython's ``os._Environ``)."""
    encode = getattr(os.environ, "encodekey", None)
    return encode(variable) if encode is not None else variable


def _environ_raw(key: object, variable: str) -> object:
    """The value of `variable` as os.environ stores it, or None. Every change made through
    os.environ (``os.environ[...] =``, ``monkeypatch.setenv``) lands in its ``_data`` dict; reading
    that dict is a lookup, where ``os.environ.get`` encodes the key and decodes the value
    (~0.4 µs, on every resource call). An os.environ that is not CPython's is read as a mapping."""
    try:
        return os.environ._data.get(key)  # type: ignore[attr-defined]
    except AttributeError:
        return os.environ.get(variable)


def _environ_text(raw: object) -> str | None:
    """The str of a value `_environ_raw` returned."""
    if raw is None or isinstance(raw, str):
        return raw
    decode = getattr(os.environ, "decodevalue", None)
    return str(decode(raw)) if decode is not None else os.fsdecode(raw)  # type: ignore[arg-type]


def broken_rule(rules: Iterable[tuple[str, Callable[[str], bool]]], name: str) -> str | None:
    """The first of a cloud's name `rules` (what the rule says, a test) that `name` breaks."""
    return next((rule for rule, passes in rules if not passes(name)), None)


def refuse_name(cloud: str, kind: str, name: str, rule: str | None) -> None:
    """Raise the error for a physical `name` that breaks `cloud`'s naming `rule` (None: it
    breaks none), naming the rule and where the name came from, before any request."""
    if rule is None:
        return
    prefix = f"POLYFN_{kind.upper()}_"
    mapped = [k for k, v in os.environ.items() if k.startswith(prefix) and v == name]
    if mapped:
        source, fix = f"from {mapped[0]}", f"set {mapped[0]} to a name {cloud} accepts"
    else:
        variable = env_name(kind, name)
        source = f"the handle's name; {variable} is not set"
        fix = f"rename the handle, or set {variable} to a name {cloud} accepts"
    raise ResourceError(
        f"{kind} {name!r} ({source}) is not a valid {cloud} name: {rule}; {fix}",
        resource=f"{kind}:{name}",
    )


class Operation:
    """One operation of one resource: a `uses=` token in a form the builder can read."""

    __slots__ = ("name", "resource")

    def __init__(self, resource: Resource, name: str) -> None:
        self.resource = resource
        self.name = name

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.resource.kind, self.resource.name, self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Operation) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return f"{self.resource.variable_hint}.{self.name}"

    def __repr__(self) -> str:
        return f"Operation({self.resource!r}, {self.name!r})"


def operations_of(uses: Iterable[Any], where: str) -> tuple[Operation, ...]:
    """Read a decorator's ``uses=`` list: bound operations of handles (``uploads.read``)."""
    if isinstance(uses, str | bytes) or not hasattr(uses, "__iter__"):
        raise ConfigError(f"{where}: uses= must be a list of operations such as [uploads.read]")
    found: list[Operation] = []
    for token in uses:
        if isinstance(token, Operation):
            found.append(token)
            continue
        owner = getattr(token, "__self__", None)
        name = getattr(token, "__name__", None)
        if isinstance(owner, Resource) and name in owner.OPERATIONS:
            found.append(Operation(owner, name))
            continue
        if isinstance(token, Resource):
            ops = ", ".join(f"{token.variable_hint}.{op}" for op in token.OPERATIONS)
            raise ConfigError(
                f"{where}: uses= lists the {token.kind} {token.name!r} itself; name the "
                f"operations the function calls instead, from: {ops}"
            )
        raise ConfigError(
            f"{where}: uses= entry {token!r} is not a resource operation; list bound operations "
            "of handles, such as uploads.read or orders.send"
        )
    return tuple(dict.fromkeys(found))


class Resource:
    """A named bucket, queue, topic, table or secret; contacts nothing until first used."""

    kind = "resource"
    OPERATIONS: tuple[str, ...] = ()
    __slots__ = ("_clients", "_env_key", "_env_var", "_generation", "_last", "name")

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{type(self).__name__} needs a non-empty name, got {name!r}")
        if any(c in name for c in "\x00\r\n/\\") or name != name.strip():
            raise ConfigError(
                f"{self.kind} name {name!r} must not hold '/', '\\\\', control characters or "
                "leading/trailing spaces"
            )
        self.name = name
        # Computed once: building it char by char cost ~2 µs on every operation.
        self._env_var = env_name(self.kind, name)
        self._env_key = _environ_key(self._env_var)
        self._clients: dict[tuple[str, object], Any] = {}
        self._generation = _GENERATION[0]
        # The last client used: (provider, raw mapping value, client, physical name).
        self._last: tuple[str, object, Any, str] | None = None

    @property
    def env_var(self) -> str:
        """The variable the builder sets to this resource's name in the cloud."""
        return self._env_var

    @property
    def physical_name(self) -> str:
        """The name in the cloud this code runs on: ``$POLYFN_<KIND>_<NAME>`` or the name."""
        return os.environ.get(self._env_var) or self.name

    @property
    def variable_hint(self) -> str:
        """How an error message names the handle in code."""
        return self.name.replace("-", "_").replace(".", "_")

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name!r}"

    def _client(self, operation: str) -> Any:
        """This handle's client on the current cloud, after the `uses=` check for `operation`."""
        current = _CURRENT.get()
        if current is not None:
            provider, function, _ = current
            if function is not None and (self.kind, self.name, operation) not in function.allowed:
                raise AccessDenied(
                    f"function {function.name!r} called {operation} on {self.label} without "
                    f"declaring it: add {self.variable_hint}.{operation} to uses= of its "
                    f"decorator (the bound operation {self!r}.{operation})",
                    resource=f"{self.kind}:{self.name}",
                    operation=operation,
                )
        else:
            provider = current_provider()
        # The mapping is read on every call (a test or script may change it), as the raw value
        # os.environ stores: the same object until someone sets the variable again.
        raw = _environ_raw(self._env_key, self._env_var)
        last = self._last
        if (
            last is not None
            and last[1] is raw
            and last[0] == provider
            and self._generation == _GENERATION[0]
        ):
            return last[2]
        return self._open_client(provider, raw)

    def _open_client(self, provider: str, raw: object) -> Any:
        if self._generation != _GENERATION[0]:
            self._forget()
        physical = _environ_text(raw) or self.name
        client = self._clients.get((provider, physical))
        if client is None:
            client = self._clients[(provider, physical)] = self._open(
                backend_for(provider), physical
            )
        self._last = (provider, raw, client, physical)
        return client

    def _open(self, backend: Backend, physical: str) -> Any:
        raise NotImplementedError

    def _forget(self) -> None:
        """Drop the clients (and anything cached from them) after `reset_backends`."""
        self._clients.clear()
        self._last = None
        self._generation = _GENERATION[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"

    def __reduce__(self) -> Any:  # handles appear in pickled closures of tests: keep them simple
        return (type(self), (self.name,))


def encode_body(body: Body, what: str) -> bytes:
    """The bytes a message carries: bytes as they are, str as UTF-8, dict/list as JSON."""
    if isinstance(body, bytes):
        return body
    if isinstance(body, bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, dict | list):
        from polyfn._http import dump_json

        return dump_json(body)
    raise ResourceError(
        f"{what}: a message body must be bytes, str, a dict or a list, got {type(body).__name__}"
    )


def check_attributes(attributes: Mapping[str, str] | None, what: str) -> dict[str, str]:
    if not attributes:
        return {}
    checked: dict[str, str] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key or not isinstance(value, str):
            raise ResourceError(
                f"{what}: message attributes must map non-empty str to str, got {key!r}: {value!r}"
            )
        checked[key] = value
    return checked


class OutgoingMessage:
    """A message on its way to a queue or topic, in neutral terms: what a backend sends."""

    __slots__ = ("attributes", "body", "delay", "group")

    def __init__(
        self,
        body: bytes,
        attributes: dict[str, str] | None = None,
        group: str | None = None,
        delay: int | None = None,
    ) -> None:
        self.body = body
        self.attributes = attributes or {}
        self.group = group
        self.delay = delay

    def __repr__(self) -> str:
        return f"OutgoingMessage({self.body[:40]!r}, attributes={self.attributes!r})"


class ObjectInfo:
    """What a bucket knows of one object: `key`, `size`, `etag`, `content_type`, `updated`,
    `metadata` (user metadata, str to str)."""

    __slots__ = ("content_type", "etag", "key", "metadata", "size", "updated")

    def __init__(
        self,
        key: str,
        *,
        size: int,
        etag: str | None = None,
        content_type: str | None = None,
        updated: datetime | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.key = key
        self.size = size
        self.etag = etag
        self.content_type = content_type
        self.updated = updated
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"ObjectInfo({self.key!r}, size={self.size})"


class Bucket(Resource):
    """Objects by key: S3 bucket / Blob Storage container / Cloud Storage bucket / a folder."""

    kind = "bucket"
    OPERATIONS = ("read", "write", "delete", "info", "list", "signed_url")
    __slots__ = ()

    def _open(self, backend: Backend, physical: str) -> BucketBackend:
        return backend.bucket(physical)

    def read(self, key: str) -> bytes:
        """The object's bytes; `NotFound` when there is no such object."""
        return self._client("read").read(_key(key, self))  # type: ignore[no-any-return]

    def write(
        self,
        key: str,
        data: bytes | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Store `data` (str as UTF-8) under `key`, replacing what was there."""
        if isinstance(data, str):
            data = data.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        elif isinstance(data, bytearray | memoryview):
            data = bytes(data)
        elif not isinstance(data, bytes):
            raise ResourceError(
                f"{self.label}: write needs bytes or str, got {type(data).__name__}",
                resource=f"bucket:{self.name}",
                operation="write",
            )
        meta = check_attributes(metadata, f"{self.label} write metadata")
        self._client("write").write(_key(key, self), data, content_type, meta)

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error (S3 cannot tell)."""
        self._client("delete").delete(_key(key, self))

    def info(self, key: str) -> ObjectInfo | None:
        """The object's size, etag, content type, update time and metadata; None when absent."""
        return self._client("info").info(_key(key, self))  # type: ignore[no-any-return]

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, in key order, page by page."""
        return self._client("list").list(prefix)  # type: ignore[no-any-return]

    def signed_url(self, key: str, method: str = "GET", expires: float | timedelta = 3600) -> str:
        """A URL that lets its holder GET or PUT the object without credentials until `expires`
        (seconds or a timedelta) passes."""
        from datetime import timedelta

        method = method.upper()
        if method not in ("GET", "PUT"):
            raise ResourceError(
                f"{self.label}: signed_url method must be GET or PUT, got {method!r}",
                resource=f"bucket:{self.name}",
                operation="signed_url",
            )
        if not isinstance(expires, timedelta):
            expires = timedelta(seconds=expires)
        if expires.total_seconds() <= 0:
            raise ResourceError(
                f"{self.label}: signed_url expires must be positive",
                resource=f"bucket:{self.name}",
                operation="signed_url",
            )
        return self._client("signed_url").signed_url(  # type: ignore[no-any-return]
            _key(key, self), method, expires
        )


def _key(key: str, bucket: Bucket) -> str:
    if not isinstance(key, str) or not key:
        raise ResourceError(
            f"{bucket.label}: an object key must be a non-empty str, got {key!r}",
            resource=f"bucket:{bucket.name}",
        )
    return key


class SendResult:
    """What `Queue.send_batch` did: `ids[i]` is entry i's message id or None where it failed;
    `failed` lists ``(index, error)`` for exactly the entries that were not sent."""

    __slots__ = ("failed", "ids")

    def __init__(self, ids: list[str | None], failed: list[tuple[int, ResourceError]]) -> None:
        self.ids = ids
        self.failed = failed

    @property
    def ok(self) -> bool:
        return not self.failed

    def __repr__(self) -> str:
        return f"SendResult(sent={len(self.ids) - len(self.failed)}, failed={self.failed!r})"


_ENTRY_KEYS = frozenset({"body", "attributes", "group", "delay"})


class Queue(Resource):
    """Messages for one consumer: SQS / Storage queue (Service Bus when fifo) / Pub/Sub / SQLite."""

    kind = "queue"
    OPERATIONS = ("send", "send_batch")
    __slots__ = ("fifo",)

    def __init__(self, name: str, *, fifo: bool = False) -> None:
        super().__init__(name)
        self.fifo = fifo

    def _open(self, backend: Backend, physical: str) -> QueueBackend:
        return backend.queue(physical, self.fifo)

    def _message(
        self,
        body: Body,
        attributes: Mapping[str, str] | None,
        group: str | None,
        delay: float | None,
    ) -> OutgoingMessage:
        what = f"{self.label} send"
        if group is not None and (not isinstance(group, str) or not group):
            raise ResourceError(
                f"{what}: group must be a non-empty str, got {group!r}",
                resource=f"queue:{self.name}",
                operation="send",
            )
        if self.fifo and group is None:
            raise ResourceError(
                f"{what}: a fifo queue needs group= (messages are ordered within a group)",
                resource=f"queue:{self.name}",
                operation="send",
            )
        seconds: int | None = None
        if delay is not None:
            if isinstance(delay, bool) or not isinstance(delay, int | float) or delay < 0:
                raise ResourceError(
                    f"{what}: delay must be seconds >= 0, got {delay!r}",
                    resource=f"queue:{self.name}",
                    operation="send",
                )
            seconds = int(delay)
        return OutgoingMessage(
            encode_body(body, what),
            check_attributes(with_traceparent(attributes), what),
            group,
            seconds,
        )

    def send(
        self,
        body: Body,
        *,
        attributes: Mapping[str, str] | None = None,
        group: str | None = None,
        delay: float | None = None,
    ) -> str:
        """Send one message (bytes; str as UTF-8; dict/list as JSON); returns its id."""
        message = self._message(body, attributes, group, delay)
        return self._client("send").send(message)  # type: ignore[no-any-return]

    def send_batch(self, entries: Iterable[Body | Mapping[str, Any]]) -> SendResult:
        """Send several messages; the result names exactly the entries that failed.

        An entry is a body, or a dict ``{"body": ..., "attributes": ..., "group": ...,
        "delay": ...}`` (a dict with "body" and only those keys; any other dict is a JSON body).
        An entry that cannot be sent (an oversize body, a fifo entry without group, a bad
        attribute) is reported in `SendResult.failed` and the others are still sent. Backends
        send in the cloud's batch size and retry what is throttled.
        """
        client = self._client("send_batch")
        outcomes: list[str | ResourceError] = []
        messages: list[OutgoingMessage] = []
        positions: list[int] = []
        for index, entry in enumerate(entries):
            try:
                if isinstance(entry, dict) and "body" in entry and set(entry) <= _ENTRY_KEYS:
                    message = self._message(
                        entry["body"], entry.get("attributes"), entry.get("group"),
                        entry.get("delay"),
                    )  # fmt: skip
                else:
                    message = self._message(entry, None, None, None)  # type: ignore[arg-type]
            except ResourceError as exc:
                outcomes.append(exc)
                continue
            outcomes.append("")
            positions.append(index)
            messages.append(message)
        sent = client.send_batch(messages) if messages else []
        if len(sent) != len(messages):
            raise ResourceError(
                f"{self.label} send_batch: the backend answered {len(sent)} outcomes for "
                f"{len(messages)} messages; which were sent is unknown",
                resource=f"queue:{self.name}",
                operation="send_batch",
            )
        for index, outcome in zip(positions, sent, strict=True):
            outcomes[index] = outcome
        ids: list[str | None] = []
        failed: list[tuple[int, ResourceError]] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, ResourceError):
                ids.append(None)
                failed.append((index, outcome))
            else:
                ids.append(outcome)
        return SendResult(ids, failed)


class Topic(Resource):
    """Messages for every subscriber: SNS / Service Bus topic / Pub/Sub topic / local fan-out."""

    kind = "topic"
    OPERATIONS = ("publish",)
    __slots__ = ()

    def _open(self, backend: Backend, physical: str) -> TopicBackend:
        return backend.topic(physical)

    def publish(self, body: Body, *, attributes: Mapping[str, str] | None = None) -> str:
        """Publish one message to every subscription; returns its id."""
        what = f"{self.label} publish"
        message = OutgoingMessage(
            encode_body(body, what), check_attributes(with_traceparent(attributes), what)
        )
        return self._client("publish").publish(message)  # type: ignore[no-any-return]


class Document(dict):  # type: ignore[type-arg]
    """A table document: a dict of its JSON fields, with `version` for conditional writes."""

    __slots__ = ("version",)

    def __init__(self, fields: Mapping[str, Any], version: str) -> None:
        super().__init__(fields)
        self.version = version

    def __repr__(self) -> str:
        return f"Document({dict(self)!r}, version={self.version!r})"


class Table(Resource):
    """JSON documents by key: DynamoDB / Table Storage / Firestore / SQLite."""

    kind = "table"
    OPERATIONS = ("get", "put", "delete")
    __slots__ = ()

    def __init__(self, name: str) -> None:
        # Letters and digits only: Azure Table Storage's rule, the strictest of the four.
        # https://learn.microsoft.com/rest/api/storageservices/understanding-the-table-service-data-model#table-names
        if not isinstance(name, str) or not name.isascii() or not name.isalnum():
            raise ConfigError(
                f"table name {name!r} must be letters and digits only (Azure Table Storage's "
                "rule, the strictest of the clouds): for example 'carts'"
            )
        super().__init__(name)

    def _open(self, backend: Backend, physical: str) -> TableBackend:
        return backend.table(physical)

    def get(self, key: str) -> Document | None:
        """The document under `key` (a dict with `.version`), or None."""
        found = self._client("get").get(_doc_key(key, self))
        if found is None:
            return None
        fields, version = found
        return Document(fields, version)

    def put(
        self,
        key: str,
        document: Mapping[str, Any],
        *,
        if_absent: bool = False,
        if_version: str | None = None,
    ) -> str:
        """Store `document` under `key`; returns its new version.

        ``if_absent=True`` writes only when no document exists; ``if_version=v`` only when the
        stored document's version is still `v`. Either failing raises `Conflict`.
        """
        if if_absent and if_version is not None:
            raise ResourceError(
                f"{self.label} put: if_absent and if_version exclude each other",
                resource=f"table:{self.name}",
                operation="put",
            )
        if not isinstance(document, dict):
            raise ResourceError(
                f"{self.label} put: a document is a dict of JSON values, got "
                f"{type(document).__name__}",
                resource=f"table:{self.name}",
                operation="put",
            )
        fields = _json_document(document, self)
        return self._client("put").put(  # type: ignore[no-any-return]
            _doc_key(key, self), fields, if_absent, if_version
        )

    def delete(self, key: str, *, if_version: str | None = None) -> None:
        """Remove the document (missing is not an error unless `if_version` is given)."""
        self._client("delete").delete(_doc_key(key, self), if_version)


def _doc_key(key: str, table: Table) -> str:
    if not isinstance(key, str) or not key:
        raise ResourceError(
            f"{table.label}: a document key must be a non-empty str, got {key!r}",
            resource=f"table:{table.name}",
        )
    return key


# The exact types a document may hold as they are; anything else (a tuple, a datetime, a Decimal,
# a subclass, a non-finite float) takes the JSON round trip that turns it into plain values.
_PLAIN_SCALARS = frozenset((str, int, bool, type(None)))


def _is_plain_json(value: Any, depth: int = 0) -> bool:
    """Whether `value` is already what a JSON round trip would give back (checked without one:
    the round trip costs several µs per put, this walk a fraction on a typical document)."""
    kind = type(value)
    if kind in _PLAIN_SCALARS:
        return True
    if kind is float:
        return bool(value - value == 0.0)  # false for inf and nan, which JSON cannot hold
    if depth > 64:
        return False  # let the round trip judge very deep documents
    if kind is dict:
        for key, item in value.items():
            # Scalars are judged here: a call per field would cost more than the check.
            if type(key) is not str:
                return False
            if type(item) not in _PLAIN_SCALARS and not _is_plain_json(item, depth + 1):
                return False
        return True
    if kind is list:
        for item in value:
            if type(item) not in _PLAIN_SCALARS and not _is_plain_json(item, depth + 1):
                return False
        return True
    return False


def _json_document(document: Mapping[str, Any], table: Table) -> dict[str, Any]:
    """The document as plain JSON values, so every backend stores the same. A document already
    plain is passed on as it is (every backend serialises it during put, keeping no reference)."""
    if type(document) is dict and _is_plain_json(document):
        return document
    import json

    from polyfn._http import dump_json

    try:
        fields: dict[str, Any] = json.loads(dump_json(dict(document)))
    except (TypeError, ValueError) as exc:
        raise ResourceError(
            f"{table.label} put: the document is not JSON-serialisable: {exc}",
            resource=f"table:{table.name}",
            operation="put",
        ) from exc
    return fields


class Secret(Resource):
    """A secret string: Secrets Manager / Key Vault / Secret Manager / ``.polyfn/secrets.json``."""

    kind = "secret"
    OPERATIONS = ("value",)
    __slots__ = ("_cached", "ttl")

    def __init__(self, name: str, *, ttl: float = 300) -> None:
        super().__init__(name)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl < 0:
            raise ConfigError(f"secret {name!r}: ttl must be seconds >= 0, got {ttl!r}")
        self.ttl = ttl
        self._cached: tuple[float, str, str] | None = None  # (expires, provider:name, value)

    def _open(self, backend: Backend, physical: str) -> SecretBackend:
        return backend.secret(physical)

    def value(self) -> str:
        """The secret's current value, cached in this process for `ttl` seconds."""
        client = self._client("value")
        now = monotonic()
        # A backend whose secrets can move (the local twin's state folder) says where they are.
        scope = getattr(client, "cache_scope", "")
        provider, _, _, physical = self._last  # type: ignore[misc] # set by _client
        where = f"{provider}:{physical}:{scope}"
        cached = self._cached
        if cached is not None and cached[0] > now and cached[1] == where:
            return cached[2]
        value: str = client.value()
        self._cached = (now + self.ttl, where, value)
        return value

    def _forget(self) -> None:
        super()._forget()
        self._cached = None

    def __reduce__(self) -> Any:
        return (_secret, (self.name, self.ttl))


def _secret(name: str, ttl: float) -> Secret:
    return Secret(name, ttl=ttl)


# -- the backend seam ----------------------------------------------------------------------------


class BucketBackend(Protocol):
    """One bucket on one cloud. Keys arrive checked; errors are `ResourceError`s."""

    def read(self, key: str) -> bytes: ...
    def write(
        self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str]
    ) -> None: ...
    def delete(self, key: str) -> None: ...
    def info(self, key: str) -> ObjectInfo | None: ...
    def list(self, prefix: str) -> Iterator[ObjectInfo]: ...
    def signed_url(self, key: str, method: str, expires: timedelta) -> str: ...


class QueueBackend(Protocol):
    """One queue on one cloud; `send_batch` returns, per message, its id or its error."""

    def send(self, message: OutgoingMessage) -> str: ...
    def send_batch(self, messages: Sequence[OutgoingMessage]) -> list[str | ResourceError]: ...


class TopicBackend(Protocol):
    def publish(self, message: OutgoingMessage) -> str: ...


class TableBackend(Protocol):
    """Documents are dicts of JSON values; versions are opaque strings."""

    def get(self, key: str) -> tuple[dict[str, Any], str] | None: ...
    def put(
        self, key: str, fields: dict[str, Any], if_absent: bool, if_version: str | None
    ) -> str: ...
    def delete(self, key: str, if_version: str | None) -> None: ...


class SecretBackend(Protocol):
    """May also have ``cache_scope`` (a str): the value is cached per scope, for a backend whose
    secret store can change under one handle (the local twin's state folder)."""

    def value(self) -> str: ...


class Backend(Protocol):
    """A cloud's resource backend: opens one client per resource (each kept per process)."""

    def bucket(self, name: str) -> BucketBackend: ...
    def queue(self, name: str, fifo: bool) -> QueueBackend: ...
    def topic(self, name: str) -> TopicBackend: ...
    def table(self, name: str) -> TableBackend: ...
    def secret(self, name: str) -> SecretBackend: ...
