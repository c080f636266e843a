"""The ASGI bridge behind `polyfn.asgi`: a neutral request in, one ASGI HTTP cycle, a response out.

The ASGI specification (https://asgi.readthedocs.io/en/latest/specs/www.html and
specs/lifespan.html) is what this module follows:

- one event loop per bridge, in the process that serves it; each request runs on it to the end
  (requests to one app are served one at a time: a Lambda instance takes one at a time anyway,
  and a host that calls polyfn from several threads waits its turn on a lock);
- the lifespan protocol's startup runs once, before the first request; its ``state`` is copied
  into every request's scope. Shutdown is sent when the bridge is collected or the interpreter
  exits normally (`polyfn serve` stopping); a cloud stops a function instance without a word, so
  on a cloud it may never come;
- ``path`` is the whole path the client asked for (``root_path``, the stage or route prefix,
  then the app's path), as uvicorn sends it and Starlette and Django expect since 2023;
- a response's body messages are joined (a streaming response is buffered whole);
- spec version 2.4: polyfn never disconnects, so ``receive`` after the body waits until the
  response is complete and only then says ``http.disconnect``.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import TYPE_CHECKING, Any

from polyfn._errors import ConfigError
from polyfn._web import (
    CONTEXT_KEY,
    REQUEST_KEY,
    build_response,
    header_pairs,
    host_and_port,
    scheme_of,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable

    from polyfn._context import Context
    from polyfn._http import HttpRequest, HttpResponse

    Message = dict[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]

ASGI_VERSIONS = {"version": "3.0", "spec_version": "2.4"}

# How long the app may take to answer lifespan.startup before polyfn gives up on it, and to
# finish its shutdown when the process ends.
STARTUP_TIMEOUT_SECONDS = 60.0
SHUTDOWN_TIMEOUT_SECONDS = 5.0


class StartupError(ConfigError):
    """The app's lifespan startup failed: every request of this process answers 500."""


def http_scope(req: HttpRequest, ctx: Context, state: dict[str, Any] | None) -> dict[str, Any]:
    """The ASGI HTTP connection scope of `req`."""
    headers: list[tuple[bytes, bytes]] = []
    host = proto = None
    for name, value in header_pairs(req):
        key = name.lower()
        if key == "host":
            host = value
        elif key == "x-forwarded-proto":
            proto = value
        try:
            encoded = value.encode("latin-1")
        except UnicodeEncodeError:
            # HTTP/1.1 field values are ISO-8859-1 on the wire (RFC 9110 section 5.5); a value a
            # cloud delivered as decoded UTF-8 text goes back to its UTF-8 bytes.
            encoded = value.encode("utf-8")
        headers.append((key.encode("latin-1"), encoded))
    scheme = scheme_of(proto)
    root = req.root_path
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": ASGI_VERSIONS,
        "http_version": "1.1",
        "method": req.method,
        "scheme": scheme,
        "path": root + req.path if root else req.path,
        "query_string": req.query_string.encode("latin-1", "replace"),
        "root_path": root,
        "headers": headers,
        "client": (req.source_ip, 0) if req.source_ip else None,
        "server": host_and_port(host, scheme),
        REQUEST_KEY: req,
        CONTEXT_KEY: ctx,
    }
    if state is not None:
        scope["state"] = dict(state)
    return scope


class _Cycle:
    """One request's receive and send, and what the app sent."""

    __slots__ = ("body", "chunks", "done", "headers", "status")

    def __init__(self, body: bytes) -> None:
        self.body: bytes | None = body
        self.status: int | None = None
        self.headers: Iterable[tuple[bytes, bytes]] = ()
        self.chunks: list[bytes] = []
        self.done: asyncio.Event | None = None

    async def receive(self) -> Message:
        body = self.body
        if body is not None:
            self.body = None
            return {"type": "http.request", "body": body, "more_body": False}
        # The app asks again only to hear of a disconnect: none comes before the answer is whole.
        if self.done is None:
            self.done = asyncio.Event()
        await self.done.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status is not None:
                raise RuntimeError("the ASGI app sent http.response.start twice")
            self.status = int(message["status"])
            self.headers = message.get("headers") or ()
        elif kind == "http.response.body":
            if self.status is None:
                raise RuntimeError("the ASGI app sent a body before http.response.start")
            chunk = message.get("body", b"")
            if chunk:
                self.chunks.append(bytes(chunk))
            if not message.get("more_body", False) and self.done is not None:
                self.done.set()


class AsgiBridge:
    """An ASGI app served one request at a time on the bridge's own event loop."""

    def __init__(self, app: Any, lifespan: str) -> None:
        self.app = app
        self.lifespan = lifespan
        self.loop: asyncio.AbstractEventLoop | None = None
        # What the finalizer closes: the loop, and the lifespan task with its inbox.
        self._owned = _Owned()
        weakref.finalize(self, self._owned.close)
        self.lock = threading.Lock()
        self.state: dict[str, Any] | None = None
        self.started = lifespan == "off"
        self.failure: StartupError | None = None
        self.startup_detail = ""

    def handler(self) -> Callable[[HttpRequest, Context], HttpResponse]:
        def asgi_app(req: HttpRequest, ctx: Context) -> HttpResponse:
            return self.serve(req, ctx)

        return asgi_app

    def serve(self, req: HttpRequest, ctx: Context) -> HttpResponse:
        with self.lock:
            loop = self.loop
            if loop is None:
                loop = self.loop = self._owned.loop = asyncio.new_event_loop()
            if not self.started:
                loop.run_until_complete(self._startup())
                if self.failure is not None:
                    # Once, with the app's own words (Starlette sends its traceback); every
                    # request of the process then answers 500 and logs the short reason.
                    ctx.log.error("%s", self.failure, extra={"startup": self.startup_detail})
            if self.failure is not None:
                raise self.failure
            return loop.run_until_complete(self._call(req, ctx))

    async def _call(self, req: HttpRequest, ctx: Context) -> HttpResponse:
        cycle = _Cycle(req.body)
        await self.app(http_scope(req, ctx, self.state), cycle.receive, cycle.send)
        if cycle.done is not None:
            cycle.done.set()
        if cycle.status is None:
            raise RuntimeError("the ASGI app returned without sending http.response.start")
        # Header lines are ISO-8859-1 text (RFC 9110 section 5.5).
        headers = [
            (bytes(k).decode("latin-1"), bytes(v).decode("latin-1")) for k, v in cycle.headers
        ]
        chunks = cycle.chunks
        return build_response(
            cycle.status, headers, chunks[0] if len(chunks) == 1 else b"".join(chunks)
        )

    async def _startup(self) -> None:
        """Send lifespan.startup once; remember a failure, so every request reports it."""
        self.started = True
        state: dict[str, Any] = {}
        inbox: asyncio.Queue[Message] = asyncio.Queue()
        outbox: asyncio.Queue[Message] = asyncio.Queue()
        scope = {"type": "lifespan", "asgi": ASGI_VERSIONS, "state": state}
        await inbox.put({"type": "lifespan.startup"})
        task = asyncio.ensure_future(self.app(scope, inbox.get, outbox.put))
        # Its exception, if any, is reported below or stands for "no lifespan support".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        answer = asyncio.ensure_future(outbox.get())
        done, _ = await asyncio.wait(
            {task, answer}, timeout=STARTUP_TIMEOUT_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        name = _app_name(self.app)
        if answer in done:
            message = answer.result()
            if message.get("type") == "lifespan.startup.complete":
                self.state = state
                # The task lives as long as the bridge: the app awaits shutdown in it.
                self._owned.lifespan = (task, inbox)
                return
            detail = str(message.get("message") or "").strip()
            self.startup_detail = detail
            why = detail.splitlines()[-1] if detail else "it gave no reason"
            self.failure = StartupError(
                f"the ASGI app {name} failed its lifespan startup: {why}. Fix the app's startup "
                "(its lifespan or on_startup handlers; the log has the app's own error) or serve "
                "it with polyfn.asgi(app, lifespan='off') if it needs none"
            )
        else:
            answer.cancel()
            if task in done:
                exc = task.exception()
                if self.lifespan == "auto":
                    # The spec: an app that raises on a lifespan scope does not support the
                    # protocol; the server carries on without it.
                    self.state = None
                    return
                self.failure = StartupError(
                    f"the ASGI app {name} does not take the lifespan protocol "
                    f"({type(exc).__name__ if exc else 'it returned'}: {exc}), but "
                    "polyfn.asgi(app, lifespan='on') requires it; use lifespan='auto' or 'off'"
                )
            else:
                task.cancel()
                self.failure = StartupError(
                    f"the ASGI app {name} did not finish its lifespan startup in "
                    f"{STARTUP_TIMEOUT_SECONDS:g} s; make its startup faster or serve it with "
                    "lifespan='off'"
                )
        if self.failure is not None and not task.done():
            task.cancel()


class _Owned:
    """The bridge's event loop and lifespan task, closed when the bridge goes."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.lifespan: tuple[asyncio.Task[Any], asyncio.Queue[Message]] | None = None

    def close(self) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            if self.lifespan is not None and not loop.is_running():
                task, inbox = self.lifespan
                inbox.put_nowait({"type": "lifespan.shutdown"})
                loop.run_until_complete(asyncio.wait({task}, timeout=SHUTDOWN_TIMEOUT_SECONDS))
                task.cancel()
        except RuntimeError:  # another event loop runs in this thread: no shutdown then
            pass
        finally:
            if not loop.is_running():
                loop.close()


def _app_name(app: Any) -> str:
    return f"{type(app).__module__}.{type(app).__qualname__}"
