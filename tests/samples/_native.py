"""Drive a sample app through its real entry files, one per cloud, with native inputs that each
cloud's own library accepts.

- AWS: ``samples/<s>/lambda_function.py``'s ``handler``, fed events that Powertools' parser
  models validate, with awslambdaric's ``LambdaContext``.
- Azure: the functions that ``samples/<s>/function_app.py``'s ``app.get_functions()`` lists,
  called the way the Python worker calls them: the trigger binding's converter from
  azure-functions decodes a host-shaped ``azure.functions.meta.Datum``, and an HTTP answer goes
  back through ``HttpResponseConverter``.
- GCP: ``functions_framework.create_app(target, source=samples/<s>/main.py, signature_type)``
  and its Flask test client.

Every sample has entry files with the same names (lambda_function.py, function_app.py, main.py),
so each is loaded under a module name of its own; the sample's app module (``orders_app`` ...)
is imported once and shared by its three entries, as it would be in one deployed process.

The native inputs are rendered by the conformance suite's drivers (written from the providers'
docs, sharing no code with the adapters); this module only points them at the samples' entries.
Used by tests/samples and by scripts/demo.py.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from conformance import HttpCase, Outcome, azure_worker
from conformance.targets import aws_http as aws_driver
from conformance.targets import azure_http as azure_driver
from tests.aws.conftest import lambda_context
from tests.azure._host import Host

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CLOUDS = ("aws", "azure", "gcp")
# The module each sample's entries import its App from.
APP_MODULES = {
    "orders": "orders_app",
    "cleanup": "cleanup_app",
    "uploads": "uploads_app",
    "worker": "worker_app",
}
# functions-framework records its configuration in these while it builds an app.
_FF_ENV = ("FUNCTION_TARGET", "FUNCTION_SIGNATURE_TYPE")

_entries: dict[tuple[str, str], ModuleType] = {}


@contextlib.contextmanager
def local_resources(state: Path) -> Iterator[Path]:
    """While a sample runs through its AWS, Azure or GCP entry file, its handles talk to the
    local twins in `state` (every cloud's backend is the local one; restored afterwards), so the
    entry files and adapters are the real ones and no cloud is needed."""
    import polyfn_aws  # noqa: F401 - each registers its backend on import: replaced below
    import polyfn_azure  # noqa: F401
    import polyfn_gcp  # noqa: F401

    from polyfn._local._resources import STATE_ENV, STORAGE_ENV, LocalBackend
    from polyfn._resources import _BACKENDS, reset_backends

    settings = {STATE_ENV: str(state), STORAGE_ENV: None, "POLYFN_PROVIDER": "local"}
    saved_env = {name: os.environ.get(name) for name in settings}
    for name, value in settings.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    reset_backends()
    # Each cloud's handles answer from the local twins (the backend cache is what
    # `polyfn._resources.backend_for` consults first).
    for cloud in CLOUDS:
        _BACKENDS[cloud] = LocalBackend()
    try:
        yield state
    finally:
        for name, old in saved_env.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        reset_backends()


_hosts: dict[str, Host] = {}
_clients: dict[tuple[str, str, str], Any] = {}


def _on_path(sample: str) -> Path:
    directory = SAMPLES / sample
    if not (directory / "lambda_function.py").exists():
        raise LookupError(f"no sample {sample!r} under {SAMPLES}")
    if str(directory) not in sys.path:
        # What each cloud does: the function's folder is on sys.path, so `from orders_app
        # import app` in an entry file finds its neighbour. Appended, as functions-framework
        # does, so it never shadows another test's module of the same name.
        sys.path.append(str(directory))
    return directory


def entry(sample: str, name: str) -> ModuleType:
    """``samples/<sample>/<name>.py`` imported as module ``_polyfn_sample_<sample>_<name>``."""
    key = (sample, name)
    module = _entries.get(key)
    if module is None:
        path = _on_path(sample) / f"{name}.py"
        module_name = f"_polyfn_sample_{sample}_{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        _entries[key] = module
    return module


def app_module(sample: str) -> Any:
    """The sample's app module (its App and its in-memory state), shared by the three entries."""
    _on_path(sample)
    return importlib.import_module(APP_MODULES[sample])


# -- AWS ----------------------------------------------------------------------------------------


def aws_validate(model: str, event: dict[str, Any]) -> dict[str, Any]:
    """`event`, after Powertools' parser model `model` accepted it."""
    from aws_lambda_powertools.utilities.parser import models

    getattr(models, model).model_validate(event)
    return event


def aws_invoke(sample: str, event: dict[str, Any], request_id: str | None = None) -> Any:
    """``lambda_function.handler(event, context)`` as the Lambda runtime calls it, and its
    result as the service reads it back (through JSON)."""
    handler = entry(sample, "lambda_function").handler
    context = lambda_context(request_id or str(uuid.uuid4()))
    result = handler(json.loads(json.dumps(event)), context)
    return json.loads(json.dumps(result))


# The ways Lambda is put behind HTTP, by the conformance suite's target names.
AWS_HTTP_SOURCES = ("aws-http", "aws-rest", "aws-url", "aws-alb", "aws-alb-multi")


def aws_http(sample: str, case: HttpCase, source: str = "aws-http") -> Outcome:
    """`case` as the event of `source` (by default an API Gateway HTTP API, payload 2.0: what
    `polyfn build` puts in front of HTTP functions), and the answer as that service reads it."""
    target = aws_driver.AwsHttpTarget(source)
    event = target.render(case)
    aws_driver.validate(source, event)
    return target.read(aws_invoke(sample, event))


# -- Azure --------------------------------------------------------------------------------------


def azure_host(sample: str) -> Host:
    """The functions the host indexes from the sample's function_app.py (indexed once)."""
    host = _hosts.get(sample)
    if host is None:
        host = _hosts[sample] = Host(entry(sample, "function_app").app)
    return host


def azure_call(sample: str, name: str, data: Any, metadata: dict[str, Any] | None = None) -> Any:
    """Call Azure function `name` as the worker does: the converter registered for its trigger
    builds the argument from the host's Datum; a raise fails the invocation."""
    return azure_worker.call(azure_host(sample).functions[name], data, metadata)


def _segment_rank(segment: str) -> int:
    if not segment.startswith("{"):
        return 0
    return 2 if segment.startswith("{*") else 1


def azure_route(sample: str, method: str, path: str) -> tuple[str, dict[str, str]] | None:
    """Which Azure function the host's router gives ``method /api<path>``, and its route
    values: a literal segment beats a parameter, which beats a catch-all."""
    host = azure_host(sample)
    segments = ["api", *(unquote(s) for s in path.strip("/").split("/") if s)]
    found = []
    for name in host.functions:
        trigger = host.trigger(name)
        if trigger["type"] != "httpTrigger" or method not in trigger.get("methods", [method]):
            continue
        route = trigger.get("route") or name
        values = azure_driver.match_route(f"api/{route}", segments)
        if values is not None:
            rank = [_segment_rank(p) for p in route.split("/")]
            found.append((rank, name, values))
    if not found:
        return None
    found.sort(key=lambda f: f[0])
    return found[0][1], found[0][2]


def azure_http_call(sample: str, case: HttpCase) -> Outcome:
    """`case` through the host's router, the worker's HttpRequestConverter, the function and
    HttpResponseConverter; a request no route takes is the host's own 404."""
    from azure.functions.http import HttpResponseConverter

    routed = azure_route(sample, case.method, case.path)
    if routed is None:
        return Outcome(404, {}, [], b"", result="host 404: no route")
    name, values = routed
    response = azure_call(sample, name, azure_driver.request_datum(case, values))
    return azure_driver.read_response(HttpResponseConverter.encode(response, expected_type=None))


# -- GCP ----------------------------------------------------------------------------------------


GCP_DELIVERY_AUTH = "POLYFN_GCP_DELIVERY_AUTH"


def gcp_client(sample: str, target: str, signature_type: str) -> Any:
    """A test client of functions-framework's own app serving `target` of the sample's main.py
    (built once per sample and target)."""
    key = (sample, target, signature_type)
    client = _clients.get(key)
    if client is None:
        import functions_framework

        source = _on_path(sample) / "main.py"
        saved = {k: os.environ.get(k) for k in (*_FF_ENV, GCP_DELIVERY_AUTH)}
        # The samples' deliveries carry no Google-signed token: serve them with the check off.
        os.environ[GCP_DELIVERY_AUTH] = "off"
        try:
            flask_app = functions_framework.create_app(target, str(source), signature_type)  # type: ignore[no-untyped-call]
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        client = _clients[key] = flask_app.test_client()
    return client


def gcp_http(sample: str, case: HttpCase) -> Outcome:
    """`case` through functions-framework's Flask app serving ``main.http``."""
    headers = [(n, v) for n, v in case.headers]
    if case.cookies:
        headers.append(("Cookie", "; ".join(f"{n}={v}" for n, v in case.cookies)))
    resp = gcp_client(sample, "http", "http").open(
        case.path,
        method=case.method,
        query_string=case.query,
        headers=headers,
        data=case.body,
        environ_base={"REMOTE_ADDR": case.source_ip},
    )
    found: dict[str, list[str]] = {}
    for name, value in resp.headers.items():
        found.setdefault(name.lower(), []).append(value)
    cookies = found.pop("set-cookie", [])
    return Outcome(resp.status_code, found, cookies, resp.get_data(), result=resp)


# -- one request on any cloud -------------------------------------------------------------------


def http(
    sample: str,
    cloud: str,
    method: str,
    path: str,
    *,
    query: str = "",
    json_body: Any = None,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
) -> Outcome:
    """One request to the sample's HTTP functions through `cloud`'s entry file."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers = (("Content-Type", "application/json"), *headers)
    case = HttpCase(
        name=f"{sample}-{method}-{path}",
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        status=None,
    )
    if cloud == "aws":
        return aws_http(sample, case)
    if cloud == "azure":
        return azure_http_call(sample, case)
    if cloud == "gcp":
        return gcp_http(sample, case)
    raise ValueError(f"unknown cloud {cloud!r}: one of {CLOUDS}")


def json_of(outcome: Outcome) -> Any:
    return json.loads(outcome.body)
