"""functions-framework around a polyfn app, as Cloud Run runs a Cloud Functions (gen2) function:
functions-framework's own Flask app (``create_app``) serving ``polyfn_gcp.http(app)`` or
``polyfn_gcp.cloud_event(app)`` (``function=`` for one function's deployment), and the HTTP
request Eventarc makes of a CloudEvent. Used by the conformance drivers (targets/gcp_*),
``polyfn invoke --provider gcp`` (polyfn_gcp's `_samples.invoke`), the tests and the benchmarks.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from conformance.hosts import environment

if TYPE_CHECKING:
    from collections.abc import Callable

    from polyfn import App

# functions-framework records its configuration in these while it builds an app
# (functions_framework._function_registry): restored afterwards, so one build does not leak
# into the next.
_FF_ENV = ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE")
# The documented switch of polyfn_gcp's check of Google-signed delivery tokens: a local host's
# deliveries carry none (polyfn_gcp's own tests cover the check).
DELIVERY_AUTH_ENV = "POLYFN_GCP_DELIVERY_AUTH"
# Cloud Run tells the function its request timeout in this variable (functions-framework-python
# _http/gunicorn.py; functions-framework-go#244 "the request timeout (signaled by
# CLOUD_RUN_TIMEOUT_SECONDS)").
TIMEOUT_ENV = "CLOUD_RUN_TIMEOUT_SECONDS"

# main.py for functions-framework: it serves whatever app `_serving` holds when the Flask app is
# created, so one source file serves every app. Each target is built when functions-framework
# asks for it: an app of one HTTP function has no CloudEvent entry, and the reverse.
_MAIN = """\
from conformance.hosts.gcp import entry


def __getattr__(target):
    return entry(target)
"""
_SIGNATURES = {"event": "cloudevent", "http": "http"}
_serving: list[tuple[App, str | None]] = []
_clients: dict[tuple[int, str, str | None], tuple[App, Any]] = {}
_main_dir: list[Path] = []


def create_app(
    target: str, source: str | Path, signature_type: str, *, check_deliveries: bool = False
) -> Any:
    """functions-framework's Flask app serving `target` of `source`, without leaving its
    configuration in the environment. Unless `check_deliveries`, the entries `source` builds
    do not check Google-signed delivery tokens (a local host's deliveries carry none)."""
    import functions_framework

    settings: dict[str, str | None] = {name: os.environ.get(name) for name in _FF_ENV}
    if not check_deliveries:
        settings[DELIVERY_AUTH_ENV] = "off"
    with environment(settings):
        return functions_framework.create_app(  # type: ignore[no-untyped-call]
            target, str(source), signature_type
        )


def entry(target: str) -> Callable[..., Any]:
    """The polyfn_gcp function for the app (or the one function of it) being served: target
    ``event`` or ``http`` of the generated main.py."""
    import polyfn_gcp

    signature = _SIGNATURES.get(target)
    if signature is None:
        raise AttributeError(target)
    app, function = _serving[-1]
    if signature == "cloudevent":
        return polyfn_gcp.cloud_event(app, function=function)
    return polyfn_gcp.http(app, function=function)


def flask_app(app: App, signature: str, function: str | None = None) -> Any:
    """A new functions-framework app serving `app`, or only its `function` as the deployed
    function of that one does; `signature` is ``http`` or ``cloudevent``."""
    if not _main_dir:
        import atexit
        import shutil

        folder = Path(tempfile.mkdtemp(prefix="polyfn-gcp-host-"))
        # One folder per process, for functions-framework's source file; gone when it exits.
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _main_dir.append(folder)
        (folder / "main.py").write_text(_MAIN)
    _serving.append((app, function))
    try:
        target = "event" if signature == "cloudevent" else "http"
        return create_app(target, _main_dir[0] / "main.py", signature)
    finally:
        _serving.pop()


def client(app: App, signature: str, function: str | None = None) -> Any:
    """A test client of `flask_app` (built once per app, signature and function)."""
    key = (id(app), signature, function)
    cached = _clients.get(key)
    if cached is None or cached[0] is not app:
        cached = (app, flask_app(app, signature, function).test_client())
        _clients[key] = cached
    return cached[1]


def _ce_header(value: str) -> str:
    """A CloudEvents attribute as an HTTP header value: percent-encode space, '"', '%' and
    everything outside printable ASCII (HTTP binding 3.1.3.2):
    https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md
    """
    return "".join(
        ch if 0x21 <= ord(ch) <= 0x7E and ch not in '"%' else quote(ch, safe="") for ch in value
    )


def binary_mode(attributes: dict[str, str], data: Any) -> tuple[bytes, dict[str, str]]:
    """A CloudEvent in binary content mode, as Eventarc delivers: attributes as ce- headers, data
    as the JSON body."""
    headers = {f"ce-{k}": _ce_header(v) for k, v in attributes.items()}
    headers["Content-Type"] = "application/json"
    return json.dumps(data).encode(), headers


def structured_mode(attributes: dict[str, str], data: Any) -> tuple[bytes, dict[str, str]]:
    """A CloudEvent in structured content mode: one application/cloudevents+json document."""
    document = {**attributes, "datacontenttype": "application/json", "data": data}
    return json.dumps(document).encode(), {
        "Content-Type": "application/cloudevents+json; charset=utf-8"
    }


def invoke(
    app: App,
    function: str,
    signature: str,
    request: dict[str, Any],
    *,
    passes: Callable[[BaseException], bool] = lambda exc: False,
) -> tuple[dict[str, Any], bool]:
    """Send `request` (the test client's ``open`` arguments) to functions-framework's app serving
    `function` of `app` with `signature`, with the function's timeout in Cloud Run's variable;
    returns the HTTP response (status, headers, body; a binary body base64 with
    ``isBase64Encoded``) and whether the function did not fail the invocation (no 5xx). A raise
    is answered as functions-framework's crash handler does, unless `passes` lets it out."""
    import functions_framework

    served = flask_app(app, signature, function)
    # Exceptions leave the test client, so that `passes` can tell them apart.
    served.config["PROPAGATE_EXCEPTIONS"] = True
    # Cloud Run tells the function its request timeout: the function's timeout setting (polyfn's
    # default unless declared), from which ctx.remaining_time() counts down.
    timeout: dict[str, str | None] = {}
    if TIMEOUT_ENV not in os.environ:
        timeout[TIMEOUT_ENV] = f"{app.function(function).settings.effective_timeout:g}"
    try:
        with environment(timeout):
            response = served.test_client().open(**request)
    except Exception as exc:
        if passes(exc):
            raise
        body, status, headers = functions_framework.crash_handler(exc)  # type: ignore[no-untyped-call]
        return {"status": status, "headers": headers, "body": body}, False
    raw = response.get_data()
    result: dict[str, Any] = {"status": response.status_code, "headers": {}}
    for name, value in response.headers.items():
        result["headers"].setdefault(name, []).append(value)
    try:
        result["body"] = raw.decode("utf-8")
    except UnicodeDecodeError:
        result["body"] = base64.b64encode(raw).decode()
        result["isBase64Encoded"] = True
    return result, response.status_code < 500


def http_status(result: Any) -> int | None:
    """The HTTP status in what `invoke` returned (every answer is an HTTP response)."""
    status = result.get("status") if isinstance(result, dict) else None
    return status if type(status) is int else None
