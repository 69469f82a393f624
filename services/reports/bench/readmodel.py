"""A reports read model of any size, bulk loaded with COPY (asyncpg `copy_records_to_table`): the
data the monthly benchmark (monthly.py) and its small test (tests/test_bench_monthly.py) report on.

Seeded, so one size always gives the same rows. Distributions are rough but shaped like a machine
maker's after-sales: volume growing over the months, mostly phone and WeChat, 45 % quality issues,
a few critical tickets; units sold in batches of several models in three product lines, one batch
(`XK-200|B2405`) failing four times as often as its siblings; engineers, dealers in six regions,
SLA warnings and breaches, reopenings, follow-up tickets, surveys, return visits, training
follow-ups, warranty facts (cards, overdue cards and parts returns, deductions) and corrective
actions."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_shared.products import product_line

# model → batches; XK-200's B2405 is the abnormal one
MODELS = {
    "XK-200": [f"B{y}{m:02d}" for y in (23, 24, 25) for m in (1, 5, 9)],
    "XK-350": [f"B{y}{m:02d}" for y in (23, 24, 25) for m in (3, 11)],
    "HX-80": [f"H{y}{m:02d}" for y in (23, 24, 25, 26) for m in (2, 8)],
    "HX-120": [f"H{y}{m:02d}" for y in (24, 25, 26) for m in (4,)],
    "LM-5": [f"L{y}{q}" for y in (23, 24, 25, 26) for q in "ABCD"],
}
ABNORMAL = ("XK-200", "B2405")
REGIONS = ("华东", "华南", "华北", "华中", "西南", "东北")
CHANNELS = (("phone", 45), ("wechat", 30), ("web", 15), ("partner-call-centre-east", 10))
TYPES = (
    ("quality_issue", 45),
    ("return_exchange", 5),
    ("usage_question", 20),
    ("maintenance", 15),
    ("installation", 10),
    ("complaint", 5),
)
URGENCIES = (("normal", 70), ("urgent", 25), ("critical", 5))
CAUSES = (
    ("manufacturing_batch", 30),
    ("material_supplier", 25),
    ("design", 12),
    ("installation", 12),
    ("misuse", 11),
    ("transport", 6),
    ("other", 4),
)
PARTS = tuple((f"零件-{i:02d}", 40 // (i + 1) + 1) for i in range(25))
SYMPTOMS = ("主轴异响", "屏幕黑屏", "漏油", "无法启动", "精度超差", "报警 E-21")
DEPARTMENTS = ("quality", "engineering", "production", "purchasing", "service")


def pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in weighted], [w for _, w in weighted])[0]


@dataclass
class Shape:
    """How big and over which months: `tickets` opened over `months` months ending with `last`
    (YYYY-MM, business time zone)."""

    tickets: int
    months: int = 36
    last: tuple[int, int] = (2026, 10)
    seed: int = 20
    timezone: str = "Asia/Shanghai"
    engineers: int = 300
    dealers: int = 120
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return max(200, self.tickets // 5)

    def month_starts(self) -> list[datetime]:
        zone = ZoneInfo(self.timezone)
        y, m = self.last
        index = y * 12 + m - 1 - (self.months - 1)
        out = []
        for k in range(self.months + 1):
            i = index + k
            out.append(datetime(i // 12, i % 12 + 1, 1, tzinfo=zone).astimezone(UTC))
        return out


def _at(rng: random.Random, starts: list[datetime], weights: list[float]) -> datetime:
    k = rng.choices(range(len(weights)), weights)[0]
    span = (starts[k + 1] - starts[k]).total_seconds()
    return starts[k] + timedelta(seconds=int(rng.random() * span))


async def fill(conn: Any, shape: Shape, out: Any = None) -> dict[str, int]:
    """Load the read model for `shape` into the (migrated, empty) database behind `conn`."""
    rng = random.Random(shape.seed)
    starts = shape.month_starts()
    first, end = starts[0], starts[-1]
    # volume grows ~40 % over the period
    weights = [1 + 0.4 * k / max(1, shape.months - 1) for k in range(shape.months)]
    t0 = time.perf_counter()
    counts: dict[str, int] = {}

    async def copy(table: str, columns: list[str], records: list[tuple[Any, ...]]) -> None:
        for i in range(0, len(records), 100_000):
            await conn.copy_records_to_table(
                table, records=records[i : i + 100_000], columns=columns
            )
        counts[table] = counts.get(table, 0) + len(records)

    dealers = [f"D-{i:03d}" for i in range(shape.dealers)]
    await copy(
        "dealer_facts",
        ["dealer_id", "name", "region", "changed_at"],
        [(d, f"经销商{d}", REGIONS[i % len(REGIONS)], first) for i, d in enumerate(dealers)],
    )

    # units: signed from a year before the window until its end, batch by batch
    units: list[tuple[Any, ...]] = []
    unit_info: list[tuple[str, str, str, str]] = []  # serial, model, batch, dealer
    abnormal_units: list[int] = []
    model_names = list(MODELS)
    for n in range(shape.units):
        model = model_names[n % len(model_names)]
        batches = MODELS[model]
        k = rng.randrange(len(batches))
        batch = batches[k]
        # a model's batches are sold one after the other, from a year before the window to its end
        span = (end - first).days + 365
        since = timedelta(days=span * (k + rng.random()) / len(batches))
        signed = min(first - timedelta(days=365) + since, end - timedelta(days=1))
        serial = f"SN-{model}-{n:07d}"
        dealer = dealers[rng.randrange(len(dealers))]
        named_batch = batch if rng.random() < 0.9 else None  # some contracts name no batch
        units.append(
            (
                serial, model, named_batch, product_line(model), f"HT-{n // 3:07d}",
                f"C-{n // 3:07d}", dealer, signed, f"ev-unit-{n}",
            )
        )  # fmt: skip
        unit_info.append((serial, model, batch, dealer))
        if (model, batch) == ABNORMAL:
            abnormal_units.append(n)
    await copy(
        "unit_facts",
        [
            "serial_no", "model", "batch_no", "product_line", "contract_no", "customer_id",
            "dealer_id", "in_service_from", "event_id",
        ],
        units,
    )  # fmt: skip

    tickets: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    surveys: list[tuple[Any, ...]] = []
    follow_ups: list[tuple[Any, ...]] = []
    completed_ids: list[tuple[str, datetime]] = []
    # tickets are written as they open: the table's order is time order, as in production
    opened_at = sorted(_at(rng, starts, weights) for _ in range(shape.tickets))
    for n, opened in enumerate(opened_at):
        rtype = pick(rng, TYPES)
        urgency = pick(rng, URGENCIES)
        failure = rtype in ("quality_issue", "return_exchange")
        if rng.random() < 0.85:
            if failure and abnormal_units and rng.random() < 0.02:
                u = abnormal_units[rng.randrange(len(abnormal_units))]
            else:
                u = rng.randrange(len(unit_info))
            serial, model, batch, dealer = unit_info[u]
        else:
            serial, model, batch = None, rng.choice(model_names), None
            dealer = dealers[rng.randrange(len(dealers))] if rng.random() < 0.7 else None
        hours = {"normal": 24, "urgent": 8, "critical": 2}[urgency]
        assigned = opened + timedelta(minutes=int(rng.expovariate(1 / (hours * 20))) + 1)
        if rng.random() < 0.08:
            assigned = None
        done = None
        if rng.random() < 0.97:
            done = opened + timedelta(minutes=int(rng.lognormvariate(8, 1.0)) + 30)
        engineer = f"eng-{rng.randrange(shape.engineers):03d}" if assigned else None
        ticket_id = f"t-{n:07d}"
        cause = part = symptom = needs = ticket_batch = line = None
        if done and failure:
            needs = rng.random() < 0.05
            cause = None if needs else pick(rng, CAUSES)
            part = pick(rng, PARTS) if rng.random() < 0.8 else None
            symptom = rng.choice(SYMPTOMS)
            ticket_batch = batch
        if serial or model:
            line = product_line(model)
        follow_up_of = None
        if completed_ids and rng.random() < 0.01:
            original, original_done = completed_ids[rng.randrange(len(completed_ids))]
            if original_done < opened:
                follow_up_of = original
        tickets.append(
            (
                ticket_id, f"SV-{n:08d}", opened, pick(rng, CHANNELS), rtype, urgency,
                f"C-{rng.randrange(50_000):06d}", dealer, model, line, serial, ticket_batch,
                opened + timedelta(minutes=30) if rng.random() < 0.5 else None,
                opened + timedelta(hours=hours), opened + timedelta(hours=hours * 3),
                assigned, assigned, engineer, done,
                (rng.random() < 0.88) if done else None, symptom, cause, part, needs,
                follow_up_of, f"ev-t-{n}",
            )
        )  # fmt: skip
        if done:
            completed_ids.append((ticket_id, done))
        for clock, share in (
            ("acknowledge", 0.03),
            ("response", 0.06),
            ("onsite", 0.02),
            ("resolution", 0.08),
        ):
            roll = rng.random()
            if roll < share * 1.5:
                events.append(
                    (
                        f"ev-w-{clock}-{n}", ticket_id, "sla_warning", clock, urgency,
                        opened + timedelta(hours=hours * 0.75), opened + timedelta(hours=hours),
                        None,
                    )
                )  # fmt: skip
            if roll < share:
                events.append(
                    (
                        f"ev-b-{clock}-{n}", ticket_id, "sla_breached", clock, urgency,
                        opened + timedelta(hours=hours), opened + timedelta(hours=hours),
                        int(rng.expovariate(1 / 3600)),
                    )
                )  # fmt: skip
                if roll < share / 4:
                    events.append(
                        (
                            f"ev-e-{clock}-{n}", ticket_id, "sla_escalated", clock, urgency,
                            opened + timedelta(hours=hours * 1.5), opened + timedelta(hours=hours),
                            int(rng.expovariate(1 / 7200)),
                        )
                    )  # fmt: skip
        if done and rng.random() < 0.03:
            events.append(
                (
                    f"ev-r-{n}", ticket_id, "reopened", None, None,
                    done + timedelta(days=rng.randrange(1, 20)), None, None,
                )
            )  # fmt: skip
        if done and rng.random() < 0.4:
            scores = [max(1, min(5, round(rng.gauss(4.3, 0.8)))) for _ in range(3)]
            surveys.append(
                (
                    f"s-{n}", ticket_id, done + timedelta(hours=rng.randrange(2, 96)), *scores,
                    rng.randrange(0, 11), min(scores) <= 2, engineer, dealer, model,
                    f"ev-s-{n}",
                )
            )  # fmt: skip
        if done and rng.random() < 0.2:
            late = rng.random() < 0.1
            follow_ups.append(
                (
                    f"ev-v-{n}", "return_visit_recorded", f"v-{n}", ticket_id, "routine",
                    pick(rng, (("reached", 85), ("problem_persists", 8), ("unreachable", 7))),
                    not late, done + timedelta(days=rng.randrange(3, 10)), dealer, engineer,
                )
            )  # fmt: skip
        elif done and rng.random() < 0.02:
            follow_ups.append(
                (
                    f"ev-vo-{n}", "return_visit_overdue", f"v-{n}", ticket_id, "routine", None,
                    False, done + timedelta(days=7), dealer, None,
                )
            )  # fmt: skip
    ticket_columns = [
        "ticket_id", "ticket_no", "opened_at", "channel", "request_type", "urgency",
        "customer_id", "dealer_id", "product_model", "product_line", "serial_no", "batch_no",
        "acknowledge_due", "response_due", "resolution_due", "first_assigned_at",
        "last_assigned_at", "engineer_id", "completed_at", "within_sla", "symptom",
        "cause_category", "failed_part", "needs_analysis", "follow_up_of", "last_event_id",
    ]  # fmt: skip
    await copy("ticket_facts", ticket_columns, tickets)
    del tickets
    await copy(
        "ticket_event_facts",
        ["event_id", "ticket_id", "kind", "clock", "urgency", "at", "deadline", "overdue_seconds"],
        events,
    )
    await copy(
        "survey_facts",
        [
            "survey_id", "ticket_id", "answered_at", "efficiency", "attitude", "professionalism",
            "recommend", "low_score", "engineer_id", "dealer_id", "product_model", "event_id",
        ],
        surveys,
    )  # fmt: skip
    for n in range(shape.units // 20):  # training follow-ups (contracts)
        follow_ups.append(
            (
                f"ev-tr-{n}", "training_recorded", str(n), None, None,
                pick(rng, (("mastered", 90), ("needs_retraining", 10))), rng.random() < 0.9,
                _at(rng, starts, weights), None, None,
            )
        )  # fmt: skip
    await copy(
        "follow_up_facts",
        [
            "event_id", "kind", "ref", "ticket_id", "reason", "outcome", "on_time", "at",
            "dealer_id", "engineer_id",
        ],
        follow_ups,
    )  # fmt: skip

    warranty: list[tuple[Any, ...]] = []
    for n, (serial, _, _, dealer) in enumerate(unit_info):
        signed = units[n][7]
        if signed < first:
            continue
        registered = signed + timedelta(days=rng.randrange(1, 40))
        if registered < end:
            warranty.append(
                (
                    f"ev-card-{n}", "card_registered", dealer, registered, serial,
                    rng.random() < 0.8, rng.random() < 0.97, None, None,
                )
            )  # fmt: skip
        if rng.random() < 0.1:
            warranty.append(
                (
                    f"ev-co-{n}", "card_overdue", dealer, signed + timedelta(days=30), serial,
                    None, None, None, None,
                )
            )  # fmt: skip
    for n in range(shape.tickets // 40):
        kind = pick(
            rng,
            (("parts_return_overdue", 5), ("deduction_issued", 3), ("warranty_service_overdue", 2)),
        )
        amount = (
            Decimal(rng.randrange(5_000, 500_000)) / 100 if kind == "deduction_issued" else None
        )
        warranty.append(
            (
                f"ev-wf-{n}", kind, dealers[rng.randrange(len(dealers))],
                _at(rng, starts, weights), None, None, None,
                rng.randrange(1, 5) if kind == "parts_return_overdue" else None, amount,
            )
        )  # fmt: skip
    await copy(
        "warranty_facts",
        [
            "event_id", "kind", "dealer_id", "at", "serial_no", "on_time", "recognised", "parts",
            "amount",
        ],
        warranty,
    )  # fmt: skip

    actions, steps = [], []
    for n in range(max(20, shape.tickets // 2_000)):
        model = rng.choice(model_names)
        created = _at(rng, starts, weights)
        due = (created + timedelta(days=30)).date()
        cause = pick(rng, CAUSES)
        dept = rng.choice(DEPARTMENTS)
        kind = rng.choice(("corrective", "preventive"))
        at = created
        for change in ("created", "started", "done", "verified"):
            if change != "created" and rng.random() < 0.2:
                break
            if change == "verified" and rng.random() < 0.15:
                change = "rejected"
            steps.append(
                (
                    f"ev-st-{n}-{change}", f"a-{n}", f"CA-{n:05d}", change, at, change, kind,
                    dept, cause, product_line(model),
                )
            )  # fmt: skip
            at += timedelta(days=rng.randrange(1, 20))
        if at.date() > due and rng.random() < 0.5:
            overdue = datetime(due.year, due.month, due.day, 1, tzinfo=UTC) + timedelta(days=1)
            actions.append(
                (
                    f"a-{n}", f"CA-{n:05d}", kind, f"整改 {n}", dept, due, overdue, cause,
                    product_line(model), "", f"ev-ao-{n}",
                )
            )  # fmt: skip
    await copy(
        "corrective_action_steps",
        [
            "event_id", "action_id", "action_no", "change", "changed_at", "status", "kind",
            "owner_department", "cause_category", "product_line",
        ],
        steps,
    )  # fmt: skip
    await copy(
        "corrective_action_facts",
        [
            "action_id", "action_no", "kind", "title", "owner_department", "due_date",
            "overdue_at", "cause_category", "product_line", "ticket_nos", "event_id",
        ],
        actions,
    )  # fmt: skip
    await conn.execute("ANALYZE")
    counts["seconds"] = round(time.perf_counter() - t0)
    shape.counts = counts
    if out is not None:
        print(
            "loaded "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "seconds")
            + f" in {counts['seconds']} s",
            file=out,
            flush=True,
        )
    return counts
