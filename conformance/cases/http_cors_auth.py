"""CORS, middleware and authentication cases, against the /cors, /mw and /auth routes of the
conformance app (conformance/app.py): preflights answered by polyfn (and refused with the
documented statuses), CORS headers on actual requests, the documented middleware order, and
authentication refusals that are 401 or 431, never 500, on every target.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json

from conformance._httpcase import ANY, PRESENT, HttpCase
from conformance.app import API_KEY, CORS_ORIGIN, JWT_AUDIENCE, JWT_SECRET
from conformance.cases.http import LEAK

# A far future and a past expiry (seconds since the epoch), so the tokens never age.
YEAR_2100 = 4102444800
YEAR_2000 = 946684800


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(claims: dict[str, object], alg: str = "HS256") -> str:
    """A compact JWS, written out here (not by the library the app checks it with)."""
    head = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    if alg == "none":
        return f"{head}.{body}."
    mac = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


GOOD_CLAIMS = {"sub": "user-1", "aud": JWT_AUDIENCE, "exp": YEAR_2100}


def _bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("Authorization", f"Bearer {token}"),)


def _preflight(
    method: str, origin: str = CORS_ORIGIN, *extra: tuple[str, str]
) -> tuple[tuple[str, str], ...]:
    return (("Origin", origin), ("Access-Control-Request-Method", method), *extra)


INVALID_TOKEN = {"error": "invalid bearer token"}

CASES: list[HttpCase] = [
    # -- CORS --------------------------------------------------------------------------------
    HttpCase(
        "cors-preflight",
        "OPTIONS",
        "/cors/strict",
        headers=_preflight("PUT", CORS_ORIGIN, ("Access-Control-Request-Headers", "Content-Type")),
        status=204,
        response_headers={
            "access-control-allow-origin": [CORS_ORIGIN],
            "access-control-allow-methods": ["GET", "PUT"],
            "access-control-allow-headers": ["content-type"],
            "access-control-allow-credentials": ["true"],
            "access-control-max-age": ["600"],
        },
        response_body=b"",
        calls=0,
        description="answered by polyfn on every cloud, without calling the handler",
    ),
    HttpCase(
        "cors-preflight-origin-refused",
        "OPTIONS",
        "/cors/strict",
        headers=_preflight("GET", "https://evil.example"),
        status=403,
        json_subset={"error": ANY},
        absent_headers=("access-control-allow-origin",),
        calls=0,
    ),
    HttpCase(
        "cors-preflight-method-refused",
        "OPTIONS",
        "/cors/strict",
        headers=_preflight("DELETE"),
        status=403,
        json_subset={"error": ANY},
        absent_headers=("access-control-allow-origin",),
        calls=0,
    ),
    HttpCase(
        "cors-preflight-header-refused",
        "OPTIONS",
        "/cors/strict",
        headers=_preflight("GET", CORS_ORIGIN, ("Access-Control-Request-Headers", "X-Secret")),
        status=403,
        calls=0,
    ),
    HttpCase(
        "cors-preflight-malformed-origin",
        "OPTIONS",
        "/cors/strict",
        headers=_preflight("GET", "javascript:alert(1)"),
        status=400,
        json_subset={"error": "malformed Origin header"},
        calls=0,
    ),
    HttpCase(
        "cors-simple-request",
        "GET",
        "/cors/strict",
        headers=(("Origin", CORS_ORIGIN),),
        response_headers={
            "access-control-allow-origin": [CORS_ORIGIN],
            "access-control-allow-credentials": ["true"],
            "access-control-expose-headers": ["X-Total"],
            "vary": ["Origin"],
            "x-total": ["3"],
        },
        response_json={"ok": True},
        calls=1,
    ),
    HttpCase(
        "cors-origin-not-allowed",
        "GET",
        "/cors/strict",
        headers=(("Origin", "https://evil.example"),),
        description="runs, but without CORS headers the browser withholds the answer",
        response_headers={"vary": ["Origin"]},
        absent_headers=("access-control-allow-origin", "access-control-allow-credentials"),
        calls=1,
    ),
    HttpCase(
        "cors-malformed-origin",
        "GET",
        "/cors/strict",
        headers=(("Origin", "https://app.example/path?x"),),
        status=400,
        json_subset={"error": "malformed Origin header"},
        calls=0,
    ),
    HttpCase(
        "cors-wildcard",
        "GET",
        "/cors/open",
        headers=(("Origin", "https://anyone.example"),),
        response_headers={
            "access-control-allow-origin": ["*"],
            "access-control-expose-headers": ["X-Total"],
        },
        absent_headers=("access-control-allow-credentials", "vary"),
    ),
    HttpCase(
        "cors-preflight-skips-auth",
        "OPTIONS",
        "/auth/key",
        headers=_preflight("GET", CORS_ORIGIN, ("Access-Control-Request-Headers", "X-API-Key")),
        description="a preflight carries no credentials: polyfn answers it before middleware",
        status=204,
        response_headers={"access-control-allow-origin": [CORS_ORIGIN]},
        calls=0,
    ),
    # -- middleware ----------------------------------------------------------------------------
    HttpCase(
        "middleware-order",
        "GET",
        "/mw/order",
        description="app layers wrap route layers; before hooks in order, after hooks reversed",
        response_json={"order": ["app>", "app-before", "route>", "route-before", "handler"]},
        response_headers={"x-order": ["route-after", "<route", "app-after", "<app"]},
        calls=1,
    ),
    HttpCase(
        "middleware-short-circuit",
        "GET",
        "/mw/short",
        query="teapot=1",
        status=418,
        response_json={"error": "short-circuited"},
        calls=0,
    ),
    HttpCase(
        "middleware-crash-is-500",
        "GET",
        "/mw/crash",
        status=500,
        json_subset={"error": "internal error", "request_id": PRESENT},
        body_excludes=LEAK,
        calls=0,
    ),
    # -- authentication --------------------------------------------------------------------------
    HttpCase(
        "auth-api-key",
        "GET",
        "/auth/key",
        headers=(("X-API-Key", API_KEY),),
        response_json={"subject": "conformance-client", "scheme": "api-key"},
    ),
    HttpCase(
        "auth-api-key-missing",
        "GET",
        "/auth/key",
        headers=(("Origin", CORS_ORIGIN),),
        description="a refusal carries the CORS headers, so a page can read it",
        status=401,
        json_subset={"error": ANY},
        response_headers={"access-control-allow-origin": [CORS_ORIGIN]},
        calls=0,
    ),
    HttpCase(
        "auth-api-key-wrong",
        "GET",
        "/auth/key",
        headers=(("X-API-Key", "guess"),),
        status=401,
        response_json={"error": "invalid API key"},
        calls=0,
    ),
    HttpCase(
        "auth-jwt",
        "GET",
        "/auth/jwt",
        headers=_bearer(_token(GOOD_CLAIMS)),
        response_json={"subject": "user-1", "scheme": "jwt"},
    ),
    HttpCase(
        "auth-jwt-alg-none",
        "GET",
        "/auth/jwt",
        headers=_bearer(_token(GOOD_CLAIMS, alg="none")),
        status=401,
        json_subset=INVALID_TOKEN,
        calls=0,
    ),
    HttpCase(
        "auth-jwt-expired",
        "GET",
        "/auth/jwt",
        headers=_bearer(_token({**GOOD_CLAIMS, "exp": YEAR_2000})),
        status=401,
        json_subset=INVALID_TOKEN,
        calls=0,
    ),
    HttpCase(
        "auth-jwt-wrong-audience",
        "GET",
        "/auth/jwt",
        headers=_bearer(_token({**GOOD_CLAIMS, "aud": "another-api"})),
        status=401,
        json_subset=INVALID_TOKEN,
        calls=0,
    ),
    HttpCase(
        "auth-jwt-missing",
        "GET",
        "/auth/jwt",
        status=401,
        response_headers={"www-authenticate": ['Bearer realm="api"']},
        calls=0,
    ),
    HttpCase(
        "auth-oversized-header",
        "GET",
        "/auth/jwt",
        headers=(("Authorization", "Bearer " + "a" * 8300),),
        status=431,
        json_subset={"error": ANY},
        calls=0,
    ),
]

# What a client gets back from these does not depend on the cloud.
SAME_EVERYWHERE = {
    "cors-preflight", "cors-simple-request", "middleware-order", "middleware-short-circuit",
    "auth-api-key", "auth-api-key-wrong", "auth-jwt", "auth-jwt-alg-none", "auth-jwt-expired",
    "auth-jwt-wrong-audience",
}  # fmt: skip
CASES = [
    dataclasses.replace(
        case,
        same_everywhere=case.name in SAME_EVERYWHERE or case.same_everywhere,
        feature=case.name.partition("-")[0],  # cors, middleware or auth
    )
    for case in CASES
]
