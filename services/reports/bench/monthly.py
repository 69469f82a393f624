r"""The monthly report on a big read model: 1,000,000 tickets over 36 months.

    .venv/bin/python services/reports/bench/monthly.py [--tickets 1000000] [--rounds 3] \
        [--keep-database]

A PostgreSQL database of its own (`reports_bench_<random>` on 127.0.0.1:5432, dropped at the end)
gets the reports service's Alembic migrations, then the read model of readmodel.py by COPY: units of
five models in many batches (one abnormal), tickets, SLA warnings/breaches/escalations, reopenings,
follow-up tickets, surveys, return visits, training follow-ups, warranty facts, corrective actions.
Then, for the last month (whole company, then filtered by product line and by region):

1. the report's data phase: `monthly_report(...)` through the service's own sessions, as the HTTP
   handler calls it (median of --rounds after a warm-up);
2. the same aggregates as hand-written SQL on the same read model through a bare asyncpg connection
   (working time between two instants has no SQL form: the hand path fetches the pairs and converts
   them with the same calendar, as the report does); the ratio (1) / (2), target ≤ 2×;
3. the figures of (1) and (2) compared one by one: any difference is printed and the script exits
   with status 1;
4. the whole report in every format through the HTTP handlers (in-process ASGI, a manager's token):
   JSON, HTML, CSV, XLSX, PDF one after the other, as a reader downloads them: the first request
   computes the report, the others get it from the service's report cache (the read model has not
   changed meanwhile: usecases/cache.py); target < 10 s in total.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import statistics
import sys
import time
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readmodel import Shape, fill  # noqa: E402

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FAILURES = ("quality_issue", "return_exchange")
UNKNOWN = "未知"
FORMATS = ("json", "html", "csv", "xlsx", "pdf")
# means of scores are rounded to 0.01 after summing floats in another order: one unit apart at most
LOOSE = {"overall", "satisfaction"}


# --- the hand-written SQL --------------------------------------------------------------------


class Where:
    """The filters as plain SQL conditions with positional parameters ($1 start, $2 end)."""

    def __init__(self, start: Any, end: Any, product_line: str | None, region: str | None) -> None:
        self.args: list[Any] = [start, end]
        self.product_line, self.region = product_line, region

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def dealer(self, column: str) -> str:
        if not self.region:
            return ""
        return (
            f" AND {column} IN (SELECT dealer_id FROM dealer_facts WHERE region = "
            f"{self.arg(self.region)})"
        )

    def line(self, column: str) -> str:
        return f" AND {column} = {self.arg(self.product_line)}" if self.product_line else ""

    def line_of_ticket(self, column: str) -> str:
        if not self.product_line:
            return ""
        return (
            f" AND {column} IN (SELECT ticket_id FROM ticket_facts WHERE product_line = "
            f"{self.arg(self.product_line)})"
        )

    def tickets(self, alias: str = "t") -> str:
        return self.dealer(f"{alias}.dealer_id") + self.line(f"{alias}.product_line")


async def fetch(conn: Any, make: Any, start: Any, end: Any, filters: dict[str, Any]) -> list[Any]:
    w = Where(start, end, filters.get("product_line"), filters.get("region"))
    sql = make(w)
    return await conn.fetch(sql, *w.args)


OPENED = "t.opened_at >= $1 AND t.opened_at < $2"
DONE = "t.completed_at >= $1 AND t.completed_at < $2"


async def hand_figures(
    conn: Any, month: Any, filters: dict[str, Any], policy: Any, calendar: Any
) -> dict[str, Any]:
    """The report's figures computed by hand: plain SQL aggregates on the read model."""
    from reports.domain import ageing_labels, is_abnormal, per_thousand, percentile, rate
    from reports.worktime import WorkingClock

    start, end = month.bounds(policy.timezone)

    async def q(make: Any, s: Any = start, e: Any = end) -> list[Any]:
        return await fetch(conn, make, s, e, filters)

    out: dict[str, Any] = {}
    rows = await q(
        lambda w: (
            "SELECT GROUPING(channel, request_type, urgency) AS g, channel, request_type, "
            f"urgency, count(*) AS n FROM ticket_facts t WHERE {OPENED}{w.tickets()} "
            "GROUP BY GROUPING SETS ((channel), (request_type), (urgency), ())"
        )
    )
    volume: dict[str, Any] = {"channel": {}, "type": {}, "urgency": {}}
    for r in rows:
        if r["g"] == 7:
            volume["total"] = r["n"]
        for key, column, g in (
            ("channel", "channel", 3),
            ("type", "request_type", 5),
            ("urgency", "urgency", 6),
        ):
            if r["g"] == g:
                volume[key][r[column] or UNKNOWN] = r["n"]
    volume.setdefault("total", 0)
    out["volume"] = volume

    fails = {
        (r[0], r[1]): r[2]
        for r in await q(
            lambda w: (
                "SELECT coalesce(u.model, t.product_model, '未知'), "
                "coalesce(t.batch_no, u.batch_no, '未知'), count(*) FROM ticket_facts t "
                f"LEFT JOIN unit_facts u ON u.serial_no = t.serial_no WHERE {OPENED} "
                f"AND t.request_type IN ('quality_issue', 'return_exchange'){w.tickets()} "
                "GROUP BY 1, 2"
            )
        )
    }

    def units_sql(w: Where) -> str:
        return (
            "SELECT model, coalesce(batch_no, '未知'), count(*) FROM unit_facts u "
            f"WHERE u.in_service_from < $2 AND $1::timestamptz IS NOT NULL"
            f"{w.dealer('u.dealer_id')}{w.line('u.product_line')} GROUP BY 1, 2"
        )

    units = {(r[0], r[1]): r[2] for r in await q(units_sql)}
    model_units: Counter[str] = Counter()
    model_fails: Counter[str] = Counter()
    for (m, _), n in units.items():
        model_units[m] += n
    for (m, _), n in fails.items():
        model_fails[m] += n
    batches = {}
    for m, b in set(units) | set(fails):
        n, f = units.get((m, b), 0), fails.get((m, b), 0)
        p = model_fails[m] / model_units[m] if model_units[m] else 0.0
        batches[f"{m}|{b}"] = (n, f, is_abnormal(f, n, p, policy))
    out["failures"] = {
        "total": sum(model_fails.values()),
        "units": sum(model_units.values()),
        "by_model": {
            m: (model_units[m], model_fails[m]) for m in set(model_units) | set(model_fails)
        },
        "by_batch": batches,
    }

    rows = await q(
        lambda w: (
            "SELECT GROUPING(cause_category, failed_part) AS g, cause_category, failed_part, "
            "count(*) AS n, count(*) FILTER (WHERE needs_analysis) AS awaiting, "
            "count(within_sla) AS judged, count(*) FILTER (WHERE within_sla) AS within "
            f"FROM ticket_facts t WHERE {DONE}{w.tickets()} "
            "GROUP BY GROUPING SETS ((cause_category), (failed_part), ())"
        )
    )
    causes = {r["cause_category"]: r["n"] for r in rows if r["g"] == 1 and r["cause_category"]}
    parts = {r["failed_part"]: r["n"] for r in rows if r["g"] == 2 and r["failed_part"]}
    total = next(r for r in rows if r["g"] == 3)
    out["pareto"] = {"causes": causes, "parts": parts, "awaiting": total["awaiting"]}

    rows = await q(
        lambda w: (
            "SELECT c.clock, coalesce(t.urgency, '未知') AS urgency, count(*) AS n, "
            "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM ticket_event_facts e WHERE "
            "e.ticket_id = t.ticket_id AND e.kind = 'sla_breached' AND e.clock = c.clock)) AS late "
            "FROM ticket_facts t CROSS JOIN LATERAL (VALUES ('acknowledge', t.acknowledge_due), "
            "('response', t.response_due), ('resolution', t.resolution_due)) AS c(clock, due) "
            f"WHERE {OPENED} AND c.due IS NOT NULL{w.tickets()} GROUP BY 1, 2"
        )
    )
    by_urgency = {f"{r['clock']}|{r['urgency']}": (r["n"], r["late"]) for r in rows}
    with_clock: Counter[str] = Counter()
    for r in rows:
        with_clock[r["clock"]] += r["n"]
    events = await q(
        lambda w: (
            "SELECT e.kind, e.clock, count(*) AS n, count(DISTINCT e.ticket_id) AS tickets "
            "FROM ticket_event_facts e JOIN ticket_facts t ON t.ticket_id = e.ticket_id "
            f"WHERE {OPENED} AND e.kind IN ('sla_warning', 'sla_breached', 'sla_escalated')"
            f"{w.tickets()} GROUP BY 1, 2"
        )
    )
    counted: Counter[str] = Counter()
    breached: Counter[str] = Counter()
    for r in events:
        counted[r["kind"]] += r["n"]
        if r["kind"] == "sla_breached":
            breached[r["clock"]] = r["tickets"]
    out["sla"] = {
        "by_clock": {
            c: (with_clock[c] if c != "onsite" else None, breached[c])
            for c in ("acknowledge", "response", "onsite", "resolution")
        },
        "by_clock_urgency": by_urgency,
        "warnings": counted["sla_warning"],
        "escalations": counted["sla_escalated"],
        "within_sla": rate(total["within"], total["judged"]),
    }

    def stats(pairs: list[Any]) -> dict[str, Any]:
        clock = WorkingClock(calendar, [t for _, a, b in pairs for t in (a, b)])

        def minutes(a: Any, b: Any) -> float:
            return clock.between(a, b).total_seconds() / 60 if b > a else 0.0

        values: dict[str, list[float]] = defaultdict(list)
        everything = []
        for urgency, a, b in pairs:
            v = minutes(a, b)
            everything.append(v)
            values[urgency or UNKNOWN].append(v)
        return {
            "all": (len(everything), percentile(everything, 50), percentile(everything, 90)),
            **{u: (len(vs), percentile(vs, 50), percentile(vs, 90)) for u, vs in values.items()},
        }

    response = await q(
        lambda w: (
            "SELECT urgency, opened_at, first_assigned_at FROM ticket_facts t "
            f"WHERE {OPENED} AND first_assigned_at IS NOT NULL{w.tickets()}"
        )
    )
    resolution = await q(
        lambda w: (
            "SELECT urgency, opened_at, completed_at FROM ticket_facts t "
            f"WHERE {DONE} AND opened_at IS NOT NULL{w.tickets()}"
        )
    )
    out["times"] = {"response": stats(response), "resolution": stats(resolution)}

    labels = ageing_labels(policy.ageing_buckets_days)
    case = " ".join(
        f"WHEN $2 - t.opened_at <= interval '{d} days' THEN '{label}'"
        for d, label in zip(policy.ageing_buckets_days, labels, strict=False)
    )
    rows = await q(
        lambda w: (
            f"SELECT CASE {case} ELSE '{labels[-1]}' END, count(*) FROM ticket_facts t "
            "WHERE t.opened_at < $2 AND $1::timestamptz IS NOT NULL AND "
            f"(t.completed_at IS NULL OR t.completed_at >= $2){w.tickets()} GROUP BY 1"
        )
    )
    ageing = {label: 0 for label in labels} | {r[0]: r[1] for r in rows}
    out["backlog"] = {"total": sum(ageing.values()), "ageing": ageing}

    engineers = await q(
        lambda w: (
            "WITH done AS (SELECT t.ticket_id, t.engineer_id FROM ticket_facts t "
            f"WHERE {DONE}{w.tickets()}), again AS (SELECT ticket_id FROM ticket_event_facts "
            "WHERE kind = 'reopened' AND ticket_id IN (SELECT ticket_id FROM done) UNION "
            "SELECT follow_up_of FROM ticket_facts WHERE follow_up_of IN "
            "(SELECT ticket_id FROM done)) SELECT d.engineer_id, count(*) AS n, "
            "count(a.ticket_id) AS again FROM done d LEFT JOIN again a "
            "ON a.ticket_id = d.ticket_id GROUP BY 1"
        )
    )
    scores = await q(
        lambda w: (
            "SELECT engineer_id, count(*), "
            "avg((efficiency + attitude + professionalism) / 3.0::float8) FROM survey_facts s "
            f"WHERE s.answered_at >= $1 AND s.answered_at < $2 AND engineer_id IS NOT NULL"
            f"{w.dealer('s.dealer_id')}{w.line_of_ticket('s.ticket_id')} GROUP BY 1"
        )
    )
    per: dict[str, Any] = {}
    for r in engineers:
        if r["engineer_id"]:
            per[r["engineer_id"]] = [r["n"], rate(r["n"] - r["again"], r["n"]), None, 0]
    for eng, n, avg in scores:
        per.setdefault(eng, [0, None, None, 0])[2:] = [round(avg, 2), n]
    out["engineers"] = {k: tuple(v) for k, v in per.items()}

    tickets = {
        r[0]: r[1]
        for r in await q(
            lambda w: (
                "SELECT dealer_id, count(*) FROM ticket_facts t "
                f"WHERE {OPENED} AND dealer_id IS NOT NULL{w.tickets()} GROUP BY 1"
            )
        )
    }
    warranty = await q(
        lambda w: (
            "SELECT dealer_id, "
            "count(*) FILTER (WHERE kind = 'card_registered') AS cards, "
            "count(*) FILTER (WHERE kind = 'card_registered' AND on_time) AS on_time, "
            "count(*) FILTER (WHERE kind = 'card_registered' AND NOT coalesce(recognised, false)) "
            "AS not_recognised, count(*) FILTER (WHERE kind = 'card_overdue') AS card_overdue, "
            "count(*) FILTER (WHERE kind = 'parts_return_overdue') AS parts, "
            "count(*) FILTER (WHERE kind = 'warranty_service_overdue') AS service, "
            "count(*) FILTER (WHERE kind = 'deduction_issued') AS deductions, "
            "coalesce(sum(coalesce(amount, 0)) FILTER (WHERE kind = 'deduction_issued'), 0.00) "
            "AS amount FROM warranty_facts w WHERE w.at >= $1 AND w.at < $2"
            f"{w.dealer('w.dealer_id')} GROUP BY 1"
        )
    )
    dealers = {d: (n, 0, 0, 0, 0, 0, 0, 0, "0.00") for d, n in tickets.items()}
    for r in warranty:
        dealers[r["dealer_id"]] = (
            tickets.get(r["dealer_id"], 0), r["cards"], r["on_time"], r["not_recognised"],
            r["card_overdue"], r["parts"], r["service"], r["deductions"],
            str(Decimal(r["amount"]).quantize(Decimal("0.01"))),
        )  # fmt: skip
    out["dealers"] = dealers

    out["satisfaction"] = {}
    for name, other in (("current", month), ("previous_month", month.shifted(-1))) + (
        ("previous_year", month.shifted(-12)),
    ):
        s, e = other.bounds(policy.timezone)
        (r,) = await q(
            lambda w: (
                "SELECT count(*), count(*) FILTER (WHERE low_score), sum(efficiency), "
                "sum(attitude), sum(professionalism), "
                "avg((efficiency + attitude + professionalism) / 3.0::float8) FROM survey_facts s "
                "WHERE s.answered_at >= $1 AND s.answered_at < $2"
                f"{w.dealer('s.dealer_id')}{w.line_of_ticket('s.ticket_id')}"
            ),
            s,
            e,
        )
        n = r[0]
        means = tuple(round(x / n, 2) if n else None for x in r[2:5])
        out["satisfaction"][name] = (n, r[1], *means, round(r[5], 2) if n else None)

    rows = await q(
        lambda w: (
            "SELECT kind, outcome, on_time, count(*) FROM follow_up_facts f "
            f"WHERE f.at >= $1 AND f.at < $2{w.dealer('f.dealer_id')}"
            f"{w.line_of_ticket('f.ticket_id')} GROUP BY 1, 2, 3"
        )
    )
    visits: Counter[str] = Counter()
    training: Counter[str] = Counter()
    for kind, outcome, on_time, n in rows:
        box = training if kind == "training_recorded" else visits
        if kind == "return_visit_overdue":
            visits["overdue"] += n
            continue
        box["recorded"] += n
        box[outcome] += n
        box["on_time"] += n if on_time else 0
    out["follow_ups"] = {
        "return_visits": (
            visits["recorded"], visits["reached"], visits["problem_persists"],
            visits["unreachable"], rate(visits["on_time"], visits["recorded"]), visits["overdue"],
        ),
        "training": (
            training["recorded"], training["mastered"], training["needs_retraining"],
            rate(training["on_time"], training["recorded"]),
        ),
    }  # fmt: skip

    departments = await q(
        lambda w: (
            "SELECT owner_department, count(*) FROM corrective_action_facts a "
            f"WHERE a.overdue_at >= $1 AND a.overdue_at < $2{w.line('a.product_line')} GROUP BY 1"
        )
    )
    steps = await q(
        lambda w: (
            "SELECT change, count(DISTINCT action_id) FROM corrective_action_steps s "
            f"WHERE s.changed_at >= $1 AND s.changed_at < $2{w.line('s.product_line')} GROUP BY 1"
        )
    )
    step = dict(steps)
    out["actions"] = {
        "overdue": sum(n for _, n in departments),
        "by_department": dict(departments),
        "steps": tuple(step.get(c, 0) for c in ("created", "done", "verified", "rejected")),
    }

    out["changes"] = {}
    for name, other in (("current", month), ("previous_month", month.shifted(-1))) + (
        ("previous_year", month.shifted(-12)),
    ):
        s, e = other.bounds(policy.timezone)
        (r,) = await q(
            lambda w: (
                "SELECT count(*), count(*) FILTER (WHERE request_type IN "
                f"('quality_issue', 'return_exchange')) FROM ticket_facts t WHERE {OPENED}"
                f"{w.tickets()}"
            ),
            s,
            e,
        )
        (u,) = await q(
            lambda w: (
                "SELECT count(*) FROM unit_facts u WHERE u.in_service_from < $2 AND "
                f"$1::timestamptz IS NOT NULL{w.dealer('u.dealer_id')}{w.line('u.product_line')}"
            ),
            s,
            e,
        )
        out["changes"][name] = (r[0], r[1], per_thousand(r[1], u[0]))
    return out


# --- the report's figures in the same shape ----------------------------------------------------


def report_figures(report: dict[str, Any]) -> dict[str, Any]:
    v, f, p, sla = report["volume"], report["failures"], report["pareto"], report["sla"]
    out: dict[str, Any] = {
        "volume": {
            "total": v["total"],
            "channel": {c["key"]: c["count"] for c in v["by_channel"]},
            "type": {c["key"]: c["count"] for c in v["by_type"]},
            "urgency": {c["key"]: c["count"] for c in v["by_urgency"]},
        },
        "failures": {
            "total": f["failures"],
            "units": f["units_in_service"],
            "by_model": {m["model"]: (m["units"], m["failures"]) for m in f["by_model"]},
            "by_batch": {
                f"{b['model']}|{b['batch_no']}": (b["units"], b["failures"], b["abnormal"])
                for b in f["by_batch"]
            },
        },
        "pareto": {
            "causes": {r["key"]: r["count"] for r in p["causes"]},
            "parts": {r["key"]: r["count"] for r in p["failed_parts"]},
            "awaiting": p["awaiting_analysis"],
        },
        "sla": {
            "by_clock": {c["clock"]: (c["tickets"], c["breached"]) for c in sla["by_clock"]},
            "by_clock_urgency": {
                f"{c['clock']}|{c['urgency']}": (c["tickets"], c["breached"])
                for c in sla["by_clock_urgency"]
            },
            "warnings": sla["warnings"],
            "escalations": sla["escalations"],
            "within_sla": sla["completed_within_sla"],
        },
        "backlog": {
            "total": report["backlog"]["open_at_month_end"],
            "ageing": {a["bucket"]: a["count"] for a in report["backlog"]["ageing"]},
        },
        "engineers": {
            e["engineer_id"]: (e["completed"], e["first_time_fix"], e["satisfaction"], e["answers"])
            for e in report["engineers"]
        },
        "dealers": {
            d["dealer_id"]: (
                d["tickets"],
                d["cards_registered"],
                d["cards_on_time"],
                d["cards_not_recognised"],
                d["cards_overdue"],
                d["parts_return_overdue"],
                d["warranty_service_overdue"],
                d["deductions"],
                d["deduction_amount"],
            )
            for d in report["dealers"]
        },  # fmt: skip
    }
    times = {}
    for name in ("response", "resolution"):
        t = report["times"][name]
        times[name] = {"all": (t["count"], t["median_minutes"], t["p90_minutes"])} | {
            u["urgency"]: (u["count"], u["median_minutes"], u["p90_minutes"])
            for u in t["by_urgency"]
        }
    out["times"] = times
    s = report["satisfaction"]
    dims = ("answers", "low_scores", "efficiency", "attitude", "professionalism", "overall")
    out["satisfaction"] = {"current": tuple(s[d] for d in dims)} | {
        name: tuple(s[name][d] for d in dims) for name in ("previous_month", "previous_year")
    }
    rv, tr = report["return_visits"], report["training_follow_ups"]
    out["follow_ups"] = {
        "return_visits": (
            rv["recorded"], rv["reached"], rv["problem_persists"], rv["unreachable"],
            rv["on_time"], rv["overdue"],
        ),
        "training": (tr["recorded"], tr["mastered"], tr["needs_retraining"], tr["on_time"]),
    }  # fmt: skip
    a = report["corrective_actions"]
    out["actions"] = {
        "overdue": a["overdue"],
        "by_department": {d["key"]: d["count"] for d in a["by_department"]},
        "steps": (a["opened"], a["done"], a["verified"], a["rejected"]),
    }
    c = report["changes"]
    out["changes"] = {
        name: (c[name]["volume"], c[name]["failures"], c[name]["failures_per_thousand"])
        for name in ("current", "previous_month", "previous_year")
    }
    return out


def differences(report: Any, hand: Any, path: str = "") -> list[str]:
    """Where the report's figures and the hand SQL's differ (empty: they agree)."""
    if isinstance(report, dict) and isinstance(hand, dict):
        out = []
        for key in sorted(set(report) | set(hand), key=str):
            if key not in report or key not in hand:
                side = "report" if key in report else "hand SQL"
                out.append(f"{path}/{key}: only in the {side}")
            else:
                out += differences(report[key], hand[key], f"{path}/{key}")
        return out
    if isinstance(report, tuple | list) and isinstance(hand, tuple | list):
        if len(report) != len(hand):
            return [f"{path}: {report!r} ≠ {hand!r}"]
        return [d for i, (a, b) in enumerate(zip(report, hand)) for d in differences(a, b, path)]
    if isinstance(report, float) and isinstance(hand, float):
        loose = any(part in LOOSE for part in path.split("/")) or path.startswith("/engineers")
        if math.isclose(report, hand, abs_tol=0.0100001 if loose else 1e-9):
            return []
    if report != hand:
        return [f"{path}: report {report!r} ≠ hand SQL {hand!r}"]
    return []


# --- the run -----------------------------------------------------------------------------------


def _pg(url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return dict(host=u.host, port=u.port or 5432, user=u.username, database=u.database)


async def report_once(rt: Any, month: Any, filters: Any, policy: Any) -> dict[str, Any]:
    from reports.usecases import monthly

    from aftersales_shared.db import utcnow

    async with rt.sessions() as session:
        return await monthly.monthly_report(session, month, filters, policy, utcnow())


async def compare_once(
    rt: Any, conn: Any, month: Any, filters: Any, policy: Any, rounds: int, out: Any
) -> dict[str, Any]:
    """Time the report's data phase and the hand SQL (alternating, a warm-up first), check that
    they agree."""
    from aftersales_shared.calendars import load_calendar

    async with rt.sessions() as session:
        calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
    plain = filters.as_dict()
    report = await report_once(rt, month, filters, policy)
    hand = await hand_figures(conn, month, plain, policy, calendar)
    report_s, hand_s = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        report = await report_once(rt, month, filters, policy)
        report_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        async with rt.sessions() as session:  # the hand path loads the calendar as well
            calendar = await load_calendar(session, policy.calendar_id, policy.timezone)
        hand = await hand_figures(conn, month, plain, policy, calendar)
        hand_s.append(time.perf_counter() - t0)
    diffs = differences(report_figures(report), hand)
    r, h = statistics.median(report_s), statistics.median(hand_s)
    label = ", ".join(f"{k}={v}" for k, v in plain.items() if v) or "whole company"
    print(
        f"{month} ({label}): report data phase {r * 1000:,.0f} ms, hand SQL {h * 1000:,.0f} ms "
        f"= {r / h:.2f}× (target ≤ 2×); {report['volume']['total']:,} tickets opened, "
        f"{len(report['engineers'])} engineers, {len(report['dealers'])} dealers; figures "
        + ("agree" if not diffs else f"DIFFER in {len(diffs)} places"),
        file=out,
        flush=True,
    )
    for d in diffs[:30]:
        print(f"  {d}", file=out)
    return {"report_s": r, "hand_s": h, "ratio": r / h, "differences": diffs, "report": report}


async def formats(app: Any, month: Any, out: Any) -> dict[str, float]:
    """Each format through the HTTP handlers (in-process), a manager's token."""
    import httpx

    from aftersales_testing.support import auth

    times = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", timeout=300
    ) as client:
        for fmt in FORMATS:
            path = f"/reports/monthly/{month}" + ("" if fmt == "json" else f"/{fmt}")
            t0 = time.perf_counter()
            r = await client.get(path, headers=auth("manager"))
            times[fmt] = time.perf_counter() - t0
            if r.status_code != 200:
                raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
            print(f"  {fmt:5s} {times[fmt] * 1000:7,.0f} ms  {len(r.content):>10,} bytes", file=out)
    total = sum(times.values())
    print(
        f"whole report in all formats (the first request computes it, the others use the "
        f"report cache): {total:.2f} s "
        "(target < 10 s)",
        file=out,
        flush=True,
    )
    return times


async def rendered(rt: Any, month: Any, filters: Any, policy: Any, out: Any) -> dict[str, float]:
    """The report in every format from one data phase: what producing the month's report once
    costs (the renderers the HTTP handlers call, warmed up once; JSON as Litestar encodes it)."""
    from litestar.serialization import encode_json
    from reports import render

    t0 = time.perf_counter()
    report = await report_once(rt, month, filters, policy)
    times = {"data": time.perf_counter() - t0}
    writers = {"json": encode_json} | {
        fmt: getattr(render, f"to_{fmt}") for fmt in ("html", "csv", "xlsx", "pdf")
    }
    for writer in writers.values():  # warm: imports, the PDF font's first registration
        writer(report)
    for fmt, writer in writers.items():
        t0 = time.perf_counter()
        writer(report)
        times[fmt] = time.perf_counter() - t0
    print(
        "one data phase, then every format: "
        + ", ".join(f"{k} {v * 1000:,.0f} ms" for k, v in times.items())
        + f"; total {sum(times.values()):.2f} s (target < 10 s)",
        file=out,
        flush=True,
    )
    return times


async def run(args: argparse.Namespace, out: Any = sys.stdout) -> dict[str, Any]:
    import asyncpg
    from reports.app import create_app
    from reports.domain import Month
    from reports.settings import ReportsSettings
    from reports.usecases.monthly import Filters
    from sqlalchemy.engine import make_url

    from aftersales_shared.migrations import upgrade

    logging.disable(logging.INFO)  # per-request INFO lines (httpx) are not the report's work
    name = args.reuse or f"reports_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(**_pg(args.admin_url))
    if not args.reuse:
        await admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    results: dict[str, Any] = {"tickets": args.tickets, "database": name}
    try:
        await upgrade("reports", url)  # a kept database gets newer migrations too
        conn = await asyncpg.connect(**_pg(url))
        shape = Shape(args.tickets, months=args.months)
        if args.reuse:
            print(f"reusing database {name} as loaded before", file=out)
            await conn.execute("ANALYZE")
        else:
            results["loaded"] = await fill(conn, shape, out)
        settings = ReportsSettings(local_dev=True, database_url=url, nats_url="nats://127.0.0.1:1")
        app = create_app(settings)
        rt, policy = app.state["runtime"], settings.policy()
        month = Month(*shape.last)
        results["runs"] = []
        for filters in (Filters(), Filters(product_line="XK"), Filters(region="华东")):
            one = await compare_once(rt, conn, month, filters, policy, args.rounds, out)
            one.pop("report")
            results["runs"].append({"filters": filters.as_dict(), **one})
        results["rendered"] = await rendered(rt, month, Filters(), policy, out)
        results["formats"] = await formats(app, month, out)
        await conn.close()
        await rt.engine.dispose()
    finally:
        if not (args.keep_database or args.reuse):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            print(f"kept database {name}", file=out)
        await admin.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median)")
    parser.add_argument("--admin-url", default=os.environ.get("BENCH_ADMIN_URL", ADMIN_URL))
    parser.add_argument("--keep-database", action="store_true", help="do not drop it at the end")
    parser.add_argument(
        "--reuse", metavar="NAME", help="a database kept by an earlier run (--tickets as then)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args(argv)
    print(
        f"monthly report benchmark: {args.tickets:,} tickets, {os.cpu_count()} CPUs, load average "
        + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        flush=True,
    )
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    wrong = [r for r in results["runs"] if r["differences"]]
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
