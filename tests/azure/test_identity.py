"""`req.cloud_principal` on Azure: the headers App Service authentication injects, decoded by
polyfn_azure from a host-shaped request (azure-functions' own converter builds the request)."""

from __future__ import annotations

import base64
import json

import polyfn_azure

from polyfn import App, cloud_auth
from tests.azure._host import Host, encoded_response
from tests.azure.test_http import request


def host() -> Host:
    app = App("identity")

    @app.http("/me", middleware=[cloud_auth()])
    def me(req, ctx):
        p = req.principal
        return {"subject": p.subject, "scheme": p.scheme, "claims": p.claims}

    return Host(polyfn_azure.function_app(app))


# The decoded shape App Service documents: auth_typ, claims [{typ, val}], name_typ, role_typ.
PRINCIPAL = {
    "auth_typ": "aad",
    "claims": [
        {"typ": "name", "val": "Alice"},
        {"typ": "roles", "val": "reader"},
        {"typ": "roles", "val": "writer"},
    ],
    "name_typ": "name",
    "role_typ": "roles",
}


def call(**headers: str) -> tuple[int, dict]:
    status, _, _, body = encoded_response(
        host().http("me", request("GET", "https://x/api/me", **headers))
    )
    return status, json.loads(body)


def test_client_principal_headers_become_the_principal():
    status, body = call(
        **{
            "x-ms-client-principal": base64.b64encode(json.dumps(PRINCIPAL).encode()).decode(),
            "x-ms-client-principal-id": "oid-1",
            "x-ms-client-principal-idp": "aad",
        }
    )
    assert status == 200
    assert (body["subject"], body["scheme"]) == ("oid-1", "azure:app-service-auth")
    assert body["claims"]["roles"] == ["reader", "writer"]
    assert body["claims"]["idp"] == "aad" and body["claims"]["auth_typ"] == "aad"


def test_without_the_headers_or_with_a_garbled_one_it_is_401():
    assert call()[0] == 401
    assert call(**{"x-ms-client-principal": "%%% not base64"})[0] == 401
