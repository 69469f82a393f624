"""IdP groups → roles in the console (issue 21): signed in through OpenID Connect with a Keycloak
token that carries its roles only in `realm_access.roles`, or an Azure AD/Authing-style token with
only `groups`, the console shows the nav of the roles the services enforce — it computes them
with the services' own function (aftersales_shared.auth.principal_from_claims) and the same
AUTH_* settings — and the tickets API admits the token; a group nobody mapped grants nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx
from test_oidc import CONSOLE, _console, _to_idp_and_back
from tickets_helpers import tickets_app

from aftersales_shared.claims import ClaimMapping
from aftersales_testing.oidc import LocalIdp
from aftersales_testing.support import running

MAPPING = ClaimMapping(
    roles_claim="realm_access.roles",
    group_roles={"/售后/客服主管": ["service_supervisor"], "/售后/工程师": ["engineer"]},
)
USERS = {
    "kc-zhang": {"name": "张工", "realm_access": {"roles": ["engineer", "offline_access"]}},
    "az-li": {"name": "李主管", "groups": ["/售后/客服主管", "/全员"]},
    "az-zhao": {"name": "赵某", "groups": ["/行政部"]},
}


def _nav(html: str) -> set[str]:
    nav = re.search(r'<nav class="links"[^>]*>(.*?)</nav>', html, re.S)
    return set(re.findall(r">([^<>]+)</a>", nav[1])) if nav else set()


async def _signed_in_as(idp: LocalIdp, console: Any, sub: str) -> httpx.AsyncClient:
    idp.signed_in = sub
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=console), base_url=CONSOLE)
    signed_in = await browser.get(await _to_idp_and_back(browser))
    assert signed_in.status_code in (302, 303), signed_in.text
    return browser


async def test_keycloak_roles_and_mapped_groups_make_the_console_s_nav(
    databases: Any, streams_ready: str
) -> None:
    idp = LocalIdp(
        client_id="aftersales-console", redirect_uri=f"{CONSOLE}/auth/callback", users=USERS
    ).start()
    try:
        tickets = await tickets_app(
            databases,
            streams_ready,
            jwks_url=f"{idp.issuer}/jwks.json",
            jwt_issuer=idp.issuer,
            jwt_audience="aftersales",
            auth_claims=MAPPING,
        )
        console = _console(idp, tickets, auth_claims=MAPPING)
        async with running(tickets):
            zhang = await _signed_in_as(idp, console, "kc-zhang")
            board = await zhang.get("/board")
            assert board.status_code == 200, board.text[:300]  # the tickets API admitted it
            assert "工程师" in board.text  # the role shown beside the name
            assert {"服务台", "我的投诉", "报销"} <= _nav(board.text)
            assert "电话受理" not in _nav(board.text)
            assert (await zhang.get("/complaints")).status_code == 200
            await zhang.aclose()

            li = await _signed_in_as(idp, console, "az-li")
            board = await li.get("/board")
            assert board.status_code == 200, board.text[:300]
            assert {"服务台", "电话受理", "投诉", "回访"} <= _nav(board.text)
            assert "我的投诉" not in _nav(board.text) and "客服主管" in board.text
            await li.aclose()

            zhao = await _signed_in_as(idp, console, "az-zhao")  # /行政部: mapped to nothing
            board = await zhao.get("/board")
            assert board.status_code == 403
            assert not {"服务台", "投诉", "我的投诉", "电话受理"} & _nav(board.text)
            await zhao.aclose()
    finally:
        idp.stop()
