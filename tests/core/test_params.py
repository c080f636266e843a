"""Typed path, query and header parameters, and response models (polyfn._params), through the
whole HTTP pipeline (`polyfn.testing.Client`: the same `App.handle_http` every cloud calls)."""

from __future__ import annotations

import datetime
import enum
import json
import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel

from polyfn import App, ConfigError, Context, Header, HttpRequest, HttpResponse, Path, Query
from polyfn.testing import Client


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def fields_of(resp: HttpResponse) -> list[dict[str, str]]:
    assert resp.status == 400, resp.body
    doc = json.loads(resp.body)
    assert doc["error"] == "request parameters failed validation"
    return list(doc["fields"])


def one_route(handler: Any, path: str = "/r/{item_id}", **options: Any) -> Client:
    app = App("params")
    app.http(path, **options)(handler)
    return Client(app)


def echo_client() -> Client:
    app = App("params")

    @app.http("/items/{item_id}")
    def item(
        req: HttpRequest,
        ctx: Context,
        item_id: int,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
        ratio: float = 0.5,
        on: bool = False,
        color: Color = Color.RED,
        mode: Literal["fast", "slow"] = "fast",
        tag: list[str] = [],  # noqa: B006 - polyfn hands each call a copy
        ids: tuple[int, ...] = (),
        when: datetime.date | None = None,
        ref: uuid.UUID | None = None,
        x_tenant: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        tag.append("seen")  # mutating the default must not leak into the next request
        return {
            "item_id": item_id,
            "limit": limit,
            "ratio": ratio,
            "on": on,
            "color": color.value,
            "mode": mode,
            "tag": tag,
            "ids": list(ids),
            "ids_type": type(ids).__name__,
            "when": when.isoformat() if when else None,
            "ref": str(ref) if ref else None,
            "tenant": x_tenant,
        }

    return Client(app)


def test_values_arrive_converted_to_their_annotated_types() -> None:
    client = echo_client()
    resp = client.get(
        "/items/42?limit=7&ratio=2.5&on=YES&color=blue&mode=slow&tag=a&tag=b%2Bc&ids=3&ids=4"
        "&when=2026-12-03&ref=12345678-1234-5678-1234-567812345678",
        headers={"X-TENANT": "acme"},
    )
    assert resp.status == 200, resp.body
    assert client.json(resp) == {
        "item_id": 42,
        "limit": 7,
        "ratio": 2.5,
        "on": True,
        "color": "blue",
        "mode": "slow",
        "tag": ["a", "b+c", "seen"],
        "ids": [3, 4],
        "ids_type": "tuple",
        "when": "2026-12-03",
        "ref": "12345678-1234-5678-1234-567812345678",
        "tenant": "acme",
    }


def test_absent_parameters_take_their_defaults_and_a_list_default_is_never_shared() -> None:
    client = echo_client()
    for _ in range(2):
        doc = client.json(client.get("/items/1"))
        assert doc["tag"] == ["seen"]
        assert (doc["limit"], doc["on"], doc["color"], doc["tenant"]) == (10, False, "red", None)


@pytest.mark.parametrize(
    ("query", "field", "kind"),
    [
        ("limit=%207", "query.limit", "int_parsing"),  # " 7": int() would take it
        ("limit=1_0", "query.limit", "int_parsing"),
        ("limit=7.0", "query.limit", "int_parsing"),
        ("limit=0", "query.limit", "greater_than_equal"),
        ("limit=51", "query.limit", "less_than_equal"),
        ("ratio=nan", "query.ratio", "finite_number"),
        ("ratio=inf", "query.ratio", "finite_number"),
        ("ratio=1_0", "query.ratio", "float_parsing"),
        ("on=maybe", "query.on", "bool_parsing"),
        ("color=green", "query.color", "enum"),
        ("mode=FAST", "query.mode", "enum"),
        ("ids=1&ids=x", "query.ids", "int_parsing"),
        ("when=2026-13-01", "query.when", "date_from_datetime_parsing"),
        ("ref=nope", "query.ref", "uuid_parsing"),
    ],
)
def test_a_value_that_does_not_convert_is_a_400_naming_the_field(
    query: str, field: str, kind: str
) -> None:
    fields = fields_of(echo_client().get(f"/items/1?{query}"))
    assert [(f["loc"], f["type"]) for f in fields] == [(field, kind)]
    assert fields[0]["message"]


def test_every_problem_of_a_request_is_reported_at_once_and_the_handler_is_not_called() -> None:
    calls = []

    def handler(req: HttpRequest, ctx: Context, item_id: int, q: int, h: Annotated[int, Header()]):
        calls.append(1)

    fields = fields_of(one_route(handler).get("/r/x?q=y"))
    assert [(f["loc"], f["type"]) for f in fields] == [
        ("path.item_id", "int_parsing"),
        ("query.q", "int_parsing"),
        ("header.h", "missing"),
    ]
    assert calls == []


def test_optional_without_a_default_is_still_required_as_in_fastapi() -> None:
    def handler(req: HttpRequest, ctx: Context, item_id: str, q: int | None) -> dict[str, Any]:
        return {"q": q}

    client = one_route(handler)
    assert [f["loc"] for f in fields_of(client.get("/r/1"))] == ["query.q"]
    assert client.json(client.get("/r/1?q=3")) == {"q": 3}


def test_headers_by_alias_or_underscores_as_dashes_case_insensitively() -> None:
    def handler(
        req: HttpRequest,
        ctx: Context,
        item_id: str,
        request_id: str = Header(),
        tenant: Annotated[str, Header(alias="X-Tenant-Id", pattern="^[a-z]+$")] = "none",
    ) -> dict[str, str]:
        return {"request_id": request_id, "tenant": tenant}

    client = one_route(handler)
    resp = client.get("/r/1", headers={"REQUEST-ID": "r-1", "x-tenant-id": "acme"})
    assert client.json(resp) == {"request_id": "r-1", "tenant": "acme"}
    fields = fields_of(client.get("/r/1", headers={"request-id": "r", "X-Tenant-Id": "ACME"}))
    assert [(f["loc"], f["type"]) for f in fields] == [
        ("header.X-Tenant-Id", "string_pattern_mismatch")
    ]


def test_string_and_list_lengths() -> None:
    def handler(
        req: HttpRequest,
        ctx: Context,
        item_id: Annotated[str, Path(min_length=2, max_length=4)],
        tag: Annotated[list[str], Query(max_length=2)] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"id": item_id, "tag": tag}

    client = one_route(handler)
    assert client.json(client.get("/r/abc?tag=1&tag=2")) == {"id": "abc", "tag": ["1", "2"]}
    assert [f["type"] for f in fields_of(client.get("/r/a"))] == ["too_short"]
    assert [f["type"] for f in fields_of(client.get("/r/abcde"))] == ["too_long"]
    assert [f["message"] for f in fields_of(client.get("/r/abc?tag=1&tag=2&tag=3"))] == [
        "must have at most 2 values"
    ]


class OrderIn(BaseModel):
    sku: str


def test_body_model_and_parameters_together() -> None:
    def handler(req: HttpRequest, ctx: Context, order: OrderIn, dry_run: bool = False) -> Any:
        return {"sku": order.sku, "dry_run": dry_run}

    client = one_route(handler, "/orders", methods=["POST"], body=OrderIn)
    resp = client.post("/orders?dry_run=1", json={"sku": "fig"})
    assert client.json(resp) == {"sku": "fig", "dry_run": True}


class Out(BaseModel):
    id: int
    name: str


@dataclass
class Row:
    id: int
    name: str
    secret: str


def test_response_model_validates_serialises_and_drops_undeclared_fields() -> None:
    def handler(req: HttpRequest, ctx: Context) -> Row:
        return Row(7, "fig", "hunter2")

    client = one_route(handler, "/r", response_model=Out, status_code=201)
    resp = client.get("/r")
    assert resp.status == 201
    assert resp.headers["content-type"] == "application/json"
    assert client.json(resp) == {"id": 7, "name": "fig"}


def test_a_list_response_model_and_an_http_response_passing_through() -> None:
    def handler(req: HttpRequest, ctx: Context, raw: bool = False) -> Any:
        if raw:
            return HttpResponse(b"as is", 202)
        return [{"id": "1", "name": "a"}]

    client = one_route(handler, "/r", response_model=list[Out])
    assert client.json(client.get("/r")) == [{"id": 1, "name": "a"}]
    resp = client.get("/r?raw=true")
    assert (resp.status, resp.body) == (202, b"as is")


def test_a_result_the_response_model_refuses_is_a_500_with_the_reason_only_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(req: HttpRequest, ctx: Context) -> dict[str, Any]:
        return {"id": "not a number", "name": "x"}

    resp = one_route(broken, "/r", response_model=Out).get("/r")
    assert resp.status == 500
    assert b"not a number" not in resp.body
    assert json.loads(resp.body)["error"] == "internal error"
    assert "broken returned a value that does not fit its response_model Out" in caplog.text


def test_a_plain_handler_is_registered_as_it_is() -> None:
    app = App("plain")

    def handler(req: HttpRequest, ctx: Context) -> None:
        return None

    app.http("/x")(handler)
    fn = app.function("handler")
    assert fn.handler is handler
    assert fn.trigger.signature is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: _annotated(Annotated[str, Path()], "other"),
            "no {other} in the route template",
        ),
        (
            lambda: _annotated(Annotated[str, Query()], "item_id"),
            "named like the path parameter {item_id} but marked Query",
        ),
        (
            lambda: _annotated(OrderIn, "order"),
            "declare a JSON body with app.http(..., body=Model)",
        ),
        (lambda: _annotated(list[int], "item_id"), "a path parameter holds one value"),
        (lambda: _annotated(Opaque, "thing"), "pydantic cannot convert type"),
    ],
)
def test_declaration_errors_name_the_route_and_parameter(make: Any, message: str) -> None:
    app = App("bad")
    with pytest.raises(ConfigError, match=re.escape("route '/r/{item_id}'")) as err:
        app.http("/r/{item_id}")(make())
    assert message in str(err.value)


class Opaque:
    """A type neither polyfn nor pydantic knows how to read from a string."""


def test_an_unannotated_parameter_is_a_string_from_the_query() -> None:
    namespace: dict[str, Any] = {}
    exec("def handler(req, ctx, item_id, other='-'): return [item_id, other]", namespace)
    client = one_route(namespace["handler"])
    assert client.json(client.get("/r/7?other=x")) == ["7", "x"]
    assert client.json(client.get("/r/7")) == ["7", "-"]


def _annotated(annotation: Any, name: str) -> Any:
    """A handler ``(req, ctx, <name>: <annotation>)``, written as a user would."""
    namespace: dict[str, Any] = {"A": annotation}
    exec(f"def handler(req, ctx, {name}: A): return None", namespace)
    return namespace["handler"]


def test_two_parameters_reading_the_same_value_are_refused() -> None:
    def handler(
        req: HttpRequest, ctx: Context, a: Annotated[str, Query(alias="q")] = "", q: str = ""
    ) -> None:
        return None

    with pytest.raises(ConfigError, match="parameters 'a' and 'q' both read query 'q'"):
        App("dup").http("/r")(handler)


def test_an_unresolvable_annotation_is_a_declaration_error() -> None:
    def handler(req: HttpRequest, ctx: Context, q: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(ConfigError, match="cannot resolve the type annotations"):
        App("fwd").http("/r")(handler)


def test_statuses_are_checked_at_declaration() -> None:
    with pytest.raises(ConfigError, match="not an HTTP status"):
        App("s").http("/r", responses={99: "nope"})
    with pytest.raises(ConfigError, match="not an HTTP status"):
        App("s").http("/r", status_code=True)  # type: ignore[arg-type]
