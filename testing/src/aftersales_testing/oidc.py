"""A local OpenID Connect provider for tests: discovery, JWKS, an authorisation endpoint that signs
in a configured user at once, and a token endpoint that checks the client, the redirect URI, the
PKCE verifier (S256) and that a code is used once — as a real IdP does, on 127.0.0.1. It issues
refresh tokens (each good once: a refresh returns a new one; `revoke` ends a user's) and has an
end-session endpoint (RP-initiated logout) that records who was signed out."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar import Litestar, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from aftersales_tools.natsserver import free_port, wait_for_port


@dataclass
class LocalIdp:
    """Users: sub → claims (name, roles, dealer_id…). `client_id` may redirect only to
    `redirect_uri`."""

    client_id: str
    redirect_uri: str
    users: dict[str, dict[str, Any]]
    audience: str = "aftersales"
    signed_in: str = ""  # who the authorisation endpoint signs in (the person at the browser)
    port: int = field(default_factory=free_port)
    kid: str = "test-key-1"
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access_seconds: int = 3600  # how long an access token lives
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token → sub
    refreshed: int = 0  # refresh grants honoured
    logouts: list[dict[str, str]] = field(default_factory=list)  # end-session requests seen
    _key: Any = None
    _server: Any = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __post_init__(self) -> None:
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        return {"keys": [public | {"kid": self.kid, "use": "sig", "alg": "RS256"}]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})

    def revoke(self, sub: str) -> None:
        """The user's refresh tokens stop working (signed out at the IdP, account disabled)."""
        for token in [t for t, who in self.refresh_tokens.items() if who == sub]:
            del self.refresh_tokens[token]

    def tokens(self, sub: str, nonce: str | None = None) -> dict[str, Any]:
        now = int(time.time())
        user = self.users[sub]
        base = {"iss": self.issuer, "sub": sub, "iat": now, "exp": now + self.access_seconds}
        identity = base | {"aud": self.client_id, "name": user.get("name")}
        if nonce is not None:
            identity["nonce"] = nonce
        refresh = secrets.token_urlsafe(32)
        self.refresh_tokens[refresh] = sub
        return {
            "access_token": self.sign(base | {"aud": self.audience} | user),
            "id_token": self.sign(identity),
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.access_seconds,
        }

    def app(self) -> Litestar:
        idp = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": idp.issuer,
                "authorization_endpoint": f"{idp.issuer}/authorize",
                "token_endpoint": f"{idp.issuer}/token",
                "jwks_uri": f"{idp.issuer}/jwks.json",
                "end_session_endpoint": f"{idp.issuer}/logout",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @get("/jwks.json")
        async def keys() -> dict[str, Any]:
            return idp.jwks()

        @get("/authorize")
        async def authorize(request: Request) -> Response[Any]:
            q = request.query_params
            if q.get("client_id") != idp.client_id or q.get("redirect_uri") != idp.redirect_uri:
                return Response({"error": "unauthorized_client"}, status_code=400)
            if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
                return Response({"error": "invalid_request", "pkce": "S256 required"}, 400)
            code = secrets.token_urlsafe(24)
            idp.codes[code] = {
                "challenge": q["code_challenge"],
                "nonce": q.get("nonce"),
                "sub": idp.signed_in,
                "redirect_uri": q["redirect_uri"],
            }
            back = {"code": code, "state": q.get("state", "")}
            return Redirect(f"{q['redirect_uri']}?{urlencode(back)}")

        @post("/token", status_code=200)
        async def token(
            data: dict[str, str] = Body(media_type=RequestEncodingType.URL_ENCODED),
        ) -> Response[Any]:
            if data.get("grant_type") == "refresh_token":
                sub = idp.refresh_tokens.pop(data.get("refresh_token", ""), None)  # good once
                if sub is None or data.get("client_id") != idp.client_id:
                    return Response({"error": "invalid_grant"}, status_code=400)
                idp.refreshed += 1
                return Response(idp.tokens(sub))
            grant = idp.codes.pop(data.get("code", ""), None)  # a code is good once
            if grant is None or data.get("grant_type") != "authorization_code":
                return Response({"error": "invalid_grant"}, status_code=400)
            digest = hashlib.sha256(data.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != grant["challenge"]:
                return Response({"error": "invalid_grant", "pkce": "verifier"}, 400)
            if (
                data.get("client_id") != idp.client_id
                or data.get("redirect_uri") != grant["redirect_uri"]
            ):
                return Response({"error": "invalid_client"}, status_code=400)
            return Response(idp.tokens(grant["sub"], grant["nonce"]))

        @get("/logout")
        async def end_session(request: Request) -> Response[Any]:
            asked = dict(request.query_params)
            idp.logouts.append(asked)
            back = asked.get("post_logout_redirect_uri")
            if back:
                return Redirect(f"{back}?{urlencode({'state': asked.get('state', '')})}")
            return Response({"signed_out": True})

        return Litestar([discovery, keys, authorize, token, end_session], openapi_config=None)

    def start(self) -> LocalIdp:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        wait_for_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
