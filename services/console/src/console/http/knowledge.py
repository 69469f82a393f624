"""The knowledge base's pages (`/knowledge`, 知识库): the review queue, my articles and search; an
article's working copy with its history, its last changes and the actions of its author and of the
technical department; writing an article from a completed ticket; a published article as readers
see it. Every call goes to the tickets API as the signed-in user, which decides who may; a refusal
shows the page again with its words and what was typed."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from .. import knowledge as kb
from ..forms import FormError
from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, refusal, sign_in_again, signed_in, take_flash
from .ticket import TICKET_NO

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
VERBS = {
    "edit": "已保存修改（新的修订版，草稿）",
    "submit": "已提交技术部审核",
    "approve": "已审核通过并发布",
    "return": "已退回作者修改",
    "withdraw": "已撤回发布",
}


def _user(request: Request, *roles: str) -> SessionUser | Template | Redirect:
    if roles == kb.AUTHORS:
        zh, en = "知识文章的工作稿仅限工程师、客服和技术部", "working copies are the authors'"
    else:
        zh = "知识库仅限客服、工程师、技术部、管理层和经销商"
        en = "the knowledge base is its readers'"
    return signed_in(request, *roles, zh=zh, en=en)


def _typed(data: dict[str, str]) -> dict[str, str]:
    return {k: (v or "")[:4000] for k, v in data.items() if k != "_csrf_token"}


async def _article(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    article_id: int,
    said: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Template:
    page = await kb.load_article(upstream, user, article_id)
    said = said or {}
    values = said.get("values") if said.get("at") == "edit" else None
    return Template(
        "knowledge_article.html",
        context={
            "user": user,
            "page": page,
            "a": page.article,
            "form": values or kb.form_of(page.article),
            "said": said,
            "fields": kb.FIELDS,
            "flash": take_flash(request),
        },
        status_code=status_code,
    )


class KnowledgeController(Controller):
    path = "/knowledge"
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _user(request, *kb.READERS)
        if not isinstance(user, SessionUser):
            return user
        try:
            query = kb.parse_query(dict(request.query_params), user)
        except FormError as exc:
            return problem(request, 400, str(exc), "fix the address or the search")
        causes = await kb.cause_labels(upstream, user)
        if query.tab == "queue":
            listed = await kb.load_queue(upstream, user, query.page, utcnow(), causes)
        elif query.tab == "mine":
            listed = await kb.load_mine(upstream, user, query.page, causes)
        else:
            listed = await kb.search(upstream, user, query, causes)
        return Template(
            "knowledge_list.html",
            context={
                "user": user,
                "q": query,
                "tabs": kb.tabs_for(user),
                "listed": listed,
                "causes": causes,
                "flash": take_flash(request),
            },
        )

    @get("/new")
    async def new(
        self, request: Request, upstream: NamedDependency[Upstream], ticket: str = ""
    ) -> Template | Redirect:
        user = _user(request, *kb.AUTHORS)
        if not isinstance(user, SessionUser):
            return user
        return await self._new_page(request, upstream, user, ticket.strip())

    async def _new_page(
        self,
        request: Request,
        upstream: Upstream,
        user: SessionUser,
        ticket_no: str,
        said: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> Template:
        if not TICKET_NO.fullmatch(ticket_no):
            return problem(
                request, 400, "请从已完成工单的页面写入知识库", "start from a completed ticket"
            )
        t = await upstream.get("tickets", f"/tickets/{ticket_no}", user.token)
        if t.get("status") != "completed":
            return problem(
                request,
                409,
                f"工单{ticket_no}尚未完成，完成后才能写入知识库",
                "only a completed ticket becomes a knowledge article",
            )
        params = {"source_ticket_no": ticket_no, "limit": 1}
        existing = await upstream.get("tickets", "/knowledge/articles", user.token, params)
        return Template(
            "knowledge_new.html",
            context={
                "user": user,
                "t": t,
                "existing": (existing.get("items") or [None])[0],
                "causes": await kb.cause_labels(upstream, user),
                "said": said or {},
                "form": (said or {}).get("values") or {},
            },
            status_code=status_code,
        )

    @post("/new")
    async def create(
        self, request: Request, upstream: NamedDependency[Upstream], data: Form
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        ticket_no = (data.get("ticket_no") or "").strip()
        try:
            body = kb.new_article(data, ticket_no)
            made = await upstream.post("tickets", "/knowledge/articles", user.token, body)
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422)
            body = getattr(exc, "body", None)  # a second article names the first
            found = body.get("article_id") if isinstance(body, dict) else None
            said = {"text": refused.text, "values": _typed(data), "article_id": found}
            return await self._new_page(request, upstream, user, ticket_no, said, refused.status)
        flash(request, "ok", f"已从工单 {ticket_no} 生成草稿：请核对内容后提交技术部审核")
        return Redirect(f"/knowledge/articles/{made['id']}")

    @get("/articles/{article_id:int}")
    async def article(
        self, request: Request, article_id: int, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _user(request, *kb.AUTHORS)
        if not isinstance(user, SessionUser):
            return user
        return await _article(request, upstream, user, article_id)

    @post("/articles/{article_id:int}/{verb:str}")
    async def act(
        self,
        request: Request,
        article_id: int,
        verb: str,
        upstream: NamedDependency[Upstream],
        data: Form,
    ) -> Template | Redirect:
        """One step of the article (the tickets API authorises it); back to its page."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if verb not in VERBS:
            return problem(request, 404, "没有这个操作", "no such action")
        path = f"/knowledge/articles/{article_id}"
        try:
            if verb == "edit":
                await upstream.send("tickets", "PATCH", path, user.token, kb.article_body(data))
            elif verb == "submit":
                await upstream.post("tickets", f"{path}/submit", user.token, {})
            else:
                required = verb != "approve"
                label = {"approve": "审核意见", "return": "退回原因", "withdraw": "撤回原因"}[verb]
                said = kb.comment(data, required, label)
                body = {"comment": said} if said or required else {}
                await upstream.post("tickets", f"{path}/{verb}", user.token, body)
        except (FormError, UpstreamError) as exc:
            refused = refusal(exc, form_status=422)
            said = {"at": verb, "text": refused.text, "values": _typed(data)}
            return await _article(request, upstream, user, article_id, said, refused.status)
        flash(request, "ok", VERBS[verb])
        if verb in ("approve", "return"):  # the reviewer goes on with the queue
            return Redirect("/knowledge?tab=queue")
        return Redirect(path)

    @get("/published/{article_id:int}")
    async def published(
        self, request: Request, article_id: int, upstream: NamedDependency[Upstream]
    ) -> Template | Redirect:
        user = _user(request, *kb.READERS)
        if not isinstance(user, SessionUser):
            return user
        a = await upstream.get("tickets", f"/knowledge/published/{article_id}", user.token)
        causes = await kb.cause_labels(upstream, user)
        tz = ZoneInfo(upstream.settings.business_timezone)
        return Template(
            "knowledge_published.html",
            context={
                "user": user,
                "a": a,
                "cause_label": causes.get(a.get("cause_category") or "", a.get("cause_category")),
                "approved_by": kb.who(a.get("approved_by")),
                "approved_label": kb.local(a.get("approved_at"), tz),
                "part_lines": kb.part_lines(a.get("parts")),
                "author_view": user.has(*kb.OVERSEERS),
            },
        )
