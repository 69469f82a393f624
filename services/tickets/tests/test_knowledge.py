"""The knowledge base (issue 19 item 4): articles from completed tickets, their review by the
technical department, Chinese search and suggestions at intake, over the HTTP API against the real
database (PostgreSQL: tsvector; SQLite: FTS5)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tickets_helpers import AGENT, ENG, OTHER_ENG, SUP, body, entitle, tickets_app, uid

from aftersales_shared.db import utcnow
from aftersales_testing.support import auth, migrated, running

TECH = auth("technical", sub="tech-li")
TECH2 = auth("technical", sub="tech-zhou")
DEALER = auth("dealer", sub="dealer-staff", dealer_id="D-ZJ-01")


async def completed_ticket(
    client: Any,
    description: str,
    serial: str | None = None,
    work: list[tuple[str, list[dict]]] = (),
    **kw: Any,
) -> str:
    """A ticket opened, dispatched to eng-zhang, its work logged and confirmed by the customer."""
    extra = {} if serial else {"customer_name": "苏州客户"}
    r = await client.post(
        "/tickets", json=body(serial, description=description, **extra, **kw), headers=AGENT
    )
    assert r.status_code == 201, r.text
    no = r.json()["ticket_no"]
    assert (await client.post(f"/tickets/{no}/acknowledge", headers=AGENT)).status_code == 200
    r = await client.post(f"/tickets/{no}/assign", headers=SUP, json={"assignee_id": "eng-zhang"})
    assert r.status_code == 200, r.text
    for text, parts in work:
        entry = {"kind": "parts" if parts else "action", "text": text, "parts": parts}
        r = await client.post(f"/tickets/{no}/progress", headers=ENG, json=entry)
        assert r.status_code == 201, r.text
    confirmation = {
        "document": "repair_sheet",
        "confirmed_by": "赵工",
        "confirmed_at": utcnow().isoformat(),
        "method": "signature",
        "fault": {"symptom": "OTHER", "cause_category": "unknown"},  # a repair names its fault
    }
    r = await client.post(f"/tickets/{no}/complete", headers=ENG, json=confirmation)
    assert r.status_code == 200, r.text
    return no


async def published_article(
    client: Any, no: str, author: Any = ENG, reviewer: Any = TECH, **fields: Any
) -> int:
    """An article from a completed ticket, written, submitted and approved."""
    fields.setdefault("cause_category", "wear")
    r = await client.post("/knowledge/articles", json={"ticket_no": no, **fields}, headers=author)
    assert r.status_code == 201, r.text
    article = r.json()["id"]
    r = await client.post(f"/knowledge/articles/{article}/submit", headers=author)
    assert r.status_code == 200, r.text
    r = await client.post(f"/knowledge/articles/{article}/approve", headers=reviewer, json={})
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    return article


async def search(client: Any, headers: Any = AGENT, **params: Any) -> dict[str, Any]:
    r = await client.get("/knowledge/search", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_an_article_is_written_from_a_completed_ticket_and_reviewed_before_anyone_finds_it(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    contract, serial = f"HT-{uid()}", f"SN-{uid()}"
    async with running(app) as client:
        await entitle(app, contract, [serial])
        no = await completed_ticket(
            client,
            "主轴异响，转速越高声音越大",
            serial,
            work=[("拆检主轴，发现前轴承滚道磨损", []), ("更换主轴轴承", [_bearing(2)])],
        )
        article = await _draft_prefilled_from_the_ticket(client, no)
        await _submitted_only_when_complete_and_only_by_the_author(client, article)
        await _reviewed_by_the_technical_department_only(client, article)
        await _found_once_approved(client, article)
        await _history_keeps_every_step(client, article)


async def _four_eyes(client: Any, no: str) -> int:
    """The technical department writes articles too; someone else of it reviews them."""
    r = await client.post(
        "/knowledge/articles", json={"ticket_no": no, "cause": "温控器触点烧蚀"}, headers=TECH
    )
    article = r.json()["id"]
    assert (await client.post(f"/knowledge/articles/{article}/submit", headers=TECH)).is_success
    for verb, data in (("approve", {}), ("return", {"comment": "x"})):
        r = await client.post(f"/knowledge/articles/{article}/{verb}", headers=TECH, json=data)
        assert r.status_code == 409 and "author" in r.json()["detail"], r.text
    r = await client.post(f"/knowledge/articles/{article}/approve", headers=TECH2, json={})
    assert r.status_code == 200 and r.json()["reviewed_by"] == "tech-zhou"
    return article


def _bearing(n: int) -> dict[str, Any]:
    return {"name": "主轴轴承 7014", "quantity": n}


async def _draft_prefilled_from_the_ticket(client: Any, no: str) -> int:
    """The engineer who did the work writes it up; the draft comes filled from the ticket."""
    r = await client.post("/tickets", json=body(customer_name="x"), headers=AGENT)
    still_open = r.json()["ticket_no"]
    r = await client.post("/knowledge/articles", json={"ticket_no": still_open}, headers=AGENT)
    assert r.status_code == 409 and "completed" in r.json()["detail"]
    r = await client.post("/knowledge/articles", json={"ticket_no": no}, headers=OTHER_ENG)
    assert r.status_code == 404  # not their ticket: as if there were none
    r = await client.post("/knowledge/articles", json={"ticket_no": no}, headers=DEALER)
    assert r.status_code == 403
    r = await client.post("/knowledge/articles", json={"ticket_no": no}, headers=ENG)
    assert r.status_code == 201, r.text
    a = r.json()
    assert (a["status"], a["revision"], a["author"]) == ("draft", 1, "eng-zhang")
    assert a["symptom"] == "主轴异响，转速越高声音越大" and a["product_model"] == "XK-200"
    assert a["steps"] == ["拆检主轴，发现前轴承滚道磨损", "更换主轴轴承"]
    assert a["parts"] == [_bearing(2)] and a["source_ticket_no"] == no
    assert a["title"].startswith("XK-200 主轴异响")
    r = await client.post("/knowledge/articles", json={"ticket_no": no}, headers=AGENT)
    assert r.status_code == 409 and str(a["id"]) in r.json()["detail"]
    assert (
        await client.get(f"/knowledge/articles/{a['id']}", headers=OTHER_ENG)
    ).status_code == 404
    assert (await client.get(f"/knowledge/articles/{a['id']}", headers=SUP)).status_code == 200
    return a["id"]


async def _submitted_only_when_complete_and_only_by_the_author(client: Any, article: int) -> None:
    url = f"/knowledge/articles/{article}"
    r = await client.post(f"{url}/submit", headers=ENG)
    assert r.status_code == 422 and "cause" in r.json()["detail"], r.text
    r = await client.patch(url, headers=AGENT, json={"cause": "x"})
    assert r.status_code == 404  # an agent writes articles, but sees no one else's drafts
    r = await client.patch(url, headers=SUP, json={"cause": "x"})
    assert r.status_code == 403  # a supervisor sees every draft, the author edits it
    r = await client.patch(url, headers=ENG, json={"title": None})
    assert r.status_code == 400
    r = await client.patch(
        url, headers=ENG, json={"cause_category": "wear", "cause": "前轴承润滑不足，滚道磨损"}
    )
    assert r.status_code == 200 and r.json()["revision"] == 2, r.text
    r = await client.post(f"{url}/submit", headers=ENG)
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    r = await client.patch(url, headers=ENG, json={"cause": "改一下"})
    assert r.status_code == 409 and "submitted" in r.json()["detail"]


async def _reviewed_by_the_technical_department_only(client: Any, article: int) -> None:
    url = f"/knowledge/articles/{article}"
    for who in (ENG, AGENT, SUP, DEALER):
        assert (await client.post(f"{url}/approve", headers=who, json={})).status_code == 403
    # not approved yet: nobody finds it, readers cannot open it
    assert (await search(client, q="主轴异响"))["total"] == 0
    assert (await client.get(f"/knowledge/published/{article}", headers=AGENT)).status_code == 404
    r = await client.post(f"{url}/return", headers=TECH, json={"comment": "  "})
    assert r.status_code == 400
    r = await client.post(f"{url}/return", headers=TECH, json={"comment": "请写明润滑周期"})
    assert r.json()["status"] == "returned" and r.json()["review_comment"] == "请写明润滑周期"
    assert (await search(client, q="主轴异响"))["total"] == 0
    r = await client.patch(
        url, headers=ENG, json={"steps": ["拆检主轴", "更换主轴轴承", "润滑周期改为每500小时"]}
    )
    assert r.json()["status"] == "draft" and r.json()["revision"] == 3
    assert (await client.post(f"{url}/submit", headers=ENG)).status_code == 200
    r = await client.post(f"{url}/approve", headers=TECH, json={"comment": "可以"})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["published_revision"]) == ("approved", 3)
    assert r.json()["reviewed_by"] == "tech-li"


async def _found_once_approved(client: Any, article: int) -> None:
    """Agents, engineers and dealers find and read it; a new revision stays unseen until
    approved; a withdrawn article is found no more."""
    for who in (AGENT, OTHER_ENG, DEALER):
        found = await search(client, who, q="主轴有异响")
        assert [h["article_id"] for h in found["items"]] == [article], found
        assert 0 < found["items"][0]["score"] <= 1
    r = await client.get(f"/knowledge/published/{article}", headers=DEALER)
    assert r.status_code == 200 and r.json()["revision"] == 3
    assert r.json()["steps"][-1] == "润滑周期改为每500小时"
    r = await client.patch(
        f"/knowledge/articles/{article}", headers=ENG, json={"symptom": "主轴异响（草稿修改）"}
    )
    assert (r.json()["status"], r.json()["revision"], r.json()["published_revision"]) == (
        "draft",
        4,
        3,
    )
    r = await client.get(f"/knowledge/published/{article}", headers=AGENT)
    assert r.json()["symptom"] == "主轴异响，转速越高声音越大"  # the approved revision
    assert (await search(client, q="草稿修改"))["total"] == 0
    url = f"/knowledge/articles/{article}/withdraw"
    assert (await client.post(url, headers=ENG, json={"comment": "x"})).status_code == 403
    r = await client.post(url, headers=TECH, json={"comment": "轴承型号有误"})
    assert r.status_code == 200 and r.json()["published_revision"] is None
    assert (await search(client, q="主轴异响"))["total"] == 0
    assert (await client.post(url, headers=TECH, json={"comment": "again"})).status_code == 409


async def _history_keeps_every_step(client: Any, article: int) -> None:
    r = await client.get(f"/knowledge/articles/{article}/history", headers=TECH)
    steps = r.json()["items"]
    assert [(s["action"], s["revision"], s["actor"]) for s in steps] == [
        ("created", 1, "eng-zhang"),
        ("edited", 2, "eng-zhang"),
        ("submitted", 2, "eng-zhang"),
        ("returned", 2, "tech-li"),
        ("edited", 3, "eng-zhang"),
        ("submitted", 3, "eng-zhang"),
        ("approved", 3, "tech-li"),
        ("edited", 4, "eng-zhang"),
        ("withdrawn", 4, "tech-li"),
    ]
    assert steps[0]["content"]["cause"] is None and steps[1]["content"]["cause_category"] == "wear"
    assert steps[3]["comment"] == "请写明润滑周期" and steps[3]["actor_roles"] == ["technical"]
    assert r.json()["total"] == 9
    assert (
        await client.get(f"/knowledge/articles/{article}/history", headers=OTHER_ENG)
    ).status_code == 404


async def test_a_solved_problem_is_suggested_for_a_new_ticket_worded_differently(
    databases, streams_ready
):
    app = await tickets_app(databases, streams_ready)
    tag = uid()
    async with running(app) as client:
        spindle = await completed_ticket(
            client, f"主轴异响，转速越高声音越大 {tag}", work=[("更换主轴轴承", [_bearing(1)])]
        )
        pump = await completed_ticket(
            client, f"液压泵漏油，油温过高 {tag}", work=[("更换液压泵密封圈", [])]
        )
        heater = await completed_ticket(
            client, f"加热管不加热，温控器报警 {tag}", work=[("更换温控器", [])]
        )
        spindle_article = await published_article(client, spindle, product_model="XK-200")
        await published_article(client, pump, cause_category="material")
        heater_article = await _four_eyes(client, heater)

        r = await client.post(
            "/tickets",
            json=body(
                customer_name="常州客户",
                description="机床主轴有噪音，开机后就有异常声响",
                product_model="XK-200",
            ),
            headers=AGENT,
        )
        new = r.json()["ticket_no"]
        r = await client.get(f"/tickets/{new}/suggestions", headers=AGENT)
        assert r.status_code == 200, r.text
        suggested = r.json()
        assert suggested[0]["article_id"] == spindle_article, suggested
        assert 0 < suggested[0]["score"] <= 1 and len(suggested) <= 3
        assert all(s["score"] < suggested[0]["score"] for s in suggested[1:])
        assert suggested[0]["steps"] == ["更换主轴轴承"]
        # the article's own ticket is not offered its own article
        own = (await client.get(f"/tickets/{spindle}/suggestions", headers=AGENT)).json()
        assert spindle_article not in [s["article_id"] for s in own]
        # only who may see the ticket asks for its suggestions
        r = await client.get(f"/tickets/{new}/suggestions", headers=OTHER_ENG)
        assert r.status_code == 404
        # an agent typing before the ticket exists
        found = await search(client, q="加热管不热了，温控报警")
        assert found["items"][0]["article_id"] == heater_article, found


async def test_search_filters_by_product_and_cause_and_pages(databases, streams_ready):
    app = await tickets_app(databases, streams_ready)
    async with running(app) as client:
        made = {}
        for key, model, line, cause in [
            ("a", "XK-200", "数控机床", "wear"),
            ("b", "XK-300", "数控机床", "wear"),
            ("c", "XK-200", "数控机床", "installation"),
            ("d", "HP-50", "液压站", "wear"),
        ]:
            no = await completed_ticket(client, f"主轴异响 {key}", work=[("更换轴承", [])])
            made[key] = await published_article(
                client, no, product_model=model, product_line=line, cause_category=cause
            )

        def ids(page: dict[str, Any]) -> set[int]:
            return {h["article_id"] for h in page["items"]}

        everything = await search(client, q="主轴异响")
        assert set(made.values()) <= ids(everything)
        assert ids(await search(client, q="主轴异响", product_model="XK-200")) == {
            made["a"],
            made["c"],
        }
        assert ids(
            await search(client, q="异响", product_model="XK-200", cause_category="wear")
        ) == {made["a"]}
        assert ids(await search(client, q="异响", product_line="液压站")) == {made["d"]}
        assert (await search(client, q="主轴异响", product_model="NOPE"))["total"] == 0
        # the product in the words counts too: XK-300 first
        assert (await search(client, q="主轴异响 XK-300"))["items"][0]["article_id"] == made["b"]
        # pages: the same order, total kept, a page past the end is empty with the total
        first = await search(client, q="主轴异响", product_line="数控机床", limit=2)
        second = await search(client, q="主轴异响", product_line="数控机床", limit=2, offset=2)
        beyond = await search(client, q="主轴异响", product_line="数控机床", limit=2, offset=10)
        assert first["total"] == second["total"] == beyond["total"] == 3
        assert len(first["items"]) == 2 and len(second["items"]) == 1 and beyond["items"] == []
        assert ids(first) | ids(second) == {made["a"], made["b"], made["c"]}
        # nothing to search for in the words: nothing found; no words: the newest, unscored
        assert (await search(client, q="的了吗"))["total"] == 0
        newest = await search(client, cause_category="installation")
        assert [(h["article_id"], h["score"]) for h in newest["items"]] == [(made["c"], None)]
        # bad input is a 400 naming it, never a 500
        r = await client.get("/knowledge/search", params={"q": "x" * 501}, headers=AGENT)
        assert r.status_code == 400
        r = await client.get("/knowledge/search", params={"q": "主轴' | !(&"}, headers=AGENT)
        assert r.status_code == 200
        customer = auth("customer", customer_id="C-x")
        r = await client.get("/knowledge/search", params={"q": "x"}, headers=customer)
        assert r.status_code == 403


# ---------------------------------------------------------------- the SQLite fallback
PARITY_ARTICLES = [
    # symptom, cause, cause category, steps, product model, product line
    ("主轴异响，转速越高声音越大", "前轴承磨损", "wear", ["更换主轴轴承"], "XK-200", "数控机床"),
    ("液压泵漏油，油温过高", "密封圈老化", "material", ["更换密封圈"], "HP-50", "液压站"),
    (
        "主轴过热报警，冷却液不足",
        "冷却泵损坏",
        "wear",
        ["更换冷却泵", "补充冷却液"],
        "XK-200",
        "数控机床",
    ),
    (
        "开机无反应，电源指示灯不亮",
        "保险丝熔断",
        "installation",
        ["更换保险丝"],
        "XK-300",
        "数控机床",
    ),
    (
        "刀库换刀卡死，报警E04",
        "刀库定位传感器松动",
        "installation",
        ["紧固传感器"],
        "XK-200",
        "数控机床",
    ),
]
PARITY_QUERIES = [
    ("主轴有噪音", {}),
    ("主轴发烫，报警", {}),
    ("液压站渗油 HP-50", {}),
    ("设备开不了机，指示灯不亮", {}),
    ("主轴报警", {"product_model": "XK-200"}),
    ("报警", {"cause_category": "installation"}),
    ("XK-200", {"product_line": "数控机床"}),
]


def _runtime(url: str) -> Any:
    from tickets.app import create_app
    from tickets.settings import TicketsSettings

    settings = TicketsSettings(database_url=url, nats_url="nats://127.0.0.1:1")
    return create_app(settings).state["runtime"]


async def _approved(rt: Any, articles: list[tuple]) -> None:
    """Articles (symptom, cause, category, steps, model, line) approved through the use case."""
    from aftersales_shared.auth import Principal, Role
    from tickets.models import KnowledgeArticleRow
    from tickets.usecases import knowledge

    tech = Principal(subject="tech-li", roles=frozenset({Role.TECHNICAL}))
    now = utcnow()
    async with rt.sessions.begin() as s:
        for n, (symptom, cause, category, steps, model, line) in enumerate(articles):
            row = KnowledgeArticleRow(
                source_ticket_no=f"SV-KB-{n}",
                source_ticket_id=f"t-{n}",
                status="submitted",
                revision=1,
                title=symptom.split("，")[0],
                symptom=symptom,
                cause_category=category,
                cause=cause,
                steps=steps,
                parts=[],
                product_model=model,
                product_line=line,
                author="eng-zhang",
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            await knowledge.approve_article(s, row.id, None, tech, now)


async def _seed_and_search(url: str) -> list[list[tuple[int, float]]]:
    """The parity articles approved through the use case, then every parity query's results."""
    from sqlalchemy import text

    from tickets.usecases import knowledge_search

    rt = _runtime(url)
    try:
        await _approved(rt, PARITY_ARTICLES)
        results = []
        async with rt.sessions() as s:
            if rt.engine.dialect.name == "sqlite":  # the fallback really is FTS5
                assert await s.scalar(text("SELECT count(*) FROM knowledge_fts")) == 5
            for words, filters in PARITY_QUERIES:
                f = knowledge_search.KnowledgeFilters(**filters)
                hits, total = await knowledge_search.search(s, words, f, 10, 0)
                assert total == len(hits)
                results.append([(h.article["article_id"], h.score) for h in hits])
        return results
    finally:
        await rt.engine.dispose()


async def test_the_sqlite_fallback_finds_and_ranks_as_postgresql_does(databases, tmp_path):
    """SQLite (the laptop default) searches FTS5 over the same jieba terms and ranks as ts_rank
    does: the same articles in the same order with the same scores as on PostgreSQL."""
    from aftersales_shared.migrations import upgrade

    sqlite_url = f"sqlite+aiosqlite:///{tmp_path / 'knowledge.db'}"
    await upgrade("tickets", sqlite_url)
    on_sqlite = await _seed_and_search(sqlite_url)
    ids = [[a for a, _ in hits] for hits in on_sqlite]
    assert ids[0][0] == 1 and ids[1][0] == 3 and ids[2] == [2], on_sqlite
    assert ids[3][0] == 4 and set(ids[4]) == {1, 3, 5} and ids[5] == [5], on_sqlite
    assert set(ids[6]) == {1, 3, 5}  # one term: xk200, not "xk" and "200"
    assert all(s > 0 for hits in on_sqlite for _, s in hits)
    if databases.kind != "postgresql":
        return
    on_pg = await _seed_and_search(await migrated(databases, "tickets"))
    assert [[a for a, _ in h] for h in on_pg] == ids
    for pg_hits, lite_hits in zip(on_pg, on_sqlite):
        for (_, pg_score), (_, lite_score) in zip(pg_hits, lite_hits):
            assert abs(pg_score - lite_score) < 0.002, (on_pg, on_sqlite)


def test_knowledge_bench_runs_small(db_kind):
    """services/tickets/bench/knowledge_search.py, small: it loads, searches every way and prints
    its figures (the times are printed, not checked)."""
    if db_kind != "postgresql":
        pytest.skip("the knowledge search benchmark needs PostgreSQL")
    bench = Path(__file__).resolve().parents[1] / "bench" / "knowledge_search.py"
    args = ["--articles", "500", "--queries", "20", "--warmup", "4", "--tickets", "8"]
    r = subprocess.run(
        [sys.executable, str(bench), *args], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    assert "loaded 500 articles" in r.stdout and "GET …/suggestions" in r.stdout, r.stdout
    assert re.search(r"hit@3 tsvector: \d+/\d+", r.stdout), r.stdout
    assert re.search(r"similarity >= 0.1: p50 \d+\.\d ms", r.stdout), r.stdout
    assert re.search(r"http \d+\.\d ms \(target < 100 ms\), ratio http/raw p95 \d+\.\d\d", r.stdout)


async def test_a_term_in_most_articles_ranks_but_does_not_select(databases):
    """PostgreSQL: a term that PostgreSQL's statistics find in more than 5 % of the articles
    selects nothing by itself (it would rank half the knowledge base); it still ranks, and a query
    of common terms alone still finds."""
    if databases.kind != "postgresql":
        pytest.skip("the statistics of a tsvector column are PostgreSQL's")
    from sqlalchemy import text

    from tickets.usecases import knowledge_search

    rt = _runtime(await migrated(databases, "tickets"))
    articles = [(f"主轴松动，第{n}台", "x", "wear", ["y"], "XK-200", "数控机床") for n in range(60)]
    articles[7] = ("主轴异响，第7台", "x", "wear", ["y"], "XK-200", "数控机床")
    articles[8] = ("电机异响", "x", "wear", ["y"], "XK-200", "数控机床")
    try:
        await _approved(rt, articles)
        async with rt.sessions.begin() as s:
            await s.execute(text("ANALYZE knowledge_published"))
        f = knowledge_search.KnowledgeFilters()
        async with rt.sessions() as s:
            hits, total = await knowledge_search.search(s, "主轴异响", f, 10, 0)
            assert [h.article["article_id"] for h in hits] == [8, 9] and total == 2
            assert hits[0].score > hits[1].score  # 主轴 ranks though it did not select
            # both common: both select (every article but the one about 电机)
            assert (await knowledge_search.search(s, "主轴松动", f, 50, 0))[1] == 59
    finally:
        await rt.engine.dispose()
