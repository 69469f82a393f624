"""OpenID Connect sign-in (production): /auth/login sends the browser to the IdP, /auth/callback
brings it back signed in (console/oidc.py does the protocol)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter
from litestar.response import Redirect, Template

from ..oidc import OidcClient, OidcError
from .pages import problem, safe_next

PENDING = "oidc_pending"


class OidcController(Controller):
    path = "/auth"
    include_in_schema = False

    @get("/login")
    async def start(
        self, request: Request, oidc: NamedDependency[OidcClient], next: str = "/"
    ) -> Redirect | Template:
        if not oidc.configured:
            return problem(
                request,
                404,
                "未配置企业账号登录",
                "OpenID Connect sign-in is not configured here",
            )
        try:
            url, pending = await oidc.begin(safe_next(next))
        except OidcError as exc:
            return problem(request, exc.status, exc.zh, exc.en)
        request.clear_session()
        request.set_session({PENDING: pending})
        return Redirect(url)

    @get("/callback")
    async def callback(
        self,
        request: Request,
        oidc: NamedDependency[OidcClient],
        code: str = "",
        returned_state: Annotated[str, Parameter(query="state")] = "",
        error: str = "",
        error_description: str = "",
    ) -> Redirect | Template:
        pending = (request.session or {}).get(PENDING) if request.scope.get("session") else None
        if error:  # the person declined, or the IdP refused: say so, start nothing
            request.clear_session()
            return problem(
                request,
                400,
                f"登录未完成：{error_description or error}"[:200],
                f"the identity provider did not sign you in: {error}"[:200],
            )
        try:
            user = await oidc.finish(pending, returned_state, code)
        except OidcError as exc:
            request.clear_session()
            return problem(request, exc.status, exc.zh, exc.en)
        request.clear_session()
        request.set_session(user.as_session())
        return Redirect(safe_next(str((pending or {}).get("next", "/"))))
