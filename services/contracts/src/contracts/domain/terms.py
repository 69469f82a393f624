"""Service levels per urgency and the service-contract terms (售后服务合同) that must hang
together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from aftersales_shared.errors import DomainError


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


@dataclass(frozen=True)
class ServiceLevel:
    urgency: Urgency
    response_minutes: int
    resolution_minutes: int
    onsite_minutes: int | None = None
    loaner_after_minutes: int | None = None


# DOMAIN.md: normal 24 h / 48 h; urgent 2 h, on site 4 h, 24 h; critical 30 min (resolution not
# stated in the source documents: 24 h assumed as the default, contracts override it).
DEFAULT_SERVICE_LEVELS: tuple[ServiceLevel, ...] = (
    ServiceLevel(Urgency.NORMAL, response_minutes=24 * 60, resolution_minutes=48 * 60),
    ServiceLevel(
        Urgency.URGENT, response_minutes=2 * 60, resolution_minutes=24 * 60, onsite_minutes=4 * 60
    ),
    ServiceLevel(
        Urgency.CRITICAL, response_minutes=30, resolution_minutes=24 * 60, onsite_minutes=4 * 60
    ),
)


def service_levels_with_overrides(overrides: list[ServiceLevel]) -> list[ServiceLevel]:
    """Defaults per urgency, replaced by whatever the contract states."""
    seen = [o.urgency for o in overrides]
    if len(seen) != len(set(seen)):
        raise DomainError("each urgency may have only one service level (服务等级重复)")
    by_urgency = {s.urgency: s for s in DEFAULT_SERVICE_LEVELS} | {o.urgency: o for o in overrides}
    for level in by_urgency.values():
        if level.response_minutes > level.resolution_minutes:
            raise DomainError(
                f"{level.urgency}: response time ({level.response_minutes} min) exceeds "
                "resolution time "
                f"({level.resolution_minutes} min) (响应时限不能长于解决时限)"
            )
    return [by_urgency[u] for u in Urgency]


class ServiceScope(StrEnum):
    REPAIR = "repair"  # 维修
    REPLACEMENT = "replacement"  # 更换
    TECHNICAL_SUPPORT = "technical_support"  # 技术支持
    INSPECTION = "inspection"  # 定期巡检


def check_terms(terms: dict[str, Any], levels: list[ServiceLevel]) -> None:
    """Service-contract terms that must hang together (the schema checks each field alone)."""
    scope = terms.get("scope") or []
    if len(scope) != len(set(scope)):
        raise DomainError("服务范围重复 (service scope lists an item twice)")
    if ServiceScope.INSPECTION in scope and not terms.get("inspections_per_year"):
        raise DomainError(
            "服务范围含定期巡检时须写明每年巡检次数 (inspection in scope needs "
            "inspections_per_year)"
        )
    loaner_levels = [lv.urgency.value for lv in levels if lv.loaner_after_minutes]
    if loaner_levels and not terms.get("loaner_promised"):
        raise DomainError(
            f"服务等级{', '.join(loaner_levels)}约定了备用机时限，但条款未承诺备用机 "
            "(loaner_after_minutes is set but loaner_promised is false)"
        )
    kinds = [p["kind"] for p in terms.get("price_components") or []]
    if len(kinds) != len(set(kinds)):
        raise DomainError("价格构成项重复 (each price component kind may appear once)")


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def service_term(signed_on: date, term_months: int) -> tuple[date, date]:
    """The entitlement runs from the signing day for term_months (inclusive end)."""
    return signed_on, add_months(signed_on, term_months) - timedelta(days=1)
