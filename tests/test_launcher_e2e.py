"""End to end through the launcher: real processes, real NATS, SQLite files in a data folder."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from aftersales_testing.support import auth, draft_body, opened_link, sign_contract_via_http
from aftersales_tools.natsserver import free_port

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers", "reports", "parts"]
# the launcher's port block (--port-base + place): the console sits between reports and parts
PROCESSES = [*SERVICES[:6], "console", *SERVICES[6:]]


def port(base: int, name: str) -> int:
    return base + PROCESSES.index(name)


def _free_block(n: int) -> int:
    for _ in range(100):
        base = random.randint(20000, 40000)
        if all(_is_free(base + i) for i in range(n)):
            return base
    raise RuntimeError("no block of free ports")


def _is_free(port: int) -> bool:
    """Nothing listens there. SO_REUSEADDR as the servers set it: a connection of the console's
    pool that a stopping service closed lingers in TIME_WAIT on that service's port for a minute,
    which would block a plain bind but not a server's."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_launcher(
    data_dir: Path, *, demo: bool, **env_extra: str
) -> tuple[subprocess.Popen[str], int, int]:
    """`aftersales up` on free ports (its own NATS and SQLite databases under data_dir): (process,
    first service port, NATS port). Stop it with SIGINT."""
    base, nats_port = _free_block(len(PROCESSES)), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "NATS_URL"
    } | env_extra
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aftersales_tools.cli",
            "up",
            "--data-dir",
            str(data_dir),
            "--port-base",
            str(base),
            "--nats-port",
            str(nats_port),
            *(["--demo"] if demo else []),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    return proc, base, nats_port


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"launcher did not print {marker!r}; output:\n{''.join(seen)}")


@pytest.mark.long(170)
@pytest.mark.e2e
def test_launcher_runs_everything_and_contract_reaches_tickets(tmp_path):
    proc, base, nats_port = start_launcher(tmp_path / "data", demo=True)
    try:
        out = _read_until(proc, "Press Ctrl-C", timeout=120)
        assert "demo: signed contract DEMO-HT-2026-001" in out
        for name in SERVICES:
            assert f"http://127.0.0.1:{port(base, name)}/schema" in out
            r = httpx.get(f"http://127.0.0.1:{port(base, name)}/ready", timeout=5)
            assert r.status_code == 200 and r.json()["service"] == name, r.text
        assert (tmp_path / "data" / "tickets.db").exists() and (tmp_path / "data" / "nats").is_dir()

        contracts, tickets = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        no = f"E2E-{uuid.uuid4().hex[:8]}"
        assert (
            httpx.post(
                f"{contracts}/contracts", json=draft_body(no), headers=auth("sales")
            ).status_code
            == 201
        )
        assert sign_contract_via_http(contracts, no).status_code == 200
        deadline = time.monotonic() + 30
        while True:
            r = httpx.get(f"{tickets}/entitlements/{no}", headers=auth("service_agent"))
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200, r.text
        assert r.json()["units"][0]["serial_no"] == f"{no}-SN1"
        demo = httpx.get(f"{tickets}/entitlements/DEMO-HT-2026-002", headers=auth("service_agent"))
        assert demo.status_code == 200 and demo.json()["dealer_id"] == "D-ZJ-01"
        # the demo's people: the dealer's contacts reached notifications by DealerContactsChanged,
        # the staff and tonight's rota are registered, and nothing in the delivery log failed
        assert "demo: dealer D-ZJ-01 with 2 contacts and two units sold" in out
        assert "10 staff recipients, sup-li on duty tonight" in out
        notifications, sup = f"http://127.0.0.1:{base + 3}", auth("service_supervisor")

        def dealer_contacts() -> bool:
            r = httpx.get(
                f"{notifications}/recipients", params={"dealer_id": "D-ZJ-01"}, headers=sup
            )
            return r.status_code == 200 and r.json()["total"] == 2

        _poll(dealer_contacts, "the demo dealer's contacts kept by notifications")
        shifts = httpx.get(f"{notifications}/duty-shifts", headers=sup).json()
        assert [s["recipient_id"] for s in shifts["items"]] == ["sup-li"]

        def card_alerts() -> set[str]:
            r = httpx.get(f"{notifications}/deliveries", params={"limit": 500}, headers=sup)
            rules = {d["rule_id"] for d in r.json()["items"]}
            return rules if {"card-overdue", "card-due-soon"} <= rules else set()

        # the demo's late warranty card reaches the dealer's contacts and the supervisors
        _poll(card_alerts, "the demo's CardOverdue and CardDueSoon planned as deliveries", 60)
        # the demo's past (demo_history): each kind of overdue event of contracts and dealers
        assert "demo: the past — contract DEMO-HT-2026-004 signed 20 days ago" in out
        assert "demo: the past — dealer D-ZJ-01's repairs and a stocking season" in out
        assert "demo: the past — contract DEMO-HT-2026-005 installed" in out
        assert "demo: the past — a 特急 repair completed 11 days ago" in out
        overdue = {
            "contract-archive-overdue",
            "objection-answer-overdue",
            "installation-booking-overdue",
            "training-follow-up-overdue",
            "cause-analysis-overdue",
            "corrective-action-overdue-technical",
            "return-visit-overdue",
            "warranty-service-overdue",
            "parts-return-overdue",
            "stocking-plan-missed",
            "expense-claim-overdue",  # 张工's claim for a trip 25 days ago (demo_parts)
        }

        def past_alerts() -> bool:
            r = httpx.get(f"{notifications}/deliveries", params={"limit": 500}, headers=sup)
            return overdue <= {d["rule_id"] for d in r.json()["items"]}

        _poll(past_alerts, f"the demo's past overdue alerts {sorted(overdue)}", 60)
        # its tickets: the 特急 one reaches the supervisor(s) on duty; the low survey score and the
        # follow-up it opened reach the supervisors
        assert "demo: tickets — a 特急 one just opened" in out and "one waiting for parts" in out
        wanted = {
            "ticket-opened-critical-duty",
            "survey-low-score-supervisor",
            "follow-up-opened",
            "sla-breached-supervisor",  # the 24x7 contract's one-minute response, breached
            "stock-below-reorder-point",  # the demo's parts: the panel cable's opening stock
        }

        def ticket_alerts() -> bool:
            r = httpx.get(f"{notifications}/deliveries", params={"limit": 500}, headers=sup)
            return wanted <= {d["rule_id"] for d in r.json()["items"]}

        _poll(ticket_alerts, f"the demo tickets' alerts {sorted(wanted)}", 150)
        # the 特急 ticket's breach is in: the console's board lists it under 已超时
        _console_shows_the_demo_tickets(out, f"http://127.0.0.1:{port(base, 'console')}")
        states = httpx.get(f"{tickets}/tickets", headers=auth("service_agent")).json()["items"]
        assert {"waiting_parts", "completed"} <= {x["status"] for x in states}
        # the demo's parts (#23): the waiting ticket's seals are reserved at the regional store
        assert "demo: parts — four parts" in out
        assert "demo: expense claims — 张工's" in out
        # finance's register: one request to register, one registered (it can be reversed)
        assert "demo: invoices — " in out
        r = httpx.get(
            f"http://127.0.0.1:{port(base, 'parts')}/invoices",
            headers=auth("finance", sub="fin-qian"),
        )
        assert sorted(x["status"] for x in r.json()["items"]) == ["issued", "requested"], r.text
        waiting = next(x["ticket_no"] for x in states if x["status"] == "waiting_parts")
        r = httpx.get(
            f"http://127.0.0.1:{port(base, 'parts')}/reservations",
            params={"status": "open"},
            headers=auth("manager"),
        )
        assert [(x["part_no"], x["ticket_no"]) for x in r.json()["items"]] == [
            ("XK-SEAL-HP01", waiting)
        ]
        # the completed ticket's approved article: found in other words, suggested for a new ticket
        found = httpx.get(
            f"{tickets}/knowledge/search", params={"q": "屏幕黑屏了"}, headers=auth("service_agent")
        ).json()
        assert found["total"] == 1 and found["items"][0]["cause_category"] == "installation"
        # and another article waits for the technical department's review (吴工's 待审核)
        queue = httpx.get(
            f"{tickets}/knowledge/articles",
            params={"status": "submitted"},
            headers=auth("technical", sub="tech-wu"),
        ).json()
        assert [a["author"] for a in queue["items"]] == ["eng-zhang"], queue
        new = httpx.post(
            f"{tickets}/tickets",
            json={
                "channel": "phone",
                "request_type": "quality_issue",
                "description": "操作屏幕突然黑屏，过一会又亮",
                "customer_name": "散户",
                "contact": {"name": "x", "phone": "13800138000"},
            },
            headers=auth("service_agent"),
        ).json()["ticket_no"]
        r = httpx.get(f"{tickets}/tickets/{new}/suggestions", headers=auth("service_agent"))
        assert r.json()[0]["article_id"] == found["items"][0]["article_id"], r.text
        # the monthly report counts the demo's tickets (events only), and publishing it reaches
        # the product and production departments the demo registered
        reports, manager = f"http://127.0.0.1:{base + 5}", auth("manager", sub="mgr-wang")
        critical = next(x for x in states if x["urgency"] == "critical")
        opened_at = datetime.fromisoformat(critical["opened_at"])
        month = opened_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

        def in_report() -> bool:
            r = httpx.get(
                f"{reports}/reports/monthly/{month}/tickets",
                params={"figure": "urgency:critical", "limit": 200},
                headers=manager,
            )
            return critical["ticket_no"] in {i["ticket_no"] for i in r.json()["items"]}

        _poll(in_report, f"the 特急 ticket {critical['ticket_no']} in the {month} report", 60)
        r = httpx.post(f"{reports}/reports/monthly/{month}/publish", headers=manager)
        assert r.status_code == 201, r.text
        pdf = httpx.get(f"{reports}/reports/published/{r.json()['report_id']}/pdf", headers=manager)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        def report_sent() -> set[str]:
            # sent — or, when the suite runs late in the evening in Beijing, held for a person's
            # quiet hours (a monthly report waits for the morning; the hold says so)
            r = httpx.get(
                f"{notifications}/deliveries",
                params={"rule_id": "report-published", "limit": 100},
                headers=sup,
            )
            keys = {
                d["recipient_key"]
                for d in r.json()["items"]
                if d["status"] == "sent"
                or (d["status"] == "held" and "quiet hours" in (d["hold_reason"] or ""))
            }
            return keys if {"prod-zhou", "mfg-zheng", "mgr-wang", "demo-sales"} <= keys else set()

        _poll(report_sent, "ReportPublished e-mailed to product, production, sales, management", 60)
        failed = httpx.get(f"{notifications}/deliveries", params={"status": "failed"}, headers=sup)
        assert failed.status_code == 200 and failed.json()["total"] == 0, failed.text

        # the launcher is a supervisor: a killed service comes back, the others never stop
        pid = int((tmp_path / "data" / "run" / "tickets.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        out = _read_until(proc, "tickets started again", timeout=60)
        assert "tickets exited with -9; restarting in 1 s" in out
        assert httpx.get(f"{contracts}/health", timeout=5).status_code == 200
        assert int((tmp_path / "data" / "run" / "tickets.pid").read_text()) != pid
        _poll(lambda: _ready(tickets), "tickets ready again")
        r = httpx.get(f"{tickets}/entitlements/{no}", headers=auth("service_agent"))
        assert r.status_code == 200, r.text

        # a partner, from the README's guide: publish TicketRequested with nats-py, find the ticket
        # by its reference
        token = auth("partner", sub="partner-call-centre-east")["Authorization"].split()[1]
        example = Path(__file__).resolve().parent.parent / "examples" / "partner_ticket.py"
        partner = json.loads((tmp_path / "data" / "nats-credentials.json").read_text())["partners"]
        run = subprocess.run(
            [sys.executable, str(example), f"nats://127.0.0.1:{nats_port}", tickets, token],
            capture_output=True,
            text=True,
            timeout=120,
            env=os.environ | {"NATS_USER": "partners", "NATS_PASSWORD": partner},
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert re.fullmatch(r"ERP-\w{8} SV-\d{8}-\d{4} new\n", run.stdout), run.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    assert all(_is_free(base + i) for i in range(len(PROCESSES))) and _is_free(nats_port)


def _console_shows_the_demo_tickets(out: str, console: str) -> None:
    """The launcher prints the console's URL; its live feed is connected to NATS; a demo supervisor
    signs in there (the form and its CSRF token) and the board lists the demo's open tickets."""
    assert f"Console (控制台): {console}" in out
    assert httpx.get(f"{console}/ready", timeout=5).status_code == 200
    # its live feed hears NATS as its own user (console), with the launcher's credentials
    _poll(
        lambda: httpx.get(f"{console}/ready", timeout=5).json()["checks"]["live"] == "ok" or None,
        "the console's live feed connected to NATS",
    )
    with httpx.Client(base_url=console, timeout=10) as browser:
        page = browser.get("/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)[1]
        signed = browser.post("/login", data={"sub": "sup-zhang", "_csrf_token": token})
        assert signed.status_code == 302, signed.text
        board = browser.get("/board", params={"tab": "breached"})
        assert board.status_code == 200 and "特急" in board.text, board.text


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _poll(fn, what: str, timeout: float = 40):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _survey_link(nats_url: str, data_dir: Path, ticket_no: str) -> str | None:
    import asyncio

    import nats
    from nats.js.api import ConsumerConfig, DeliverPolicy

    admin = json.loads((data_dir / "nats-credentials.json").read_text())["admin"]

    async def read() -> str | None:
        nc = await nats.connect(nats_url, user="admin", password=admin)
        try:
            sub = await nc.jetstream().pull_subscribe(
                "surveys.survey_requested.v2",
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
            )
            try:
                msgs = await sub.fetch(100, timeout=1)
            except TimeoutError:
                return None
            for m in msgs:
                body = json.loads(m.data)
                if body["ticket_no"] == ticket_no:
                    return opened_link(body)
            return None
        finally:
            await nc.close()

    return asyncio.run(read())


@pytest.mark.e2e
def test_completed_ticket_survey_low_score_becomes_follow_up(tmp_path):
    """contracts → tickets → surveys → tickets, through real processes and real NATS."""
    proc, base, nats_port = start_launcher(
        tmp_path / "data", demo=False, SURVEYS_INVITE_DELAY_MINUTES="0", SURVEYS_CALENDAR_ID="24x7"
    )
    try:
        _read_until(proc, "Press Ctrl-C", timeout=120)
        contracts, tickets = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        no = f"E2E-{uuid.uuid4().hex[:8]}"
        assert (
            httpx.post(
                f"{contracts}/contracts", json=draft_body(no), headers=auth("sales")
            ).status_code
            == 201
        )
        assert sign_contract_via_http(contracts, no).status_code == 200
        _poll(
            lambda: (
                httpx.get(f"{tickets}/entitlements/{no}", headers=auth("service_agent")).status_code
                == 200
            ),
            "entitlement in tickets",
        )
        t = httpx.post(
            f"{tickets}/tickets",
            headers=auth("service_agent"),
            json={
                "channel": "phone",
                "request_type": "quality_issue",
                "urgency": "urgent",
                "description": "液压系统漏油",
                "contact": {"name": "王工", "phone": "13800138000", "email": "wang@example.com"},
                "serial_no": f"{no}-SN1",
            },
        ).json()
        ticket_no = t["ticket_no"]
        assert (
            httpx.post(
                f"{tickets}/tickets/{ticket_no}/assign",
                headers=auth("service_supervisor"),
                json={"assignee_id": "eng-zhang", "assignee_name": "张工"},
            ).status_code
            == 200
        )
        r = httpx.post(
            f"{tickets}/tickets/{ticket_no}/complete",
            headers=auth("engineer", sub="eng-zhang"),
            json={
                "document": "repair_sheet",
                "confirmed_by": "王工",
                "confirmed_at": t["opened_at"],
                "method": "signature",
                "fault": {"symptom": "LEAK", "cause_category": "wear", "failed_part": "SEAL"},
            },
        )
        assert r.status_code == 200, r.text

        link = _poll(
            lambda: _survey_link(f"nats://127.0.0.1:{nats_port}", tmp_path / "data", ticket_no),
            "survey invitation",
            60,
        )
        page = httpx.get(link)
        assert page.status_code == 200 and "效率" in page.text
        r = httpx.post(
            link,
            data={
                "efficiency": "1",
                "attitude": "2",
                "professionalism": "2",
                "comment": "漏油修了三次",
                "lang": "zh-CN",
            },
        )
        assert r.status_code in (200, 303), r.text[:500]
        assert httpx.get(link).status_code == 409  # single use

        def follow_up():
            r = httpx.get(
                f"{tickets}/tickets",
                params={"customer_id": t["customer_id"], "status": "new"},
                headers=auth("service_supervisor"),
            )
            items = [i for i in r.json()["items"] if i["parent_ticket_id"] == t["id"]]
            return items or None

        [fu] = _poll(follow_up, "follow-up ticket", 40)
        assert fu["request_type"] == "complaint" and "漏油修了三次" in fu["description"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
