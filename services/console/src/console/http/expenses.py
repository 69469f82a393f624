"""Expense claims (报销): the engineer's own claims and a claim's page (lines, receipts from the
phone's camera, submit), the supervisors' approval inbox, finance's settlement list. Every page
and form calls the parts API as the signed-in user; parts decides again (an engineer sees only
their own claims, nobody approves their own)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Response, Template

from aftersales_shared.db import utcnow

from .. import expenses as x
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, refusal, sign_in_again, take_flash

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
MAX_ID = 2**31 - 1
LISTS = {
    # page: (title, who may use it, the parts filter)
    "mine": ("我的报销单", x.CLAIMANTS, {}),
    "approvals": ("报销审核", x.APPROVERS, {"state": "submitted"}),
    "settlement": ("报销结算", x.SETTLERS, {"state": "approved"}),
}
DONE = {
    "line": "已添加费用行",
    "remove_line": "已删除费用行",
    "remove_receipt": "已删除凭证",
    "submit": "已提交审核",
    "approve": "已审核通过",
    "reject": "已退回给工程师修改",
    "settle": "已结算",
    "late_exception": "已批准逾期例外，工程师现在可以提交",
}


def _refused(request: Request, who: str) -> Template:
    return problem(request, 403, f"此页面仅限{who}", f"this page is for {who}")


async def _listing(
    request: Request, upstream: Upstream, user: SessionUser, view: str, page: int, state: str
) -> Template:
    title, roles, params = LISTS[view]
    if not user.has(*roles):
        who = {"mine": "工程师", "approvals": "客服主管和管理层", "settlement": "财务"}[view]
        return _refused(request, who)
    if page < 1 or page > 10000:
        return problem(request, 400, "页码须为 1 起的整数", "page is a whole number from 1")
    if state and (view != "mine" or state not in x.STATES):
        return problem(
            request, 400, f"状态只能是 {'、'.join(x.STATES)}", "state: draft, submitted, ..."
        )
    size = upstream.settings.page_size
    query = {**params, "limit": size, "offset": (page - 1) * size}
    if state:
        query["state"] = state
    found = await upstream.get("parts", "/expense-claims", user.token, query)
    calendar = await upstream.calendar("default", user.token)
    now = utcnow()
    rows = [
        c
        | {
            "deadline": x.deadline(c, now, calendar),
            "state_zh": x.STATES.get(c["state"], ""),
            "submitted_day": x.local_day(c.get("submitted_at"), calendar),
        }
        for c in found.get("items", [])
        if view == "mine" or c.get("engineer_id") != user.sub  # never one's own to decide
    ]
    total = int(found.get("total", 0))
    return Template(
        "expenses.html",
        context={
            "user": user,
            "view": view,
            "title": title,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // size)),
            "state": state,
            "states": x.STATES,
            "flash": take_flash(request),
        },
    )


class ExpensesController(Controller):
    path = "/expenses"
    include_in_schema = False

    @get("/")
    async def mine(
        self,
        request: Request,
        upstream: NamedDependency[Upstream],
        page: int = 1,
        claim_state: Annotated[str, Parameter(query="state")] = "",
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        return await _listing(request, upstream, user, "mine", page, claim_state)

    @get("/approvals")
    async def approvals(
        self, request: Request, upstream: NamedDependency[Upstream], page: int = 1
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        return await _listing(request, upstream, user, "approvals", page, "")

    @get("/settlement")
    async def settlement(
        self, request: Request, upstream: NamedDependency[Upstream], page: int = 1
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        return await _listing(request, upstream, user, "settlement", page, "")

    @post("/")
    async def create(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if "engineer" not in user.roles:
            return _refused(request, "工程师")
        try:
            body = x.trip(data)
            body["engineer_name"] = user.name
            claim = await upstream.post("parts", "/expense-claims", user.token, body)
        except (x.FormError, UpstreamError) as exc:
            flash(request, "error", refusal(exc, show_404=True).text)
            return Redirect("/expenses")
        flash(request, "ok", f"报销单 {claim['claim_no']} 已创建，请添加费用行和凭证")
        return Redirect(f"/expenses/{claim['claim_id']}")

    @get("/{claim_id:int}")
    async def claim(
        self, request: Request, claim_id: int, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not 1 <= claim_id <= MAX_ID:
            return problem(request, 404, "没有这张报销单", "no such claim")
        claim = await upstream.get("parts", f"/expense-claims/{claim_id}", user.token)
        history = await upstream.get("parts", f"/expense-claims/{claim_id}/history", user.token)
        calendar = await upstream.calendar("default", user.token)
        return Template(
            "expense.html",
            context={
                "user": user,
                "c": claim,
                "history": x.history(history or [], calendar),
                "deadline": x.deadline(claim, utcnow(), calendar),
                "forms": x.forms_for(user, claim),
                "categories": x.CATEGORIES,
                "states": x.STATES,
                "flash": take_flash(request),
            },
        )

    @get("/{claim_id:int}/receipts/{receipt_id:int}")
    async def receipt(
        self,
        request: Request,
        claim_id: int,
        receipt_id: int,
        upstream: NamedDependency[Upstream],
    ) -> Response[bytes] | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        path = f"/expense-claims/{claim_id}/receipts/{receipt_id}"
        answer = await upstream.raw("parts", "GET", path, user.token)
        headers = {"X-Content-Type-Options": "nosniff"}
        if "content-disposition" in answer.headers:
            headers["Content-Disposition"] = answer.headers["content-disposition"]
        return Response(
            answer.content,
            media_type=answer.headers.get("content-type", "application/octet-stream"),
            headers=headers,
        )

    @post("/{claim_id:int}/receipts")
    async def upload(
        self,
        request: Request,
        claim_id: int,
        upstream: NamedDependency[Upstream],
        data: Upload,
    ) -> Template | Redirect:
        """A receipt photographed on the phone (or chosen) handed on to parts as it is."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        here = Redirect(f"/expenses/{claim_id}")
        claim = await upstream.get("parts", f"/expense-claims/{claim_id}", user.token)
        if "receipt" not in x.forms_for(user, claim):
            flash(request, "error", "当前不能上传凭证：只有本人的草稿或退回的报销单可以修改")
            return here
        file = data.get("file")
        content, kind, name = b"", "", "receipt"
        if isinstance(file, UploadFile):
            content, kind = await file.read(), (file.content_type or "").split(";")[0].strip()
            name = (file.filename or "receipt").rsplit("/", 1)[-1][:200] or "receipt"
        try:
            line_no = x.receipt(kind, content, str(data.get("line_no") or ""), claim)
        except x.FormError as exc:
            flash(request, "error", str(exc))
            return here
        path = f"/expense-claims/{claim_id}/receipts?filename={quote(name)}"
        if line_no is not None:
            path += f"&line_no={line_no}"
        try:
            await upstream.raw(
                "parts", "POST", path, user.token, content=content, content_type=kind
            )
        except UpstreamError as exc:
            flash(request, "error", refusal(exc).text)
            return here
        flash(request, "ok", f"已上传凭证 {name}")
        return here

    @post("/{claim_id:int}/{name:str}")
    async def act(
        self,
        request: Request,
        claim_id: int,
        name: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if name not in DONE:
            return problem(request, 404, "没有这个操作", f"no action {name!r} on a claim")
        here = Redirect(f"/expenses/{claim_id}")
        # read first: a claim this user may not see is parts' 404 page, never a form
        claim = await upstream.get("parts", f"/expense-claims/{claim_id}", user.token)
        if name not in x.forms_for(user, claim):
            flash(request, "error", "当前不能执行此操作：报销单状态或您的角色不允许")
            return here
        try:
            method, path, body = _call(name, claim, data)
            await upstream.send("parts", method, path, user.token, body)
        except (x.FormError, UpstreamError) as exc:
            flash(request, "error", refusal(exc).text)
            return here
        flash(request, "ok", DONE[name])
        return here


def _call(name: str, claim: dict[str, Any], form: dict[str, str]) -> tuple[str, str, Any]:
    base = f"/expense-claims/{claim['claim_id']}"
    if name == "line":
        return "PUT", base, x.as_body(claim, [*x.kept_lines(claim), x.line(form)])
    if name == "remove_line":
        return "PUT", base, x.as_body(claim, x.without_line(claim, form.get("line_no") or ""))
    if name == "remove_receipt":
        rid = (form.get("receipt_id") or "").strip()
        if not rid.isdigit() or not 1 <= int(rid) <= MAX_ID:
            raise x.FormError("请选择要删除的凭证")
        return "DELETE", f"{base}/receipts/{rid}", None
    if name == "submit":
        return "POST", f"{base}/submit", None
    if name == "approve":
        return "POST", f"{base}/approve", None
    if name == "reject":
        return "POST", f"{base}/reject", {"reason": x.reason(form, "退回原因")}
    if name == "settle":
        return "POST", f"{base}/settle", {"payment_reference": x.payment_reference(form)}
    return "POST", f"{base}/late-exception", {"reason": x.reason(form, "例外原因")}
