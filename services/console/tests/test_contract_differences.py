"""What changed between two versions of a contract, in the words the contract page shows (pure:
console.contracts.differences, no services)."""

from __future__ import annotations

from console.contracts import differences, parse_query

V1 = {
    "products": [
        {"model": "XK-200", "serial_no": "SN1", "warranty_end": "2028-12-31"},
        {"model": "XK-200", "serial_no": "SN2", "warranty_end": "2028-12-31"},
    ],
    "service_levels": [{"urgency": "urgent", "response_minutes": 60, "resolution_minutes": 720}],
    "terms": {"term_months": 24, "auto_renew": True, "scope": ["repair"]},
    "dealer_id": "D-ZJ-01",
    "sales_rep": "rep-li",
    "calendar": "default",
}


def test_the_same_version_has_no_differences():
    assert differences(V1, dict(V1)) == []


def test_units_levels_terms_and_parties_that_changed():
    v2 = {
        **V1,
        "products": [
            {"model": "XK-200", "serial_no": "SN1", "warranty_end": "2029-06-30"},
            {"model": "XK-300", "serial_no": "SN3", "warranty_end": "2029-06-30"},
        ],
        "service_levels": [
            {"urgency": "urgent", "response_minutes": 30, "resolution_minutes": 720},
            {"urgency": "critical", "response_minutes": 15, "resolution_minutes": 240},
        ],
        "terms": {"term_months": 36, "auto_renew": False, "scope": ["repair", "inspection"]},
        "dealer_id": None,
    }
    assert differences(V1, v2) == [
        "新增设备 XK-300 SN3",
        "删除设备 XK-200 SN2",
        "设备 SN1 保修至：2028-12-31 → 2029-06-30",
        "服务级别 critical：— → 响应 15 分 · 到场 — 分 · 解决 240 分",
        "服务级别 urgent：响应 60 分 · 到场 — 分 · 解决 720 分 → "
        "响应 30 分 · 到场 — 分 · 解决 720 分",
        "自动续约：是 → 否",
        "服务范围：repair → repair、inspection",
        "期限（月）：24 → 36",
        "经销商：D-ZJ-01 → —",
    ]


def test_the_list_query_turns_a_signed_month_into_beijing_time_bounds():
    from zoneinfo import ZoneInfo

    query, _, _ = parse_query({"month": "2026-12", "status": "signed", "page": "3"})
    params = query.api_params(ZoneInfo("Asia/Shanghai"), 25)
    assert params["signed_from"] == "2026-12-01T00:00:00+08:00"
    assert params["signed_to"] == "2027-01-01T00:00:00+08:00"  # December rolls into the next year
    assert (params["status"], params["limit"], params["offset"]) == ("signed", 25, 50)
