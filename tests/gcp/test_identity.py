"""`req.cloud_principal` on GCP: IAP's user headers and the ID token Cloud Run IAM verified
(forwarded with its signature removed), read by polyfn_gcp from a real flask.Request."""

from __future__ import annotations

import base64
import json

import flask
import polyfn_gcp
import pytest

from polyfn import App, cloud_auth


@pytest.fixture(scope="module")
def target():
    app = App("identity")

    @app.http("/me", middleware=[cloud_auth()])
    def me(req, ctx):
        p = req.principal
        return {"subject": p.subject, "scheme": p.scheme, "claims": p.claims}

    return polyfn_gcp.http(app)


def call(target, **headers: str):
    with flask.Flask("t").test_request_context("/me", headers=headers):
        resp = target(flask.request)
    return resp.status_code, resp.get_json()


def token(claims: dict, signature: str = "SIGNATURE_REMOVED_BY_GOOGLE") -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"Bearer {part({'alg': 'RS256'})}.{part(claims)}.{signature}"


def test_iap_headers(target):
    status, body = call(
        target,
        **{
            "X-Goog-Authenticated-User-Email": "accounts.google.com:alice@example.com",
            "X-Goog-Authenticated-User-Id": "accounts.google.com:1234",
        },
    )
    assert status == 200
    assert (body["subject"], body["scheme"]) == ("1234", "gcp:iap")
    assert body["claims"]["email"] == "alice@example.com"


def test_cloud_run_iam_token_prefers_x_serverless_authorization(target):
    status, body = call(
        target,
        **{
            "X-Serverless-Authorization": token(
                {"sub": "sa-1", "email": "ci@p.iam.gserviceaccount.com"}
            ),
            "Authorization": token({"sub": "someone-else"}),
        },
    )
    assert status == 200
    assert (body["subject"], body["scheme"]) == ("sa-1", "gcp:iam")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": token({"sub": "forged"}, signature="c2lnbmVk")},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer a.%%%.SIGNATURE_REMOVED_BY_GOOGLE"},
    ],
)
def test_tokens_cloud_run_did_not_verify_are_401(target, headers):
    assert call(target, **headers)[0] == 401
