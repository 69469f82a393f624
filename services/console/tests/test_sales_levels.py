"""The service levels a sales rep types on the draft form (hours of working time per urgency):
sent to the contracts API as minutes, the untouched urgencies left at the API's defaults, shown on
the contract page and back in the edit form; refused in words a rep can act on — half a row, a
hundredth of an hour, a response longer than the resolution (the API's words) — with what was
typed kept."""

from __future__ import annotations

from console_support import sign_in
from contracts_flow import REP, uid
from sales_support import open_sales
from test_sales_pages import draft_form, form_error, posted, token_of


def levels(saved: dict) -> dict[str, tuple]:
    return {
        lv["urgency"]: (
            lv["response_minutes"],
            lv["resolution_minutes"],
            lv.get("onsite_minutes"),
            lv.get("loaner_after_minutes"),
        )
        for lv in saved["service_levels"]
    }


async def test_service_levels_typed_in_hours_reach_the_contract(desk_parts):
    async with open_sales(*desk_parts) as world:
        async with world.console() as rep:
            await sign_in(rep, "demo-sales")
            cid = world.customer["customer_id"]
            token = await token_of(rep, f"/sales/contracts/new?customer={cid}")
            no = f"HT-{uid()}"
            urgent = {"response_urgent": "1", "resolution_urgent": "8", "onsite_urgent": "3"}

            for typed, said in (
                ({"response_urgent": "1"}, "紧急工单：服务等级须同时填写响应时限和解决时限"),
                (urgent | {"loaner_urgent": "0.01"}, "紧急工单的备机时限须大于 0，且是整分钟"),
                (urgent | {"onsite_urgent": "三"}, "紧急工单的到场时限请填写小时数"),
                (urgent | {"resolution_urgent": "9999"}, "紧急工单的解决时限最长 2160 小时"),
            ):
                page = await posted(
                    rep, "/sales/contracts/new", token, **draft_form(no, cid, **typed)
                )
                assert page.status_code == 400 and form_error(page.text).startswith(said), typed
                assert f'value="{no}-SN1"' in page.text  # the rest of the form kept
            slow = urgent | {"response_urgent": "10"}  # longer than its resolution: the API says
            page = await posted(rep, "/sales/contracts/new", token, **draft_form(no, cid, **slow))
            assert page.status_code == 400 and "响应时限不能长于解决时限" in form_error(page.text)
            assert 'name="response_urgent" value="10"' in page.text

            typed = urgent | {"response_critical": "0.5", "resolution_critical": "12"}
            made = await posted(rep, "/sales/contracts/new", token, **draft_form(no, cid, **typed))
            assert made.status_code == 302, made.text
            saved = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert levels(saved) == {
                "normal": (24 * 60, 48 * 60, None, None),  # not typed: the API's default
                "urgent": (60, 480, 180, None),
                "critical": (30, 720, None, None),
            }
            page = (await rep.get(f"/contracts/{no}")).text
            assert 'id="levels"' in page and "30 分钟" in page and "8 小时" in page

            edit = (await rep.get(f"/sales/contracts/{no}/edit")).text
            assert 'name="response_critical" value="0.5"' in edit
            assert 'name="onsite_urgent" value="3"' in edit
            assert 'name="resolution_normal" value="48"' in edit
            changed = {
                k: v
                for k, v in draft_form(no, cid).items()
                if k not in ("contract_no", "customer_id")
            } | {"response_urgent": "1.5", "resolution_urgent": "8"}
            done = await posted(rep, f"/sales/contracts/{no}/edit", token, **changed)
            assert done.status_code == 302, done.text
            saved = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert levels(saved)["urgent"] == (90, 480, None, None)  # on site cleared
            assert levels(saved)["critical"] == (30, 720, None, None)  # the rows left blank
