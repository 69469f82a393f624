"""Production auth: tokens verified against the identity provider's JWKS (a local HTTP server
here)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.exceptions import NotAuthorizedException

from aftersales_shared.auth import Role, TokenVerifier
from contracts.settings import ContractsSettings


@pytest.fixture
def idp():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())) | {
        "kid": "k1",
        "use": "sig",
        "alg": "RS256",
    }
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield key, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(key, **claims) -> str:  # type: ignore[no-untyped-def]
    base = {
        "sub": "u-1",
        "roles": ["finance"],
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
        "aud": "aftersales",
        "iss": "https://idp.local",
    }
    return jwt.encode(base | claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_jwks_verifies_signature_audience_and_issuer(idp):
    key, url = idp
    verifier = TokenVerifier(
        ContractsSettings(jwks_url=url, jwt_audience="aftersales", jwt_issuer="https://idp.local")
    )
    principal = verifier.verify(_token(key, dealer_id=None))
    assert principal.subject == "u-1" and principal.roles == frozenset({Role.FINANCE})
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for bad in (
        _token(other),
        _token(key, aud="someone-else"),
        _token(key, iss="https://evil"),
        _token(key, exp=int(time.time()) - 5),
    ):
        with pytest.raises(NotAuthorizedException):
            verifier.verify(bad)
    hs = jwt.encode(
        {"sub": "x", "roles": ["admin"], "exp": int(time.time()) + 60},
        "secret-secret-secret-secret-secret!",
        "HS256",
    )
    with pytest.raises(
        NotAuthorizedException
    ):  # a shared-secret token is refused once JWKS is configured
        verifier.verify(hs)
