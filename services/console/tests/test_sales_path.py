"""The whole of sales' path through the console against the real contracts service: a customer
registered, a contract drafted and submitted, the three departments' sign-offs on the review pages
(as themselves), both parties' signatures on the reviewed version, the originals archived, an
amendment started — each step's refusal in the API's words with the values kept."""

from __future__ import annotations

import httpx
from console_support import sign_in
from contracts_flow import ALL_ITEMS, REP, code, uid
from sales_support import open_sales
from test_sales_pages import customer_form, draft_form, flash, form_error, posted, token_of


async def _review(client: httpx.AsyncClient, no: str, part: str) -> None:
    token = await token_of(client, f"/reviews/{no}")
    done = await posted(client, f"/reviews/{no}", token, part=part, decision="approve")
    assert done.status_code == 302 and done.headers["location"] == "/reviews"


async def test_customer_to_archived_contract_and_its_amendment(desk_parts):
    async with open_sales(*desk_parts) as world:
        async with (
            world.console() as rep,
            world.console() as legal,
            world.console() as finance,
            world.console() as delivery,
            world.console() as eng,
        ):
            for client, sub in (
                (rep, "demo-sales"),
                (legal, "legal-zheng"),
                (finance, "fin-qian"),
                (delivery, "dlv-sun"),
                (eng, "eng-zhang"),
            ):
                await sign_in(client, sub)
            token = await token_of(rep, "/sales/customers/new")
            cid, no = f"CU-{uid()}", f"HT-{uid()}"
            made = await posted(rep, "/sales/customers/new", token, **customer_form(cid, code()))
            assert made.status_code == 302
            made = await posted(rep, "/sales/contracts/new", token, **draft_form(no, cid))
            assert made.headers["location"] == f"/contracts/{no}"
            sent = await posted(rep, f"/sales/contracts/{no}/submit", token)
            assert sent.status_code == 302

            r = await rep.get(f"/sales/contracts/{no}/sign")
            assert r.status_code == 200, r.text
            page = await posted(
                rep, f"/sales/contracts/{no}/sign", token, **_signing("a" * 64, "张三")
            )
            assert page.status_code == 400 and "尚未通过评审" in form_error(page.text)
            assert 'value="张三"' in page.text  # kept

            for client, part in ((legal, "legal"), (finance, "finance"), (delivery, "delivery")):
                await _review(client, no, part)
            page = (await rep.get(f"/contracts/{no}")).text
            assert f'href="/sales/contracts/{no}/sign"' in page
            assert f"/sales/contracts/{no}/archive" not in page
            reviewed = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            sha = reviewed["document_sha256"]
            assert reviewed["status"] == "approved" and sha

            assert (await eng.get(f"/sales/contracts/{no}/sign")).status_code == 403
            etoken = await token_of(eng, "/")
            denied = await posted(eng, f"/sales/contracts/{no}/sign", etoken, **_signing(sha))
            assert denied.status_code == 403
            assert (
                await rep.post(f"/sales/contracts/{no}/sign", data=_signing(sha))
            ).status_code == 403

            wrong = "b" * 64 if sha != "b" * 64 else "c" * 64
            page = await posted(rep, f"/sales/contracts/{no}/sign", token, **_signing(wrong))
            assert page.status_code == 400
            assert form_error(page.text).startswith("签署文本的SHA-256与评审通过的第1版不一致")
            assert f'value="{wrong}"' in page.text and 'value="王建国"' in page.text
            page = await posted(rep, f"/sales/contracts/{no}/sign", token, **_signing(sha, ""))
            assert form_error(page.text) == "请填写客户方签署人"

            signed = await posted(rep, f"/sales/contracts/{no}/sign", token, **_signing(sha))
            assert signed.status_code == 302 and signed.headers["location"] == f"/contracts/{no}"
            page = (await rep.get(f"/contracts/{no}")).text
            assert flash(page) == f"ok: 合同 {no} 已签署"
            assert f'href="/sales/contracts/{no}/archive"' in page
            assert f'href="/sales/contracts/{no}/sign"' not in page
            kept = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert kept["status"] == "signed"
            assert {s["party"]: s["method"] for s in kept["signatures"]} == {
                "company": "seal",
                "customer": "e_signature",
            }

            page = await posted(rep, f"/sales/contracts/{no}/archive", token, location="A-3")
            assert page.status_code == 400
            assert form_error(page.text) == "请勾选归档的资料（至少一项）"
            assert 'value="A-3"' in page.text
            filed = {"item_original": "1", "item_review_form": "1", "location": "档案室 A-3 柜"}
            page = await posted(rep, f"/sales/contracts/{no}/archive", token, **filed)
            assert page.status_code == 400
            assert form_error(page.text).startswith("归档材料不全，缺少：customer_credentials")
            assert 'name="item_review_form" value="1" checked' in page.text
            assert 'name="item_requirement_form" value="1">' in page.text  # as ticked
            filed |= {"item_customer_credentials": "1", "item_requirement_form": "1"}
            done = await posted(rep, f"/sales/contracts/{no}/archive", token, **filed)
            assert done.status_code == 302, form_error(done.text)
            assert flash((await rep.get(f"/contracts/{no}")).text) == f"ok: 合同 {no} 已归档"
            kept = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert kept["status"] == "archived" and kept["archive_location"] == "档案室 A-3 柜"
            assert sorted(kept["archive_items"]) == sorted(ALL_ITEMS)
            again = await posted(rep, f"/sales/contracts/{no}/archive", token, **filed)
            assert again.status_code == 400 and form_error(again.text)  # the API's words

            page = await posted(rep, f"/sales/contracts/{no}/amend", token, reason=" ")
            assert form_error(page.text) == "请填写变更原因"
            done = await posted(rep, f"/sales/contracts/{no}/amend", token, reason="增购一台")
            assert done.status_code == 302
            page = (await rep.get(f"/contracts/{no}")).text
            assert flash(page).startswith(f"ok: 合同 {no} 已发起变更")
            assert f'href="/sales/contracts/{no}/edit"' in page  # version 2 is a draft
            kept = (await world.contracts.get(f"/contracts/{no}", headers=REP)).json()
            assert kept["version"] == 2 and kept["status"] == "draft"
            assert kept["amendment_reason"] == "增购一台"


def _signing(sha: str, customer_signer: str = "王建国") -> dict[str, str]:
    return {
        "document_sha256": sha,
        "company_signer": "销售经理 李明",
        "company_method": "seal",
        "company_at": "",
        "customer_signer": customer_signer,
        "customer_method": "e_signature",
        "customer_at": "",
    }
