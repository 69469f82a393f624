"""Company sign-in (issue 21): OpenID Connect, authorisation code + PKCE, against a local IdP on
127.0.0.1; the services verify the IdP's access token through its JWKS, so the board works with
it. A forged state, a replayed code and a code from another sign-in get nobody in. The access
token is renewed with the refresh token before it expires, the session ends when the IdP refuses,
and signing out ends the IdP's session too (RP-initiated logout)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from tickets_helpers import tickets_app

from aftersales_testing.oidc import LocalIdp
from aftersales_testing.support import running
from console.app import create_app
from console.settings import ConsoleSettings

CONSOLE = "http://console.test"


def _path(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _to_idp_and_back(browser: httpx.AsyncClient, next_path: str = "/board") -> str:
    """The browser's trip: console → IdP (signs the configured person in) → the callback URL."""
    r = await browser.get(f"/auth/login?next={next_path}")
    assert r.status_code in (302, 303), r.text
    assert "code_challenge_method=S256" in r.headers["location"]
    with httpx.Client() as outside:  # the IdP is a real server on 127.0.0.1
        back = outside.get(r.headers["location"])
    assert back.status_code in (302, 303), back.text
    assert back.headers["location"].startswith(f"{CONSOLE}/auth/callback?")
    return _path(back.headers["location"])


async def test_company_sign_in_with_pkce_and_the_board_works_with_the_idp_token(
    databases: Any, streams_ready: str
) -> None:
    idp = LocalIdp(
        client_id="aftersales-console",
        redirect_uri=f"{CONSOLE}/auth/callback",
        users={"sup-zhang": {"name": "张主管", "roles": ["service_supervisor"]}},
        signed_in="sup-zhang",
    ).start()
    try:
        tickets = await tickets_app(
            databases,
            streams_ready,
            jwks_url=f"{idp.issuer}/jwks.json",
            jwt_issuer=idp.issuer,
            jwt_audience="aftersales",
        )
        settings = ConsoleSettings(
            local_dev=False,
            session_secret="a-console-session-secret-of-32-bytes-or-more",
            oidc_issuer=idp.issuer,
            oidc_client_id="aftersales-console",
            oidc_redirect_url=f"{CONSOLE}/auth/callback",
            jwt_issuer=idp.issuer,
            jwt_audience="aftersales",
            tickets_url="http://tickets.test",
        )
        assert settings.security_problems() == []
        console = create_app(settings, transport=httpx.ASGITransport(app=tickets))
        async with (
            running(tickets),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=console), base_url=CONSOLE
            ) as browser,
        ):
            page = await browser.get("/login")
            assert page.status_code == 200 and 'id="oidc-login"' in page.text
            callback = await _to_idp_and_back(browser)
            signed_in = await browser.get(callback)
            assert signed_in.status_code in (302, 303) and signed_in.headers["location"] == "/board"
            board = await browser.get("/board")
            assert board.status_code == 200, board.text[:500]
            assert "张主管" in board.text  # the tickets API accepted the IdP's access token
            # the code is spent: the same callback again signs nobody in
            replay = await browser.get(callback)
            assert replay.status_code == 400
            assert (await browser.get("/board")).status_code in (302, 303, 401)

            # a forged state (not the one this browser started with) is refused before the IdP
            callback = await _to_idp_and_back(browser)
            forged = callback.replace("state=", "state=x")
            r = await browser.get(forged)
            assert r.status_code == 400 and "登录请求已失效或不匹配" in r.text
            # a code issued to another sign-in (another verifier): the IdP refuses the PKCE check
            stolen = await _to_idp_and_back(browser)
            await _to_idp_and_back(browser)  # this browser starts afresh: a new verifier
            state = dict(p.split("=", 1) for p in stolen.split("?", 1)[1].split("&"))["state"]
            assert state  # the stolen callback's own state no longer matches this browser's
            r = await browser.get(stolen)
            assert r.status_code == 400
            assert idp.codes  # unredeemed codes are left; none was accepted
    finally:
        idp.stop()


def _console(idp: LocalIdp, tickets: Any, **kw: Any) -> Any:
    settings = ConsoleSettings(
        local_dev=False,
        session_secret="a-console-session-secret-of-32-bytes-or-more",
        oidc_issuer=idp.issuer,
        oidc_client_id="aftersales-console",
        oidc_redirect_url=f"{CONSOLE}/auth/callback",
        jwt_issuer=idp.issuer,
        jwt_audience="aftersales",
        tickets_url="http://tickets.test",
        **kw,
    )
    return create_app(settings, transport=httpx.ASGITransport(app=tickets))


def _idp(**kw: Any) -> LocalIdp:
    return LocalIdp(
        client_id="aftersales-console",
        redirect_uri=f"{CONSOLE}/auth/callback",
        users={"sup-zhang": {"name": "张主管", "roles": ["service_supervisor"]}},
        signed_in="sup-zhang",
        **kw,
    ).start()


async def _signed_in(browser: httpx.AsyncClient) -> None:
    signed_in = await browser.get(await _to_idp_and_back(browser))
    assert signed_in.status_code in (302, 303) and signed_in.headers["location"] == "/board"


async def test_the_access_token_is_renewed_with_the_refresh_token_until_the_idp_refuses(
    databases: Any, streams_ready: str
) -> None:
    """Access tokens of 60 s, renewed when less than 120 s are left: every request renews (the
    refresh token rotates, each good once); the renewed token is one tickets accepts; once the IdP
    revokes the refresh token the session ends and the page asks to sign in."""
    idp = _idp(access_seconds=60)
    try:
        tickets = await tickets_app(
            databases,
            streams_ready,
            jwks_url=f"{idp.issuer}/jwks.json",
            jwt_issuer=idp.issuer,
            jwt_audience="aftersales",
        )
        console = _console(idp, tickets, oidc_renew_seconds=120)
        transport = httpx.ASGITransport(app=console)
        async with (
            running(tickets),
            httpx.AsyncClient(transport=transport, base_url=CONSOLE) as browser,
        ):
            await _signed_in(browser)
            assert idp.refreshed == 0 and len(idp.refresh_tokens) == 1
            first = next(iter(idp.refresh_tokens))
            board = await browser.get("/board")
            assert board.status_code == 200 and "张主管" in board.text, board.text[:300]
            assert idp.refreshed == 1 and first not in idp.refresh_tokens  # rotated
            board = await browser.get("/board")  # the new refresh token came with the cookie
            assert board.status_code == 200 and idp.refreshed == 2

            idp.revoke("sup-zhang")
            ended = await browser.get("/board")
            assert ended.status_code in (302, 303) and ended.headers["location"].startswith(
                "/login"
            )
            assert (await browser.get("/board")).status_code in (302, 303)  # and stays ended
    finally:
        idp.stop()


async def test_a_token_far_from_expiry_is_not_renewed_and_signing_out_ends_the_idp_session(
    databases: Any, streams_ready: str
) -> None:
    idp = _idp()  # access tokens of an hour
    try:
        tickets = await tickets_app(
            databases,
            streams_ready,
            jwks_url=f"{idp.issuer}/jwks.json",
            jwt_issuer=idp.issuer,
            jwt_audience="aftersales",
        )
        console = _console(idp, tickets)
        async with (
            running(tickets),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=console), base_url=CONSOLE) as b,
        ):
            await _signed_in(b)
            board = await b.get("/board")
            assert board.status_code == 200 and idp.refreshed == 0
            csrf = re.search(r'name="_csrf_token" value="([^"]+)"', board.text)[1]
            out = await b.post("/logout", data={"_csrf_token": csrf})
            assert out.status_code in (302, 303)
            to_idp = out.headers["location"]
            assert to_idp.startswith(f"{idp.issuer}/logout?"), to_idp
            with httpx.Client() as outside:  # the browser follows to the IdP
                back = outside.get(to_idp)
            assert back.status_code in (302, 303)
            assert back.headers["location"].startswith(f"{CONSOLE}/login")
            (seen,) = idp.logouts
            assert seen["client_id"] == "aftersales-console"
            assert seen["post_logout_redirect_uri"] == f"{CONSOLE}/login"
            hint = jwt.decode(seen["id_token_hint"], options={"verify_signature": False})
            assert hint["sub"] == "sup-zhang" and hint["aud"] == "aftersales-console"
            assert (await b.get("/board")).status_code in (302, 303)  # the console's ended too
    finally:
        idp.stop()
