"""Stock (`/stock`): stock per location with filters and pages, the reorder suggestion, a part's
ledger, the Excel exports and the Excel import of the part master with its line-numbered errors.
The parts API decides who sees what (a dealer its own store); the console also keeps an engineer
to his own van and the company stores, and names them in the location filter."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from ..people import SessionUser
from ..upstream import Upstream, UpstreamError
from .pages import current_user, flash, problem, sign_in_again, take_flash

KEEPERS = ("service_supervisor", "manager")  # parts' STOCK_KEEPERS (no warehouse role exists)
STOCK_ROLES = (*KEEPERS, "engineer", "dealer", "finance")
EXPORTERS = (*KEEPERS, "dealer", "finance")  # the exports are not confined to an engineer's van
COMPANY = ("central", "regional")
KINDS = {"central": "总仓", "regional": "区域库", "van": "车载库", "dealer": "经销商库"}
MOVES = {
    "receive": "入库",
    "transfer": "调拨",
    "issue": "领用",
    "return_unused": "退回",
    "faulty_returned": "旧件返回",
    "scrap": "报废",
}
CODE = re.compile(r"^[A-Za-z0-9._/-]{1,60}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_BYTES = 5 * 1024 * 1024
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class BadFilter(ValueError):
    pass


async def _locations(upstream: Upstream, user: SessionUser) -> list[dict[str, Any]]:
    """The locations this user may look at: a dealer its own store (parts confines it), an
    engineer his own van and the company stores, everyone else every location."""
    found = (await upstream.get("parts", "/locations", user.token, {"limit": 200}) or {}).get(
        "items", []
    )
    if "engineer" in user.roles and not user.has(*KEEPERS):
        found = [
            loc
            for loc in found
            if loc["kind"] in COMPANY
            or (loc["kind"] == "van" and loc.get("engineer_id") == user.sub)
        ]
    return [loc | {"kind_zh": KINDS.get(loc["kind"], loc["kind"])} for loc in found]


def _location(user: SessionUser, raw: str, places: list[dict[str, Any]]) -> str:
    """The location filter: one of the user's; an engineer's defaults to his own van."""
    raw = raw.strip()
    if raw and (not CODE.fullmatch(raw) or raw not in {p["location_id"] for p in places}):
        raise BadFilter("没有这个库位，或您无权查看它")
    if not raw and "engineer" in user.roles and not user.has(*KEEPERS):
        own = [p["location_id"] for p in places if p["kind"] == "van"]
        if not own:
            raise BadFilter("您还没有车载库，请联系客服主管开设")
        return own[0]
    return raw


def _part_no(raw: str) -> str:
    raw = raw.strip()
    if raw and not CODE.fullmatch(raw):
        raise BadFilter("备件编号只含字母、数字和 . _ / -")
    return raw.upper()


def _page(raw: int) -> int:
    if raw < 1 or raw > 10000:
        raise BadFilter("页码须为 1 起的整数")
    return raw


class StockPagesController(Controller):
    path = "/stock"
    include_in_schema = False

    @get("/")
    async def stock(
        self,
        request: Request,
        upstream: NamedDependency[Upstream],
        part_no: str = "",
        location_id: str = "",
        in_stock: str = "",
        page: int = 1,
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*STOCK_ROLES):
            return problem(
                request, 403, "库存页面仅限仓库、工程师、经销商和财务", "stock is not your role's"
            )
        return await _stock_page(request, upstream, user, part_no, location_id, in_stock, page)

    @get("/ledger")
    async def ledger(
        self,
        request: Request,
        upstream: NamedDependency[Upstream],
        part_no: str = "",
        location_id: str = "",
        page: int = 1,
    ) -> Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*STOCK_ROLES):
            return problem(
                request, 403, "库存页面仅限仓库、工程师、经销商和财务", "stock is not your role's"
            )
        places = await _locations(upstream, user)
        try:
            part, location, number = (
                _part_no(part_no),
                _location(user, location_id, places),
                _page(page),
            )
            if not part:
                raise BadFilter("请指定备件编号")
        except BadFilter as exc:
            return problem(request, 400, str(exc), "fix the filter")
        size = upstream.settings.page_size
        query: dict[str, Any] = {"part_no": part, "limit": size, "offset": (number - 1) * size}
        if location:
            query["location_id"] = location
        found = await upstream.get("parts", "/movements", user.token, query)
        part_row = await upstream.get("parts", f"/parts/{part}", user.token)
        total = int(found.get("total", 0))
        tz = ZoneInfo(upstream.settings.business_timezone)
        return Template(
            "ledger.html",
            context={
                "user": user,
                "part": part_row,
                "rows": [m | {"at_label": _local(m["at"], tz)} for m in found.get("items", [])],
                "moves": MOVES,
                "total": total,
                "page": number,
                "pages": max(1, -(-total // size)),
                "location": location,
            },
        )

    @get("/export/{name:str}")
    async def export(
        self, request: Request, name: str, upstream: NamedDependency[Upstream]
    ) -> Response[bytes] | Template | Redirect:
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if name not in ("stock.xlsx", "ledger.xlsx"):
            return problem(request, 404, "没有这个导出文件", "no such export")
        if not user.has(*EXPORTERS):
            return problem(
                request, 403, "您的角色不能导出全部库存", "your role may not export all stock"
            )
        answer = await upstream.raw("parts", "GET", f"/excel/{name}", user.token)
        headers = {"Content-Disposition": answer.headers.get("content-disposition", "attachment")}
        return Response(answer.content, media_type=XLSX, headers=headers)

    @post("/import")
    async def import_parts(
        self, request: Request, upstream: NamedDependency[Upstream], data: Upload
    ) -> Template | Redirect:
        """The part master (and opening stock) from an .xlsx file: every error with its sheet and
        line, nothing written unless all rows are right (parts decides)."""
        user = current_user(request)
        if user is None:
            return sign_in_again(request)
        if not user.has(*KEEPERS):
            return problem(request, 403, "只有客服主管和管理层可以导入备件", "stock keepers import")
        file = data.get("file")
        content = await file.read() if isinstance(file, UploadFile) else b""
        here = Redirect("/stock#import")
        if not content or not content.startswith(b"PK"):
            flash(request, "error", "请选择 Excel 文件（.xlsx）")
            return here
        if len(content) > MAX_IMPORT_BYTES:
            flash(request, "error", "文件过大：最大 5 MB")
            return here
        try:
            answer = await upstream.raw(
                "parts", "POST", "/excel/import", user.token, content=content, content_type=XLSX
            )
        except UpstreamError as exc:
            if not 400 <= exc.status < 500:
                raise
            errors = exc.body.get("errors") if isinstance(exc.body, dict) else None
            if isinstance(errors, list) and errors:
                flash(request, "error", f"导入失败，共 {len(errors)} 处错误，未写入任何数据")
                listed = [str(e)[:300] for e in errors[:100]]
                return await _stock_page(request, upstream, user, import_errors=listed)
            else:
                flash(request, "error", exc.detail)
            return here
        done = answer.json()
        flash(
            request,
            "ok",
            f"导入完成：新建备件 {done['parts_created']} 个，更新 {done['parts_updated']} 个，"
            f"期初库存 {done['opening_lines']} 行",
        )
        return here


async def _names(upstream: Upstream, user: SessionUser) -> dict[str, str]:
    """Part names for the table (the first 200 of the master: the numbers stand alone beyond)."""
    found = await upstream.get("parts", "/parts", user.token, {"limit": 200})
    return {p["part_no"]: p["name"] for p in (found or {}).get("items", [])}


async def _stock_page(
    request: Request,
    upstream: Upstream,
    user: SessionUser,
    part_no: str = "",
    location_id: str = "",
    in_stock: str = "",
    page: int = 1,
    import_errors: list[str] | None = None,
) -> Template:
    places = await _locations(upstream, user)
    try:
        location, part, number = (
            _location(user, location_id, places),
            _part_no(part_no),
            _page(page),
        )
    except BadFilter as exc:
        return problem(request, 400, str(exc), "fix the filter")
    size = upstream.settings.page_size
    query: dict[str, Any] = {"limit": size, "offset": (number - 1) * size}
    if part:
        query["part_no"] = part
    if location:
        query["location_id"] = location
    if in_stock:
        query["in_stock"] = "true"
    found = await upstream.get("parts", "/stock", user.token, query)
    names = await _names(upstream, user)
    where = {p["location_id"]: p for p in places}
    rows = [
        b | {"name": names.get(b["part_no"], ""), "place": where.get(b["location_id"])}
        for b in found.get("items", [])
    ]
    suggestions: list[dict[str, Any]] = []
    if user.has(*KEEPERS):
        suggestions = (
            await upstream.get("parts", "/reorder-suggestions", user.token, {"limit": 50})
        ).get("items", [])
    total = int(found.get("total", 0))
    return Template(
        "stock.html",
        context={
            "user": user,
            "rows": rows,
            "total": total,
            "page": number,
            "pages": max(1, -(-total // size)),
            "places": places,
            "f": {"part_no": part, "location_id": location, "in_stock": bool(in_stock)},
            "suggestions": suggestions,
            "keeper": user.has(*KEEPERS),
            "exporter": user.has(*EXPORTERS),
            "flash": take_flash(request),
            "import_errors": import_errors or [],
        },
        status_code=422 if import_errors else 200,
    )


def _local(value: str, tz: ZoneInfo) -> str:
    return (
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        .astimezone(tz)
        .strftime("%Y-%m-%d %H:%M")
    )
