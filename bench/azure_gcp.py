"""Warm HTTP invocations on Azure and GCP: what polyfn adds, beside the cloud library's own cost.

Azure: azure-functions' HttpRequestConverter.decode builds the func.HttpRequest from a host-shaped
Datum (tests/events/azure/http_request.json: a GET with a query, six headers and a cookie), the
function runs, HttpResponseConverter.encode turns its func.HttpResponse into the Datum the worker
sends back. The raw function is a hand-written v2-model function returning func.HttpResponse; the
polyfn one is what `polyfn_azure.function_app` registered (get_functions()).

GCP: the same GET as a WSGI request into functions-framework's own Flask app (request context,
routing, view, make_response, WSGI response), with a hand-written function and with
`polyfn_gcp.http(app)` as the target; beside it Flask's pieces alone (flask.Request from the
environ, the request context, make_response of the raw function's tuple) and each function alone
on a fresh flask.Request.

The worker's gRPC hop and the host's own work are not here (they cost the same with or without
polyfn). Medians of interleaved rounds; "polyfn adds" is the paired median difference.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _clouds import azure_call, environ, ff_app, share_table, wsgi  # noqa: E402
from _common import compare, timing_table  # noqa: E402


def azure_bench() -> str:
    import azure.functions as func
    import polyfn_azure
    from azure.functions.http import HttpResponseConverter

    import polyfn

    app = polyfn.App("shop")

    @app.http("/orders/{order_id}", methods=["GET"])
    def get_order(req: polyfn.HttpRequest, ctx: polyfn.Context) -> dict[str, str]:
        return {"id": req.path_params["order_id"]}

    call = azure_call(polyfn_azure.function_app(app), "get_order", "http_request.json")

    def raw(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
        return func.HttpResponse(
            json.dumps({"id": req.route_params["order_id"]}), mimetype="application/json"
        )

    req = call.decode()
    raw_resp = raw(req, call.context)
    polyfn_resp = call.call(req)
    for resp in (raw_resp, polyfn_resp):
        assert resp.status_code == 200 and json.loads(resp.get_body()) == {"id": "42"}

    def encode(resp: Any) -> Any:
        return HttpResponseConverter.encode(resp, expected_type=None)

    decode_ = "HttpRequestConverter.decode (Datum -> func.HttpRequest)"
    encode_ = "HttpResponseConverter.encode (func.HttpResponse -> Datum)"
    raw_ = "raw function (func.HttpRequest -> func.HttpResponse)"
    polyfn_ = "polyfn_azure function (func.HttpRequest -> func.HttpResponse)"
    whole_raw = "decode + raw function + encode"
    whole_polyfn = "decode + polyfn_azure function + encode"
    t = compare(
        {
            decode_: call.decode,
            encode_: lambda: encode(raw_resp),
            raw_: lambda: raw(req, call.context),
            polyfn_: lambda: call.call(req),
            whole_raw: lambda: encode(raw(call.decode(), call.context)),
            whole_polyfn: lambda: encode(call.call(call.decode())),
        }
    )
    return "\n".join(
        [
            "### Azure: HTTP GET, warm, per invocation",
            "",
            timing_table(t, whole_raw, label="step"),
            "",
            share_table(
                t,
                cloud=[decode_, encode_],
                raw=raw_,
                polyfn=polyfn_,
                whole_raw=whole_raw,
                whole_polyfn=whole_polyfn,
            ),
        ]
    )


# A GET as Cloud Run hands it to the container (Google front end headers included).
# https://cloud.google.com/functions/docs/reference/headers
GCP_HEADERS = {
    "Host": "shop-abc123-uc.a.run.app",
    "Accept": "application/json",
    "User-Agent": "bench",
    "Cookie": "session=abc123; theme=dark",
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
    "traceparent": "00-105445aa7843bc8bf206b12000100000-00f067aa0ba902b7-01",
    "Function-Execution-Id": "abc123xyz",
}
GCP_PATH = "/orders/42?tag=a&tag=b&empty=&q=caf%C3%A9"


def gcp_bench() -> str:
    import flask

    raw_app = ff_app("raw_http", "http")
    polyfn_app = ff_app("polyfn_http", "http")
    targets = sys.modules["_gcp_targets"]  # create_app loads the source under its file name
    env = environ("GET", GCP_PATH, GCP_HEADERS)
    for flask_app in (raw_app, polyfn_app):
        assert json.loads(wsgi(flask_app, env())) == {"id": "42"}

    raw_rv = targets.raw_http(flask.Request(env()))
    app_context = raw_app.app_context()
    app_context.push()  # make_response needs the app; pushed once, outside the timing

    def raw_response() -> bytes:
        return wsgi(raw_app.make_response(raw_rv), env())

    def request_context() -> None:
        with raw_app.request_context(env()):
            pass

    request_ = "flask.Request from the WSGI environ"
    context_ = "Flask request context (Request, push, pop)"
    response_ = "make_response of the raw function's tuple + WSGI body"
    raw_ = "raw function on a fresh flask.Request"
    polyfn_ = "polyfn_gcp.http(app) on a fresh flask.Request"
    whole_raw = "functions-framework app (WSGI), raw function"
    whole_polyfn = "functions-framework app (WSGI), polyfn_gcp.http"
    t = compare(
        {
            request_: lambda: flask.Request(env()),
            context_: request_context,
            response_: raw_response,
            raw_: lambda: targets.raw_http(flask.Request(env())),
            polyfn_: lambda: targets.polyfn_http(flask.Request(env())),
            whole_raw: lambda: wsgi(raw_app, env()),
            whole_polyfn: lambda: wsgi(polyfn_app, env()),
        }
    )
    app_context.pop()
    # The function rows include building the flask.Request; the share table compares them with
    # each other, so that cost cancels out of "polyfn adds".
    return "\n".join(
        [
            "### GCP: HTTP GET, warm, per invocation",
            "",
            timing_table(t, whole_raw, label="step"),
            "",
            share_table(
                t,
                cloud=[context_, response_],
                raw=raw_,
                polyfn=polyfn_,
                whole_raw=whole_raw,
                whole_polyfn=whole_polyfn,
            ),
        ]
    )


def main() -> int:
    print(azure_bench())
    print()
    print(gcp_bench())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
