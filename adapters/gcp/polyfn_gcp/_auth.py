"""Who may deliver to the HTTP function's reserved paths: the OIDC check of Pub/Sub push
deliveries (``/_polyfn/queue/<topic>``) and Cloud Scheduler ticks (``/_polyfn/schedule/<fn>``).

The whole-app HTTP function is public (its routes are the app's API), so anyone can post to these
paths; headers such as X-CloudScheduler-JobName are forgeable. Pub/Sub and Cloud Scheduler both
send ``Authorization: Bearer <ID token>`` when the subscription / job has an OIDC token: a JWT
signed by Google, whose ``aud`` is the configured audience (by default the push endpoint / the
job's target URI) and whose ``email`` is the service account the subscription or job uses.
https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
https://cloud.google.com/scheduler/docs/http-target-auth
https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#OidcToken

polyfn checks, with google-auth's JWT verification: the RS256 signature against Google's
certificates, the issuer, the expiry, the audience, and that the email is one of the configured
invokers with ``email_verified``. A delivery that fails is answered 401 (no or unreadable token)
or 403 (a valid token of someone else, or for another audience) and never reaches a handler;
Pub/Sub and Cloud Scheduler retry it, so nothing is lost while the configuration is fixed.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from polyfn import ConfigError

# Configuration read from the environment when `http(app)` is given no DeliveryAuth.
AUTH_ENV = "POLYFN_GCP_DELIVERY_AUTH"  # "verify" (the default), "cloud-run-iam" or "off"
INVOKERS_ENV = "POLYFN_GCP_INVOKERS"  # comma-separated service account emails
AUDIENCES_ENV = "POLYFN_GCP_AUDIENCES"  # comma-separated; unset: the URL the delivery came to
AUTH_VERIFY = "verify"
AUTH_OFF = "off"
# A private function (no allUsers invoker): Cloud Run itself verifies the ID token and the
# caller's run.invoker role, then "removes the token signature before passing the token to the
# user container" (https://cloud.google.com/run/docs/authenticating/service-to-service), so the
# signature cannot be checked again; polyfn checks the email claim against the invokers only.
# Never for a public function, where the claims would be the sender's word.
AUTH_CLOUD_RUN_IAM = "cloud-run-iam"
AUTH_MODES = (AUTH_VERIFY, AUTH_CLOUD_RUN_IAM, AUTH_OFF)

AUTHORIZATION_HEADER = "Authorization"
BEARER = "bearer "
# Google's ID-token signing certificates (kid -> PEM), what google-auth's
# id_token.verify_oauth2_token fetches; the response carries Cache-Control max-age.
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
# "The value of iss in the ID token is equal to accounts.google.com or
# https://accounts.google.com." https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken
GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")
# Tolerated difference between Google's clock and this instance's for iat/exp, in seconds.
CLOCK_SKEW_SECONDS = 30
# Cloud Run terminates TLS in front of the container; the scheme the sender used is here.
FORWARDED_PROTO = "X-Forwarded-Proto"
_CERTS_TIMEOUT_SECONDS = 5
_CERTS_DEFAULT_MAX_AGE = 3600
# A token whose key id the cached certificates lack refetches them at most this often.
_CERTS_REFRESH_SECONDS = 60


# How a refused delivery is answered. 503 when Google's certificates cannot be fetched: the
# sender retries, as for every non-2xx.
UNAUTHORIZED = 401
FORBIDDEN = 403
UNAVAILABLE = 503
REFUSALS = {UNAUTHORIZED: "unauthorized", FORBIDDEN: "forbidden", UNAVAILABLE: "unavailable"}


class DeliveryRefused(Exception):  # noqa: N818 - an outcome, answered with `status`
    """A delivery whose caller could not be verified: `status` is one of REFUSALS, `reason` goes
    to the log only (a client learns nothing about the configuration)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class GoogleCerts:
    """Google's ID-token certificates, fetched on first use and cached for their max-age."""

    def __init__(self, url: str = GOOGLE_CERTS_URL) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._certs: dict[str, str] = {}
        self._expires = 0.0
        self._fetched = 0.0

    def __call__(self, key_id: str | None = None) -> Mapping[str, str]:
        now = time.monotonic()
        stale = now >= self._expires
        unknown = key_id is not None and key_id not in self._certs
        if stale or (unknown and now - self._fetched > _CERTS_REFRESH_SECONDS):
            with self._lock:
                self._fetch(now)
        return self._certs

    def _fetch(self, now: float) -> None:
        import urllib.request

        try:
            with urllib.request.urlopen(self.url, timeout=_CERTS_TIMEOUT_SECONDS) as resp:
                certs = json.loads(resp.read())
                max_age = _max_age(resp.headers.get("Cache-Control", ""))
        except (OSError, ValueError) as exc:  # unreachable, timed out, not JSON: try again later
            raise DeliveryRefused(UNAVAILABLE, f"cannot fetch {self.url}: {exc}") from None
        if not isinstance(certs, dict) or not all(isinstance(v, str) for v in certs.values()):
            raise DeliveryRefused(UNAVAILABLE, f"{self.url} answered no certificates")
        self._certs, self._fetched, self._expires = certs, now, now + max_age


def _max_age(cache_control: str) -> int:
    for part in cache_control.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            return int(value)
    return _CERTS_DEFAULT_MAX_AGE


class DeliveryAuth:
    """How `polyfn_gcp.http` authenticates push deliveries and scheduler ticks.

    `invokers`: the service account emails whose ID tokens are accepted (the push subscriptions'
    and scheduler jobs' ``oidcToken.serviceAccountEmail``). `audiences`: the accepted ``aud``
    values (their ``oidcToken.audience``); empty means the URL the delivery was sent to, which is
    both services' default. `certs`: where Google's certificates come from (a callable taking the
    token's key id and returning kid -> PEM), by default fetched from GOOGLE_CERTS_URL and cached;
    tests inject their own. `enabled=False` turns the check off (see `disabled`).
    """

    __slots__ = ("audiences", "certs", "enabled", "invokers", "mode")

    def __init__(
        self,
        invokers: Iterable[str] = (),
        audiences: Iterable[str] = (),
        *,
        certs: Callable[[str | None], Mapping[str, str]] | None = None,
        mode: str = AUTH_VERIFY,
    ) -> None:
        for name, values in (("invokers", invokers), ("audiences", audiences)):
            if isinstance(values, str):
                raise ConfigError(f"DeliveryAuth {name} is a list of strings, got {values!r}")
        if mode not in AUTH_MODES:
            raise ConfigError(f"DeliveryAuth mode is one of {', '.join(AUTH_MODES)}, got {mode!r}")
        self.invokers = tuple(v.strip() for v in invokers if v.strip())
        self.audiences = tuple(v.strip() for v in audiences if v.strip())
        self.certs = certs or GoogleCerts()
        self.mode = mode
        self.enabled = mode != AUTH_OFF

    def __repr__(self) -> str:
        return (
            f"DeliveryAuth(invokers={list(self.invokers)}, audiences={list(self.audiences)}, "
            f"mode={self.mode!r})"
        )

    @classmethod
    def cloud_run_iam(cls, invokers: Iterable[str] = ()) -> DeliveryAuth:
        """For a private function: Cloud Run verified the token and the caller's invoker role;
        polyfn checks only that the token's email is one of `invokers` (any, when empty)."""
        return cls(invokers, mode=AUTH_CLOUD_RUN_IAM)

    @classmethod
    def disabled(cls) -> DeliveryAuth:
        """No check at all: every delivery to the reserved paths is run. Local use only, or when
        the function is private and Cloud Run's IAM already checked the caller."""
        return cls(mode=AUTH_OFF)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DeliveryAuth:
        """The DeliveryAuth that POLYFN_GCP_DELIVERY_AUTH, POLYFN_GCP_INVOKERS and
        POLYFN_GCP_AUDIENCES describe (verification on unless the first says "off")."""
        mode = environ.get(AUTH_ENV, AUTH_VERIFY).strip().lower() or AUTH_VERIFY
        if mode not in AUTH_MODES:
            raise ConfigError(f"{AUTH_ENV} is one of {', '.join(AUTH_MODES)}, got {mode!r}")
        return cls(
            environ.get(INVOKERS_ENV, "").split(","),
            environ.get(AUDIENCES_ENV, "").split(","),
            mode=mode,
        )

    def check(self, headers: Any, url: str) -> dict[str, Any] | None:
        """The verified claims of the delivery's ID token (None when the check is off); raises
        DeliveryRefused saying why not."""
        if not self.enabled:
            return None
        value = headers.get(AUTHORIZATION_HEADER) or ""
        if value[: len(BEARER)].lower() != BEARER:
            raise DeliveryRefused(UNAUTHORIZED, "no Authorization: Bearer token")
        bearer = value[len(BEARER) :].strip()
        if self.mode == AUTH_CLOUD_RUN_IAM:
            return self._checked_by_cloud_run(bearer)
        if not self.invokers:
            raise DeliveryRefused(
                FORBIDDEN,
                f"no invoker is configured: set {INVOKERS_ENV} to the service account email of "
                f"the push subscriptions and scheduler jobs (or {AUTH_ENV}=off for local use)",
            )
        claims = self._verified(bearer, self.audiences or _urls(url))
        email = claims.get("email")
        if email not in self.invokers or claims.get("email_verified") is not True:
            raise DeliveryRefused(
                FORBIDDEN, f"token of {email!r}, not one of the configured invokers"
            )
        return claims

    def _checked_by_cloud_run(self, token: str) -> dict[str, Any]:
        from google.auth import exceptions, jwt

        try:
            claims = jwt.decode(token, verify=False)  # type: ignore[no-untyped-call]
        except (exceptions.GoogleAuthError, ValueError, TypeError, RecursionError) as exc:
            raise DeliveryRefused(UNAUTHORIZED, f"ID token unreadable: {exc}") from None
        if not isinstance(claims, dict):
            raise DeliveryRefused(UNAUTHORIZED, "ID token unreadable")
        if self.invokers and claims.get("email") not in self.invokers:
            raise DeliveryRefused(
                FORBIDDEN, f"token of {claims.get('email')!r}, not one of the configured invokers"
            )
        return claims

    def _verified(self, token: str, audiences: list[str] | tuple[str, ...]) -> dict[str, Any]:
        from google.auth import exceptions, jwt

        try:
            header = jwt.decode_header(token)  # type: ignore[no-untyped-call]
            kid = header.get("kid") if isinstance(header, dict) else None
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                token,
                certs=self.certs(kid if isinstance(kid, str) else None),
                audience=list(audiences),
                clock_skew_in_seconds=CLOCK_SKEW_SECONDS,
            )
        except (exceptions.GoogleAuthError, ValueError, TypeError, RecursionError) as exc:
            status = FORBIDDEN if "audience" in str(exc) else UNAUTHORIZED
            raise DeliveryRefused(status, f"ID token refused: {exc}") from None
        if not isinstance(claims, dict) or claims.get("iss") not in GOOGLE_ISSUERS:
            raise DeliveryRefused(UNAUTHORIZED, "ID token not issued by Google")
        return claims


def _urls(url: str) -> list[str]:
    """The audiences a delivery to `url` may carry: the URL, and the URL without its query."""
    base = url.partition("?")[0]
    return [url, base] if base != url else [url]


def request_url(request: Any) -> str:
    """The URL the sender used: Cloud Run terminates TLS, so the scheme is X-Forwarded-Proto's."""
    from urllib.parse import quote

    scheme = (request.headers.get(FORWARDED_PROTO) or request.scheme).split(",", 1)[0].strip()
    query = request.query_string.decode("latin-1")
    # Flask decodes the path; the URL the sender was given encodes names (queue_push_path).
    path = quote(request.path, safe="/")
    return f"{scheme}://{request.host}{path}" + (f"?{query}" if query else "")
