"""Demo data for a local run, through the real APIs: the demo dealer with its contacts, the staff
who hear alerts (supervisors, management, sales, delivery, finance, technical) and tonight's duty
rota, then a few customers' contracts, signed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import httpx

from aftersales_shared.auth import mint_token

if TYPE_CHECKING:
    from .launcher import Launcher

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

DEMO_CUSTOMERS = (
    (
        "DEMO-HT-2026-001",
        "C-001",
        "苏州精工机床有限公司",
        "913205000000000011",
        "王建国",
        "13800138001",
        None,
    ),
    (
        "DEMO-HT-2026-002",
        "C-002",
        "杭州恒达包装机械有限公司",
        "913301000000000022",
        "陈静",
        "13900139002",
        "D-ZJ-01",
    ),
    (
        "DEMO-HT-2026-003",
        "C-003",
        "宁波港口机械有限公司",
        "913302000000000033",
        "周海",
        "13600136003",
        None,
    ),
)
# the third contract promises round-the-clock service with a one-minute response to a 特急 call, so
# the demo's 特急 ticket on it shows an SLA warning and a breach within a minute of starting
CONTRACT_EXTRAS = {
    "DEMO-HT-2026-003": {
        "calendar": "24x7",
        "service_levels": [
            {"urgency": "critical", "response_minutes": 1, "resolution_minutes": 240}
        ],
    }
}


DEMO_DEALER = {
    "dealer_id": "D-ZJ-01",
    "name": "浙江恒通机电设备有限公司",
    "region": "浙江",
    "agreement_no": "AG-ZJ-2026-01",
    "contacts": [
        {
            "name": "陈经理",
            "phone": "13900139001",
            "email": "chen@hengtong.example.cn",
            "role": "服务经理",
        },
        {"name": "刘工", "phone": "13900139002", "role": "维修工程师"},
    ],
    "grade": "B",
}
# (id, name, groups, phone, email): the ids are the users' ids in events (sales_rep "demo-sales")
DEMO_STAFF = (
    ("sup-zhang", "张主管", ["service_supervisor"], "13700137001", "zhang@factory.example.cn"),
    ("sup-li", "李主管", ["service_supervisor"], "13700137002", "li@factory.example.cn"),
    ("mgr-wang", "王总", ["manager"], "13700137003", "wang@factory.example.cn"),
    ("demo-sales", "李明", ["sales"], "13700137004", "liming@factory.example.cn"),
    ("smgr-zhao", "赵经理", ["sales_manager"], "13700137005", "zhao@factory.example.cn"),
    ("dlv-sun", "孙师傅", ["delivery"], "13700137006", "sun@factory.example.cn"),
    ("fin-qian", "钱会计", ["finance"], "13700137007", "qian@factory.example.cn"),
    ("tech-wu", "吴工", ["technical"], "13700137008", "wu@factory.example.cn"),
    # the monthly report's readers (ReportPublished): product and production departments
    ("prod-zhou", "周经理", ["product"], "13700137009", "zhou@factory.example.cn"),
    ("mfg-zheng", "郑厂长", ["production"], "13700137010", "zheng@factory.example.cn"),
)
ON_DUTY = "sup-li"  # tonight's supervisor on duty (18:00 to 08:30, business time)


def _token(secret: str, sub: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(secret, sub, [role])}"}


def load_people(launcher: Launcher, secret: str, today: date, tz: ZoneInfo) -> None:
    """The demo dealer (its contacts reach notifications by DealerContactsChanged), the staff
    recipients and tonight's duty shift (idempotent: what exists is left alone)."""
    from .catalog import SERVICES

    index = {info.name: i for i, info in enumerate(SERVICES)}
    url = {n: f"http://127.0.0.1:{launcher.port_of(SERVICES[i], i)}" for n, i in index.items()}
    dealer = DEMO_DEALER | {
        "agreement_start": str(today - timedelta(days=365)),
        "agreement_end": str(today + timedelta(days=365)),
    }
    r = httpx.post(
        f"{url['dealers']}/dealers", json=dealer, headers=_token(secret, "demo-mgr", "manager")
    )
    if r.status_code not in (201, 409):
        r.raise_for_status()
    # units the dealer sold: one 25 days ago whose warranty card is overdue (CardOverdue at once),
    # one 18 days ago whose card is due in two days (CardDueSoon)
    seller = {
        "Authorization": "Bearer "
        + mint_token(secret, "demo-dealer", ["dealer"], dealer_id=DEMO_DEALER["dealer_id"])
    }
    for serial, days_ago in (("DEMO-SN-CARD-LATE", 25), ("DEMO-SN-CARD-SOON", 18)):
        unit = {
            "serial_no": serial,
            "model": "XK-200 数控机床",
            "sale_date": str(today - timedelta(days=days_ago)),
            "warranty_end": str(today + timedelta(days=700)),
            "customer_name": "宁波精密模具有限公司",
        }
        r = httpx.post(f"{url['dealers']}/units", json=unit, headers=seller)
        if r.status_code not in (201, 409):
            r.raise_for_status()
    supervisor = _token(secret, "demo-supervisor", "service_supervisor")
    with httpx.Client(base_url=url["notifications"], headers=supervisor, timeout=10) as client:
        for rid, name, groups, phone, email in DEMO_STAFF:
            body = {"id": rid, "name": name, "groups": groups, "phone": phone, "email": email}
            r = client.post("/recipients", json=body)
            if r.status_code not in (201, 409):
                r.raise_for_status()
        start = datetime.combine(today, time(18, 0), tz)
        if not client.get("/duty-shifts", params={"recipient_id": ON_DUTY}).json()["total"]:
            shift = {
                "group": "service_supervisor",
                "recipient_id": ON_DUTY,
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=14, minutes=30)).isoformat(),
                "note": "演示：今晚值班",
            }
            client.post("/duty-shifts", json=shift).raise_for_status()
    print(
        f"demo: dealer {DEMO_DEALER['dealer_id']} with {len(DEMO_DEALER['contacts'])} contacts "
        f"and two units sold (a warranty card overdue, one due soon), {len(DEMO_STAFF)} staff "
        f"recipients, {ON_DUTY} on duty tonight",
        flush=True,
    )


def _with_check(code17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code17, WEIGHTS))
    return code17 + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def load_demo(launcher: Launcher) -> None:
    """Create and sign demo contracts (idempotent: existing ones are left alone)."""
    from .catalog import service

    info = service("contracts")
    settings = info.settings_class()()
    tz = ZoneInfo(settings.business_timezone)
    today = datetime.now(tz).date()
    load_people(launcher, settings.jwt_secret, today, tz)
    load_past(launcher, today)
    headers = {
        "Authorization": f"Bearer {mint_token(settings.jwt_secret, 'demo-sales', ['sales'])}"
    }
    base = f"http://127.0.0.1:{launcher.port_of(info, 0)}"
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        for no, cid, name, code, contact, phone, dealer in DEMO_CUSTOMERS:
            if client.get(f"/contracts/{no}").status_code == 200:
                continue
            body = {
                "contract_no": no,
                "customer": {
                    "customer_id": cid,
                    "name": name,
                    "credit_code": _with_check(code[:17]),
                    "contacts": [{"name": contact, "phone": phone}],
                },
                "products": [
                    {
                        "model": "XK-200 数控机床",
                        "serial_no": f"{no}-SN{i}",
                        "warranty_end": "2028-11-30",
                    }
                    for i in (1, 2)
                ],
                "dealer_id": dealer,
            } | CONTRACT_EXTRAS.get(no, {})
            client.post("/contracts", json=body).raise_for_status()
            client.post(f"/contracts/{no}/submit").raise_for_status()
            for part in (
                "legal",
                "finance",
                "delivery",
            ):  # each department signs off its own part with its own token
                token = mint_token(settings.jwt_secret, f"demo-{part}", [part])
                reviewer = {"Authorization": f"Bearer {token}"}
                r = client.post(
                    f"/contracts/{no}/reviews/{part}",
                    json={"decision": "approve", "comments": "演示：同意"},
                    headers=reviewer,
                )
                r.raise_for_status()
            now = datetime.now(UTC).isoformat()
            sign = {
                "document_sha256": r.json()["document_sha256"],
                "signatures": [  # the reviewed version's hash
                    {
                        "party": "company",
                        "signer": "销售经理 李明",
                        "signed_at": now,
                        "method": "seal",
                    },
                    {
                        "party": "customer",
                        "signer": contact,
                        "signed_at": now,
                        "method": "e_signature",
                    },
                ],
            }
            client.post(f"/contracts/{no}/sign", json=sign).raise_for_status()
            print(f"demo: signed contract {no} for {name}", flush=True)
    load_tickets(launcher, settings.jwt_secret)
    from .demo_parts import load_parts

    load_parts(
        f"http://127.0.0.1:{launcher.port_of(service('parts'))}",
        f"http://127.0.0.1:{launcher.port_of(service('tickets'))}",
        settings.jwt_secret,
    )


def load_past(launcher: Launcher, today: date) -> None:
    """The demo's past (demo_history): records written at the moments they happened, whose
    deadlines are already due, so each kind of overdue event reaches a person at once."""
    import asyncio

    from .demo_history import load_history

    for line in asyncio.run(load_history(launcher, today)):
        print(f"demo: the past — {line}", flush=True)


def _poll(fn, what: str, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    import time as _time

    deadline = _time.monotonic() + timeout
    while _time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        _time.sleep(0.3)
    raise RuntimeError(f"demo: timed out waiting for {what}")


def write_article(t: httpx.Client, ticket_no: str, engineer: dict, tech: dict) -> None:
    """The completed ticket's solution written up by its engineer and approved by the technical
    department: a knowledge article that search and a new ticket's suggestions find."""
    article = {
        "ticket_no": ticket_no,
        "cause_category": "installation",
        "cause": "显示屏排线插头未插紧，设备振动后接触不良",
        "steps": [
            "断电后打开操作面板后盖",
            "重新插紧显示屏排线并用扎带固定",
            "通电试机30分钟无黑屏",
        ],
        "parts": [{"name": "扎带", "quantity": 2}],
    }
    r = t.post("/knowledge/articles", json=article, headers=engineer)
    r.raise_for_status()
    url = f"/knowledge/articles/{r.json()['id']}"
    t.post(f"{url}/submit", headers=engineer).raise_for_status()
    t.post(f"{url}/approve", json={"comment": "演示：同意发布"}, headers=tech).raise_for_status()


def submit_article(t: httpx.Client, ticket_no: str, engineer: dict) -> None:
    """Another completed ticket written up by its engineer and submitted, not yet reviewed: 吴工
    (技术部) finds it in the knowledge base's 待审核 queue when the demo starts."""
    article = {
        "ticket_no": ticket_no,
        "title": "液压站油温过高报警：冷却器散热片堵塞",
        "cause_category": "wear",
        "cause": "冷却器散热片被油泥和粉尘堵塞，散热不足",
        "steps": [
            "停机后检查液压站油温和冷却风扇",
            "拆下冷却器，用压缩空气和清洗剂清理散热片",
            "装回后连续运行2小时，油温稳定在55℃以下",
        ],
    }
    r = t.post("/knowledge/articles", json=article, headers=engineer)
    r.raise_for_status()
    t.post(f"/knowledge/articles/{r.json()['id']}/submit", headers=engineer).raise_for_status()


def load_tickets(launcher: Launcher, secret: str) -> None:
    """Tickets in several states: a 特急 one just opened (the supervisor on duty hears), one waiting
    for parts, and one completed whose customer answered the survey with low scores on the phone
    (a follow-up ticket opens, the supervisors hear). Skipped when the demo already has tickets."""
    from .catalog import SERVICES

    index = {info.name: i for i, info in enumerate(SERVICES)}
    url = {n: f"http://127.0.0.1:{launcher.port_of(SERVICES[i], i)}" for n, i in index.items()}
    agent = _token(secret, "demo-agent", "service_agent")
    boss = _token(secret, "demo-supervisor", "service_supervisor")
    engineer = _token(secret, "eng-zhang", "engineer")
    with httpx.Client(base_url=url["tickets"], timeout=10) as t:
        # the demo's own tickets are on its first customer (the past's repair is another's)
        if t.get("/tickets", params={"customer_id": "C-001"}, headers=agent).json()["total"]:
            return
        _poll(
            lambda: t.get("/entitlements/DEMO-HT-2026-001", headers=agent).status_code == 200,
            "the demo contract's entitlement in tickets",
        )

        _poll(
            lambda: t.get("/entitlements/DEMO-HT-2026-003", headers=agent).status_code == 200,
            "the 24x7 demo contract's entitlement in tickets",
        )
        _poll(
            lambda: t.get("/entitlements/DEMO-HT-2026-002", headers=agent).status_code == 200,
            "the second demo contract's entitlement in tickets",
        )

        def open_ticket(urgency: str, description: str, sn: int, contract: str = "001") -> dict:
            body = {
                "channel": "phone",
                "request_type": "quality_issue",
                "urgency": urgency,
                "description": description,
                "contact": {"name": "王建国", "phone": "13800138001"},
                "serial_no": f"DEMO-HT-2026-{contract}-SN{sn}",
            }
            r = t.post("/tickets", json=body, headers=agent)
            r.raise_for_status()
            return r.json()

        def step(no: str, action: str, body: dict, who: dict) -> None:
            t.post(f"/tickets/{no}/{action}", json=body, headers=who).raise_for_status()

        open_ticket("critical", "岸桥起升机构抱闸失灵，码头停工", 1, contract="003")
        waiting = open_ticket("urgent", "液压泵异响，需要更换密封件", 2)["ticket_no"]
        assign = {"assignee_id": "eng-zhang", "assignee_name": "张工"}
        step(waiting, "assign", assign, boss)
        step(waiting, "respond", {"note": "已电话联系客户，确认需更换密封件"}, engineer)
        step(waiting, "pause", {"reason": "waiting_parts", "note": "密封件调货中"}, engineer)
        done = open_ticket("normal", "操作面板偶发黑屏", 2)
        step(done["ticket_no"], "assign", assign, boss)
        confirmation = {
            "document": "repair_sheet",
            "confirmed_by": "王建国",
            "confirmed_at": done["opened_at"],
            "method": "signature",
            "fault": {  # generic catalogue entries, shipped by tickets' migration 0007
                "symptom": "DISPLAY",
                "cause_category": "manufacturing_batch",
                "failed_part": "WIRING",
                "cause_detail": "操作面板排线接插件接触不良",
            },
        }
        step(done["ticket_no"], "complete", confirmation, engineer)
        write_article(t, done["ticket_no"], engineer, _token(secret, "demo-tech", "technical"))
        # another customer's: two completions of one customer within the surveys' quiet days
        # leave one unsurveyed, and which one is up to the order surveys happens to handle them
        cooled = open_ticket("normal", "液压站油温过高报警，运行一小时后停机", 1, contract="002")
        step(cooled["ticket_no"], "assign", assign, boss)
        cooling = confirmation | {
            "confirmed_at": cooled["opened_at"],
            "fault": {"symptom": "OVERHEAT", "cause_category": "wear", "failed_part": "OTHER"},
        }
        step(cooled["ticket_no"], "complete", cooling, engineer)
        submit_article(t, cooled["ticket_no"], engineer)
    with httpx.Client(base_url=url["surveys"], timeout=10, headers=agent) as s:

        def invited() -> str | None:
            r = s.get("/surveys", params={"ticket_no": done["ticket_no"]})
            items = r.json()["items"] if r.status_code == 200 else []
            return items[0]["id"] if items and items[0]["status"] == "invited" else None

        survey_id = _poll(invited, "the completed ticket's survey invitation")
        answer = {
            "efficiency": 2,
            "attitude": 3,
            "professionalism": 2,
            "comment": "黑屏问题第二次出现了",
        }
        s.post(f"/surveys/{survey_id}/phone-answer", json=answer).raise_for_status()
    print(
        "demo: tickets — a 特急 one just opened (its one-minute response promise breaches within "
        "a minute), one waiting for parts, one completed with a low survey score (its follow-up "
        "ticket opens) and its solution in the knowledge base; another article waits for 技术部's "
        "review",
        flush=True,
    )
