"""`req.cloud_principal` on AWS: what API Gateway's authorizers and function URL IAM auth put in
``requestContext.authorizer``, read by polyfn_aws and trusted by `polyfn.cloud_auth`. Each event
is a fixture with the authorizer block the service adds, validated by Powertools' parser model."""

from __future__ import annotations

import json

import polyfn_aws
import pytest

from polyfn import App, cloud_auth

from .conftest import MODELS, lambda_context, load, validate


@pytest.fixture(scope="module")
def app() -> App:
    app = App("identity")

    @app.http("/{path+}", methods=["GET", "POST", "PUT", "DELETE"], middleware=[cloud_auth()])
    def whoami(req, ctx):
        p = req.principal
        return {"subject": p.subject, "scheme": p.scheme, "claims": p.claims}

    return app


def call(app: App, fixture: str, authorizer: dict | None) -> tuple[int, dict]:
    event = load(fixture)
    if authorizer is not None:
        event["requestContext"]["authorizer"] = authorizer
    validate(MODELS[fixture], event)
    result = polyfn_aws.handler(app)(event, lambda_context())
    return result["statusCode"], json.loads(result["body"])


JWT_CLAIMS = {"sub": "u-1", "iss": "https://cognito-idp.example", "aud": "app", "email": "a@x"}


@pytest.mark.parametrize(
    ("fixture", "authorizer", "subject", "scheme", "claim"),
    [
        (
            "apigw_http_v2",
            {"jwt": {"claims": JWT_CLAIMS, "scopes": ["orders:read"]}},
            "u-1",
            "aws:jwt-authorizer",
            ("scopes", ["orders:read"]),
        ),
        (
            "apigw_http_v2",
            {"lambda": {"principalId": "tenant-7", "plan": "gold"}},
            "tenant-7",
            "aws:lambda-authorizer",
            ("plan", "gold"),
        ),
        (
            "function_url",
            {"iam": {"userArn": "arn:aws:iam::123456789012:user/ci", "accountId": "123456789012"}},
            "arn:aws:iam::123456789012:user/ci",
            "aws:iam",
            ("accountId", "123456789012"),
        ),
        ("apigw_rest", {"claims": JWT_CLAIMS}, "u-1", "aws:jwt-authorizer", ("email", "a@x")),
        (
            "apigw_rest",
            {"principalId": "svc", "integrationLatency": 12, "role": "reader"},
            "svc",
            "aws:lambda-authorizer",
            ("role", "reader"),
        ),
    ],
)
def test_authorizer_output_becomes_the_principal(app, fixture, authorizer, subject, scheme, claim):
    status, body = call(app, fixture, authorizer)
    assert status == 200, body
    assert (body["subject"], body["scheme"]) == (subject, scheme)
    assert body["claims"][claim[0]] == claim[1]
    assert "integrationLatency" not in body["claims"]


@pytest.mark.parametrize("fixture", ["apigw_http_v2", "apigw_rest", "alb"])
def test_no_authorizer_is_401(app, fixture):
    event = load(fixture)
    event.get("requestContext", {}).pop("authorizer", None)
    validate(MODELS[fixture], event)
    result = polyfn_aws.handler(app)(event, lambda_context())
    assert result["statusCode"] == 401
