"""OpenID Connect sign-in for production: the authorisation code flow with PKCE (RFC 7636, S256)
against the configured IdP (`CONSOLE_OIDC_*`).

The console keeps the pending sign-in (state, code verifier, nonce, where to go next) in its
encrypted session cookie, sends the browser to the IdP, and on the way back checks the state,
redeems the code with the verifier at the token endpoint, verifies the ID token (signature from
the IdP's JWKS, issuer, audience = the client id, expiry, nonce) and keeps the access token in the
session: the services verify that same token through the same JWKS (`JWKS_URL`), so the roles the
console shows are the roles the services enforce.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from .people import SessionUser
from .settings import ConsoleSettings

PENDING_SECONDS = 600  # a sign-in not finished within 10 minutes starts over
ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcError(Exception):
    """A sign-in that cannot go on: what to tell the person (zh-CN, English)."""

    def __init__(self, zh: str, en: str, status: int = 400) -> None:
        super().__init__(en)
        self.zh, self.en, self.status = zh, en, status


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
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_url,
            "client_id": self.settings.oidc_client_id,
            "code_verifier": pending["verifier"],
        }
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
                f"the token endpoint refused the code ({response.status_code}: "
                f"{response.text[:200]})",
            )
        tokens = response.json()
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
        # the access token as the services will judge it (their JWT_ISSUER/JWT_AUDIENCE)
        claims = await self._verify(
            access,
            audience=self.settings.jwt_audience,
            issuer=self.settings.jwt_issuer or self.issuer,
        )
        if str(claims.get("sub")) != str(identity.get("sub")):
            raise OidcError("登录令牌不一致", "the access token is not the ID token's user's")
        roles = claims.get("roles") or []
        if isinstance(roles, str):
            roles = [roles]
        expires = min(float(claims["exp"]), now + self.settings.session_hours * 3600)
        return SessionUser(
            sub=str(identity["sub"]),
            name=str(identity.get("name") or identity.get("preferred_username") or identity["sub"]),
            roles=tuple(str(r) for r in roles),
            token=access,
            expires_at=expires,
            dealer_id=claims.get("dealer_id"),
        )

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
