"""Signing in and out: the local page listing the demo users by role (local development), the
session cookie; OpenID Connect for production is http/oidc.py."""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.auth import mint_token

from ..oidc import OidcClient
from ..people import DEMO_USERS, SessionUser, demo_user
from ..settings import ConsoleSettings
from .pages import current_user, problem, safe_next

SIGNED_OUT = "/login"


class SignInController(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: Request) -> Redirect:
        user = current_user(request)
        if user is None:
            return Redirect(SIGNED_OUT)
        if "dealer" in user.roles and user.dealer_id:
            return Redirect("/dealer")
        if "admin" in user.roles:  # (`has` admits an admin to everything: asked first)
            return Redirect("/admin/dead-letters")
        if any(r in user.roles for r in ("legal", "finance", "delivery")):
            return Redirect("/reviews")
        if "technical" in user.roles:
            return Redirect("/quality/faults")  # the technical department's day starts at analysis
        if user.has("service_agent", "service_supervisor", "engineer", "manager"):
            return Redirect("/board")
        if user.has("sales", "sales_manager"):
            return Redirect("/contracts")  # the board is not theirs (tickets refuses them)
        return Redirect("/board")

    @get("/login")
    async def login_page(
        self, request: Request, settings: NamedDependency[ConsoleSettings], next: str = "/"
    ) -> Template:
        roles: dict[str, list[Any]] = {}
        for user in DEMO_USERS:
            roles.setdefault(user.title, []).append(user)
        return Template(
            "signin.html",
            context={
                "dev": settings.dev_sign_in,
                "oidc": bool(
                    settings.oidc_issuer and settings.oidc_client_id and settings.oidc_redirect_url
                ),
                "groups": roles,
                "next": safe_next(next),
                "user": current_user(request),
            },
        )

    @post("/login")
    async def login(
        self,
        request: Request,
        settings: NamedDependency[ConsoleSettings],
        data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:
        if not settings.dev_sign_in:
            return problem(
                request,
                403,
                "本环境不提供演示登录，请使用企业账号登录",
                "demo sign-in exists in local development only; sign in with your company account",
            )
        chosen = demo_user(str(data.get("sub", "")))
        if chosen is None:
            return problem(
                request,
                400,
                "请从列表中选择一位演示用户",
                "choose one of the demo users listed on the sign-in page",
            )
        hours = settings.session_hours
        token = mint_token(
            settings.jwt_secret,
            chosen.sub,
            [chosen.role],
            dealer_id=chosen.dealer_id,
            name=chosen.name,
            hours=hours,
            audience=settings.effective_jwt_audience,
            issuer=settings.effective_jwt_issuer,
        )
        user = SessionUser(
            sub=chosen.sub,
            name=chosen.name,
            roles=(chosen.role,),
            token=token,
            expires_at=time.time() + hours * 3600,
            dealer_id=chosen.dealer_id,
        )
        request.clear_session()
        request.set_session(user.as_session())
        return Redirect(safe_next(str(data.get("next", "/"))))

    @post("/logout")
    async def logout(self, request: Request, oidc: NamedDependency[OidcClient]) -> Redirect:
        """Ends the console's session, and the IdP's too when the session came from it
        (RP-initiated logout: the IdP sends the browser back to the sign-in page)."""
        at_idp = await oidc.logout_url(current_user(request))
        request.clear_session()
        return Redirect(at_idp or SIGNED_OUT)
