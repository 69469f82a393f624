"""Every endpoint but health needs a valid bearer token; roles decide what a caller may do."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import jwt
import pytest

from aftersales_shared.auth import Principal, Role, dealer_scope, mint_token
from aftersales_shared.settings import DEV_JWT_SECRET
from aftersales_testing.support import auth, draft_body, migrated, running
from aftersales_tools.natsserver import free_port
from contracts.app import create_app
from contracts.settings import ContractsSettings


@pytest.fixture
async def app(databases, streams_ready):
    return create_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=streams_ready
        )
    )


async def test_health_ready_and_docs_are_public(app):
    async with running(app) as contracts:
        assert (await contracts.get("/health")).json() == {"status": "ok", "service": "contracts"}
        ready = await contracts.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"] == {
            "database": "ok",
            "nats": "ok",
        }
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
        "Bearer "
        + jwt.encode(
            {"sub": "u", "roles": ["sales"], "exp": int(time.time()) - 10}, DEV_JWT_SECRET, "HS256"
        ),
        "Bearer "
        + jwt.encode({"sub": "u", "roles": ["sales"]}, DEV_JWT_SECRET, "HS256"),  # no expiry
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
        assert (
            await contracts.get("/admin/dead-letters", headers=auth("sales"))
        ).status_code == 403
        assert (
            await contracts.get("/admin/dead-letters", headers=auth("admin"))
        ).status_code == 200


def test_dealer_tokens_are_bound_to_a_dealer():
    with pytest.raises(ValueError, match="dealer-id"):
        mint_token(DEV_JWT_SECRET, "d1", ["dealer"])
    with pytest.raises(ValueError, match="unknown role"):
        mint_token(DEV_JWT_SECRET, "x", ["wizard"])
    dealer = Principal("d-user", frozenset({Role.DEALER}), dealer_id="D-1")
    staff = Principal("f-user", frozenset({Role.FINANCE}))
    assert dealer_scope(dealer) == "D-1"
    assert dealer_scope(staff) is None
    assert not dealer.has(Role.FINANCE) and Principal("a", frozenset({Role.ADMIN})).has(
        Role.FINANCE
    )


# ------------------------------------------------------ token attacks (one verifier, every service)
def _claims(**kw):  # type: ignore[no-untyped-def]
    now = int(time.time())
    base = {
        "sub": "u",
        "roles": ["admin"],
        "iat": now,
        "exp": now + 600,
        "iss": "aftersales-local",
        "aud": "aftersales",
    }
    return {k: v for k, v in (base | kw).items() if v is not None}


FORGED = {
    "exp as a numeric string": _claims(exp=str(int(time.time()) + 600)),
    "iat as a string": _claims(iat="0"),
    "nbf as a string": _claims(nbf="1"),
    "exp as true": _claims(exp=True),
    "no iat": _claims(iat=None),
    "a year-long lifetime": _claims(exp=int(time.time()) + 365 * 86400),
    "lifetime over the cap from an old iat": _claims(iat=int(time.time()) - 9 * 3600),
    "foreign issuer": _claims(iss="https://evil.example"),
    "no issuer": _claims(iss=None),
    "foreign audience": _claims(aud="another-app"),
    "no audience": _claims(aud=None),
    "not yet valid": _claims(nbf=int(time.time()) + 3600),
    "roles as an object": _claims(roles={"admin": True}),
    "sub as a number": _claims(sub=42),
    "dealer_id as a list": _claims(roles=["dealer"], dealer_id=["D-1", "D-2"]),
}


@pytest.mark.parametrize("claims", list(FORGED.values()), ids=list(FORGED))
async def test_forged_or_careless_tokens_are_401_never_500(app, claims):
    token = jwt.encode(claims, DEV_JWT_SECRET, "HS256")
    async with running(app) as contracts:
        r = await contracts.get("/contracts", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, r.text
        assert r.json()["detail"].startswith("invalid token") or "dealer" in r.json()["detail"]


async def test_unsigned_and_other_algorithm_tokens_are_401(app):
    unsigned = jwt.encode(_claims(), None, "none")
    async with running(app) as contracts:
        for token in (unsigned, unsigned + "x", "a.b.c", "e30.e30.", "x" * 5000):
            r = await contracts.get("/contracts", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401, (token[:40], r.text)


async def test_a_well_formed_local_token_is_accepted(app):
    async with running(app) as contracts:
        token = jwt.encode(_claims(), DEV_JWT_SECRET, "HS256")
        assert (
            await contracts.get("/contracts", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 200


# ---------------------------------------------------- no production start on the development secret
def test_settings_refuse_the_dev_secret_and_a_missing_issuer_outside_local_development(monkeypatch):
    monkeypatch.delenv("AFTERSALES_LOCAL_DEV", raising=False)
    with pytest.raises(
        ValueError, match="CONTRACTS_JWT_SECRET is the published development secret"
    ):
        ContractsSettings()
    with pytest.raises(ValueError, match="CONTRACTS_JWT_ISSUER is not set"):
        ContractsSettings(jwt_secret="s" * 40, jwt_audience="aftersales")
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        ContractsSettings(jwt_secret="short", jwt_issuer="https://idp", jwt_audience="aftersales")
    ok = ContractsSettings(
        jwt_secret="s" * 40,
        jwt_issuer="https://idp",
        jwt_audience="aftersales",
        nats_user="contracts",
        nats_password="n" * 24,
    )
    assert ok.local_dev is False and ok.effective_jwt_issuer == "https://idp"
    assert ContractsSettings(local_dev=True).effective_jwt_issuer == "aftersales-local"


def nats_user(service: str) -> dict[str, str]:
    """The service's NATS user of this test run (natsaccess), as a production deployment would set
    it."""
    from aftersales_testing import natsaccess

    creds = natsaccess.credentials()
    return {"nats_user": service, "nats_password": creds.passwords[service]} if creds else {}


async def test_outside_local_development_a_token_signed_with_the_dev_secret_is_refused(
    monkeypatch, databases, streams_ready
):
    monkeypatch.delenv("AFTERSALES_LOCAL_DEV", raising=False)
    settings = ContractsSettings(
        database_url=await migrated(databases, "contracts"),
        nats_url=streams_ready,
        jwt_secret="a-real-secret-of-more-than-32-bytes!!",
        jwt_issuer="https://idp.cn",
        jwt_audience="aftersales",
        **nats_user("contracts"),
    )
    async with running(create_app(settings)) as contracts:
        forged = mint_token(DEV_JWT_SECRET, "attacker", ["admin"], issuer="https://idp.cn")
        assert (
            await contracts.get("/contracts", headers={"Authorization": f"Bearer {forged}"})
        ).status_code == 401
        real = mint_token(
            "a-real-secret-of-more-than-32-bytes!!", "u", ["sales"], issuer="https://idp.cn"
        )
        assert (
            await contracts.get("/contracts", headers={"Authorization": f"Bearer {real}"})
        ).status_code == 200


def test_no_nats_user_no_start_outside_local_development(monkeypatch, tmp_path):
    from aftersales_shared.natsauth import broker_options

    monkeypatch.delenv("AFTERSALES_LOCAL_DEV", raising=False)
    monkeypatch.delenv("CONTRACTS_NATS_USER", raising=False)
    monkeypatch.delenv("CONTRACTS_NATS_PASSWORD", raising=False)
    jwt_ok = {"jwt_secret": "s" * 40, "jwt_issuer": "https://idp", "jwt_audience": "aftersales"}
    with pytest.raises(
        ValueError, match="no NATS credentials .*CONTRACTS_NATS_USER and CONTRACTS_NATS_PASSWORD"
    ):
        ContractsSettings(**jwt_ok)
    with pytest.raises(ValueError, match="no NATS credentials"):
        ContractsSettings(**jwt_ok, nats_user="contracts", nats_password="")
    creds = tmp_path / "contracts.creds"
    creds.write_text("-----BEGIN NATS USER JWT-----\n")
    assert ContractsSettings(**jwt_ok, nats_creds_file=creds).nats_creds_file == creds
    s = ContractsSettings(**jwt_ok, nats_user="contracts", nats_password="pw-" * 8)
    # the service connects as its user, with its own inbox prefix; the password never shows in the
    # settings' repr
    options = broker_options(s)
    assert options["inbox_prefix"] == "_INBOX_contracts"
    assert (options["security"].username, options["security"].password) == ("contracts", "pw-" * 8)
    assert "pw-" not in repr(s)


def test_a_service_started_without_jwt_settings_exits_with_the_reason(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "AFTERSALES_LOCAL_DEV" and not k.startswith("TICKETS_")
    }
    env |= {
        "TICKETS_LOG_JSON": "true",
        "TICKETS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 't.db'}",
        "TICKETS_PORT": str(free_port()),
    }
    run = subprocess.run(
        [sys.executable, "-m", "tickets"], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "TICKETS_JWT_SECRET is the published development secret" in run.stderr
    assert "AFTERSALES_LOCAL_DEV=1" in run.stderr and "Traceback" not in run.stderr


def test_survey_link_keys_are_required_outside_local_development(monkeypatch):
    from aftersales_shared.sealing import dev_private_key, dev_public_key, new_keypair
    from notifications.settings import NotificationsSettings
    from surveys.settings import SurveysSettings

    monkeypatch.delenv("AFTERSALES_LOCAL_DEV", raising=False)
    jwt_ok = {
        "jwt_secret": "s" * 40,
        "jwt_issuer": "https://idp",
        "jwt_audience": "aftersales",
        "nats_user": "u",
        "nats_password": "p" * 24,
    }
    with pytest.raises(ValueError, match="SURVEYS_NOTIFICATIONS_PUBLIC_KEY is not set"):
        SurveysSettings(**jwt_ok)
    with pytest.raises(ValueError, match="published development key"):
        SurveysSettings(**jwt_ok, notifications_public_key=dev_public_key())
    with pytest.raises(ValueError, match="NOTIFICATIONS_LINK_PRIVATE_KEY is not set"):
        NotificationsSettings(**jwt_ok)
    with pytest.raises(ValueError, match="published development key"):
        NotificationsSettings(**jwt_ok, link_private_key=dev_private_key())
    with pytest.raises(ValueError, match="32 bytes"):
        NotificationsSettings(**jwt_ok, link_private_key="c2hvcnQ")
    private, public = new_keypair()
    assert NotificationsSettings(**jwt_ok, link_private_key=private).link_private_key == private
    assert (
        SurveysSettings(**jwt_ok, notifications_public_key=public).policy().notifications_public_key
        == public
    )
