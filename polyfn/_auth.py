"""Authentication hooks, built on middleware: API keys, JWT bearer tokens, the cloud's own identity.

Each hook is a middleware (polyfn._middleware) that lets the request through with
``req.principal`` set, or answers 401 itself (never 500): a missing or wrong API key; a bearer
token that is missing, malformed, unsigned (``alg: none``), signed with an algorithm not allowed,
badly signed, expired, not yet valid, or for another audience or issuer. A credential header
longer than `MAX_CREDENTIAL_LENGTH` is answered 431 before it is parsed.

JWTs are checked with PyJWT (the ``polyfn[jwt]`` extra), imported on the first request that
carries a token, so ``import polyfn`` stays stdlib-only. Why PyJWT: it is the most used Python JWT
library, maintained, typed, small (pure Python, with `cryptography` for RSA and EC keys), and its
`PyJWKClient` fetches and caches a JWKS, refetching once when a token names a key it does not
have (key rotation), which is exactly the cache a bearer check needs. python-jose is barely
maintained; authlib and jwcrypto are larger toolkits whose extra parts polyfn has no use for.
"""

from __future__ import annotations

from polyfn._errors import ConfigError, HTTPError

# `typing` costs milliseconds at import; only mypy needs it here.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import Any

    from polyfn._context import Context
    from polyfn._http import HttpRequest, HttpResponse
    from polyfn._middleware import CallNext, Middleware

# The longest credential header polyfn reads (API key or Authorization). Real tokens are a few
# kB; API Gateway refuses requests whose headers exceed 10 kB in all
# (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html), so anything
# longer is not a credential: 431 Request Header Fields Too Large (RFC 6585 section 5).
MAX_CREDENTIAL_LENGTH = 8192
TOO_LARGE_STATUS = 431

# Algorithms a bearer check may allow: asymmetric ones for JWKS, HMAC ones for a shared secret.
# "none" is never among them (RFC 8725 section 3.1: an unsigned token proves nothing).
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})

# How long a fetched JWKS is used before it is fetched again (PyJWKClient's `lifespan`).
JWKS_CACHE_SECONDS = 300


class Principal:
    """Who sent a request, as an authentication hook or the cloud's front end established it.

    `subject`: the caller's id (a JWT's ``sub``, an API key's name, the cloud's user id);
    `claims`: what is known of the caller (a JWT's claims, the cloud authorizer's context);
    `scheme`: how it was established: ``"api-key"``, ``"jwt"``, or the cloud's mechanism
    (``"aws:jwt-authorizer"``, ``"aws:lambda-authorizer"``, ``"aws:iam"``,
    ``"azure:app-service-auth"``, ``"gcp:iap"``, ``"gcp:iam"``; docs/http.md has the table).
    """

    __slots__ = ("claims", "scheme", "subject")

    def __init__(
        self, subject: str | None, claims: Mapping[str, Any] | None = None, *, scheme: str
    ) -> None:
        self.subject = subject
        self.claims: dict[str, Any] = dict(claims or {})
        self.scheme = scheme

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Principal):
            return NotImplemented
        return (self.subject, self.claims, self.scheme) == (
            other.subject,
            other.claims,
            other.scheme,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable claims

    def __repr__(self) -> str:
        return f"Principal({self.subject!r}, scheme={self.scheme!r})"


def _unauthorized(message: str, challenge: str) -> HTTPError:
    return HTTPError(401, message, headers={"WWW-Authenticate": challenge})


def _credential(req: HttpRequest, header: str) -> str | None:
    value = req.headers.get(header)
    if value is not None and len(value) > MAX_CREDENTIAL_LENGTH:
        raise HTTPError(
            TOO_LARGE_STATUS,
            f"header {header} is longer than {MAX_CREDENTIAL_LENGTH} bytes",
        )
    return value


# The attribute an auth layer carries for the OpenAPI document: (scheme name, securityScheme).
OPENAPI_SECURITY = "__polyfn_openapi_security__"


def api_key(
    keys: Mapping[str, str] | Iterable[str],
    *,
    header: str = "X-API-Key",
) -> Middleware:
    """A middleware that lets through requests whose `header` holds one of `keys`.

    `keys`: the accepted keys, or a mapping of key -> the name of whoever holds it (which becomes
    ``req.principal.subject``). Keys are compared in constant time. Missing or wrong: 401.
    """
    if isinstance(keys, str):
        raise ConfigError("api_key: keys must be a collection of keys, not one string")
    from collections.abc import Mapping

    holders: dict[str, str | None] = (
        dict(keys) if isinstance(keys, Mapping) else dict.fromkeys(keys)
    )
    if not holders or not all(isinstance(k, str) and k for k in holders):
        raise ConfigError("api_key: give at least one non-empty key (str)")
    import hmac  # hashlib's OpenSSL binding: milliseconds, paid by apps that check keys only

    encoded = [(k.encode(), holder) for k, holder in holders.items()]
    challenge = f'ApiKey header="{header}"'

    def api_key_layer(req: HttpRequest, ctx: Context, call_next: CallNext) -> HttpResponse:
        given = _credential(req, header)
        if not given:
            raise _unauthorized(f"missing API key (header {header})", challenge)
        raw = given.encode("utf-8", "surrogatepass")  # a lone surrogate is no key, no 500
        found = None
        matched = False
        for key, holder in encoded:  # every key compared: the time says nothing of which one
            if hmac.compare_digest(raw, key):
                found, matched = holder, True
        if not matched:
            raise _unauthorized("invalid API key", challenge)
        req.principal = Principal(found, scheme="api-key")
        return call_next(req)

    scheme = {"type": "apiKey", "in": "header", "name": header}
    return _documented(api_key_layer, f"apiKey-{header}", scheme)


class _Keys:
    """Where a bearer check finds its verification key: a fixed key, or a JWKS fetched on first
    use and cached by PyJWKClient."""

    def __init__(self, key: Any, jwks_url: str | None, cache_seconds: float) -> None:
        self.key = key
        self.jwks_url = jwks_url
        self.cache_seconds = cache_seconds
        self._client: Any = None

    def for_token(self, token: str) -> Any:
        if self.jwks_url is None:
            return self.key
        if self._client is None:
            import jwt

            self._client = jwt.PyJWKClient(
                self.jwks_url, cache_jwk_set=True, lifespan=self.cache_seconds, timeout=5
            )
        return self._client.get_signing_key_from_jwt(token).key


def jwt_bearer(
    *,
    audience: str | Iterable[str],
    issuer: str | None = None,
    jwks_url: str | None = None,
    key: Any = None,
    algorithms: Iterable[str] = ("RS256",),
    leeway: float = 0,
    cache_seconds: float = JWKS_CACHE_SECONDS,
    required_claims: Iterable[str] = ("exp",),
) -> Middleware:
    """A middleware that requires ``Authorization: Bearer <JWT>`` signed by a key of `jwks_url`
    (cached `cache_seconds`) or by `key` (a public key, or the shared secret of an HS* algorithm),
    for `audience` (and from `issuer`, when given). ``req.principal`` gets the token's ``sub``
    and claims. Every refusal is a 401 with a ``WWW-Authenticate: Bearer`` challenge (RFC 6750);
    a JWKS that cannot be fetched is a 503.
    """
    allowed = tuple(algorithms)
    if (jwks_url is None) == (key is None):
        raise ConfigError("jwt_bearer: give exactly one of jwks_url= and key=")
    if not allowed:
        raise ConfigError("jwt_bearer: algorithms must name at least one algorithm")
    for alg in allowed:
        if alg not in ASYMMETRIC_ALGORITHMS | HMAC_ALGORITHMS:
            raise ConfigError(
                f"jwt_bearer: algorithm {alg!r} is not allowed; use some of "
                f"{', '.join(sorted(ASYMMETRIC_ALGORITHMS | HMAC_ALGORITHMS))} ('none' never is)"
            )
    if jwks_url is not None and HMAC_ALGORITHMS.intersection(allowed):
        raise ConfigError(
            "jwt_bearer: a JWKS holds public keys; HS* algorithms with jwks_url= would let a "
            "public key serve as an HMAC secret (RFC 8725 section 2.1); use key= for a secret"
        )
    if not audience:
        raise ConfigError("jwt_bearer: audience= is required (RFC 8725 section 3.9)")
    audiences = [audience] if isinstance(audience, str) else list(audience)
    keys = _Keys(key, jwks_url, cache_seconds)
    options = {"require": list(required_claims)}
    realm = 'Bearer realm="api"'

    def jwt_bearer_layer(req: HttpRequest, ctx: Context, call_next: CallNext) -> HttpResponse:
        value = _credential(req, "Authorization")
        scheme, _, token = (value or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("missing bearer token", realm)
        if token.count(".") != 2:
            raise _unauthorized("malformed bearer token", _invalid("not a JWS compact token"))
        import jwt

        try:
            claims = jwt.decode(
                token,
                keys.for_token(token),
                algorithms=list(allowed),
                audience=audiences,
                issuer=issuer,
                leeway=leeway,
                options=options,  # type: ignore[arg-type]
            )
        except jwt.PyJWKClientConnectionError:
            ctx.log.exception("jwt_bearer: the JWKS at %s cannot be fetched", jwks_url)
            raise HTTPError(503, "the token's signing keys cannot be fetched") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError, jwt.PyJWKError) as exc:
            # The reason goes to the client: it is about the client's own token (RFC 6750 3.1).
            raise _unauthorized("invalid bearer token", _invalid(str(exc))) from None
        subject = claims.get("sub")
        req.principal = Principal(
            subject if isinstance(subject, str) else None, claims, scheme="jwt"
        )
        return call_next(req)

    return _documented(
        jwt_bearer_layer, "bearerJWT", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )


def _invalid(reason: str) -> str:
    # RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E (no quote, backslash).
    cleaned = "".join(c for c in reason[:200] if " " <= c <= "~" and c not in '"\\')
    return f'Bearer error="invalid_token", error_description="{cleaned}"'


def cloud_auth(require: Callable[[Principal], bool] | None = None) -> Middleware:
    """A middleware that trusts the identity the cloud's front end already verified
    (``req.cloud_principal``: API Gateway authorizers, App Service authentication, IAP or Cloud
    Run IAM) and answers 401 where there is none; with `require`, 403 when it returns False.

    Use it only where that front end is on: App Service authentication enabled, the Cloud Run
    service not public (docs/http.md says why).
    """
    if require is not None and not callable(require):
        raise ConfigError(f"cloud_auth: require must be a function, got {require!r}")

    def cloud_auth_layer(req: HttpRequest, ctx: Context, call_next: CallNext) -> HttpResponse:
        principal = req.cloud_principal
        if principal is None:
            raise _unauthorized("no identity verified by the cloud", 'Bearer realm="api"')
        if require is not None and not require(principal):
            raise HTTPError(403, "forbidden")
        req.principal = principal
        return call_next(req)

    scheme = {
        "type": "http",
        "scheme": "bearer",
        "description": "the identity the cloud's front end verified (docs/http.md)",
    }
    return _documented(cloud_auth_layer, "cloudIdentity", scheme)


def _documented(layer: Middleware, name: str, scheme: dict[str, str]) -> Middleware:
    """`layer` with the OpenAPI security scheme it enforces (polyfn._openapi reads it)."""
    setattr(layer, OPENAPI_SECURITY, (name, scheme))
    return layer
