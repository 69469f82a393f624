"""A local OpenID Connect provider for tests: discovery, JWKS, an authorisation endpoint that signs
in a configured user at once, and a token endpoint that checks the client, the redirect URI, the
PKCE verifier (S256) and that a code is used once — as a real IdP does, on 127.0.0.1."""

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

    def app(self) -> Litestar:
        idp = self

        @get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": idp.issuer,
                "authorization_endpoint": f"{idp.issuer}/authorize",
                "token_endpoint": f"{idp.issuer}/token",
                "jwks_uri": f"{idp.issuer}/jwks.json",
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
            now = int(time.time())
            user = idp.users[grant["sub"]]
            base = {"iss": idp.issuer, "sub": grant["sub"], "iat": now, "exp": now + 3600}
            id_token = idp.sign(
                base | {"aud": idp.client_id, "nonce": grant["nonce"], "name": user.get("name")}
            )
            access = idp.sign(base | {"aud": idp.audience} | user)
            return Response(
                {
                    "access_token": access,
                    "id_token": id_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }
            )

        return Litestar([discovery, keys, authorize, token], openapi_config=None)

    def start(self) -> LocalIdp:
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        wait_for_port(self.port, 30)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
