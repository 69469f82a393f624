"""Sales' day's work (销售、销售经理): register a customer, draft a contract and edit the draft,
submit it for review, sign it, archive the originals, start an amendment — each posted to the
contracts API with the signed-in user's token. A refusal re-renders the form with the API's words
and the values kept; a success redirects with a flash (post/redirect/get)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import sales
from ..forms import FormError
from ..people import SessionUser
from ..reviews import STATUS
from ..upstream import Upstream, UpstreamError
from .pages import flash, problem, refusal, signed_in

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
STEPS = {
    "sign": ("签署合同", "Sign", "已签署"),
    "archive": ("归档合同", "Archive", "已归档"),
    "amend": ("发起变更", "Start an amendment", "已发起变更，新版本为草稿"),
}


def _sales(request: Request) -> SessionUser | Redirect | Template:
    zh = "登记客户和起草、签署合同仅限销售和销售经理"
    return signed_in(request, *sales.SALES, zh=zh, en="sales' forms")


def _form(template: str, code: int = 200, **context: Any) -> Template:
    return Template(template, context={"sales": sales, **context}, status_code=code)


class SalesController(Controller):
    path = "/sales"
    include_in_schema = False

    @get("/customers/new")
    async def customer_form(self, request: Request) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        return _form("sales_customer.html", user=user, v={}, error=None)

    @post("/customers/new")
    async def register_customer(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        try:
            body = sales.customer_body(data)
            made = await upstream.post("contracts", "/customers", user.token, body)
        except (FormError, UpstreamError) as exc:
            error = refusal(exc).text
            return _form("sales_customer.html", 400, user=user, v=data, error=error)
        flash(request, "ok", f"客户 {made['name']} 已登记")
        return Redirect(f"/customers/{made['customer_id']}")

    @get("/contracts/new")
    async def draft_form(self, request: Request) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        customer = (request.query_params.get("customer") or "").strip()[:64]
        v = {"customer_id": customer, "term_months": "12", "rows": sales.with_blank_rows([], 0)}
        return _form("sales_draft.html", user=user, v=v, error=None, editing=None)

    @post("/contracts/new")
    async def draft(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        try:
            body = sales.draft_body(data)
            made = await upstream.post("contracts", "/contracts", user.token, body)
        except (FormError, UpstreamError) as exc:
            error = refusal(exc).text
            v = data | {"rows": sales.with_blank_rows(sales.product_rows(data), 0)}
            return _form("sales_draft.html", 400, user=user, v=v, error=error, editing=None)
        flash(request, "ok", f"合同 {made['contract_no']} 草稿已保存，可提交评审")
        return Redirect(f"/contracts/{made['contract_no']}")

    @get("/contracts/{contract_no:str}/edit")
    async def edit_form(
        self, request: Request, contract_no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        if not sales.CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        c = await upstream.get("contracts", f"/contracts/{contract_no}", user.token)
        v = sales.draft_values(c)
        return _form("sales_draft.html", user=user, v=v, error=None, editing=c)

    @post("/contracts/{contract_no:str}/edit")
    async def edit(
        self, request: Request, contract_no: str, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        if not sales.CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        path = f"/contracts/{contract_no}"
        c = await upstream.get("contracts", path, user.token)
        try:
            await upstream.send("contracts", "PATCH", path, user.token, sales.edit_body(data, c))
        except (FormError, UpstreamError) as exc:
            error = refusal(exc).text
            v = sales.draft_values(c) | data
            v["rows"] = sales.with_blank_rows(sales.product_rows(data), 0)
            return _form("sales_draft.html", 400, user=user, v=v, error=error, editing=c)
        flash(request, "ok", f"合同 {contract_no} 草稿已修改")
        return Redirect(path)

    @post("/contracts/{contract_no:str}/submit")
    async def submit(
        self, request: Request, contract_no: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        if not sales.CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 400, "合同号格式不对", "a contract number: letters, digits, -")
        path = f"/contracts/{contract_no}"
        try:
            await upstream.post("contracts", f"{path}/submit", user.token, {})
        except UpstreamError as exc:
            flash(request, "error", refusal(exc).text)
            return Redirect(path)
        flash(request, "ok", f"合同 {contract_no} 已提交评审，待法务、财务、交付签署意见")
        return Redirect(path)

    @get("/contracts/{contract_no:str}/{step:str}")
    async def step_form(
        self, request: Request, contract_no: str, step: str, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        if step not in STEPS or not sales.CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 404, "没有这个页面", "no such page")
        c = await upstream.get("contracts", f"/contracts/{contract_no}", user.token)
        return self._step(user, upstream, c, step, {}, None)

    @post("/contracts/{contract_no:str}/{step:str}")
    async def step(
        self,
        request: Request,
        contract_no: str,
        step: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """Sign, archive or amend; the form again with the API's words when refused."""
        user = _sales(request)
        if not isinstance(user, SessionUser):
            return user
        if step not in STEPS or not sales.CONTRACT_NO.fullmatch(contract_no):
            return problem(request, 404, "没有这个页面", "no such page")
        path = f"/contracts/{contract_no}"
        tz = ZoneInfo(upstream.settings.business_timezone)
        try:
            if step == "sign":
                body = sales.sign_body(data, tz, utcnow())
            elif step == "archive":
                body = sales.archive_body(data)
            else:
                body = sales.amend_body(data)
            target = f"{path}/amendments" if step == "amend" else f"{path}/{step}"
            await upstream.post("contracts", target, user.token, body)
        except (FormError, UpstreamError) as exc:
            error = refusal(exc).text
            c = await upstream.get("contracts", path, user.token)
            return self._step(user, upstream, c, step, data, error)
        flash(request, "ok", f"合同 {contract_no} {STEPS[step][2]}")
        return Redirect(path)

    @staticmethod
    def _step(
        user: SessionUser,
        upstream: Upstream,
        c: dict[str, Any],
        step: str,
        v: dict[str, str],
        error: str | None,
    ) -> Template:
        return _form(
            "sales_step.html",
            400 if error else 200,
            user=user,
            c=c,
            step=step,
            title=STEPS[step],
            v=v,
            error=error,
            status=STATUS,
            items=sales.ARCHIVE_ITEMS,
            methods=sales.SIGN_METHODS,
            parties=sales.PARTIES,
            tz=upstream.settings.business_timezone,
        )
