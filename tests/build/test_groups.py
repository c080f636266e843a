"""Which HTTP functions share a deployed function (polyfn._groups), and the GCP target that serves
one group of routes (polyfn_gcp.http(app, functions=[...]))."""

from __future__ import annotations

from typing import Any

import flask
import polyfn_gcp
import pytest

from polyfn import App, ConfigError
from polyfn._groups import http_groups


def _ok(req: Any, ctx: Any) -> str:
    return "ok"


def _names(app: App) -> list[tuple[str, list[str]]]:
    return [(g.name, [f.name for f in g.functions]) for g in http_groups(app)]


def test_routes_share_one_group_unless_their_settings_differ() -> None:
    app = App("shop")
    app.http("/big", memory=1024, function_name="big")(_ok)
    for name in ("a", "b", "c"):
        app.http(f"/{name}", function_name=name)(_ok)
    app.http("/a60", timeout=60, function_name="a60")(_ok)  # the default, declared: the same
    app.http("/big2", memory=1024, function_name="big2")(_ok)
    app.http("/env", env={"MODE": "x"}, function_name="env")(_ok)
    app.schedule("0 1 * * *", function_name="tick")(lambda e, c: None)
    # The largest group is the shared one, whatever was declared first.
    assert _names(app) == [
        ("http", ["a", "b", "c", "a60"]),
        ("big", ["big", "big2"]),
        ("env", ["env"]),
    ]
    assert [g.shared for g in http_groups(app)] == [True, False, False]


def test_standalone_and_max_concurrency_deploy_alone() -> None:
    app = App("shop")
    app.http("/a", function_name="a")(_ok)
    app.http("/own", standalone=True, function_name="own")(_ok)
    app.http("/cap1", max_concurrency=3, function_name="cap1")(_ok)
    app.http("/cap2", max_concurrency=3, function_name="cap2")(_ok)
    assert _names(app) == [
        ("http", ["a"]),
        ("own", ["own"]),
        ("cap1", ["cap1"]),
        ("cap2", ["cap2"]),
    ]
    alone = App("alone")
    alone.http("/x", standalone=True, function_name="x")(_ok)
    assert _names(alone) == [("x", ["x"])]  # no shared group at all
    assert http_groups(App("none")) == []


def test_standalone_must_be_a_bool_and_a_function_named_http_must_share() -> None:
    with pytest.raises(ConfigError, match="standalone must be True or False"):
        App("x").http("/", standalone="yes")
    app = App("clash")
    app.http("/a", function_name="a")(_ok)
    app.schedule("0 1 * * *", function_name="http")(lambda e, c: None)
    with pytest.raises(ConfigError, match="function 'http' is deployed on its own"):
        http_groups(app)
    fine = App("fine")
    fine.http("/", function_name="http")(_ok)
    assert _names(fine) == [("http", ["http"])]


def _call(handler: Any, method: str, path: str) -> tuple[int, Any]:
    with flask.Flask("groups").test_request_context(path, method=method):
        resp = handler(flask.request)
    return resp.status_code, resp.get_json(silent=True)


def test_gcp_http_for_a_group_serves_its_routes_only() -> None:
    app = App("shop")
    app.http("/a", function_name="a")(_ok)
    app.http("/b", methods=["GET", "POST"], function_name="b")(lambda req, ctx: {"b": True})
    app.http("/big", memory=1024, function_name="big")(_ok)
    app.schedule("0 1 * * *", function_name="tick")(lambda e, c: None)
    shared = polyfn_gcp.http(app, functions=["a", "b"])
    assert _call(shared, "POST", "/b") == (200, {"b": True})
    assert _call(shared, "GET", "/big") == (404, {"error": "not found"})  # another group's
    assert _call(shared, "POST", "/_polyfn/schedule/tick") == (404, {"error": "not found"})
    assert _call(shared, "GET", "/nowhere") == (404, {"error": "not found"})
    assert _call(shared, "DELETE", "/b")[0] == 405
    with pytest.raises(ConfigError, match="'tick' is a schedule function, not an HTTP function"):
        polyfn_gcp.http(app, functions=["tick"])
    with pytest.raises(ConfigError, match="function= or functions=, not both"):
        polyfn_gcp.http(app, function="a", functions=["a"])
