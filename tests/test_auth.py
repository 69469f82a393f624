"""Every endpoint but health needs a valid bearer token; roles decide what a caller may do."""

from __future__ import annotations

import time

import jwt
import pytest

from aftersales_shared.auth import Principal, Role, dealer_scope, mint_token
from aftersales_shared.settings import DEV_JWT_SECRET
from contracts.app import create_app
from contracts.settings import ContractsSettings
from support import auth, draft_body, migrated, running


@pytest.fixture
async def app(databases, streams_ready):
    return create_app(ContractsSettings(database_url=await migrated(databases, "contracts"), nats_url=streams_ready))


async def test_health_ready_and_docs_are_public(app):
    async with running(app) as contracts:
        assert (await contracts.get("/health")).json() == {"status": "ok", "service": "contracts"}
        ready = await contracts.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "nats": "ok"}
        assert (await contracts.get("/schema/openapi.json")).status_code == 200
        spec = (await contracts.get("/asyncapi.json")).json()
        assert "cn.aftersales.contracts.ContractSigned.v1" in spec["channels"]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer " + mint_token("another-secret-of-at-least-32-bytes!!", "u", ["sales"]),
        "Bearer " + jwt.encode({"sub": "u", "roles": ["sales"], "exp": int(time.time()) - 10}, DEV_JWT_SECRET, "HS256"),
        "Bearer " + jwt.encode({"sub": "u", "roles": ["sales"]}, DEV_JWT_SECRET, "HS256"),  # no expiry
    ],
)
async def test_missing_or_invalid_token_is_401(app, header):
    async with running(app) as contracts:
        headers = {"Authorization": header} if header else {}
        r = await contracts.get("/contracts", headers=headers)
        assert r.status_code == 401
        assert r.json()["detail"]
        r = await contracts.get("/admin/dead-letters", headers=headers)
        assert r.status_code == 401


async def test_wrong_role_is_403_and_nothing_is_written(app):
    async with running(app) as contracts:
        r = await contracts.post("/contracts", json=draft_body("AUTH-1"), headers=auth("engineer"))
        assert r.status_code == 403
        assert "sales" in r.json()["detail"]
        assert (await contracts.get("/contracts/AUTH-1", headers=auth("sales"))).status_code == 404
        assert (await contracts.get("/admin/dead-letters", headers=auth("sales"))).status_code == 403
        assert (await contracts.get("/admin/dead-letters", headers=auth("admin"))).status_code == 200


def test_dealer_tokens_are_bound_to_a_dealer():
    with pytest.raises(ValueError, match="dealer-id"):
        mint_token(DEV_JWT_SECRET, "d1", ["dealer"])
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(DEV_JWT_SECRET, "x", ["wizard"])
    dealer = Principal("d-user", frozenset({Role.DEALER}), dealer_id="D-1")
    staff = Principal("f-user", frozenset({Role.FINANCE}))
    assert dealer_scope(dealer) == "D-1"
    assert dealer_scope(staff) is None
    assert not dealer.has(Role.FINANCE) and Principal("a", frozenset({Role.ADMIN})).has(Role.FINANCE)
