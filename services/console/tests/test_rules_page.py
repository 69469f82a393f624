"""The notification rules page against the real notifications service (its rules file seeded as
version 1 at its start): grouped by event in Chinese words; the admin adds a rule (refused first
with the service's words and then the form's, what was typed kept), edits it (a stale version is a
409 shown with the form kept open), switches it off, deletes it, restores an old version and the
defaults; filters and history pages; a supervisor reads it without a single form, an engineer gets
403, a post without CSRF or by a reader changes nothing. The rules fold by event (<details>, a
count and a summary line each): open when the event is filtered or holds the rule just saved or
refused. In Chromium at both sizes: the folded page under four screens tall, a group opened;
on the phone an edit refused inside its group shows open with what was typed; screenshot 17,
axe."""

from __future__ import annotations

import httpx
import pytest
from a11y import accessible
from console_support import CSRF_FIELD, sign_in
from test_pages_browser import LAPTOP, _fits
from test_work_pages_browser import _keep, _page, _sign_in, chromium, serving

from aftersales_testing.browser import PHONE
from aftersales_testing.support import auth, migrated, running
from console.app import create_app
from console.settings import ConsoleSettings

SUP = auth("service_supervisor", sub="sup-zhang")
HEIGHT = "document.documentElement.scrollHeight"
UNFOLD = "document.querySelectorAll('.rule-group').forEach(d => d.open = true), " + HEIGHT
OPEN = '<details class="action rule-group" id="event-%s" open>'
FOLDED = '<details class="action rule-group" id="event-%s">'
BOSS = {
    "mode": "add",
    "id": "boss-critical",
    "event": "TicketOpened",
    "template": "ticket_opened_critical",
    "recipients": "group:manager",
    "channel_email": "on",
    "when": "urgency in critical",
    "enabled": "on",
    "note": "特急工单也告诉王总",
}


def client(console) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=console), base_url="http://console.test", timeout=30
    )


async def rules_of(api) -> dict:
    return (await api.get("/rules", headers=SUP)).json()


async def _post(browser, action: str, form: dict) -> httpx.Response:
    page = await browser.get("/admin/rules")
    token = CSRF_FIELD.search(page.text)[1]
    version = (page.text.split('name="expected_version" value="', 1)[1]).split('"', 1)[0]
    body = {"_csrf_token": token, "expected_version": version} | form
    return await browser.post(f"/admin/rules/{action}", data=body)


@pytest.mark.long(110)
async def test_the_admin_edits_the_notification_rules(databases, streams_ready, artifacts_dir):
    from notifications.app import create_app as notifications_app
    from notifications.settings import NotificationsSettings

    app = notifications_app(
        NotificationsSettings(
            database_url=await migrated(databases, "notifications"), nats_url=streams_ready
        )
    )
    console = create_app(
        ConsoleSettings(local_dev=True, nats_url=streams_ready),
        transport=httpx.ASGITransport(app=app),
    )
    async with running(app, wait_broker=False) as api, client(console) as admin:
        await sign_in(admin, "admin")
        page = await admin.get("/admin/rules")
        assert page.status_code == 200, page.text
        text = page.text
        assert "第 1 版" in text and "工单受理（TicketOpened）" in text
        assert "值班 客服主管" in text and "仅当 紧急程度属于特急" in text
        defaults = (await rules_of(api))["rules"]

        # refused by notifications (no such field), then by the form (no channel): typed kept
        r = await _post(admin, "save", BOSS | {"when": "colour eq red"})
        assert r.status_code == 400 and "TicketOpened 没有字段 &#39;colour&#39;" in r.text
        assert 'value="boss-critical"' in r.text and "colour eq red</textarea>" in r.text
        assert '<details class="action" id="add-rule" open>' in r.text
        r = await _post(admin, "save", {k: v for k, v in BOSS.items() if k != "channel_email"})
        assert r.status_code == 400 and "请至少选择一个通知渠道" in r.text
        assert (await rules_of(api))["version"] == 1  # nothing written
        r = await _post(admin, "save", BOSS)
        assert r.status_code in (302, 303), r.text
        assert r.headers["location"] == "/admin/rules?rule=boss-critical#rule-boss-critical"
        text = (await admin.get(r.headers["location"])).text
        assert "已保存规则" in text and "第 2 版" in text and 'id="rule-boss-critical"' in text
        assert OPEN % "TicketOpened" in text and OPEN % "SlaBreached" not in text  # its group
        assert FOLDED % "SlaBreached" in text
        plain = (await admin.get("/admin/rules")).text  # no rule named, no filter: all folded
        assert " open>" not in plain.split('id="rules-title"', 1)[1].split("</section>", 1)[0]
        assert FOLDED % "TicketOpened" in plain and plain.count('class="action rule-group"') > 5
        assert (await admin.get("/admin/rules?rule=No%20Such!")).status_code == 400
        saved = await rules_of(api)
        boss = next(x for x in saved["rules"] if x["id"] == "boss-critical")
        assert boss["recipients"] == ["group:manager"] and boss["channels"] == ["email"]
        assert boss["when"] == {"urgency": {"in": ["critical"]}}
        assert saved["note"] == "特急工单也告诉王总" and saved["saved_by"] == "admin"
        r = await _post(admin, "save", BOSS)
        assert r.status_code == 400 and "规则编号 boss-critical 已存在" in r.text

        # an edit made on an old page: 409 in the service's words, the edit form kept open
        edit = BOSS | {"mode": "edit", "channel_sms": "on", "expected_version": "1"}
        r = await admin.post(
            "/admin/rules/save",
            data=edit | {"_csrf_token": CSRF_FIELD.search(text)[1]},
        )
        assert r.status_code == 409 and "已被他人修改" in r.text
        assert OPEN % "TicketOpened" in r.text and OPEN % "SlaBreached" not in r.text
        assert '<details class="action" open>\n      <summary>修改 boss-critical' in r.text
        r = await _post(admin, "save", {k: v for k, v in edit.items() if k != "expected_version"})
        assert r.status_code in (302, 303)
        boss = next(x for x in (await rules_of(api))["rules"] if x["id"] == "boss-critical")
        assert boss["channels"] == ["sms", "email"]

        r = await _post(admin, "switch", {"rule_id": "boss-critical"})
        assert r.status_code in (302, 303)
        off = (await admin.get("/admin/rules?state=off")).text
        assert 'id="rule-boss-critical"' in off and "已停用" in off
        assert off.count('<li class="line') == 1
        shown = await rules_of(api)
        assert next(x for x in shown["rules"] if x["id"] == "boss-critical")["enabled"] is False
        only = (await admin.get("/admin/rules?event=SlaBreached")).text
        assert "sla-breached-supervisor" in only and "boss-critical" not in only
        assert OPEN % "SlaBreached" in only  # a filtered event shows its rules
        assert (await admin.get("/admin/rules?state=maybe")).status_code == 400

        r = await _post(admin, "delete", {"rule_id": "boss-critical"})
        assert r.status_code in (302, 303)
        assert "boss-critical" not in [x["id"] for x in (await rules_of(api))["rules"]]
        r = await _post(admin, "restore", {"number": "2"})
        assert r.status_code in (302, 303)
        restored = await rules_of(api)
        assert restored["version"] == 6 and restored["restored_from"] == 2
        assert "boss-critical" in [x["id"] for x in restored["rules"]]
        text = (await admin.get("/admin/rules")).text
        assert "已恢复旧版本" in text and "恢复旧版（第 2 版）" in text
        assert text.count('id="version-') == 6
        older = (await admin.get("/admin/rules?offset=10")).text
        assert 'id="version-' not in older

        # CSRF, then a reader posting
        r = await admin.post("/admin/rules/defaults", data={"expected_version": "6"})
        assert r.status_code == 403 and (await rules_of(api))["version"] == 6
        async with client(console) as sup:
            await sign_in(sup, "sup-zhang")
            page = await sup.get("/admin/rules")
            assert page.status_code == 200 and "只读" in page.text
            assert "/admin/rules/save" not in page.text and "/admin/rules/restore" not in page.text
            token = CSRF_FIELD.search(page.text)[1]
            r = await sup.post(
                "/admin/rules/defaults", data={"_csrf_token": token, "expected_version": "6"}
            )
            assert r.status_code == 403 and "只有管理员可以修改通知规则" in r.text
            assert (await rules_of(api))["version"] == 6
        async with client(console) as eng:
            await sign_in(eng, "eng-zhang")
            page = await eng.get("/admin/rules")
            assert page.status_code == 403 and "通知规则仅限客服" in page.text  # the console's own

        shots = artifacts_dir / "console"
        shots.mkdir(exist_ok=True)
        heights: dict[str, int] = {}
        async with serving(console) as base, chromium() as chrome:
            for size, name in ((LAPTOP, "laptop"), (PHONE, "phone")):
                outside: list[str] = []
                context, tab = await _page(chrome, base, size, outside)
                await _sign_in(tab, base, "admin", "/admin/rules")
                tall = await tab.evaluate(HEIGHT)
                unfolded = await tab.evaluate(UNFOLD)  # every group open: the page as it was
                await tab.reload()
                heights[name] = (unfolded, tall)
                assert tall * 3 < unfolded, f"{tall}px of {unfolded}px: the rules are not folded"
                group = tab.locator("#event-TicketOpened")
                assert not await group.locator("#rule-boss-critical").is_visible()
                summary = await tab.locator("#event-TicketOpened > summary").inner_text()
                assert "工单受理" in summary and "条" in summary and "通知" in summary
                await tab.locator("#event-TicketOpened > summary").click()
                await group.locator("#rule-boss-critical").wait_for()
                await tab.click("#add-rule summary")
                await _fits(tab, size["width"])
                await tab.screenshot(path=str(shots / f"{name}-17-rules.png"), full_page=True)
                await accessible(tab, f"{name}-17-rules", shots)
                assert outside == [], outside
                await context.close()
            # the add form filled and sent in the browser: refused, the page says why, typed kept
            context, tab = await _page(chrome, base, PHONE, [])
            await _sign_in(tab, base, "admin", "/admin/rules")
            await tab.click("#add-rule summary")
            add = tab.locator("#add-rule form")
            await add.locator("input[name=id]").fill("boss-typed")
            await add.locator("select[name=event]").select_option("TicketOpened")
            await add.locator("input[name=recipients]").fill("group:manager")
            await add.locator("textarea[name=when]").fill("colour eq red")
            async with tab.expect_navigation():
                await add.locator("button[type=submit]").click()
            assert "没有字段 'colour'" in await tab.locator("p.flash-error").inner_text()
            assert await tab.locator("#add-rule input[name=id]").input_value() == "boss-typed"
            await _fits(tab, PHONE["width"])
            await tab.screenshot(path=str(shots / "phone-17c-rules-refused.png"))
            await accessible(tab, "phone-17c-rules-refused", shots)
            # an edit refused inside its folded group: the group and the form show open, typed kept
            rule = tab.locator("#rule-boss-critical")
            await tab.click("#event-TicketOpened > summary")
            await rule.locator("details summary").click()
            await rule.locator("textarea[name=when]").fill("colour eq blue")
            async with tab.expect_navigation():
                await rule.locator("form button[type=submit]", has_text="保存修改").click()
            assert "没有字段 'colour'" in await tab.locator("p.flash-error").inner_text()
            assert await rule.locator("textarea[name=when]").is_visible()
            assert await rule.locator("textarea[name=when]").input_value() == "colour eq blue"
            assert not await tab.locator("#rule-sla-breached-supervisor").is_visible()
            await rule.locator("textarea[name=when]").scroll_into_view_if_needed()
            await _fits(tab, PHONE["width"])
            await tab.screenshot(path=str(shots / "phone-17d-rules-edit-refused.png"))
            await accessible(tab, "phone-17d-rules-edit-refused", shots)
            await context.close()
            context, tab = await _page(chrome, base, LAPTOP, [])
            await _sign_in(tab, base, "sup-zhang", "/admin/rules?event=TicketOpened")
            await _fits(tab, LAPTOP["width"])
            await tab.screenshot(path=str(shots / "laptop-17b-rules-read.png"), full_page=True)
            await accessible(tab, "laptop-17b-rules-read", shots)
            await context.close()
        _keep(shots, "17")
        print(f"rules page heights (unfolded, folded): {heights}")  # noqa: T201 - for the report

        r = await _post(admin, "defaults", {"note": "回到默认"})
        assert r.status_code in (302, 303)
        back = await rules_of(api)
        assert back["rules"] == defaults and back["action"] == "defaults"
