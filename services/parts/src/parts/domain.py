"""Rules of the parts service: part numbers, location kinds, who may move what, the reorder point
and reservations covered by stock. Pure: no web, broker or ORM code."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from aftersales_shared.auth import Principal, Role, dealer_scope
from aftersales_shared.errors import DomainError, Forbidden

PART_NO = re.compile(r"^[A-Z0-9][A-Z0-9._/-]{1,39}$")
CENT = Decimal("0.01")


class LocationKind(StrEnum):
    CENTRAL = "central"  # 总仓
    REGIONAL = "regional"  # 区域库
    VAN = "van"  # 工程师车载库 (engineer_id)
    DEALER = "dealer"  # 经销商库 (dealer_id)


class MovementKind(StrEnum):
    RECEIVE = "receive"  # 入库: into a location from a supplier
    TRANSFER = "transfer"  # 调拨: from one location to another
    ISSUE = "issue"  # 领用: from a location to a ticket
    RETURN_UNUSED = "return_unused"  # 退回: unused units from a ticket back to a location
    FAULTY_RETURNED = "faulty_returned"  # 旧件返回: the replaced part comes back (not good stock)
    SCRAP = "scrap"  # 报废: good or faulty units written off at a location


KIND_ZH = {
    MovementKind.RECEIVE: "入库",
    MovementKind.TRANSFER: "调拨",
    MovementKind.ISSUE: "领用",
    MovementKind.RETURN_UNUSED: "退回",
    MovementKind.FAULTY_RETURNED: "旧件返回",
    MovementKind.SCRAP: "报废",
}

# company staff who keep the part master, the locations and every location's stock: there is no
# warehouse role in aftersales_shared.auth; the warehouse answers to the service department
# (DOMAIN.md), so its supervisors and the managers hold it (admin can do anything anyway)
STOCK_KEEPERS = (Role.MANAGER, Role.SERVICE_SUPERVISOR)
# an engineer moves parts only with their own van or a company store (picking a part up at the
# regional store), and only what a repair does with it
COMPANY_STORES = frozenset({LocationKind.CENTRAL, LocationKind.REGIONAL})
ENGINEER_KINDS = frozenset(
    {MovementKind.ISSUE, MovementKind.RETURN_UNUSED, MovementKind.FAULTY_RETURNED}
)


def check_part_no(value: str) -> str:
    """Part numbers are upper-case letters, digits and . _ / - (the dealers' part numbers too)."""
    no = value.strip().upper()
    if not PART_NO.match(no):
        raise DomainError(
            f"备件编号{value!r}无效：须为2–40位大写字母、数字或 . _ / - (invalid part number: "
            "2–40 of A–Z, 0–9, . _ / -)"
        )
    return no


def money(value: Decimal) -> Decimal:
    if value < 0:
        raise DomainError("单价不能为负数 (the unit price cannot be negative)")
    if value != value.quantize(CENT):
        raise DomainError("单价最多两位小数 (the unit price has at most two decimal places)")
    return value.quantize(CENT)


@dataclass(frozen=True)
class Place:
    """What the rules need of a location."""

    location_id: str
    kind: LocationKind
    engineer_id: str | None = None
    dealer_id: str | None = None


def check_location(kind: LocationKind, engineer_id: str | None, dealer_id: str | None) -> None:
    if kind is LocationKind.VAN and not engineer_id:
        raise DomainError("工程师车载库须指定工程师 engineer_id (a van needs its engineer_id)")
    if kind is LocationKind.DEALER and not dealer_id:
        raise DomainError("经销商库须指定经销商 dealer_id (a dealer store needs its dealer_id)")
    if kind is not LocationKind.VAN and engineer_id:
        raise DomainError("只有车载库有工程师 (only a van has an engineer_id)")
    if kind is not LocationKind.DEALER and dealer_id:
        raise DomainError("只有经销商库有经销商 (only a dealer store has a dealer_id)")


def may_see(place: Place, user: Principal) -> bool:
    """A dealer's users see only their own store; company staff see every location."""
    scope = dealer_scope(user)
    return scope is None or (place.kind is LocationKind.DEALER and place.dealer_id == scope)


def may_move(kind: MovementKind, places: Iterable[Place], user: Principal) -> None:
    """Stock keepers move anything; a dealer only within its own store; an engineer only what a
    repair does, with their own van or a company store."""
    if user.has(*STOCK_KEEPERS):
        return
    places = list(places)
    if Role.DEALER in user.roles and dealer_scope(user):
        if all(p.kind is LocationKind.DEALER and p.dealer_id == dealer_scope(user) for p in places):
            return
        raise Forbidden("经销商只能操作本店库存 (a dealer moves only its own store's stock)")
    if Role.ENGINEER in user.roles:
        own = all(
            (p.kind is LocationKind.VAN and p.engineer_id == user.subject)
            or p.kind in COMPANY_STORES
            for p in places
        )
        if own and kind in ENGINEER_KINDS:
            return
        raise Forbidden(
            "工程师只能用本人车载库或公司仓库领用、退回或返回旧件 (an engineer issues, returns "
            "and brings back faulty parts only with their own van or a company store)"
        )
    raise Forbidden("无权操作库存 (you may not move stock)")


def reorder_crossing(on_hand: int, point: int, flagged: bool) -> bool | None:
    """True: the stock just went to or below the point (announce once); False: it rose above it
    again (re-arm); None: no change."""
    if on_hand <= point and not flagged:
        return True
    if on_hand > point and flagged:
        return False
    return None


@dataclass(frozen=True)
class Waiting:
    reservation_id: str
    quantity: int


def newly_covered(on_hand: int, covered: int, waiting: Sequence[Waiting]) -> list[str]:
    """The waiting reservations (oldest first) that stock on hand now covers, after those already
    covered; a reservation is covered whole or not at all, and never overtakes an older one."""
    out: list[str] = []
    left = on_hand - covered
    for w in waiting:
        if w.quantity > left:
            break
        out.append(w.reservation_id)
        left -= w.quantity
    return out


@dataclass(frozen=True)
class Tier:
    """Units of a part issued to a ticket at one unit price, and how many came back."""

    unit_price: Decimal
    issued: int
    returned: int

    @property
    def net(self) -> int:
        return self.issued - self.returned


def return_tier(tiers: Sequence[Tier], quantity: int, part_no: str, ticket_no: str) -> Decimal:
    """The price tier unused units go back at: the newest price with that many still out."""
    out = sum(t.net for t in tiers)
    if quantity > out:
        raise DomainError(
            f"工单{ticket_no}的备件{part_no}只领用了{out}件未退回，不能退回{quantity}件 "
            f"(only {out} issued and not returned)",
            code="too_many_returned",
        )
    for t in reversed(tiers):
        if t.net >= quantity:
            return t.unit_price
    raise DomainError(
        f"这些备件按不同单价领用，请按单价分批退回 (the units were issued at different prices: "
        f"return at most {max(t.net for t in tiers)} at a time)",
        code="split_return",
    )


def line_total(quantity: int, unit_price: Decimal) -> Decimal:
    return (unit_price * quantity).quantize(CENT)
