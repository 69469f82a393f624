"""IdP groups → roles (issue 21): where a token carries roles, groups and the dealer is
configuration every service and the console share (AUTH_ROLES_CLAIM, AUTH_GROUPS_CLAIM,
AUTH_GROUP_ROLES, AUTH_DEALER_ID_CLAIM; aftersales_shared.claims). A Keycloak token with only
`realm_access.roles`, or an Azure AD/Authing token with only `groups`, passes a service's guard;
a group nobody mapped grants nothing; a forged or unsigned token is still refused; a mapping to a
role we do not have stops the service at start with the reason."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import jwt
import pytest
from pydantic import ValidationError

from aftersales_shared.auth import Role, principal_from_claims
from aftersales_shared.claims import ClaimMapping, claim_at, role_names
from aftersales_shared.settings import DEV_JWT_SECRET
from aftersales_testing.support import migrated, running
from aftersales_tools.natsserver import free_port
from contracts.app import create_app
from contracts.settings import ContractsSettings

KEYCLOAK = ClaimMapping(
    roles_claim="realm_access.roles",
    group_roles={"/销售部/销售代表": ["sales"], "/经销商/门店": ["dealer"]},
    dealer_id_claim="attributes.dealer_id",
)


def _token(secret: str = DEV_JWT_SECRET, **claims: Any) -> dict[str, str]:
    now = int(time.time())
    base = {"sub": "kc-li", "iat": now, "exp": now + 600}
    base |= {"iss": "aftersales-local", "aud": "aftersales"}
    token = jwt.encode(base | claims, secret, "HS256")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def app(databases, streams_ready):
    return create_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"),
            nats_url=streams_ready,
            auth_claims=KEYCLOAK,
        )
    )


async def test_keycloak_roles_and_mapped_groups_pass_the_guard(app):
    async with running(app) as contracts:
        only_realm = _token(realm_access={"roles": ["sales", "offline_access"]})
        only_groups = _token(groups=["/销售部/销售代表", "/全员"])
        for headers in (only_realm, only_groups):
            r = await contracts.get("/contracts", headers=headers)
            assert r.status_code == 200, r.text
        # a group nobody mapped grants nothing; the top-level `roles` is not where roles are here
        for headers in (_token(groups=["/财务部"]), _token(roles=["sales"])):
            r = await contracts.get("/contracts", headers=headers)
            assert r.status_code == 403, r.text
        # forged: the right claims signed with another key, or not signed at all
        forged = _token("another-secret-of-at-least-32-bytes!!", groups=["/销售部/销售代表"])
        assert (await contracts.get("/contracts", headers=forged)).status_code == 401
        now = int(time.time())
        claims = {"sub": "x", "iat": now, "exp": now + 600, "groups": ["/销售部/销售代表"]}
        claims |= {"iss": "aftersales-local", "aud": "aftersales"}
        unsigned = jwt.encode(claims, None, "none")
        r = await contracts.get("/contracts", headers={"Authorization": f"Bearer {unsigned}"})
        assert r.status_code == 401
        # a dealer group needs the dealer, where AUTH_DEALER_ID_CLAIM says it is
        dealer = _token(groups=["/经销商/门店"])
        assert (await contracts.get("/contracts", headers=dealer)).status_code == 401
        malformed = _token(groups={"/销售部/销售代表": True})
        assert (await contracts.get("/contracts", headers=malformed)).status_code == 401


def test_the_effective_roles_are_the_roles_claim_and_the_mapped_groups():
    claims = {
        "sub": "kc-chen",
        "realm_access": {"roles": ["engineer", "uma_authorization"]},
        "groups": ["/经销商/门店", "/没人映射"],
        "attributes": {"dealer_id": "D-ZJ-01"},
    }
    who = principal_from_claims(claims, KEYCLOAK)
    assert who.roles == {Role.ENGINEER, Role.DEALER} and who.dealer_id == "D-ZJ-01"
    assert role_names({"groups": "/销售部/销售代表"}, KEYCLOAK) == {"sales"}  # one group, a string
    assert principal_from_claims({"sub": "u", "realm_access": {}}, KEYCLOAK).roles == frozenset()
    # the local tokens' shape stays the default
    assert principal_from_claims({"sub": "u", "roles": ["sales"]}).roles == {Role.SALES}
    ns = {"https://example.com/roles": ["manager"]}  # a namespaced claim, dots in its name
    assert claim_at(ns, "https://example.com/roles") == ["manager"]


def test_a_mapping_to_an_unknown_role_is_refused(monkeypatch):
    with pytest.raises(ValidationError, match="maps to unknown role.*boss"):
        ClaimMapping(group_roles={"/售后/老板": ["boss"]})
    monkeypatch.setenv("AUTH_GROUPS_CLAIM", "memberOf")
    monkeypatch.setenv("AUTH_GROUP_ROLES", '{"CN=售后客服": ["service_agent"]}')
    settings = ContractsSettings(local_dev=True)  # the same names, no service prefix
    assert settings.auth_claims.groups_claim == "memberOf"
    assert settings.auth_claims.group_roles == {"CN=售后客服": ["service_agent"]}


def test_a_service_with_a_mapping_to_an_unknown_role_exits_with_the_reason(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "TICKETS_"))}
    env |= {
        "AFTERSALES_LOCAL_DEV": "1",
        "AUTH_GROUP_ROLES": '{"/售后/老板": ["boss"]}',
        "TICKETS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
        "TICKETS_PORT": str(free_port()),
    }
    run = subprocess.run(
        [sys.executable, "-m", "tickets"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "AUTH_GROUP_ROLES" in run.stderr and "boss" in run.stderr
    assert "Traceback" not in run.stderr
