"""The knowledge base (知识库) as the console shows it: the technical department's review queue
(oldest first, with how long each has waited in working time), an author's own articles, search of
the published ones; an article's working copy with its history and what its last edit changed; the
article form. The tickets API decides who may do what and checks everything again; this only says
what to fix before asking it. No web code."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .contracts import local
from .countdown import format_working
from .forms import FormError, text_field
from .people import SessionUser, known_as
from .upstream import Upstream

# tickets' http/roles.py: who writes articles (AUTHORS), who reviews them, who sees every one
AUTHORS = ("engineer", "service_agent", "service_supervisor", "technical")
REVIEWERS = ("technical",)
OVERSEERS = ("technical", "service_supervisor")
READERS = (*AUTHORS, "dealer", "manager")
STATUS = {"draft": "草稿", "submitted": "待审核", "approved": "已发布", "returned": "已退回"}
STEPS = {
    "created": "起草",
    "edited": "修改",
    "submitted": "提交审核",
    "approved": "审核通过",
    "returned": "退回修改",
    "withdrawn": "撤回发布",
}
FIELDS = {
    "title": "标题",
    "symptom": "故障现象",
    "cause_category": "原因类别",
    "cause": "故障原因",
    "steps": "处理步骤",
    "parts": "使用备件",
    "product_model": "产品型号",
    "product_line": "产品线",
}
CLEARABLE = ("cause_category", "cause", "product_model", "product_line")
TABS = {"queue": "待审核", "mine": "我的文章", "search": "查找"}
SHORT = re.compile(r"^[^<>\"'`]{0,100}$")
CODE = re.compile(r"^[a-z_]{0,60}$")
PART_LINE = re.compile(r"^(?P<name>.+?)\s*(?:[×xX*]\s*(?P<qty>\d+))?$")
MAX_PAGE = 10_000


def tabs_for(user: SessionUser) -> dict[str, str]:
    """The queue is the overseers'; only authors have articles of their own."""
    shown = {k: v for k, v in TABS.items() if k != "queue" or user.has(*OVERSEERS)}
    return shown if user.has(*AUTHORS) else {"search": TABS["search"]}


@dataclass(frozen=True)
class KnowledgeQuery:
    tab: str = "search"
    q: str = ""
    product_model: str = ""
    cause_category: str = ""
    page: int = 1

    def link(self, **changes: Any) -> str:
        values: dict[str, Any] = {
            "tab": self.tab,
            "q": self.q,
            "product_model": self.product_model,
            "cause_category": self.cause_category,
            "page": self.page,
        } | changes
        kept = {k: v for k, v in values.items() if v not in ("", None, 1)}
        return "/knowledge" + ("?" + urlencode(kept) if kept else "")


def parse_query(params: dict[str, str], user: SessionUser) -> KnowledgeQuery:
    """The page's query string (the first tab this user has when none is named), or FormError."""
    tabs = tabs_for(user)
    tab = (params.get("tab") or next(iter(tabs))).strip()
    if tab not in tabs:
        raise FormError("没有这个分类（待审核仅限技术部和客服主管）")
    q = text_field(params, "q", 500, "查找内容")
    model = text_field(params, "product_model", 100, "产品型号")
    if not SHORT.fullmatch(model):
        raise FormError("产品型号含有不允许的字符")
    cause = text_field(params, "cause_category", 60, "原因类别")
    if not CODE.fullmatch(cause):
        raise FormError("原因类别请从列表中选择")
    raw_page = (params.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise FormError("页码须为 1 起的整数")
    return KnowledgeQuery(tab, q, model, cause, int(raw_page))


def who(subject: str | None) -> str:
    """A person as colleagues know them: 张工 (eng-zhang)."""
    return known_as(subject, with_id=True)


def _at(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class Listed:
    rows: list[dict[str, Any]]
    total: int
    pages: int


async def cause_labels(upstream: Upstream, user: SessionUser) -> dict[str, str]:
    """The fixed cause categories in zh-CN (the tickets API's list)."""
    found = await upstream.get("tickets", "/fault-catalogue/cause-categories", user.token)
    return {c["code"]: c["label_zh"] for c in found or []}


def _row(a: dict[str, Any], tz: ZoneInfo, causes: dict[str, str]) -> dict[str, Any]:
    return a | {
        "status_label": STATUS.get(a.get("status", ""), a.get("status", "")),
        "author_label": who(a.get("author")),
        "cause_label": causes.get(a.get("cause_category") or "", a.get("cause_category") or ""),
        "updated_label": local(a.get("updated_at"), tz),
        "submitted_label": local(a.get("submitted_at"), tz),
    }


async def load_queue(
    upstream: Upstream, user: SessionUser, page: int, now: datetime, causes: dict[str, str]
) -> Listed:
    """The submitted articles oldest first: the API lists the latest change first, so the page
    is read from the end (a submitted article changes no more until it is reviewed)."""
    size, tz = upstream.settings.page_size, ZoneInfo(upstream.settings.business_timezone)
    params = {"status": "submitted", "limit": 1}
    total = int((await upstream.get("tickets", "/knowledge/articles", user.token, params))["total"])
    end = total - (page - 1) * size
    rows: list[dict[str, Any]] = []
    if end > 0:
        params = {"status": "submitted", "limit": min(size, end), "offset": max(0, end - size)}
        found = await upstream.get("tickets", "/knowledge/articles", user.token, params)
        items = sorted(found["items"], key=lambda a: (a.get("submitted_at") or "", a["id"]))
        calendar = await upstream.calendar("default", user.token)
        for a in items:
            since = _at(a.get("submitted_at")) or now
            waited = calendar.working_time_between(since, now) if since < now else None
            label = format_working(waited) if waited else "0分"
            rows.append(_row(a, tz, causes) | {"waited_label": label})
    return Listed(rows, total, max(1, -(-total // size)))


async def load_mine(
    upstream: Upstream, user: SessionUser, page: int, causes: dict[str, str]
) -> Listed:
    size, tz = upstream.settings.page_size, ZoneInfo(upstream.settings.business_timezone)
    params = {"author": user.sub, "limit": size, "offset": (page - 1) * size}
    found = await upstream.get("tickets", "/knowledge/articles", user.token, params)
    total = int(found["total"])
    rows = [_row(a, tz, causes) for a in found["items"]]
    return Listed(rows, total, max(1, -(-total // size)))


async def search(
    upstream: Upstream, user: SessionUser, query: KnowledgeQuery, causes: dict[str, str]
) -> Listed:
    """Published articles in the API's ranking (most similar first)."""
    size, tz = upstream.settings.page_size, ZoneInfo(upstream.settings.business_timezone)
    params: dict[str, Any] = {"limit": size, "offset": (query.page - 1) * size}
    for name in ("q", "product_model", "cause_category"):
        if getattr(query, name):
            params[name] = getattr(query, name)
    found = await upstream.get("tickets", "/knowledge/search", user.token, params)
    total = int(found["total"])
    rows = [
        h
        | {
            "cause_label": causes.get(h.get("cause_category") or "", h.get("cause_category")),
            "approved_label": local(h.get("approved_at"), tz),
        }
        for h in found["items"]
    ]
    return Listed(rows, total, max(1, -(-total // size)))


# ------------------------------------------------------------------ one article
def part_lines(parts: list[dict[str, Any]] | None) -> list[str]:
    return [f"{p['name']} × {p['quantity']}" for p in parts or []]


def _lines(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)] if value not in (None, "") else []


@dataclass(frozen=True)
class Change:
    """One field that differs: the lines taken out and the lines put in."""

    label: str
    removed: list[str]
    added: list[str]


def differences(
    old: dict[str, Any], new: dict[str, Any], causes: dict[str, str] | None = None
) -> list[Change]:
    """What one revision changed against the one before, field by field; steps and parts line by
    line (difflib), so a reworded step shows as that step out and its new words in."""
    causes = causes or {}
    said: list[Change] = []
    for name, label in FIELDS.items():
        a, b = old.get(name), new.get(name)
        if name == "parts":
            a, b = part_lines(a), part_lines(b)
        if name == "cause_category":
            a, b = causes.get(a or "", a), causes.get(b or "", b)
        before, after = _lines(a), _lines(b)
        if before == after:
            continue
        removed: list[str] = []
        added: list[str] = []
        matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op != "equal":
                removed += before[i1:i2]
                added += after[j1:j2]
        said.append(Change(label, removed, added))
    return said


def _content(article: dict[str, Any]) -> dict[str, Any]:
    return {name: article.get(name) for name in FIELDS}


@dataclass
class ArticlePage:
    article: dict[str, Any]
    history: list[dict[str, Any]]
    changes: list[Change] | None  # against the revision before; None for the first
    status_label: str
    may_edit: bool
    may_review: bool
    may_withdraw: bool
    causes: dict[str, str] = field(default_factory=dict)


async def load_article(upstream: Upstream, user: SessionUser, article_id: int) -> ArticlePage:
    a = await upstream.get("tickets", f"/knowledge/articles/{article_id}", user.token)
    steps = await upstream.get(
        "tickets", f"/knowledge/articles/{article_id}/history", user.token, {"limit": 500}
    )
    causes = await cause_labels(upstream, user)
    tz = ZoneInfo(upstream.settings.business_timezone)
    history = [
        s
        | {
            "at_label": local(s.get("at"), tz),
            "who": who(s.get("actor")),
            "step_label": STEPS.get(s["action"], s["action"]),
        }
        for s in steps["items"]
    ]
    earlier = [s for s in steps["items"] if s["revision"] < a["revision"]]
    changes = differences(earlier[-1]["content"], _content(a), causes) if earlier else None
    mine = a["author"] == user.sub or "admin" in user.roles
    reviewer = user.has(*REVIEWERS) and a["author"] != user.sub
    return ArticlePage(
        article=_row(a, tz, causes)
        | {"reviewed_by_label": who(a.get("reviewed_by")), "part_lines": part_lines(a["parts"])},
        history=history,
        changes=changes,
        status_label=STATUS.get(a["status"], a["status"]),
        may_edit=mine and a["status"] in ("draft", "returned", "approved"),
        may_review=reviewer and a["status"] == "submitted",
        may_withdraw=user.has(*REVIEWERS) and a.get("published_revision") is not None,
        causes=causes,
    )


def form_of(article: dict[str, Any]) -> dict[str, str]:
    """The edit form's values from an article (steps and parts one a line)."""
    values = {k: str(article.get(k) or "") for k in FIELDS if k not in ("steps", "parts")}
    values["steps"] = "\n".join(article.get("steps") or [])
    values["parts"] = "\n".join(part_lines(article.get("parts")))
    return values


def _parts(raw: str) -> list[dict[str, Any]]:
    parts = []
    for n, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        found = PART_LINE.fullmatch(line)
        if not found or not found["qty"]:
            raise FormError(f"备件第 {n} 行请写作“名称 × 数量”，如“主轴轴承 7014 × 2”")
        name, qty = found["name"].strip(), int(found["qty"])
        if not name or len(name) > 100 or not 1 <= qty <= 10000:
            raise FormError(f"备件第 {n} 行：名称最多 100 个字，数量 1–10000")
        parts.append({"name": name, "quantity": qty})
    if len(parts) > 50:
        raise FormError("备件最多 50 行")
    return parts


def _steps(raw: str) -> list[str]:
    steps = [s.strip() for s in raw.splitlines() if s.strip()]
    if len(steps) > 50:
        raise FormError("处理步骤最多 50 步（每行一步）")
    if any(len(s) > 2000 for s in steps):
        raise FormError("每个处理步骤最多 2000 个字")
    return steps


def article_body(form: dict[str, str], new: bool = False) -> dict[str, Any]:
    """The tickets API's ArticlePatch (or, `new`, ArticleIn without its ticket: a field left
    blank is taken from the ticket) from the form, or FormError."""
    body: dict[str, Any] = {
        "title": text_field(form, "title", 200, "标题", required=not new),
        "symptom": text_field(form, "symptom", 4000, "故障现象", required=not new),
        "cause": text_field(form, "cause", 4000, "故障原因"),
        "product_model": text_field(form, "product_model", 100, "产品型号"),
        "product_line": text_field(form, "product_line", 100, "产品线"),
    }
    cause = text_field(form, "cause_category", 60, "原因类别")
    if not CODE.fullmatch(cause):
        raise FormError("原因类别请从列表中选择")
    body["cause_category"] = cause
    if "steps" in form:
        body["steps"] = _steps(form["steps"])
    if "parts" in form:
        body["parts"] = _parts(form["parts"])
    if new:
        return {k: v for k, v in body.items() if v not in ("", [])}
    return {k: (None if v == "" and k in CLEARABLE else v) for k, v in body.items()}


def new_article(form: dict[str, str], ticket_no: str) -> dict[str, Any]:
    return article_body(form, new=True) | {"ticket_no": ticket_no}


def comment(form: dict[str, str], required: bool, label: str) -> str:
    return text_field(form, "comment", 2000, label, required=required)
