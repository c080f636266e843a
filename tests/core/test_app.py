import json

import pydantic
import pytest

from polyfn import (
    App,
    ConfigError,
    Context,
    HTTPError,
    HttpRequest,
    HttpResponse,
    QueueMessage,
    Schedule,
)


class OrderIn(pydantic.BaseModel):
    sku: str
    quantity: int = pydantic.Field(gt=0)


def make_app() -> App:
    app = App("shop")

    @app.http("/orders", methods=["POST"], body=OrderIn)
    def create(req, ctx, order):
        return HttpResponse.json(
            {"sku": order.sku, "n": order.quantity, "fn": ctx.function_name}, 201
        )

    @app.http("/orders/{order_id}")
    def get_order(req, ctx):
        if req.path_params["order_id"] == "gone":
            raise HTTPError(410, "order gone", headers={"X-Why": "deleted"})
        return {"id": req.path_params["order_id"], "route": req.route}

    @app.http("/boom")
    def boom(req, ctx):
        raise RuntimeError("database password is hunter2")

    @app.http("/weird")
    def weird(req, ctx):
        return 1.5

    @app.http("/cookies")
    def cookies(req, ctx):
        return HttpResponse("ok", headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")])

    return app


def call(app, method, path, body=b""):
    return app.handle_http(HttpRequest(method, path, body=body), Context("local", "?", "req-7"))


def test_validated_body_reaches_handler_as_model():
    resp = call(make_app(), "POST", "/orders", b'{"sku": "A1", "quantity": 2}')
    assert resp.status == 201
    assert json.loads(resp.body) == {"sku": "A1", "n": 2, "fn": "create"}


@pytest.mark.parametrize(
    ("body", "message", "loc"),
    [
        (b'{"sku": "A1", "quantity": 0}', "request body failed validation", "quantity"),
        (b'{"quantity": 1}', "request body failed validation", "sku"),
        (b"{not json", "request body is not valid JSON", "body"),
        (b"", "request body failed validation", "body"),
    ],
)
def test_invalid_body_is_400_with_field_errors(body, message, loc):
    resp = call(make_app(), "POST", "/orders", body)
    assert resp.status == 400
    payload = json.loads(resp.body)
    assert payload["error"] == message
    assert loc in [f["loc"] for f in payload["fields"]]


def test_path_params_and_route():
    resp = call(make_app(), "GET", "/orders/42")
    assert json.loads(resp.body) == {"id": "42", "route": "/orders/{order_id}"}


def test_http_error_answers_with_its_status_detail_and_headers():
    resp = call(make_app(), "GET", "/orders/gone")
    assert resp.status == 410
    assert json.loads(resp.body) == {"error": "order gone"}
    assert resp.headers["X-Why"] == "deleted"


def test_unhandled_exception_is_500_with_request_id_and_traceback_only_in_log(log_lines):
    resp = call(make_app(), "GET", "/boom")
    assert resp.status == 500
    assert json.loads(resp.body) == {"error": "internal error", "request_id": "req-7"}
    assert b"hunter2" not in resp.body and b"Traceback" not in resp.body
    (line,) = [entry for entry in log_lines() if entry["level"] == "ERROR"]
    assert line["invocation_id"] == "req-7" and line["function_name"] == "boom"
    assert "hunter2" in line["exception"] and "Traceback" in line["exception"]


def test_unsupported_return_type_is_500(log_lines):
    assert call(make_app(), "GET", "/weird").status == 500
    (error,) = [line for line in log_lines() if line["level"] == "ERROR"]
    assert "float" in error["exception"]


def test_404_405():
    app = make_app()
    assert call(app, "GET", "/nope").status == 404
    resp = call(app, "DELETE", "/orders/1")
    assert resp.status == 405 and resp.headers["Allow"] == "GET"


def test_set_cookie_headers_become_separate_cookies():
    resp = call(make_app(), "GET", "/cookies")
    assert resp.cookies == ["a=1", "b=2"] and "set-cookie" not in resp.headers


def test_handle_http_for_one_function_refuses_other_routes():
    app = make_app()
    ctx = Context("aws", "get_order", "i")
    req = HttpRequest("GET", "/boom")
    assert app.handle_http(req, ctx, function=app.function("get_order")).status == 404


def test_ctx_log_writes_json_with_invocation_fields_and_extras(log_lines):
    ctx = Context("local", "fn", "inv-9")
    ctx.log.info("hello %s", "world", extra={"order": 7})
    entry = log_lines()[-1]
    assert entry["message"] == "hello world"
    assert entry["invocation_id"] == "inv-9" and entry["function_name"] == "fn"
    assert entry["trace_id"] == ctx.trace.trace_id and entry["order"] == 7
    assert entry["level"] == "INFO"


def test_registration_errors_are_config_errors():
    app = App("a")
    with pytest.raises(ConfigError, match="unknown HTTP method"):
        app.http("/x", methods=["FETCH"])
    with pytest.raises(ConfigError, match="pydantic"):
        app.http("/x", body=dict)
    with pytest.raises(ConfigError, match="expected one of"):
        app.storage("b", on=["renamed"])
    with pytest.raises(ConfigError, match="positive"):
        app.queue("q", memory=0)
    with pytest.raises(ConfigError, match="batch_size"):
        app.queue("q", batch_size=0)

    @app.queue("q")
    def worker(msg, ctx):
        return None

    with pytest.raises(ConfigError, match="already has"):
        app.queue("q2", function_name="worker")(lambda m, c: None)
    with pytest.raises(ConfigError, match="no function 'nope'; it has: worker"):
        app.function("nope")


def test_trigger_lookup_and_describe():
    app = App("shop")

    @app.storage("uploads", on=["created", "deleted"], prefix="in/", suffix=".csv", memory=256)
    def on_upload(event, ctx): ...

    @app.queue("orders", fifo=True)
    def on_order(msg, ctx): ...

    @app.schedule("0 2 * * *", tz="Europe/Paris")
    def nightly(event, ctx): ...

    assert app.storage_functions("uploads", "created", "in/a.csv") == [app.function("on_upload")]
    assert app.storage_functions("uploads", "created", "out/a.csv") == []
    assert app.storage_functions("uploads", "archived", "in/a.csv") == []
    assert app.queue_function("orders") is app.function("on_order")
    assert app.queue_function("other") is None
    assert app.function("on_upload").settings.memory == 256
    assert app.function("nightly").trigger.schedule == Schedule.cron("0 2 * * *", "Europe/Paris")
    assert app.describe() == (
        "on_upload: storage uploads on created,deleted (in/*.csv); on_order: queue orders; "
        "nightly: schedule 0 2 * * * (Europe/Paris)"
    )


def test_invoke_reraises_after_logging(log_lines):
    app = App("q")

    @app.queue("orders")
    def worker(msg, ctx):
        raise ValueError(f"bad {msg.id}")

    msg = QueueMessage("m1", b"{}", queue="orders")
    with pytest.raises(ValueError, match="bad m1"):
        app.invoke(app.function("worker"), msg, Context("aws", "x", "inv"))
    assert log_lines()[-1]["function_name"] == "worker"


def test_head_on_a_get_route_has_the_get_headers_and_no_body():
    app = make_app()
    get = call(app, "GET", "/orders/7")
    head = call(app, "HEAD", "/orders/7")
    assert (head.status, head.body) == (200, b"")
    assert head.headers.multi_items() == get.headers.multi_items()
