"""A functions-framework HTTP function as its author writes it for Cloud Run functions (a Flask
view); nothing here knows polyfn. tests/native/app.py serves it on every cloud through
polyfn_gcp.from_functions_framework.
"""

from __future__ import annotations

from typing import Any

import flask
import functions_framework


@functions_framework.http
def hello(request: flask.Request) -> Any:
    if request.args.get("missing"):
        flask.abort(404, description="no such greeting")
    if request.method == "POST":
        data = request.get_json(silent=True) or {}
        response = flask.make_response(flask.jsonify(greeted=data.get("name")), 201)
        response.set_cookie("visited", "yes", httponly=True)
        response.set_cookie("lang", "en")
        response.headers.add("X-Multi", "one")
        response.headers.add("X-Multi", "two")
        return response
    return {
        "hello": request.args.get("name", "world"),
        "tags": request.args.getlist("tag"),
        "path": request.path,
        "agent": request.headers.get("User-Agent"),
        "remote_addr": request.remote_addr,
    }


@functions_framework.http
def returns_none(request: flask.Request) -> Any:
    return None
