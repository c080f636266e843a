"""`polyfn.wsgi` with real Flask apps, and Django through both bridges (its WSGI and ASGI
handlers), minimally: routing, SCRIPT_NAME / root_path from a stage, cookies, bodies, errors."""

from __future__ import annotations

import json
from typing import Any

import flask
import pytest

import polyfn
from conformance._httpcase import HttpCase
from conformance.targets.aws_http import AwsHttpTarget
from conformance.targets.azure_http import AzureHttpTarget
from polyfn import App
from polyfn.testing import Client

METHODS = ["GET", "POST"]


def serve_wsgi(wsgi_app: Any, name: str = "web") -> App:
    app = App(name)
    app.http("/{path+}", methods=METHODS, function_name="api")(polyfn.wsgi(wsgi_app))
    return app


def flask_app(*, propagate: bool = True) -> flask.Flask:
    web = flask.Flask("wsgi_test")
    web.config["PROPAGATE_EXCEPTIONS"] = propagate

    @web.route("/where")
    def where() -> Any:
        req = flask.request
        return {
            "script_name": req.environ["SCRIPT_NAME"],
            "path_info": req.environ["PATH_INFO"],
            "link": flask.url_for("where", _external=True),
            "args": list(req.args.items(multi=True)),
            "multi": req.headers.get("X-Multi"),
            "remote": req.remote_addr,
        }

    @web.route("/cookies")
    def cookies() -> flask.Response:
        resp = flask.Response(bytes(range(256)), content_type="application/octet-stream")
        resp.set_cookie("a", "1")
        resp.set_cookie("b", "2", max_age=60)
        resp.headers.add("X-Multi", "one")
        resp.headers.add("X-Multi", "two")
        return resp

    @web.route("/upload", methods=["POST"])
    def upload() -> flask.Response:
        return flask.Response(flask.request.get_data()[::-1], content_type="image/png")

    @web.route("/stream")
    def stream() -> flask.Response:
        return flask.Response((f"part {i}\n" for i in range(3)), mimetype="text/plain")

    @web.route("/crash")
    def crash() -> str:
        raise RuntimeError("secret-detail hunter2")

    return web


def test_flask_cookies_repeated_headers_binary_bodies_and_a_generator_body() -> None:
    client = Client(serve_wsgi(flask_app()))
    resp = client.get("/cookies")
    assert resp.body == bytes(range(256))
    assert [c.split(";")[0] for c in resp.cookies] == ["a=1", "b=2"]
    assert resp.headers.getall("x-multi") == ["one", "two"]
    data = bytes(range(256)) * 3
    assert client.post("/upload", body=data).body == data[::-1]
    assert client.get("/stream").body == b"part 0\npart 1\npart 2\n"


def test_flask_repeated_query_keys_and_headers() -> None:
    resp = Client(serve_wsgi(flask_app())).get(
        "/where?k=1&k=2&blank=", headers=[("X-Multi", "a"), ("X-Multi", "b")]
    )
    seen = Client.json(resp)
    assert seen["args"] == [["k", "1"], ["k", "2"], ["blank", ""]]
    assert seen["multi"] == "a, b"  # PEP 3333: one HTTP_ value, joined


def test_a_crash_is_polyfns_500_when_flask_propagates_and_flasks_own_page_otherwise() -> None:
    resp = Client(serve_wsgi(flask_app())).get("/crash")
    assert resp.status == 500
    assert Client.json(resp)["error"] == "internal error" and b"hunter2" not in resp.body
    own = Client(serve_wsgi(flask_app(propagate=False), name="own")).get("/crash")
    assert own.status == 500 and b"Internal Server Error" in own.body


WHERE = HttpCase("where", "GET", "/where", query="k=1")


@pytest.mark.parametrize(
    ("target", "root"),
    [
        (AwsHttpTarget("aws-rest"), "/prod"),
        (AwsHttpTarget("aws-http"), ""),
        (AzureHttpTarget(), "/api"),
    ],
    ids=["rest-stage", "http", "azure"],
)
def test_script_name_is_the_stage_or_route_prefix(target: Any, root: str) -> None:
    outcome = target.run(WHERE, serve_wsgi(flask_app(), name=f"w{abs(hash(target.name)) % 1000}"))
    seen = json.loads(outcome.body)
    assert (seen["script_name"], seen["path_info"]) == (root, "/where")
    assert seen["link"].endswith(f"{root}/where")
    assert seen["remote"] == WHERE.source_ip


# -- Django, minimally ------------------------------------------------------------------------


def _django() -> Any:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            DEBUG_PROPAGATE_EXCEPTIONS=True,
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF=__name__,
            SECRET_KEY="test-only",
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
        )
        import django

        django.setup()
    return settings


def django_where(request: Any) -> Any:
    from django.http import JsonResponse
    from django.urls import reverse

    resp = JsonResponse(
        {
            "script_name": request.META.get("SCRIPT_NAME", ""),
            "path_info": request.path_info,
            "path": request.path,
            "link": reverse("where"),
            "k": request.GET.getlist("k"),
        }
    )
    resp.set_cookie("a", "1")
    resp.set_cookie("b", "2")
    return resp


def _urls() -> list[Any]:
    from django.urls import path

    return [path("where", django_where, name="where")]


def __getattr__(name: str) -> Any:  # Django reads `urlpatterns` from ROOT_URLCONF lazily
    if name == "urlpatterns":
        return _urls()
    raise AttributeError(name)


@pytest.mark.parametrize("bridge", ["wsgi", "asgi"])
def test_django_under_a_stage_keeps_its_script_prefix_and_cookies(bridge: str) -> None:
    _django()
    if bridge == "wsgi":
        from django.core.wsgi import get_wsgi_application

        handler = polyfn.wsgi(get_wsgi_application())
    else:
        from django.core.asgi import get_asgi_application

        handler = polyfn.asgi(get_asgi_application())
    app = App(f"django{bridge}")
    app.http("/{path+}", methods=METHODS, function_name="api")(handler)
    outcome = AwsHttpTarget("aws-rest").run(HttpCase("w", "GET", "/where", query="k=1&k=2"), app)
    assert outcome.status == 200, outcome.body
    seen = json.loads(outcome.body)
    assert seen["path_info"] == "/where" and seen["path"] == "/prod/where"
    assert seen["link"] == "/prod/where"
    assert seen["k"] == ["1", "2"]
    assert sorted(c.split(";")[0] for c in outcome.cookies) == ["a=1", "b=2"]
