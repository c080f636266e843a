"""A Lambda cold start serving HTTP imports the HTTP path of polyfn_aws and nothing else: not the
queue, storage or timer modules, not the deploy-time tools, and no heavy standard library."""

from __future__ import annotations

import json
import subprocess
import sys

NOT_ON_THE_HTTP_PATH = {
    "polyfn_aws._queue",
    "polyfn_aws._storage",
    "polyfn_aws._timer",
    "polyfn_aws._build",
    "polyfn_aws._deploy",
    "polyfn_aws._samples",
    "polyfn_aws._schedule",
    "polyfn_aws._names",
    "binascii",
    "datetime",
    "logging",
    "dataclasses",
    "inspect",
    "pydantic",
    "boto3",
    "botocore",
    "awslambdaric",
}

PROBE = """
import sys
before = set(sys.modules)
import polyfn, polyfn_aws
app = polyfn.App("cold")
def hello(req, ctx):
    return {"hello": "world"}
app.http("/hello")(hello)
handler = polyfn_aws.handler(app)
event = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/hello", "rawQueryString": "a=1",
    "headers": {"host": "x.execute-api.us-east-1.amazonaws.com"},
    "requestContext": {"http": {"method": "GET", "path": "/hello", "sourceIp": "1.2.3.4"},
                       "requestId": "r", "stage": "$default"},
    "isBase64Encoded": False,
}
assert handler(event, None)["statusCode"] == 200
import json
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_an_http_cold_start_loads_only_the_http_path():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "polyfn_aws._http" in loaded
    assert not loaded & NOT_ON_THE_HTTP_PATH, loaded & NOT_ON_THE_HTTP_PATH


def test_deploy_time_names_load_on_first_use():
    probe = (
        "import sys, polyfn_aws\n"
        "assert 'polyfn_aws._schedule' not in sys.modules\n"
        "print(polyfn_aws.to_eventbridge.__module__)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "polyfn_aws._schedule"
