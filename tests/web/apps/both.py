"""A FastAPI app under /a and a Flask app under /w, in one polyfn App for `polyfn serve`."""

from contextlib import asynccontextmanager

import flask
from fastapi import FastAPI, Request, Response

import polyfn

STARTS = []


@asynccontextmanager
async def lifespan(api: FastAPI):  # type: ignore[no-untyped-def]
    STARTS.append(1)
    yield


api = FastAPI(lifespan=lifespan)


@api.get("/a/hello")
async def hello(request: Request) -> Response:
    resp = Response(b"\x00\x01\xfe\xff", media_type="application/octet-stream")
    resp.set_cookie("a", "1")
    resp.set_cookie("b", "2")
    resp.headers["x-starts"] = str(len(STARTS))
    resp.headers["x-tags"] = ",".join(request.query_params.getlist("tag"))
    return resp


web = flask.Flask(__name__)


@web.route("/w/hello", methods=["POST"])
def flask_hello() -> flask.Response:
    resp = flask.Response(flask.request.get_data()[::-1], content_type="image/png")
    resp.set_cookie("c", "3")
    resp.set_cookie("d", "4")
    return resp


app = polyfn.App("both")
app.http("/a/{path+}", methods=["GET"], function_name="fastapi_app")(polyfn.asgi(api))
app.http("/w/{path+}", methods=["POST"], function_name="flask_app")(polyfn.wsgi(web))
