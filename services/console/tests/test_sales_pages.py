"""Sales' day's work in the console against the real contracts service: a customer registered,
a contract drafted, edited and submitted, the three departments' sign-offs on the review pages, the
signatures, the archive, an amendment — each refusal in the API's words at the form with the values
kept; CSRF on every form; only sales (and sales managers) get the forms."""

from __future__ import annotations

import re

import httpx
from console_support import sign_in
from contracts_flow import REP, code, uid
from sales_support import open_sales

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def flash(html: str) -> str:
    found = re.search(r'<p class="flash flash-(\w+)"[^>]*>([^<]*)</p>', html)
    return f"{found[1]}: {found[2]}" if found else ""


def form_error(html: str) -> str:
    found = re.search(
        r'<p class="flash flash-error" role="alert" id="form-error">([^<]*)</p>', html
    )
    return found[1] if found else ""


async def token_of(client: httpx.AsyncClient, path: str) -> str:
    page = await client.get(path, follow_redirects=True)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text)[1]


async def posted(client: httpx.AsyncClient, path: str, token: str, **form: str) -> httpx.Response:
    return await client.post(path, data={**form, "_csrf_token": token})


def customer_form(cid: str, credit: str) -> dict[str, str]:
    return {
        "customer_id": cid,
        "name": f"苏州精工机械{cid}",
        "credit_code": credit,
        "industry": "机械加工",
        "contact_name": "王建国",
        "contact_phone": "13912345678",
        "address": "苏州工业园区星湖街 1 号",
    }


def draft_form(no: str, customer_id: str, **extra: str) -> dict[str, str]:
    return {
        "contract_no": no,
        "customer_id": customer_id,
        "term_months": "24",
        "model_0": "XK-200",
        "serial_no_0": f"{no}-SN1",
        "warranty_end_0": "2028-12-31",
        "batch_no_0": "B2026-11",
        "model_1": "",
        "serial_no_1": "",
        "warranty_end_1": "",
        "batch_no_1": "",
        **extra,
    }


async def test_sales_registers_a_customer_and_refusals_keep_the_values(desk_parts):
    async with open_sales(*desk_parts) as world:
        async with world.console() as rep, world.console() as legal, world.console() as eng:
            await sign_in(rep, "demo-sales")
            await sign_in(legal, "legal-zheng")
            await sign_in(eng, "eng-zhang")
            listed = await rep.get("/customers")
            assert 'href="/sales/customers/new"' in listed.text
            assert 'href="/sales/customers/new"' not in (await legal.get("/customers")).text
            token = await token_of(rep, "/sales/customers/new")
            cid = f"CU-{uid()}"
            form = customer_form(cid, code())

            refused = await rep.post("/sales/customers/new", data=form)
            assert refused.status_code == 403  # no CSRF token

            bad = form | {"credit_code": form["credit_code"][:17] + "0"}
            if bad["credit_code"] == form["credit_code"]:
                bad["credit_code"] = form["credit_code"][:17] + "1"
            page = await posted(rep, "/sales/customers/new", token, **bad)
            assert page.status_code == 400
            assert form_error(page.text).startswith("统一社会信用代码校验位错误")
            assert f'value="{form["name"]}"' in page.text and 'value="13912345678"' in page.text

            page = await posted(rep, "/sales/customers/new", token, **(form | {"name": ""}))
            assert page.status_code == 400 and form_error(page.text) == "请填写客户名称"

            made = await posted(rep, "/sales/customers/new", token, **form)
            assert made.status_code == 302 and made.headers["location"] == f"/customers/{cid}"
            page = await rep.get(made.headers["location"])
            assert flash(page.text) == f"ok: 客户 {form['name']} 已登记"
            assert "王建国" in page.text and "苏州工业园区星湖街 1 号" in page.text
            assert f'href="/sales/contracts/new?customer={cid}"' in page.text
            kept = (await world.contracts.get(f"/customers/{cid}", headers=REP)).json()
            assert kept["credit_code"] == form["credit_code"] and kept["created_by"] == "demo-sales"

            again = form | {"customer_id": f"CU-{uid()}"}
            page = await posted(rep, "/sales/customers/new", token, **again)
            assert page.status_code == 400
            assert form_error(page.text).startswith(f"统一社会信用代码{form['credit_code']}已登记")
            assert f'value="{again["customer_id"]}"' in page.text

            for client in (legal, eng):
                assert (await client.get("/sales/customers/new")).status_code == 403
                other = await token_of(client, "/customers" if client is legal else "/")
                denied = await posted(client, "/sales/customers/new", other, **form)
                assert denied.status_code == 403 and "仅限销售和销售经理" in denied.text


async def test_sales_drafts_edits_and_submits_only_what_the_status_allows(desk_parts):
    async with open_sales(*desk_parts) as world:
        async with world.console() as rep, world.console() as legal, world.console() as dealer:
            await sign_in(rep, "demo-sales")
            await sign_in(legal, "legal-zheng")
            await sign_in(dealer, "dealer-chen")
            cid = world.customer["customer_id"]
            assert 'href="/sales/contracts/new"' in (await rep.get("/contracts")).text
            token = await token_of(rep, f"/sales/contracts/new?customer={cid}")
            no = f"HT-{uid()}"
            form = draft_form(no, cid)

            assert (await rep.post("/sales/contracts/new", data=form)).status_code == 403

            taken = form | {"contract_no": world.draft_no}
            page = await posted(rep, "/sales/contracts/new", token, **taken)
            assert page.status_code == 400
            assert form_error(page.text).startswith(f"合同编号{world.draft_no}已存在")
            assert f'value="{no}-SN1"' in page.text and 'value="2028-12-31"' in page.text

            half = form | {"warranty_end_0": ""}
            page = await posted(rep, "/sales/contracts/new", token, **half)
            assert form_error(page.text) == "第 1 行设备：请填写型号、序列号和保修截止日"

            made = await posted(rep, "/sales/contracts/new", token, **form)
            assert made.status_code == 302 and made.headers["location"] == f"/contracts/{no}"
            page = (await rep.get(made.headers["location"])).text
            assert flash(page) == f"ok: 合同 {no} 草稿已保存，可提交评审"
            assert f'action="/sales/contracts/{no}/submit"' in page
            assert f'href="/sales/contracts/{no}/edit"' in page
            assert f"/sales/contracts/{no}/sign" not in page  # not reviewed yet
            saved = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert saved["products"][0]["batch_no"] == "B2026-11"
            assert saved["terms"]["term_months"] == 24 and saved["created_by"] == "demo-sales"
            assert f"/sales/contracts/{no}" not in (await legal.get(f"/contracts/{no}")).text

            edit = await rep.get(f"/sales/contracts/{no}/edit")
            assert edit.status_code == 200 and 'value="XK-200"' in edit.text
            changed = {k: v for k, v in form.items() if k not in ("contract_no", "customer_id")} | {
                "term_months": "36",
                "model_1": "XK-300",
                "serial_no_1": f"{no}-SN2",
            }
            page = await posted(rep, f"/sales/contracts/{no}/edit", token, **changed)
            assert page.status_code == 400  # the second unit's warranty is missing
            assert form_error(page.text) == "第 2 行设备：请填写型号、序列号和保修截止日"
            assert 'value="XK-300"' in page.text and 'value="36"' in page.text
            changed["warranty_end_1"] = "2029-06-30"
            done = await posted(rep, f"/sales/contracts/{no}/edit", token, **changed)
            assert done.status_code == 302
            saved = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert [p["serial_no"] for p in saved["products"]] == [f"{no}-SN1", f"{no}-SN2"]
            assert saved["terms"]["term_months"] == 36

            assert (await rep.post(f"/sales/contracts/{no}/submit")).status_code == 403
            sent = await posted(rep, f"/sales/contracts/{no}/submit", token)
            page = (await rep.get(sent.headers["location"])).text
            assert flash(page).startswith(f"ok: 合同 {no} 已提交评审")
            assert f"/sales/contracts/{no}/submit" not in page  # in review: nothing for sales
            again = await posted(rep, f"/sales/contracts/{no}/submit", token)
            assert flash((await rep.get(again.headers["location"])).text).startswith("error: ")

            theirs = world.draft_no  # rep-li's draft: only its rep or a sales manager edits it
            rows = {
                "model_0": "XK-500",
                "serial_no_0": f"{theirs}-SN9",
                "warranty_end_0": "2030-01-31",
            }
            page = await posted(
                rep, f"/sales/contracts/{theirs}/edit", token, term_months="48", **rows
            )
            assert page.status_code == 400 and "只有负责的销售代表或销售经理" in form_error(
                page.text
            )
            assert 'value="XK-500"' in page.text and 'value="48"' in page.text
            async with world.console() as manager:
                await sign_in(manager, "smgr-zhao")
                mtoken = await token_of(manager, f"/sales/contracts/{theirs}/edit")
                path = f"/sales/contracts/{theirs}/edit"
                done = await posted(manager, path, mtoken, term_months="48", **rows)
                assert done.status_code == 302
            saved = (await world.contracts.get(f"/contracts/{theirs}", headers=REP)).json()
            assert saved["terms"]["term_months"] == 48 and saved["products"][0]["model"] == "XK-500"
            kinds = [p["kind"] for p in saved["terms"]["price_components"]]
            assert kinds == ["materials", "labour", "travel"]  # the other terms kept

            for client in (legal, dealer):
                denied = await client.get(f"/sales/contracts/new?customer={cid}")
                assert denied.status_code == 403
            ltoken = await token_of(legal, "/reviews")
            denied = await posted(legal, "/sales/contracts/new", ltoken, **form)
            assert denied.status_code == 403
