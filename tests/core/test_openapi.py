"""The OpenAPI 3.1 document: validated by openapi-spec-validator, written by `polyfn openapi`,
served by `polyfn serve`, and fuzzed by schemathesis against the orders sample (bounded)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path as FsPath
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate
from pydantic import BaseModel

from polyfn import App, Context, Header, HttpRequest, Path, Query
from polyfn._local._loader import load_app
from polyfn._openapi import openapi_document
from tests.local._serve import Served

ROOT = FsPath(__file__).resolve().parents[2]
ORDERS = ROOT / "samples" / "orders" / "orders_app.py"


class Pet(BaseModel):
    name: str
    tags: list[str] = []


class Owner(BaseModel):
    pets: list[Pet]


def pets_app() -> App:
    app = App("pets")

    @app.http("/pets/{pet_id}", methods=["GET", "PUT"], response_model=Pet, responses={404: "gone"})
    def pet(
        req: HttpRequest,
        ctx: Context,
        pet_id: Annotated[int, Path(ge=1, description="the pet's number")],
        fields: Annotated[list[str], Query(max_length=3)] = [],  # noqa: B006
        trace: Annotated[str | None, Header(alias="X-Trace", deprecated=True)] = None,
    ) -> Any:
        """Read one pet.

        The whole record, or the `fields` asked for.
        """

    @app.http("/owners", methods=["POST"], body=Owner, status_code=201, responses={201: Owner})
    def add_owner(req: HttpRequest, ctx: Context, owner: Owner) -> Any: ...

    @app.http("/files/{path+}")
    def files(req: HttpRequest, ctx: Context) -> Any: ...

    return app


def test_the_document_describes_parameters_bodies_and_polyfns_own_answers() -> None:
    doc = openapi_document(pets_app(), version="2.0.0")
    validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "pets", "version": "2.0.0"}
    get = doc["paths"]["/pets/{pet_id}"]["get"]
    assert get["operationId"] == "pet_get"  # one function, two methods: one id each
    assert (get["summary"], get["description"]) == (
        "Read one pet.",
        "The whole record, or the `fields` asked for.",
    )
    assert get["parameters"] == [
        {
            "name": "pet_id",
            "in": "path",
            "required": True,
            "description": "the pet's number",
            "schema": {"type": "integer", "minimum": 1},
        },
        {"name": "X-Trace", "in": "header", "deprecated": True, "schema": {"type": "string"}},
        {
            "name": "fields",
            "in": "query",
            "schema": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "style": "form",
            "explode": True,
        },
    ]
    assert sorted(get["responses"]) == ["200", "400", "404", "500"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Pet"
    }
    post = doc["paths"]["/owners"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Owner"
    }
    assert sorted(post["responses"]) == ["201", "400", "415", "500"]
    # The nested model is a component of its own, referenced from Owner.
    schemas = doc["components"]["schemas"]
    assert schemas["Owner"]["properties"]["pets"]["items"] == {"$ref": "#/components/schemas/Pet"}
    assert {"Error", "Owner", "Pet", "ValidationError"} <= set(schemas)
    # A greedy parameter is an ordinary OpenAPI one that says it spans segments.
    files = doc["paths"]["/files/{path}"]["get"]
    assert files["parameters"][0]["name"] == "path"
    assert "'/'" in files["parameters"][0]["description"]
    assert sorted(files["responses"]) == ["200", "500"]


@pytest.mark.parametrize(
    "app", [ORDERS, ROOT / "conformance" / "app.py"], ids=["orders", "conformance"]
)
def test_the_samples_documents_validate(app: FsPath) -> None:
    validate(openapi_document(load_app(str(app))))


def test_polyfn_openapi_writes_the_document(tmp_path: FsPath) -> None:
    out = tmp_path / "openapi.json"
    done = subprocess.run(
        [sys.executable, "-m", "polyfn._cli", "openapi", str(ORDERS), "--out", str(out),
         "--title", "Orders API", "--api-version", "1.2.3"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["info"] == {"title": "Orders API", "version": "1.2.3"}
    assert sorted(doc["paths"]) == ["/orders", "/orders/{order_id}"]
    assert "wrote" in done.stderr


@pytest.fixture
def orders_served(tmp_path: FsPath) -> Any:
    server = Served(str(ORDERS), tmp_path)
    try:
        yield server
    finally:
        server.kill()


@pytest.mark.e2e
def test_serve_answers_the_document_and_a_docs_page(orders_served: Served) -> None:
    with urllib.request.urlopen(orders_served.url + "/_polyfn/openapi.json", timeout=10) as resp:
        served_doc = json.load(resp)
    assert served_doc == openapi_document(load_app(str(ORDERS)))
    with urllib.request.urlopen(orders_served.url + "/_polyfn/docs", timeout=10) as resp:
        assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
        page = resp.read().decode()
    assert 'url: "openapi.json"' in page


@pytest.mark.e2e
def test_schemathesis_finds_nothing_on_the_orders_sample(
    orders_served: Served, tmp_path: FsPath
) -> None:
    schemathesis = shutil.which("schemathesis", path=FsPath(sys.executable).parent)
    assert schemathesis is not None
    done = subprocess.run(
        [schemathesis, "run", orders_served.url + "/_polyfn/openapi.json",
         "--url", orders_served.url, "--checks", "all", "--max-examples", "8",
         "--seed", "20261203", "--no-color"],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "No issues found" in done.stdout


def test_auth_middleware_becomes_security_schemes_and_requirements() -> None:
    from polyfn import api_key, jwt_bearer

    app = App("secure", middleware=[api_key(["k1"], header="X-Key")])

    @app.http("/open")
    def open_route(req: HttpRequest, ctx: Context) -> None: ...

    @app.http(
        "/admin",
        middleware=[jwt_bearer(key="s" * 32, algorithms=["HS256"], audience="api")],
    )
    def admin(req: HttpRequest, ctx: Context) -> None: ...

    doc = openapi_document(app)
    validate(doc)
    assert doc["components"]["securitySchemes"] == {
        "apiKey-X-Key": {"type": "apiKey", "in": "header", "name": "X-Key"},
        "bearerJWT": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }
    # Every layer on the way must pass: one requirement object naming each.
    assert doc["paths"]["/admin"]["get"]["security"] == [{"apiKey-X-Key": [], "bearerJWT": []}]
    assert doc["paths"]["/open"]["get"]["security"] == [{"apiKey-X-Key": []}]
    assert "401" in doc["paths"]["/admin"]["get"]["responses"]
