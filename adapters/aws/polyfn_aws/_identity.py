"""The caller as API Gateway or a function URL already verified it: `req.cloud_principal` on AWS.

API Gateway runs the authorizer before Lambda and puts what it established in
``requestContext.authorizer``; a client cannot set it. Where it sits, per source:

- HTTP API, payload 2.0: ``authorizer.jwt`` (``claims``, ``scopes``) for a JWT authorizer,
  ``authorizer.lambda`` (the context the Lambda authorizer returned), ``authorizer.iam`` (IAM
  authorization: ``userArn``, ``accountId``, ...); function URLs with AWS_IAM auth use the same
  ``authorizer.iam``.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
  https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
- REST API (and HTTP API payload 1.0): ``authorizer.claims`` for a Cognito user pool (or JWT)
  authorizer; a Lambda authorizer's ``principalId`` and its context's keys, flat in
  ``authorizer``.
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
- ALB: none (its OIDC authentication signs ``x-amzn-oidc-data`` instead; check it with
  `polyfn.jwt_bearer`-style verification, not here).
"""

from __future__ import annotations

from polyfn import Principal

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from polyfn import HttpRequest

# requestContext.authorizer key -> (Principal.scheme, the field naming the subject).
AUTHORIZER_KINDS: dict[str, tuple[str, str]] = {
    "jwt": ("aws:jwt-authorizer", "sub"),
    "lambda": ("aws:lambda-authorizer", "principalId"),
    "iam": ("aws:iam", "userArn"),
    "claims": ("aws:jwt-authorizer", "sub"),
}
# API Gateway's own additions to a REST Lambda authorizer's context, not the authorizer's.
GATEWAY_AUTHORIZER_KEYS = frozenset({"integrationLatency"})


def _subject(fields: dict[str, Any], key: str) -> str | None:
    value = fields.get(key)
    return value if isinstance(value, str) and value else None


def authorizer_principal(req: HttpRequest) -> Principal | None:
    """The Principal API Gateway's authorizer (or a function URL's IAM auth) established, or
    None when the event carries none."""
    event = req.raw
    context = event.get("requestContext") if isinstance(event, dict) else None
    found = context.get("authorizer") if isinstance(context, dict) else None
    if not isinstance(found, dict) or not found:
        return None
    for key, (scheme, subject_key) in AUTHORIZER_KINDS.items():
        value = found.get(key)
        if isinstance(value, dict):
            fields = value.get("claims") if key == "jwt" else value
            claims = dict(fields) if isinstance(fields, dict) else {}
            if key == "jwt" and "scopes" in value:
                claims.setdefault("scopes", value["scopes"])
            return Principal(_subject(claims, subject_key), claims, scheme=scheme)
    # A REST API Lambda authorizer: principalId and its context, flat.
    claims = {k: v for k, v in found.items() if k not in GATEWAY_AUTHORIZER_KEYS}
    if not claims:
        return None
    return Principal(_subject(claims, "principalId"), claims, scheme="aws:lambda-authorizer")
