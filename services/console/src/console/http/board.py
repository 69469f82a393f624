"""The service desk board page: tabs, filters, pages of tickets with their SLA countdowns."""

from __future__ import annotations

import re

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from aftersales_shared.db import utcnow

from ..board import FILTERS, REQUEST_TYPES, TABS, URGENCY, BoardQuery, load_board
from ..settings import ConsoleSettings
from ..upstream import Upstream
from .pages import current_user, problem, sign_in_again

# a filter value is an id or a model name: letters, digits, CJK, - _ . and spaces, at most 60
FILTER_VALUE = re.compile(r"^[\w\-. \u3400-\u9fff]{0,60}$")
MAX_PAGE = 100_000


def parse_query(params: dict[str, str]) -> tuple[BoardQuery | None, str, str]:
    """The board's query string, or (None, zh, en) saying what is wrong with it."""
    tab = params.get("tab") or "new"
    if tab not in TABS:
        return None, f"未知的分页签 {tab!r}", f"unknown tab {tab!r}; one of {', '.join(TABS)}"
    values = {f: (params.get(f) or "").strip() for f in FILTERS}
    for name, value in values.items():
        if not FILTER_VALUE.fullmatch(value):
            return (
                None,
                f"筛选条件 {name} 含有不允许的字符或过长",
                f"filter {name}: letters, digits, - _ . and spaces, at most 60",
            )
    if values["urgency"] and values["urgency"] not in URGENCY:
        return None, "紧急程度无效", f"urgency: one of {', '.join(URGENCY)}"
    if values["type"] and values["type"] not in REQUEST_TYPES:
        return None, "工单类型无效", f"type: one of {', '.join(REQUEST_TYPES)}"
    page_text = params.get("page") or "1"
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        return None, "页码须为 1 起的整数", f"page: a whole number from 1 to {MAX_PAGE}"
    return BoardQuery(tab=tab, page=int(page_text), **values), "", ""


class BoardController(Controller):
    path = "/board"
    include_in_schema = False

    @get("/")
    async def board(
        self,
        request: Request,
        settings: NamedDependency[ConsoleSettings],
        upstream: NamedDependency[Upstream],
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        query, zh, en = parse_query(dict(request.query_params))
        if query is None:
            return problem(request, 400, zh, en)
        board = await load_board(upstream, user, query, settings.page_size, utcnow())
        return Template(
            "board.html",
            context={
                "user": user,
                "board": board,
                "urgencies": URGENCY,
                "types": REQUEST_TYPES,
                "engineer_filter": user.has("service_agent", "service_supervisor", "manager"),
            },
        )
