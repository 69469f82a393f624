"""One input layer for every service: hostile parameters and bodies are 4xx with a reason, never a
500."""

from __future__ import annotations

import csv
import io

import pytest

from aftersales_shared.exports import content_disposition, csv_text, safe_cell
from aftersales_testing.support import auth, migrated, running
from contracts.app import create_app
from contracts.settings import ContractsSettings

REP = auth("sales", sub="rep-li")
ADMIN = auth("admin", sub="admin-chen")


@pytest.fixture
async def contracts(databases, streams_ready):
    return create_app(
        ContractsSettings(
            database_url=await migrated(databases, "contracts"), nats_url=streams_ready
        )
    )


async def test_hostile_parameters_and_bodies_are_400_with_a_reason(contracts):
    async with running(contracts) as c:
        for params in (
            {"offset": str(2**63)},
            {"offset": "10000001"},
            {"limit": "0"},
            {"limit": "100000"},
        ):
            r = await c.get("/contracts", params=params, headers=REP)
            assert r.status_code == 400, (params, r.text)
        for path in (
            f"/admin/dead-letters/{2**63}",
            "/admin/dead-letters/99999999999999999999999",
            "/admin/dead-letters/0",
        ):
            r = await c.get(path, headers=ADMIN)
            assert r.status_code == 400, (path, r.text)
        assert (await c.get("/admin/dead-letters/1", headers=ADMIN)).status_code == 404

        deep = ("[" * 5000 + "]" * 5000).encode()
        r = await c.post(
            "/customers",
            content=b'{"name": ' + deep + b"}",
            headers=REP | {"content-type": "application/json"},
        )
        assert r.status_code == 400 and "nested" in r.json()["detail"], r.text
        r = await c.post(
            "/customers",
            content=b'{"name": "\xff\xfe"}',
            headers=REP | {"content-type": "application/json"},
        )
        assert r.status_code == 400 and "UTF-8" in r.json()["detail"], r.text

        for raw in (
            "/contracts?q=a%00b",
            "/contracts?q=a%0d%0aSet-Cookie:x",
            "/contracts?q=%ff%fe",
            "/contracts/HT-1%0a2",
        ):
            r = await c.get(raw, headers=REP)
            assert r.status_code == 400 and r.json()["code"] == "invalid_request", (raw, r.text)
        assert (
            await c.get("/contracts", params={"q": "苏州 精工"}, headers=REP)
        ).status_code == 200


def test_openapi_states_the_bounds(contracts):
    spec = contracts.openapi_schema.to_schema()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/contracts"]["get"]["parameters"]}
    assert params["offset"]["maximum"] == 10_000_000 and params["limit"]["maximum"] == 500
    [dl] = spec["paths"]["/admin/dead-letters/{dead_letter_id}"]["get"]["parameters"]
    assert dl["schema"]["minimum"] == 1 and dl["schema"]["maximum"] == 2**53 - 1


def test_every_csv_cell_that_a_spreadsheet_would_run_is_neutralised():
    for evil in (
        '=HYPERLINK("http://x","点我")',
        "+1+1",
        "-2+3",
        "@SUM(A1)",
        "\t=1",
        "\r=1",
        "＝1+1",
    ):
        assert safe_cell(evil) == "'" + evil
    assert safe_cell("苏州精工") == "苏州精工" and safe_cell(None) == "" and safe_cell(-5) == -5
    # a worksheet cannot hold ESC, BEL, …: dropped (tab, LF and CR stay)
    assert safe_cell("主轴\x1b[31m轴承\x07\n第二行\t") == "主轴[31m轴承\n第二行\t"
    text = csv_text(["名称", "=x"], [["=cmd|' /C calc'!A0", 3], ["正常", None]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["名称", "'=x"], ["'=cmd|' /C calc'!A0", "3"], ["正常", ""]]


def test_content_disposition_cannot_be_broken_out_of():
    header = content_disposition('a"; filename=evil.exe')
    assert header.startswith("attachment; filename=\"a_filename_evil.exe\"; filename*=UTF-8''")
    assert header.count('"') == 2 and "\r" not in header and "\n" not in header
    assert content_disposition("满意度-2026.csv").endswith(
        "filename*=UTF-8''%E6%BB%A1%E6%84%8F%E5%BA%A6-2026.csv"
    )


async def test_filters_take_only_aware_times_within_sensible_years(contracts):
    async with running(contracts) as c:
        for value in (
            "2026-01-01T00:00:00",
            "0001-01-01T00:00:00+08:00",
            "9999-12-31T23:59:59-08:00",
            "0.5",
            "2026-01-01",
            "yesterday",
        ):
            r = await c.get("/contracts", params={"signed_from": value}, headers=REP)
            assert r.status_code == 400, (value, r.text)
        r = await c.get(
            "/contracts", params={"signed_from": "2026-01-01T00:00:00+08:00"}, headers=REP
        )
        assert r.status_code == 200


async def test_patch_with_null_for_a_required_field_is_400_and_changes_nothing(contracts):
    async with running(contracts) as c:
        from contracts_flow import new_customer

        customer = await new_customer(c)
        path = f"/customers/{customer['customer_id']}"
        r = await c.patch(path, json={"name": None}, headers=REP)
        assert r.status_code == 400 and "name" in r.text and "null" in r.text, r.text
        r = await c.patch(path, json={"name": "新名称", "contacts": None}, headers=REP)
        assert r.status_code == 400
        assert (await c.get(path, headers=REP)).json()["name"] == customer["name"]
        r = await c.patch(
            path, json={"industry": None}, headers=REP
        )  # an optional field may be cleared
        assert r.status_code == 200 and r.json()["industry"] is None
