"""The monthly benchmark's code paths at a tiny size (bench/monthly.py, bench/readmodel.py): its
read model loads, and the report agrees figure by figure with the hand-written SQL — whole
company, one product line, one region, and an earlier month. No timings: the benchmark prints
those."""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg
import pytest
from reports.app import create_app
from reports.domain import Month
from reports.settings import ReportsSettings
from reports.usecases.monthly import Filters

from aftersales_shared.calendars import load_calendar
from aftersales_testing.support import migrated

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from monthly import _pg, differences, hand_figures, report_figures, report_once  # noqa: E402
from readmodel import Shape, fill  # noqa: E402


async def test_the_report_agrees_with_hand_written_sql_on_the_bench_read_model(databases):
    if databases.kind != "postgresql":
        pytest.skip("the benchmark's read model is loaded with COPY: PostgreSQL only")
    url = await migrated(databases, "reports")
    conn = await asyncpg.connect(**_pg(url))
    shape = Shape(4_000, months=14)
    counts = await fill(conn, shape)
    assert counts["ticket_facts"] == 4_000 and counts["unit_facts"] == 800
    settings = ReportsSettings(database_url=url, nats_url="nats://127.0.0.1:1")
    app = create_app(settings)
    rt, policy = app.state["runtime"], settings.policy()
    async with rt.sessions() as session:
        calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    last = Month(*shape.last)
    cards_overdue = 0
    try:
        for month, filters in (
            (last, Filters()),
            (last, Filters(product_line="XK")),
            (last, Filters(region="华东")),
            (last.shifted(-5), Filters()),
        ):
            report = await report_once(rt, month, filters, policy)
            hand = await hand_figures(conn, month, filters.as_dict(), policy, calendar)
            assert differences(report_figures(report), hand) == [], (month, filters)
            assert report["volume"]["total"] > 0 and report["engineers"]
            cards_overdue += sum(d["cards_overdue"] for d in report["dealers"])
        # the checks compare something: figures differ between filters, a changed figure is seen
        figures = report_figures(report)
        figures["volume"]["total"] += 1
        assert differences(figures, hand) == [
            f"/volume/total: report {hand['volume']['total'] + 1} ≠ hand SQL "
            f"{hand['volume']['total']}"
        ]
        # CardOverdue facts in the month are counted (they once made the report a 500)
        assert cards_overdue > 0
    finally:
        await conn.close()
        await rt.engine.dispose()
