"""Bearer-JWT authentication and role guards for every service (HS256 locally, JWKS in
production)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.middleware.base import DefineMiddleware

from .claims import ClaimError, ClaimMapping, dealer_of, role_names
from .settings import LOCAL_JWT_AUDIENCE, LOCAL_JWT_ISSUER, ServiceSettings

NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")


class Role(StrEnum):
    SALES = "sales"
    SALES_MANAGER = "sales_manager"
    LEGAL = "legal"
    FINANCE = "finance"
    DELIVERY = "delivery"
    SERVICE_AGENT = "service_agent"
    SERVICE_SUPERVISOR = "service_supervisor"
    ENGINEER = "engineer"
    TECHNICAL = "technical"
    DEALER = "dealer"
    MANAGER = "manager"
    CUSTOMER = "customer"
    PARTNER = "partner"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, roles, and the dealer or customer a user is bound to."""

    subject: str
    roles: frozenset[Role]
    name: str | None = None
    dealer_id: str | None = None
    customer_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has(self, *roles: Role) -> bool:
        return Role.ADMIN in self.roles or bool(self.roles.intersection(roles))


# the local tokens' shape (`roles`, `groups`, `dealer_id`), for callers without settings
DEFAULT_CLAIMS = ClaimMapping.model_construct()


class TokenVerifier:
    """Checks a bearer token's signature, expiry, lifetime, audience and issuer.

    Outside local development the settings refuse to exist without an issuer and an audience, so a
    token is always checked against both; `exp`, `iat` (and `nbf`) must be JSON numbers, and `exp`
    may lie at most `jwt_max_lifetime_hours` after `iat` and after now."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.jwt_secret
        self._audience = settings.effective_jwt_audience
        self._issuer = settings.effective_jwt_issuer
        self._max_lifetime = settings.jwt_max_lifetime_hours * 3600
        self._claims = settings.auth_claims
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True) if settings.jwks_url else None
        )

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256", "PS256"]
            else:
                key, algorithms = self._secret, ["HS256"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={
                    "require": ["exp", "iat", "sub"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise NotAuthorizedException(f"invalid token: {exc}") from exc
        except Exception as exc:  # a hostile token must never become a 500
            raise NotAuthorizedException("invalid token: unreadable") from exc
        for claim in NUMERIC_DATE_CLAIMS:
            value = claims.get(claim)
            if claim in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise NotAuthorizedException(
                    f"invalid token: {claim} must be a number (NumericDate)"
                )
        now = datetime.now(UTC).timestamp()
        if (
            claims["exp"] - claims["iat"] > self._max_lifetime
            or claims["exp"] - now > self._max_lifetime
        ):
            raise NotAuthorizedException(
                f"invalid token: lifetime longer than {self._max_lifetime / 3600:g} hours"
            )
        return principal_from_claims(claims, self._claims)


def principal_from_claims(claims: dict[str, Any], mapping: ClaimMapping | None = None) -> Principal:
    """Who a verified token's claims say is calling: the roles claim ∪ the roles of its mapped
    groups and the dealer where `mapping` (AUTH_*, aftersales_shared.claims) says they are. The
    services' guard and the console's sign-in both call this, so both see the same roles."""
    mapping = mapping or DEFAULT_CLAIMS
    try:
        raw_roles = role_names(claims, mapping)
    except ClaimError as exc:
        raise NotAuthorizedException(str(exc)) from exc
    dealer_id = dealer_of(claims, mapping)
    for claim, value in (
        ("sub", claims.get("sub")),
        ("name", claims.get("name")),
        ("dealer_id", dealer_id),
        ("customer_id", claims.get("customer_id")),
    ):
        if value is not None and (not isinstance(value, str) or len(value) > 200):
            raise NotAuthorizedException(
                f"invalid token: {claim} must be a string of at most 200 characters"
            )
    roles = frozenset(Role(r) for r in raw_roles if r in Role._value2member_map_)
    if Role.DEALER in roles and not dealer_id:
        raise NotAuthorizedException("a dealer token must name its dealer_id")
    if Role.CUSTOMER in roles and not claims.get("customer_id"):
        raise NotAuthorizedException("a customer token must name its customer_id")
    return Principal(
        subject=str(claims["sub"]),
        roles=roles,
        name=claims.get("name"),
        dealer_id=dealer_id,
        customer_id=claims.get("customer_id"),
        claims=claims,
    )


def mint_token(
    secret: str,
    subject: str,
    roles: list[str],
    *,
    dealer_id: str | None = None,
    customer_id: str | None = None,
    name: str | None = None,
    hours: float = 8,
    audience: str | None = LOCAL_JWT_AUDIENCE,
    issuer: str | None = LOCAL_JWT_ISSUER,
) -> str:
    """A local HS256 token (the CLI and the tests use it; production tokens come from the IdP)."""
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if unknown:
        raise ValueError(f"unknown role(s): {', '.join(unknown)}; known: {', '.join(Role)}")
    if Role.DEALER in roles and not dealer_id:
        raise ValueError("a dealer token needs --dealer-id")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": roles,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    for key, value in (
        ("dealer_id", dealer_id),
        ("customer_id", customer_id),
        ("name", name),
        ("aud", audience),
        ("iss", issuer),
    ):
        if value:
            claims[key] = value
    return jwt.encode(claims, secret, algorithm="HS256")


def dealer_scope(principal: Principal) -> str | None:
    """The dealer a caller is confined to, or None for company staff (who see every dealer)."""
    if Role.DEALER in principal.roles and not principal.has(
        Role.MANAGER, Role.TECHNICAL, Role.FINANCE
    ):
        return principal.dealer_id
    return None


def customer_scope(principal: Principal) -> str | None:
    """The customer a caller is confined to: a token whose only role is customer sees that
    customer's own records (its tickets, its signed contracts) and nothing else; None for everyone
    else."""
    if principal.roles == frozenset({Role.CUSTOMER}):
        return principal.customer_id
    return None


PUBLIC_PATHS = {"/health", "/ready", "/metrics", "/schema", "/asyncapi.json"}


class JWTAuthMiddleware(AbstractAuthenticationMiddleware):
    """401 without a valid bearer token; handlers see `request.user` as a Principal."""

    def __init__(self, app: Any, verifier: TokenVerifier, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.verifier = verifier

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise NotAuthorizedException("missing bearer token (Authorization: Bearer <jwt>)")
        principal = self.verifier.verify(token.strip())
        return AuthenticationResult(user=principal, auth=token)


def auth_middleware(
    settings: ServiceSettings, public_prefixes: tuple[str, ...] = ()
) -> DefineMiddleware:
    exclude = [f"^{p}" for p in sorted(PUBLIC_PATHS)] + [f"^{p}" for p in public_prefixes]
    # OPTIONS too (Litestar leaves it out by default): there is no CORS here, and the guards need a
    # user
    return DefineMiddleware(
        JWTAuthMiddleware,
        verifier=TokenVerifier(settings),
        exclude=exclude,
        exclude_http_methods=[],
    )


def requires(*roles: Role) -> Any:
    """Guard: the caller needs one of the roles (admin passes every guard). A coroutine: Litestar
    runs a plain-function guard in its thread pool, a thread hop on every request."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = connection.user
        if not isinstance(principal, Principal) or not principal.has(*roles):
            needed = ", ".join(r.value for r in roles)
            raise PermissionDeniedException(f"this action needs one of the roles: {needed}")

    return guard
