"""The contract review inbox of the legal, finance and delivery departments: the contracts waiting
for the signed-in department's sign-off, one contract's terms, and the sign-off or rejection
(with its reasons) posted to the contracts API as the reviewer."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from .. import reviews
from ..actions import FormError
from ..board import URGENCY
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

CONTRACT_NO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _reviewer(request: Request) -> SessionUser | Redirect | Template:
    user = current_user(request)
    if user is None:
        return sign_in_again(request)
    if not reviews.my_parts(user):
        return problem(
            request,
            403,
            "合同评审仅限法务、财务和交付部门",
            "the review inbox is the legal, finance and delivery departments'",
        )
    return user


class ReviewController(Controller):
    path = "/reviews"
    include_in_schema = False

    @get("/")
    async def inbox(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reviewer(request)
        if not isinstance(user, SessionUser):
            return user
        waiting, in_review = await reviews.load_inbox(upstream, user)
        return Template(
            "reviews.html",
            context={
                "user": user,
                "waiting": waiting,
                "in_review": in_review,
                "parts": reviews.PARTS,
                "mine": reviews.my_parts(user),
                "flash": take_flash(request),
            },
        )

    @get("/{contract_no:str}")
    async def contract(
        self, request: Request, contract_no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _reviewer(request)
        if not isinstance(user, SessionUser):
            return user
        if not CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        c = await upstream.get("contracts", f"/contracts/{contract_no}", user.token)
        open_parts = [p for p in reviews.my_parts(user) if p in (c.get("missing_sign_offs") or [])]
        return Template(
            "review.html",
            context={
                "user": user,
                "c": c,
                "total": reviews.total(c),
                "parts": reviews.PARTS,
                "open_parts": open_parts if c.get("status") == "in_review" else [],
                "status": reviews.STATUS,
                "urgencies": URGENCY,
                "flash": take_flash(request),
            },
        )

    @post("/{contract_no:str}")
    async def decide(
        self,
        request: Request,
        contract_no: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        user = _reviewer(request)
        if not isinstance(user, SessionUser):
            return user
        if not CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        here = Redirect(f"/reviews/{contract_no}")
        try:
            part, body = reviews.decision_body(data, user)
            await upstream.post(
                "contracts", f"/contracts/{contract_no}/reviews/{part}", user.token, body
            )
        except FormError as exc:
            flash(request, "error", str(exc))
            return here
        except UpstreamError as exc:
            if not 400 <= exc.status < 500 or exc.status == 404:
                raise
            flash(request, "error", exc.detail)
            return here
        done = "已通过" if body["decision"] == "approve" else "已驳回，合同退回销售修改"
        flash(request, "ok", f"合同 {contract_no} {reviews.PARTS[part]}{done}")
        return Redirect("/reviews")
