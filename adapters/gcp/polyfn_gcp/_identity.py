"""The caller as Google's front end already verified it: `req.cloud_principal` on Cloud Run
functions.

- Identity-Aware Proxy puts the signed-in user in ``X-Goog-Authenticated-User-Email`` and
  ``-Id`` (``accounts.google.com:`` prefixed):
  https://cloud.google.com/iap/docs/identity-howto
- Cloud Run IAM (a service that requires authentication) checks the caller's Google-signed ID
  token and forwards it with its signature replaced by ``SIGNATURE_REMOVED_BY_GOOGLE``; the token
  comes in ``X-Serverless-Authorization`` when the caller sent one there (it then takes
  precedence), else in ``Authorization``:
  https://cloud.google.com/run/docs/troubleshooting#signature-removed
  https://cloud.google.com/run/docs/authenticating/service-to-service

Only a service that is not public is behind these checks: on one that allows unauthenticated
calls, a client can send any of these headers itself (docs/http.md).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from polyfn import Principal

if TYPE_CHECKING:
    from polyfn import HttpRequest

IAP_EMAIL = "x-goog-authenticated-user-email"
IAP_ID = "x-goog-authenticated-user-id"
IAP_PREFIX = "accounts.google.com:"
# In the order Cloud Run reads them.
TOKEN_HEADERS = ("x-serverless-authorization", "authorization")
REMOVED_SIGNATURE = "SIGNATURE_REMOVED_BY_GOOGLE"


def _unprefixed(value: str | None) -> str | None:
    if value is None:
        return None
    return value[len(IAP_PREFIX) :] if value.startswith(IAP_PREFIX) else value


def _verified_token_claims(value: str | None) -> dict[str, Any] | None:
    """The claims of an ID token Cloud Run verified (its signature removed), else None."""
    scheme, _, token = (value or "").partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[2] != REMOVED_SIGNATURE:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def google_principal(req: HttpRequest) -> Principal | None:
    """The Principal IAP or Cloud Run IAM established, or None."""
    headers = req.headers
    email = _unprefixed(headers.get(IAP_EMAIL))
    user_id = _unprefixed(headers.get(IAP_ID))
    if email is not None or user_id is not None:
        iap = {k: v for k, v in (("email", email), ("sub", user_id)) if v is not None}
        return Principal(user_id or email, iap, scheme="gcp:iap")
    for header in TOKEN_HEADERS:
        value = headers.get(header)
        if value is None:
            continue
        claims = _verified_token_claims(value)
        if claims is None:
            return None
        subject = claims.get("sub") or claims.get("email")
        return Principal(subject if isinstance(subject, str) else None, claims, scheme="gcp:iam")
    return None
