"""An app with one function of every kind, wrapped by polyfn_azure.function_app."""

from __future__ import annotations

from typing import Any

import polyfn_azure
import pytest

from polyfn import App, HttpRequest, HttpResponse
from tests.azure._host import Host


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.fail = False

    def record(self, name: str, event: Any) -> None:
        self.seen.append((name, event))
        if self.fail:
            raise RuntimeError(f"{name} failed on purpose")


def make_app(rec: Recorder) -> App:
    app = App("shop")

    @app.http("/orders/{order_id}", methods=["GET"])
    def get_order(req: HttpRequest, ctx: Any) -> Any:
        rec.record("get_order", req)
        return {
            "id": req.path_params["order_id"],
            "path": req.path,
            "query": req.query.multi_items(),
            "tags": req.query.getall("tag"),
            "multi": req.headers.getall("x-multi"),
            "cookies": req.cookies,
            "ip": req.source_ip,
            "fn": ctx.function_name,
            "trace": ctx.trace_id,
        }

    @app.http("/orders/{order_id}", methods=["DELETE"])
    def delete_order(req: HttpRequest, ctx: Any) -> Any:
        rec.record("delete_order", req)
        return None

    @app.http("/orders", methods=["POST"])
    def create_order(req: HttpRequest, ctx: Any) -> HttpResponse:
        rec.record("create_order", req)
        resp = HttpResponse(req.body, 201, content_type="application/octet-stream")
        resp.headers.add("X-Seen", "a")
        resp.headers.add("X-Seen", "b")
        resp.set_cookie("session", "s1", http_only=True, same_site="Lax")
        resp.set_cookie("theme", "dark", max_age=3600)
        return resp

    @app.http("/files/{path+}", methods=["GET"])
    def read_file(req: HttpRequest, ctx: Any) -> Any:
        rec.record("read_file", req)
        return {"path": req.path_params["path"]}

    @app.http("/cookie-trouble", methods=["GET"])
    def bad_cookie(req: HttpRequest, ctx: Any) -> HttpResponse:
        return HttpResponse(b"", 200).set_cookie("part", "x").set_cookie("p2", "y; Partitioned")

    @app.http("/boom", methods=["GET"])
    def boom(req: HttpRequest, ctx: Any) -> Any:
        raise RuntimeError("secret detail")

    @app.schedule("0 2 * * *")
    def nightly(event: Any, ctx: Any) -> None:
        rec.record("nightly", event)

    @app.storage("uploads", on=["created"], prefix="incoming/")
    def on_upload(event: Any, ctx: Any) -> None:
        rec.record("on_upload", event)

    @app.storage("uploads", on=["created", "deleted"])
    def on_change(event: Any, ctx: Any) -> None:
        rec.record("on_change", event)

    @app.queue("orders")
    def on_order(msg: Any, ctx: Any) -> None:
        rec.record("on_order", msg)

    @app.queue("payments")
    def on_payment(msg: Any, ctx: Any) -> None:
        rec.record("on_payment", msg)

    @app.queue("jobs", fifo=True)
    def on_job(msg: Any, ctx: Any) -> None:
        rec.record("on_job", msg)

    return app


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def host(rec: Recorder) -> Host:
    return Host(polyfn_azure.function_app(make_app(rec), service_bus_queues=["payments"]))
