"""The caller as App Service authentication ("Easy Auth") already verified it:
`req.cloud_principal` on Azure Functions.

With authentication enabled on the function app, the platform checks the caller before the host
runs the function and injects the result as request headers; "external requests aren't allowed
to set these headers, so they're present only if set by App Service":
https://learn.microsoft.com/azure/app-service/configure-authentication-user-identities

``X-MS-CLIENT-PRINCIPAL`` is base64 JSON: ``auth_typ``, ``claims`` (a list of ``{"typ", "val"}``;
a type may repeat, roles do), ``name_typ``, ``role_typ``. ``X-MS-CLIENT-PRINCIPAL-ID`` is the
caller's id, ``-NAME`` a readable name, ``-IDP`` the identity provider.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from polyfn import Principal

if TYPE_CHECKING:
    from polyfn import HttpRequest

CLIENT_PRINCIPAL = "x-ms-client-principal"
CLIENT_PRINCIPAL_ID = "x-ms-client-principal-id"
CLIENT_PRINCIPAL_NAME = "x-ms-client-principal-name"
CLIENT_PRINCIPAL_IDP = "x-ms-client-principal-idp"
SCHEME = "azure:app-service-auth"


def _claims(encoded: str | None) -> dict[str, Any] | None:
    """The client principal's claims, type -> value (a list where a type repeats); None when
    the header is absent or is not the base64 JSON App Service writes."""
    if not encoded:
        return None
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(document, dict) or not isinstance(document.get("claims", []), list):
        return None
    claims: dict[str, Any] = {}
    for claim in document.get("claims", []):
        if not isinstance(claim, dict) or not isinstance(claim.get("typ"), str):
            continue
        typ, val = claim["typ"], claim.get("val")
        if typ in claims:
            previous = claims[typ]
            claims[typ] = [*previous, val] if isinstance(previous, list) else [previous, val]
        else:
            claims[typ] = val
    for key in ("auth_typ", "name_typ", "role_typ"):
        if isinstance(document.get(key), str):
            claims.setdefault(key, document[key])
    return claims


def client_principal(req: HttpRequest) -> Principal | None:
    """The Principal App Service authentication injected, or None where it injected none."""
    headers = req.headers
    subject = headers.get(CLIENT_PRINCIPAL_ID)
    claims = _claims(headers.get(CLIENT_PRINCIPAL))
    if subject is None and claims is None:
        return None
    claims = claims or {}
    for header, key in ((CLIENT_PRINCIPAL_NAME, "name"), (CLIENT_PRINCIPAL_IDP, "idp")):
        value = headers.get(header)
        if value is not None:
            claims.setdefault(key, value)
    return Principal(subject, claims, scheme=SCHEME)
