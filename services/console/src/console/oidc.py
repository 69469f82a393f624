"""OpenID Connect sign-in for production: the authorisation code flow with PKCE (RFC 7636, S256)
against the configured IdP (`CONSOLE_OIDC_*`).

The console keeps the pending sign-in (state, code verifier, nonce, where to go next) in its
encrypted session cookie, sends the browser to the IdP, and on the way back checks the state,
redeems the code with the verifier at the token endpoint, verifies the ID token (signature from
the IdP's JWKS, issuer, audience = the client id, expiry, nonce) and keeps the access token in the
session: the services verify that same token through the same JWKS (`JWKS_URL`), so the roles the
console shows are the roles the services enforce.

With a refresh token the session outlives one access token: shortly before the access token
expires (`CONSOLE_OIDC_RENEW_SECONDS`) the console redeems the refresh token for a new one,
verified the same way; when the IdP refuses (revoked, expired) the session ends and the person
signs in again. Signing out ends the IdP's session too (RP-initiated logout: the browser goes to
the IdP's `end_session_endpoint` with the ID token as the hint).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from litestar.exceptions import NotAuthorizedException

from aftersales_shared.auth import principal_from_claims

from .people import SessionUser
from .settings import ConsoleSettings

PENDING_SECONDS = 600
RENEWED_KEPT_SECONDS = 30.0  # a sign-in not finished within 10 minutes starts over
ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcError(Exception):
    """A sign-in that cannot go on: what to tell the person (zh-CN, English)."""

    def __init__(self, zh: str, en: str, status: int = 400) -> None:
        super().__init__(en)
        self.zh, self.en, self.status = zh, en, status


def _who(claims: dict[str, Any], settings: ConsoleSettings) -> tuple[tuple[str, ...], str | None]:
    """The roles and the dealer of an access token, computed as the services compute them (one
    function, aftersales_shared.auth.principal_from_claims, the same AUTH_* settings): the roles
    claim ∪ the roles of the IdP groups AUTH_GROUP_ROLES maps."""
    try:
        who = principal_from_claims(claims, settings.auth_claims)
    except NotAuthorizedException as exc:
        raise OidcError(
            "登录令牌中的角色或经销商信息不完整，请联系管理员",
            f"the access token's roles or dealer cannot be used: {exc.detail}",
            403,
        ) from exc
    return tuple(sorted(role.value for role in who.roles)), who.dealer_id


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, code_challenge) with S256: 43–128 unreserved characters, then
    BASE64URL(SHA256(verifier)) without padding."""
    verifier = secrets.token_urlsafe(64)[:96]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class OidcClient:
    settings: ConsoleSettings
    transport: httpx.AsyncBaseTransport | None = None  # tests: an IdP in-process
    _meta: dict[str, Any] | None = None
    _keys: dict[str, Any] = field(default_factory=dict)
    # a page and its event stream may both find the token due at once: one renewal per refresh
    # token in this process, the others take its result (for RENEWED_KEPT_SECONDS)
    _renewing: dict[str, asyncio.Lock] = field(default_factory=dict)
    _renewed: dict[str, tuple[float, SessionUser]] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.oidc_issuer and s.oidc_client_id and s.oidc_redirect_url)

    @property
    def issuer(self) -> str:
        return str(self.settings.oidc_issuer or "").rstrip("/")

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self.transport, timeout=self.settings.upstream_timeout_seconds
        )

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client() as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            raise OidcError(
                "登录服务暂时无法访问，请稍后再试",
                f"the identity provider is unreachable: {exc}",
                502,
            ) from exc
        if response.status_code != 200:
            raise OidcError(
                "登录服务返回错误，请稍后再试",
                f"the identity provider answered {response.status_code} for {url}",
                502,
            )
        return response.json()

    async def metadata(self) -> dict[str, Any]:
        if self._meta is None:
            meta = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise OidcError(
                    "登录服务配置不一致，请联系管理员",
                    f"the IdP says its issuer is {meta.get('issuer')!r}, not {self.issuer!r}",
                    502,
                )
            self._meta = meta
        return self._meta

    async def begin(self, next_path: str, now: float | None = None) -> tuple[str, dict[str, Any]]:
        """The IdP's authorisation URL to send the browser to, and what the session keeps."""
        meta = await self.metadata()
        verifier, challenge = pkce_pair()
        pending = {
            "state": secrets.token_urlsafe(32),
            "nonce": secrets.token_urlsafe(32),
            "verifier": verifier,
            "next": next_path,
            "started": time.time() if now is None else now,
        }
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": self.settings.oidc_redirect_url,
            "scope": "openid profile",
            "state": pending["state"],
            "nonce": pending["nonce"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{meta['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(
        self, pending: dict[str, Any] | None, state: str, code: str, now: float | None = None
    ) -> SessionUser:
        """Check the state, redeem the code with the verifier, verify the ID token; the signed-in
        user with the IdP's access token."""
        now = time.time() if now is None else now
        if not pending or not secrets.compare_digest(str(pending.get("state", "")), state or ""):
            raise OidcError(
                "登录请求已失效或不匹配，请重新登录",
                "this sign-in does not match the one started in this browser (state)",
            )
        if now - float(pending.get("started", 0)) > PENDING_SECONDS:
            raise OidcError("登录超时，请重新登录", "the sign-in took too long; start again")
        if not code:
            raise OidcError("登录服务未返回授权码", "the identity provider sent no code")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_url,
            "code_verifier": pending["verifier"],
        }
        tokens = await self._token(form, "the code")
        id_token, access = tokens.get("id_token"), tokens.get("access_token")
        if not id_token or not access:
            raise OidcError("登录服务返回的令牌不完整", "the IdP returned no id_token/access_token")
        identity = await self._verify(
            id_token, audience=self.settings.oidc_client_id, issuer=self.issuer
        )
        if not secrets.compare_digest(str(identity.get("nonce", "")), pending["nonce"]):
            raise OidcError(
                "登录请求不匹配，请重新登录", "the ID token's nonce is not this sign-in's"
            )
        claims = await self._access_claims(access, str(identity.get("sub")))
        roles, dealer_id = _who(claims, self.settings)
        refresh = tokens.get("refresh_token")
        session_end = now + self.settings.session_hours * 3600
        return SessionUser(
            sub=str(identity["sub"]),
            name=str(identity.get("name") or identity.get("preferred_username") or identity["sub"]),
            roles=roles,
            token=access,
            # without a refresh token the session ends with its access token
            expires_at=session_end if refresh else min(float(claims["exp"]), session_end),
            dealer_id=dealer_id,
            refresh_token=refresh,
            token_expires_at=float(claims["exp"]),
            id_token=id_token,
        )

    def due_for_renewal(self, user: SessionUser, now: float) -> bool:
        return bool(
            user.refresh_token
            and user.token_expires_at is not None
            and user.token_expires_at - now < self.settings.oidc_renew_seconds
        )

    async def renew(self, user: SessionUser) -> SessionUser:
        """A new access token for the refresh token (rotated when the IdP sends a new one);
        OidcError when the IdP refuses: the session ends."""
        old = user.refresh_token or ""
        lock = self._renewing.setdefault(old, asyncio.Lock())
        async with lock:
            done = self._renewed.get(old)
            if done is not None and time.monotonic() - done[0] < RENEWED_KEPT_SECONDS:
                return done[1]
            renewed = await self._renew(user)
            now = time.monotonic()
            self._renewed = {
                k: v for k, v in self._renewed.items() if now - v[0] < RENEWED_KEPT_SECONDS
            }
            self._renewed[old] = (now, renewed)
        self._renewing.pop(old, None)
        return renewed

    async def _renew(self, user: SessionUser) -> SessionUser:
        form = {"grant_type": "refresh_token", "refresh_token": user.refresh_token or ""}
        tokens = await self._token(form, "the refresh token")
        access = tokens.get("access_token")
        if not access:
            raise OidcError("登录服务返回的令牌不完整", "the IdP returned no access_token")
        claims = await self._access_claims(access, user.sub)
        id_token = tokens.get("id_token")
        if id_token:  # a new ID token, if sent, must be the same person's from the same IdP
            identity = await self._verify(
                id_token, audience=self.settings.oidc_client_id, issuer=self.issuer
            )
            if str(identity.get("sub")) != user.sub:
                raise OidcError("登录令牌不一致", "the renewed ID token is another user's")
        roles, dealer_id = _who(claims, self.settings)
        return replace(
            user,
            roles=roles,
            token=access,
            dealer_id=dealer_id,
            refresh_token=tokens.get("refresh_token") or user.refresh_token,
            token_expires_at=float(claims["exp"]),
            id_token=id_token or user.id_token,
        )

    async def logout_url(self, user: SessionUser | None) -> str | None:
        """Where to send the browser to end the IdP's session too (None: the IdP has no
        end_session_endpoint, or this session did not come from it)."""
        if user is None or not user.id_token or not self.configured:
            return None
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except OidcError:
            return None
        if not endpoint:
            return None
        query = {
            "id_token_hint": user.id_token,
            "client_id": self.settings.oidc_client_id,
            "post_logout_redirect_uri": self.post_logout_url,
        }
        return f"{endpoint}?{urlencode(query)}"

    @property
    def post_logout_url(self) -> str:
        if self.settings.oidc_post_logout_redirect_url:
            return self.settings.oidc_post_logout_redirect_url
        parts = urlsplit(str(self.settings.oidc_redirect_url or ""))
        return f"{parts.scheme}://{parts.netloc}/login"

    async def _token(self, form: dict[str, str], what: str) -> dict[str, Any]:
        """A grant at the IdP's token endpoint as this client."""
        meta = await self.metadata()
        form = {**form, "client_id": str(self.settings.oidc_client_id)}
        if self.settings.oidc_client_secret is not None:
            form["client_secret"] = self.settings.oidc_client_secret.get_secret_value()
        try:
            async with self._client() as client:
                response = await client.post(meta["token_endpoint"], data=form)
        except httpx.HTTPError as exc:
            raise OidcError(
                "登录服务暂时无法访问，请稍后再试", f"the token endpoint is unreachable: {exc}", 502
            ) from exc
        if response.status_code != 200:
            raise OidcError(
                "登录未通过，请重新登录",
                f"the token endpoint refused {what} ({response.status_code}: "
                f"{response.text[:200]})",
            )
        return response.json()

    async def _access_claims(self, access: str, sub: str) -> dict[str, Any]:
        """The access token as the services will judge it (their JWT_ISSUER/JWT_AUDIENCE), and
        the signed-in person's."""
        claims = await self._verify(
            access,
            audience=self.settings.jwt_audience,
            issuer=self.settings.jwt_issuer or self.issuer,
        )
        if str(claims.get("sub")) != sub:
            raise OidcError("登录令牌不一致", "the access token is not the ID token's user's")
        return claims

    async def _key(self, token: str) -> Any:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise OidcError("登录令牌无法识别", f"unreadable token: {exc}") from exc
        if kid not in self._keys:  # a key rotated in since the last fetch: ask once more
            meta = await self.metadata()
            jwks = await self._get_json(meta["jwks_uri"])
            self._keys = {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(jwks).keys}
        if kid not in self._keys:
            raise OidcError("登录令牌签名密钥未知", f"no key {kid!r} in the IdP's JWKS")
        return self._keys[kid]

    async def _verify(self, token: str, audience: str | None, issuer: str) -> dict[str, Any]:
        key = await self._key(token)
        try:
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "sub"], "verify_aud": audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise OidcError("登录令牌无效，请重新登录", f"invalid token: {exc}") from exc
