"""Who may deliver to the HTTP target's push and scheduler paths: Google-signed ID tokens of the
configured invokers only. Tokens are signed here with a locally generated RSA key whose
certificate is injected as "Google's" (no network); requests go through functions-framework's
own app."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Any

import functions_framework
import polyfn_gcp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt
from polyfn_gcp._auth import GoogleCerts

from polyfn import App, ConfigError, QueueMessage, TimerEvent

INVOKER = "pusher@shop-project.iam.gserviceaccount.com"
HOST = "shop-abc123-ew.a.run.app"
TICK_PATH = "/_polyfn/schedule/nightly"
PUSH_PATH = "/_polyfn/queue/orders"
PUSH_BODY = {"message": {"data": "aGk=", "messageId": "m-1"}, "subscription": "s"}


def key_pair(kid: str) -> tuple[crypt.RSASigner, dict[str, str]]:
    """A signer and its certificate as Google publishes them (kid -> PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "polyfn test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    signer = crypt.RSASigner.from_string(private, key_id=kid)
    return signer, {kid: cert.public_bytes(serialization.Encoding.PEM).decode()}


SIGNER, CERTS = key_pair("google-key-1")
OTHER_SIGNER, _ = key_pair("google-key-1")  # same kid, another key: a forgery


def token(signer: crypt.RSASigner = SIGNER, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": f"https://{HOST}{TICK_PATH}",
        "email": INVOKER,
        "email_verified": True,
        "sub": "1234567890",
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return google_jwt.encode(signer, payload).decode()


SEEN: list[Any] = []
APP = App("shop")


@APP.schedule("0 2 * * *")
def nightly(event: TimerEvent, ctx: Any) -> None:
    SEEN.append(event)


@APP.queue("orders")
def on_order(msg: QueueMessage, ctx: Any) -> None:
    SEEN.append(msg)


SERVING: list[Any] = []
MAIN = """
import polyfn_gcp
from tests.gcp.test_auth import APP, SERVING

http = polyfn_gcp.http(APP, **SERVING[-1])
"""


def served(tmp_path: Path, **kwargs: Any) -> Any:
    """functions-framework's app serving ``polyfn_gcp.http(APP, **kwargs)``."""
    source = tmp_path / "main.py"
    source.write_text(MAIN)
    SERVING.append(kwargs)
    try:
        return functions_framework.create_app("http", str(source), "http").test_client()
    finally:
        SERVING.pop()


def verified(**options: Any) -> dict[str, Any]:
    return {
        "delivery_auth": polyfn_gcp.DeliveryAuth(
            options.pop("invokers", [INVOKER]), certs=lambda kid: CERTS, **options
        )
    }


def tick(client: Any, bearer: str | None, **headers: str) -> Any:
    headers = {
        "X-CloudScheduler-JobName": "shop-nightly",
        "X-Forwarded-Proto": "https",
        **headers,
    }
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return client.post(TICK_PATH, base_url=f"http://{HOST}", headers=headers)


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()


def test_a_tick_with_the_invokers_token_runs(tmp_path):
    resp = tick(served(tmp_path, **verified()), token())
    assert resp.status_code == 204 and len(SEEN) == 1


def test_a_push_with_the_invokers_token_runs(tmp_path):
    resp = served(tmp_path, **verified()).post(
        PUSH_PATH,
        base_url=f"http://{HOST}",
        json=PUSH_BODY,
        headers={
            "X-Forwarded-Proto": "https",
            "Authorization": f"Bearer {token(aud=f'https://{HOST}{PUSH_PATH}')}",
        },
    )
    assert resp.status_code == 204 and SEEN[0].body == b"hi"


def test_by_default_unauthenticated_and_forged_deliveries_are_refused(tmp_path, monkeypatch):
    # No configuration at all: the check is on, and with no invoker configured nobody passes.
    monkeypatch.delenv("POLYFN_GCP_DELIVERY_AUTH", raising=False)
    monkeypatch.delenv("POLYFN_GCP_INVOKERS", raising=False)
    client = served(tmp_path)
    assert tick(client, None).status_code == 401
    resp = client.post(PUSH_PATH, json=PUSH_BODY)
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"] == "Bearer"
    assert SEEN == []


@pytest.mark.parametrize(
    ("bearer", "status"),
    [
        (None, 401),
        ("not-a-jwt", 401),
        ("a.b.c", 401),
        (token(OTHER_SIGNER), 401),  # forged: signed by a key that is not Google's
        (token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200), 401),  # expired
        (token(iss="https://evil.example"), 401),
        (token(email="someone@else.iam.gserviceaccount.com"), 403),
        (token(email_verified=False), 403),
        (token(email=None), 403),
        (token(aud="https://another-service.a.run.app/_polyfn/schedule/nightly"), 403),
    ],
)
def test_deliveries_without_a_valid_invoker_token_never_run(tmp_path, caplog, bearer, status):
    resp = tick(served(tmp_path, **verified()), bearer)
    assert resp.status_code == status
    # The answer says nothing of the configuration; the log says why.
    assert resp.get_json() == {"error": "unauthorized" if status == 401 else "forbidden"}
    assert "refused delivery" in caplog.text
    assert SEEN == []


def test_an_unknown_path_without_a_token_is_refused_before_anything_is_read(tmp_path):
    client = served(tmp_path, **verified())
    resp = client.post("/_polyfn/queue/secret-queue", json=PUSH_BODY)
    assert resp.status_code == 401 and b"secret" not in resp.get_data()
    assert tick(client, None, **{"X-CloudScheduler-JobName": "x"}).status_code == 401


def test_configured_audiences_replace_the_request_url(tmp_path):
    client = served(tmp_path, **verified(audiences=["https://shop.example.com"]))
    assert tick(client, token(aud="https://shop.example.com")).status_code == 204
    assert tick(client, token()).status_code == 403


def test_no_configured_invoker_refuses_even_a_valid_token_and_logs_the_fix(tmp_path, caplog):
    resp = tick(served(tmp_path, **verified(invokers=[])), token())
    assert resp.status_code == 403
    assert "POLYFN_GCP_INVOKERS" in caplog.text and SEEN == []


def test_the_explicit_opt_out_serves_without_a_token(tmp_path, monkeypatch):
    client = served(tmp_path, delivery_auth=polyfn_gcp.DeliveryAuth.disabled())
    assert tick(client, None).status_code == 204
    monkeypatch.setenv("POLYFN_GCP_DELIVERY_AUTH", "off")
    assert tick(served(tmp_path), None).status_code == 204


def test_http_routes_need_no_token(tmp_path):
    app_routes = App("shop-api")

    @app_routes.http("/hello", methods=["GET"])
    def hello(req: Any, ctx: Any) -> str:
        return "hi"

    view = polyfn_gcp.http(app_routes, delivery_auth=polyfn_gcp.DeliveryAuth([INVOKER]))
    import flask

    with flask.Flask("t").test_request_context("/hello"):
        assert view(flask.request).status_code == 200


def test_environment_configuration():
    env = {
        "POLYFN_GCP_INVOKERS": f" {INVOKER} , b@p.iam.gserviceaccount.com",
        "POLYFN_GCP_AUDIENCES": "https://a.example",
    }
    auth = polyfn_gcp.DeliveryAuth.from_env(env)
    assert auth.enabled and auth.invokers == (INVOKER, "b@p.iam.gserviceaccount.com")
    assert auth.audiences == ("https://a.example",)
    assert not polyfn_gcp.DeliveryAuth.from_env({"POLYFN_GCP_DELIVERY_AUTH": "OFF"}).enabled
    iam = polyfn_gcp.DeliveryAuth.from_env({"POLYFN_GCP_DELIVERY_AUTH": "cloud-run-iam"})
    assert iam.enabled and iam.mode == "cloud-run-iam"
    with pytest.raises(ConfigError, match="POLYFN_GCP_DELIVERY_AUTH"):
        polyfn_gcp.DeliveryAuth.from_env({"POLYFN_GCP_DELIVERY_AUTH": "maybe"})
    with pytest.raises(ConfigError, match="list of strings"):
        polyfn_gcp.DeliveryAuth(INVOKER)


def test_googles_certificates_are_fetched_once_per_max_age():
    fetched: list[str] = []

    class Certs(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetched.append(self.path)
            body = json.dumps(CERTS).encode()
            self.send_response(200)
            self.send_header("Cache-Control", "public, max-age=19800, must-revalidate")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Certs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        certs = GoogleCerts(f"http://127.0.0.1:{server.server_port}/oauth2/v1/certs")
        auth = polyfn_gcp.DeliveryAuth([INVOKER], certs=certs)
        url = f"https://{HOST}{TICK_PATH}"
        for _ in range(3):
            assert auth.check({"Authorization": f"Bearer {token()}"}, url)["email"] == INVOKER
        assert fetched == ["/oauth2/v1/certs"]
    finally:
        server.shutdown()
        server.server_close()


def test_behind_cloud_run_iam_the_stripped_token_is_checked_for_the_invoker(tmp_path):
    # A private function: Cloud Run verified the token, then removed its signature.
    def stripped(**claims: Any) -> str:
        head, payload, _ = token(**claims).split(".")
        return f"{head}.{payload}.SIGNATURE_REMOVED_BY_GOOGLE"

    client = served(tmp_path, delivery_auth=polyfn_gcp.DeliveryAuth.cloud_run_iam([INVOKER]))
    assert tick(client, stripped()).status_code == 204
    assert (
        tick(client, stripped(email="editor@shop-project.iam.gserviceaccount.com")).status_code
        == 403
    )
    assert tick(client, None).status_code == 401
    assert len(SEEN) == 1


def test_unreachable_certificates_are_a_503_so_the_sender_retries(tmp_path):
    import socket

    with socket.socket() as probe:  # a port with nothing listening: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    certs = GoogleCerts(f"http://127.0.0.1:{port}/oauth2/v1/certs")
    auth = polyfn_gcp.DeliveryAuth([INVOKER], certs=certs)
    resp = tick(served(tmp_path, delivery_auth=auth), token())
    assert (resp.status_code, resp.get_json()) == (503, {"error": "unavailable"})
    assert SEEN == []


def test_a_percent_encoded_queue_path_is_its_own_audience(tmp_path):
    client = served(tmp_path, **verified())
    path = polyfn_gcp.queue_push_path("orders")  # no escapes for this name; one with "+":
    assert path == PUSH_PATH
    resp = client.post(
        "/_polyfn/queue/a%2Bb",
        base_url=f"http://{HOST}",
        json=PUSH_BODY,
        headers={
            "X-Forwarded-Proto": "https",
            "Authorization": f"Bearer {token(aud=f'https://{HOST}/_polyfn/queue/a%2Bb')}",
        },
    )
    assert resp.status_code == 404  # authenticated; no function is bound to queue "a+b"
