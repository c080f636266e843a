"""A toy fourth polyfn provider: a plain WSGI host, registered only through entry points.

Runtime entry: ``application = toy_polyfn.wsgi(app)``, a WSGI app (PEP 3333) that serves the app's
HTTP functions and takes queue messages as CloudEvents over HTTP (structured mode, a POST of
``application/cloudevents+json`` to /_toy/events). Nothing in polyfn's core names it: the
``polyfn.providers`` entry point in toy_polyfn-0.1.dist-info makes ``--provider toy`` work.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from polyfn import App, ConfigError, Context, EventError, HttpRequest, Option, QueueMessage
from polyfn._provider import ProviderDefaults

EVENTS_PATH = "/_toy/events"
QUEUE_EVENT_TYPE = "dev.polyfn.toy.queue.message"

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def wsgi(app: App) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The WSGI app serving `app`: its HTTP functions, and its queues as CloudEvents."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        ctx = Context("toy", "", environ.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4()))
        if environ.get("PATH_INFO") == EVENTS_PATH and environ["REQUEST_METHOD"] == "POST":
            status, headers, out = _event(app, body, ctx)
        else:
            status, headers, out = _http(app, environ, body, ctx)
        start_response(status, headers)
        return [out]

    return application


def _http(
    app: App, environ: dict[str, Any], body: bytes, ctx: Context
) -> tuple[str, list[tuple[str, str]], bytes]:
    headers = [
        (key[5:].replace("_", "-").title(), value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    ]
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    path = environ.get("PATH_INFO", "/").encode("latin-1").decode("utf-8", "replace")
    req = HttpRequest(
        environ["REQUEST_METHOD"],
        path,
        query=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=body,
        source_ip=environ.get("REMOTE_ADDR"),
        raw=environ,
    )
    resp = app.handle_http(req, ctx)
    out = resp.headers.multi_items() + [("Set-Cookie", c) for c in resp.cookies]
    return f"{resp.status} {_reason(resp.status)}", out, resp.body


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _event(app: App, body: bytes, ctx: Context) -> tuple[str, list[tuple[str, str]], bytes]:
    """One queue message as a structured CloudEvent: 204 when handled, 500 to redeliver."""
    try:
        event = json.loads(body)
        queue = event["subject"]
        message = QueueMessage(
            str(event["id"]),
            json.dumps(event.get("data")).encode(),
            queue=queue,
            raw=event,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise EventError(f"not a toy queue CloudEvent: {exc}", source="toy-queue") from exc
    function = app.queue_function(queue)
    if function is None:
        return "404 Not Found", [], b""
    try:
        app.invoke(function, message, ctx)
    except Exception:
        return "500 Internal Server Error", [], b""
    return "204 No Content", [], b""


# -- samples and the fake host -----------------------------------------------------------------


class ToySamples:
    """`polyfn events toy` and `polyfn invoke --provider toy`."""

    TRIGGERS: Mapping[str, str] = {
        "http": "an HTTP request as the WSGI server hands it over",
        "queue": "a queue message as a structured CloudEvent",
    }
    KINDS: Mapping[str, str] = {"http": "http", "queue": "queue"}
    OVERRIDES: Mapping[str, Mapping[str, str]] = {
        "http": {"method": "HTTP method (default GET)", "path": "path (default /)"},
        "queue": {"queue": "queue name (default 'orders')", "body": "JSON data"},
    }

    def sample_event(self, trigger: str, **overrides: Any) -> dict[str, Any]:
        if trigger == "http":
            return {
                "method": overrides.get("method", "GET"),
                "path": overrides.get("path", "/"),
                "query": "",
                "headers": [["Host", "toy.example"]],
                "body": "",
            }
        if trigger == "queue":
            return {
                "specversion": "1.0",
                "type": QUEUE_EVENT_TYPE,
                "source": "//toy/queues",
                "id": "toy-1",
                "subject": overrides.get("queue", "orders"),
                "datacontenttype": "application/json",
                "data": json.loads(overrides.get("body", '{"id": 1}')),
            }
        raise ConfigError(f"toy has no trigger {trigger!r}")

    def trigger_of(self, event: dict[str, Any]) -> str | None:
        if event.get("type") == QUEUE_EVENT_TYPE:
            return "queue"
        return "http" if "method" in event and "path" in event else None

    def invoke(self, app: App, function: str, event: dict[str, Any]) -> tuple[Any, bool]:
        import io

        if self.trigger_of(event) == "queue":
            method, path, query, headers = "POST", EVENTS_PATH, "", []
            body = json.dumps(event).encode()
            headers = [("Content-Type", "application/cloudevents+json")]
        else:
            method, path, query = event["method"], event["path"], event.get("query", "")
            headers = [(k, v) for k, v in event.get("headers", [])]
            body = str(event.get("body", "")).encode()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in headers:
            if name.lower() == "content-type":
                environ["CONTENT_TYPE"] = value
            else:
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: list[Any] = []
        out = b"".join(wsgi(app)(environ, lambda s, h: started.extend([s, h])))
        status = int(started[0].split()[0])
        result = {"status": status, "headers": started[1], "body": out.decode("utf-8", "replace")}
        return result, status < 500

    def http_status(self, result: Any) -> int | None:
        return int(result["status"]) if isinstance(result, dict) else None


# -- the provider --------------------------------------------------------------------------------


class ToyProvider(ProviderDefaults):
    """A WSGI host: build writes wsgi_app.py and toy.json; it does not deploy."""

    name = "toy"
    description = "a plain WSGI host (test provider)"
    entry = "toy_polyfn.wsgi(app)"
    distribution = "toy-polyfn"
    package = "toy_polyfn"
    runtime_marker = "TOY_POLYFN_HOST"  # the toy host sets it in every worker's environment
    extras: Mapping[str, tuple[str, tuple[str, ...]]] = {}
    options: Sequence[Option] = (
        Option("toy-port", "port the WSGI server listens on", commands=("build",), type=int),
    )
    deps_modes: tuple[str, ...] = ("vendor",)
    deps_why = "the toy host installs nothing."
    site_packages = ""

    def build(
        self,
        app: App,
        out_dir: Path,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> list[str]:
        files, warnings = self.package_files(app, app_ref=app_ref, options=options)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (out_dir / name).write_text(text)
        manifest = {
            "port": options.get("toy_port") or 8080,
            "functions": [f.name for f in app.functions],
        }
        (out_dir / "toy.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return warnings

    def package_files(
        self,
        app: App,
        *,
        app_ref: str,
        options: Mapping[str, Any],
        taken: Collection[str] = (),
    ) -> tuple[dict[str, str], list[str]]:
        module, _, attr = app_ref.partition(":")
        source = (
            "from toy_polyfn import wsgi\n"
            f"from {module} import {attr or 'app'} as app\n\n"
            "application = wsgi(app)\n"
        )
        skipped = [f.name for f in app.functions if f.kind not in ("http", "queue")]
        warnings = [f"toy: {name} is neither HTTP nor queue: not served" for name in skipped]
        return {"wsgi_app.py": source}, warnings

    def deploy_instead(self, app_ref: str) -> str | None:
        return f"run `polyfn build {app_ref} --provider toy` and serve wsgi_app:application."

    def events(self) -> ToySamples:
        return ToySamples()

    def resources(self) -> Any:
        raise ConfigError("the toy provider has no resource backend")


provider = ToyProvider()
