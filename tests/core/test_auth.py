"""Authentication hooks: API keys, JWT bearer tokens (a fixed key, and a JWKS fetched from a
server on 127.0.0.1 and cached), the cloud's own identity. Every refusal is a 4xx, never a 500."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from polyfn import (
    App,
    ConfigError,
    Context,
    HttpRequest,
    Principal,
    api_key,
    cloud_auth,
    jwt_bearer,
)

SECRET = "s" * 32
AUDIENCE = "orders-api"


def ctx() -> Context:
    return Context("local", "", "r")


def whoami_app(layer) -> App:
    app = App("auth")

    @app.http("/me", middleware=[layer])
    def me(req, ctx):
        p = req.principal
        return {"subject": p.subject, "scheme": p.scheme, "claims": p.claims}

    return app


def call(app: App, **headers: str):
    resp = app.handle_http(HttpRequest("GET", "/me", headers=headers), ctx())
    return resp.status, json.loads(resp.body), resp.headers


def hs_token(**claims) -> str:
    payload = {"sub": "alice", "aud": AUDIENCE, "exp": int(time.time()) + 60, **claims}
    return jwt.encode(payload, SECRET, algorithm="HS256")


def unsigned(**claims) -> str:
    def b64(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    payload = {"sub": "mallory", "aud": AUDIENCE, "exp": int(time.time()) + 60, **claims}
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."


# -- API keys ----------------------------------------------------------------------------------


def test_api_key_names_the_holder():
    app = whoami_app(api_key({"k-123": "billing"}))
    status, body, _ = call(app, **{"X-API-Key": "k-123"})
    assert status == 200 and body["subject"] == "billing" and body["scheme"] == "api-key"


@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""}, {"X-API-Key": "\ud800"}]
)
def test_api_key_missing_or_wrong_is_401(headers):
    status, body, resp_headers = call(whoami_app(api_key(["k-123"])), **headers)
    assert status == 401 and "API key" in body["error"]
    assert resp_headers["WWW-Authenticate"].startswith("ApiKey")


def test_oversized_credential_is_431():
    status, body, _ = call(whoami_app(api_key(["k"])), **{"X-API-Key": "k" * 9000})
    assert status == 431 and "longer than" in body["error"]


def test_api_key_declaration_mistakes():
    with pytest.raises(ConfigError):
        api_key("one-string")
    with pytest.raises(ConfigError):
        api_key([])


# -- JWT with a fixed key ------------------------------------------------------------------------


@pytest.fixture
def hs_app():
    return whoami_app(jwt_bearer(key=SECRET, algorithms=["HS256"], audience=AUDIENCE))


def test_valid_token_sets_the_principal(hs_app):
    status, body, _ = call(hs_app, Authorization=f"Bearer {hs_token(role='admin')}")
    assert status == 200
    assert body["subject"] == "alice" and body["claims"]["role"] == "admin"


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (unsigned(), "alg none"),
        (hs_token(exp=int(time.time()) - 120), "expired"),
        (hs_token(aud="someone-else"), "wrong audience"),
        (hs_token(exp=None), "no exp"),
        (jwt.encode({"sub": "a", "aud": AUDIENCE}, "other-secret-" * 3, algorithm="HS256"), "key"),
        ("a.b.c", "garbage"),
        ("nodots", "not a JWS"),
    ],
)
def test_bad_tokens_are_401_never_500(hs_app, token, why):
    status, body, headers = call(hs_app, Authorization=f"Bearer {token}")
    assert status == 401, why
    assert body["error"] in ("invalid bearer token", "malformed bearer token")
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize("value", [None, "Basic dXNlcjpwYXNz", "Bearer "])
def test_missing_bearer_is_401_with_a_plain_challenge(hs_app, value):
    headers = {} if value is None else {"Authorization": value}
    status, _, resp_headers = call(hs_app, **headers)
    assert status == 401 and resp_headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_jwt_declaration_mistakes():
    with pytest.raises(ConfigError, match="'none'"):
        jwt_bearer(key=SECRET, algorithms=["none"], audience=AUDIENCE)
    with pytest.raises(ConfigError, match="exactly one"):
        jwt_bearer(audience=AUDIENCE)
    with pytest.raises(ConfigError, match="HS"):
        jwt_bearer(jwks_url="http://127.0.0.1:1/jwks", algorithms=["HS256"], audience=AUDIENCE)
    with pytest.raises(ConfigError, match="audience"):
        jwt_bearer(key=SECRET, algorithms=["HS256"], audience="")


# -- JWT with a JWKS (fetched once, cached) --------------------------------------------------------


@pytest.fixture(scope="module")
def jwks_server():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwk.update(kid="k1", use="sig", alg="RS256")
    fetches: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            body = json.dumps({"keys": [jwk]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", private, fetches
    server.shutdown()
    server.server_close()


def test_jwks_keys_are_fetched_once_and_cached(jwks_server):
    url, private, fetches = jwks_server
    app = whoami_app(jwt_bearer(jwks_url=url, audience=AUDIENCE, issuer="https://idp.example"))
    claims = {"sub": "bob", "aud": AUDIENCE, "iss": "https://idp.example"}
    before = len(fetches)
    for _ in range(3):
        token = jwt.encode(
            {**claims, "exp": int(time.time()) + 60}, private, "RS256", headers={"kid": "k1"}
        )
        status, body, _ = call(app, Authorization=f"Bearer {token}")
        assert status == 200 and body["subject"] == "bob"
    assert len(fetches) - before == 1
    wrong_issuer = jwt.encode(
        {**claims, "iss": "https://evil.example", "exp": int(time.time()) + 60},
        private,
        "RS256",
        headers={"kid": "k1"},
    )
    assert call(app, Authorization=f"Bearer {wrong_issuer}")[0] == 401
    # An HS256 token "signed" with the public key as a secret (algorithm confusion), and alg none.
    assert call(app, Authorization=f"Bearer {unsigned()}")[0] == 401


def test_unreachable_jwks_is_503_not_500(jwks_server):
    _, private, _ = jwks_server
    app = whoami_app(jwt_bearer(jwks_url="http://127.0.0.1:9/jwks.json", audience=AUDIENCE))
    token = jwt.encode({"sub": "a", "aud": AUDIENCE}, private, "RS256", headers={"kid": "k1"})
    assert call(app, Authorization=f"Bearer {token}")[0] == 503


# -- the cloud's own identity ------------------------------------------------------------------


def test_cloud_auth_trusts_the_adapters_reader_and_refuses_without_one():
    app = whoami_app(cloud_auth(require=lambda p: p.claims.get("scope") == "orders"))
    req = HttpRequest("GET", "/me")
    assert app.handle_http(req, ctx()).status == 401
    req = HttpRequest("GET", "/me")
    req.cloud_reader = lambda r: Principal("u1", {"scope": "orders"}, scheme="aws:jwt-authorizer")
    resp = app.handle_http(req, ctx())
    assert resp.status == 200 and json.loads(resp.body)["scheme"] == "aws:jwt-authorizer"
    req = HttpRequest("GET", "/me")
    req.cloud_reader = lambda r: Principal("u1", {"scope": "other"}, scheme="aws:jwt-authorizer")
    assert app.handle_http(req, ctx()).status == 403
