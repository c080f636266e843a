"""Import-time guard (the Powertools habit): `import polyfn` stays stdlib-only and light."""

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("pydantic", "boto3", "botocore", "azure", "flask", "functions_framework",
             "cloudevents", "werkzeug", "dataclasses", "inspect", "logging", "asyncio",
             "typing", "hmac", "_hashlib")  # fmt: skip


def loaded_after(code: str) -> set[str]:
    probe = (
        "import sys\nbefore = set(sys.modules)\n"
        + code
        + "\nimport json\nprint(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _roots(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_import_polyfn_loads_no_cloud_library_nor_heavy_stdlib():
    roots = _roots(loaded_after("import polyfn"))
    assert not roots & set(FORBIDDEN), roots & set(FORBIDDEN)


def test_import_polyfn_aws_and_building_a_handler_stays_light():
    code = (
        "import polyfn, polyfn_aws\napp = polyfn.App('a')\n"
        "def f(r, c): return None\napp.http('/x')(f)\npolyfn_aws.handler(app)"
    )
    roots = _roots(loaded_after(code))
    assert not roots & set(FORBIDDEN), roots & set(FORBIDDEN)


def test_pyjwt_loads_only_when_a_bearer_token_is_checked():
    code = (
        "import polyfn\napp = polyfn.App('a')\n"
        "bearer = polyfn.jwt_bearer(key='k' * 32, algorithms=['HS256'], audience='x')\n"
        "def f(r, c): return 1\napp.http('/x', middleware=[bearer])(f)\n"
        "app.handle_http(polyfn.HttpRequest('GET', '/x'), polyfn.Context('local', '', 'r'))"
    )
    assert "jwt" not in _roots(loaded_after(code))  # no token sent: refused before PyJWT is needed
    assert "jwt" in _roots(
        loaded_after(
            code.replace(
                "'/x'), polyfn.Context",
                "'/x', headers={'Authorization': 'Bearer a.b.c'}), polyfn.Context",
            )
        )
    )


def test_pydantic_loads_only_when_an_app_declares_a_model():
    code = "import polyfn\napp = polyfn.App('a')\ndef f(r, c): return 1\napp.http('/x')(f)"
    assert "pydantic" not in _roots(loaded_after(code))


# The SDKs the resource backends wrap: imported on a handle's first operation, never before.
RESOURCE_SDKS = ("boto3", "botocore", "azure.storage", "azure.data", "azure.keyvault",
                 "azure.servicebus", "azure.identity", "google.cloud", "google.api_core",
                 "grpc")  # fmt: skip

APP_WITH_HANDLES = """
import polyfn
app = polyfn.App('a')
uploads, orders, events = polyfn.Bucket('uploads'), polyfn.Queue('orders'), polyfn.Topic('ev')
carts, key = polyfn.Table('carts'), polyfn.Secret('key')
def f(r, c): return None
app.http('/x', uses=[uploads.read, orders.send, events.publish, carts.put, key.value])(f)
"""


def _sdks_loaded(modules: set[str]) -> set[str]:
    return {m for m in modules for sdk in RESOURCE_SDKS if m == sdk or m.startswith(sdk + ".")}


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "import polyfn_aws\npolyfn_aws.handler(app)",
        "import polyfn_azure\npolyfn_azure.function_app(app)",
        "import polyfn_gcp\npolyfn_gcp.http(app)",
    ],
    ids=["core", "aws", "azure", "gcp"],
)
def test_handles_and_each_adapter_entry_load_no_resource_sdk(entry: str) -> None:
    loaded = _sdks_loaded(loaded_after(APP_WITH_HANDLES + entry))
    assert not loaded, sorted(loaded)


# What observability loads only when a handler uses it (ctx.log, ctx.metrics, OpenTelemetry).
OBSERVABILITY_ON_USE = {"logging", "polyfn._logs", "polyfn._metrics", "polyfn._otel",
                        "opentelemetry", "datetime", "traceback"}  # fmt: skip


def test_an_invocation_that_does_not_log_loads_no_logging_nor_metrics():
    """The first HTTP event through polyfn_aws writes its closing line (and reads its trace)
    without `logging`, the metrics or OpenTelemetry; a handler that logs loads `logging`."""
    serve = (
        "import polyfn, polyfn_aws\napp = polyfn.App('a')\n"
        "def f(r, c):\n    return {'ok': True}\napp.http('/x')(f)\n"
        "event = {'version': '2.0', 'rawPath': '/x', 'rawQueryString': '', 'headers': {},"
        " 'requestContext': {'http': {'method': 'GET', 'path': '/x', 'sourceIp': '1.2.3.4'}},"
        " 'isBase64Encoded': False}\n"
        "import io, sys\nsys.stderr = io.StringIO()\n"
        "assert polyfn_aws.handler(app)(event, None)['statusCode'] == 200, sys.stderr.getvalue()\n"
        "assert 'invocation finished' in sys.stderr.getvalue()\n"
    )
    loaded = loaded_after(serve)
    assert not (loaded | _roots(loaded)) & OBSERVABILITY_ON_USE
    logged = loaded_after(serve.replace("return {'ok': True}", "c.log.info('hi'); return {}"))
    assert "logging" in logged and "polyfn._logs" in logged
