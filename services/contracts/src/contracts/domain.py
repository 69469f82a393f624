"""Contract rules: credit codes, leads, quotes, the review/sign/archive state machine, deadlines. No I/O."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from aftersales_shared.errors import Conflict, DomainError, Forbidden

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CENT = Decimal("0.01")
HUNDRED = Decimal("100")


class InvalidCreditCode(DomainError):
    code = "invalid_credit_code"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(
            f"统一社会信用代码应为18位，实际为{len(code)}位 (credit code must have 18 characters)"
        )
    for pos, char in enumerate(code, start=1):
        if char not in CREDIT_CODE_CHARS:
            raise InvalidCreditCode(
                f"统一社会信用代码第{pos}位字符“{char}”无效 (character {pos} {char!r} is not allowed; I, O, S, V, Z never appear)"
            )
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(
            f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{code[17]}” (check character should be {expected!r})"
        )
    return code


# ---------------------------------------------------------------- leads
class LeadGrade(StrEnum):
    A = "A"  # high intent, closes within 30 days
    B = "B"  # 1–3 months
    C = "C"  # long-term nurturing


class LeadStatus(StrEnum):
    OPEN = "open"
    CONVERTED = "converted"
    DROPPED = "dropped"


LEAD_HORIZON_DAYS: dict[LeadGrade, int | None] = {
    LeadGrade.A: 30,
    LeadGrade.B: 90,
    LeadGrade.C: None,
}


def lead_follow_up_by(grade: LeadGrade, graded_on: date) -> date | None:
    """The date by which a lead of this grade is expected to close (None: long-term nurturing)."""
    days = LEAD_HORIZON_DAYS[grade]
    return None if days is None else graded_on + timedelta(days=days)


def ensure_lead_open(status: str, lead_id: str) -> None:
    if status != LeadStatus.OPEN:
        raise Conflict(f"线索{lead_id}状态为{status}，不能再修改或转化 (lead is {status})")


# ---------------------------------------------------------------- requirement form
def ensure_requirement_editable(status: str, no: str) -> None:
    if status == "confirmed":
        raise Conflict(
            f"需求确认单{no}已由客户确认，不能修改 (a confirmed requirement form is final; create a new one)"
        )


# ---------------------------------------------------------------- quotes
class QuoteStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class QuoteLine:
    model: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal = Decimal("0")
    description: str | None = None

    @property
    def list_amount(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(CENT, ROUND_HALF_UP)

    @property
    def net_amount(self) -> Decimal:
        return (self.unit_price * self.quantity * (HUNDRED - self.discount_pct) / HUNDRED).quantize(
            CENT, ROUND_HALF_UP
        )


@dataclass(frozen=True)
class Instalment:
    label: str
    percent: Decimal
    due: str


@dataclass(frozen=True)
class PricedQuote:
    list_total: Decimal
    net_total: Decimal
    max_discount_pct: Decimal
    needs_approval: bool
    instalment_amounts: list[Decimal]


def price_quote(
    lines: list[QuoteLine], instalments: list[Instalment], discount_limit_pct: Decimal
) -> PricedQuote:
    """Totals in CNY (two places), instalment amounts summing exactly to the total, approval need."""
    if not lines:
        raise DomainError("报价单至少需要一行 (a quote needs at least one line)")
    for i, line in enumerate(lines, start=1):
        if line.quantity <= 0:
            raise DomainError(f"第{i}行数量必须大于0 (line {i}: quantity must be positive)")
        if line.unit_price < 0:
            raise DomainError(f"第{i}行单价不能为负 (line {i}: unit price must not be negative)")
        if not Decimal("0") <= line.discount_pct < HUNDRED:
            raise DomainError(
                f"第{i}行折扣须在0–100%之间 (line {i}: discount must be 0 ≤ d < 100 %)"
            )
    check_instalments(instalments)
    net = sum((line.net_amount for line in lines), Decimal("0"))
    amounts = split_by_percent(net, [i.percent for i in instalments])
    max_discount = max(line.discount_pct for line in lines)
    return PricedQuote(
        list_total=sum((line.list_amount for line in lines), Decimal("0")),
        net_total=net,
        max_discount_pct=max_discount,
        needs_approval=max_discount > discount_limit_pct,
        instalment_amounts=amounts,
    )


def check_instalments(instalments: list[Instalment]) -> None:
    if not instalments:
        raise DomainError("付款计划至少需要一期 (a payment schedule needs at least one instalment)")
    for inst in instalments:
        if inst.percent <= 0:
            raise DomainError(
                f"付款期“{inst.label}”比例必须大于0 (instalment {inst.label!r}: percent must be positive)"
            )
    total = sum((i.percent for i in instalments), Decimal("0"))
    if total != HUNDRED:
        raise DomainError(
            f"付款计划各期比例合计为{total}%，必须正好为100% (instalments sum to {total} %, they must sum to exactly 100 %)",
            total_percent=str(total),
        )


def split_by_percent(total: Decimal, percents: list[Decimal]) -> list[Decimal]:
    """Amounts per percentage, rounded to the fen; the last absorbs the rounding so they sum to total."""
    amounts = [(total * p / HUNDRED).quantize(CENT, ROUND_HALF_UP) for p in percents[:-1]]
    return amounts + [total - sum(amounts, Decimal("0"))]


def decide_quote(
    status: str,
    quote_no: str,
    approve: bool,
    reason: str | None,
    *,
    author: str | None,
    decider: str,
) -> QuoteStatus:
    """Deciding an over-limit discount follows the four-eyes rule: never by the quote's own author."""
    if status != QuoteStatus.PENDING_APPROVAL:
        raise Conflict(
            f"报价单{quote_no}状态为{status}，无需审批 (only a quote pending approval can be decided)"
        )
    if author is not None and decider == author:
        raise Conflict(
            f"四眼原则：报价单{quote_no}由您本人开具，折扣须由另一位经理审批 "
            f"(four eyes: you issued quote {quote_no}; another manager must decide its discount)",
            rule="four_eyes",
        )
    if not approve and not (reason or "").strip():
        raise DomainError("驳回报价须说明理由 (a rejection needs a reason)")
    return QuoteStatus.APPROVED if approve else QuoteStatus.REJECTED


def ensure_quote_usable(status: str, valid_until: date, quote_no: str, today: date) -> None:
    if status != QuoteStatus.APPROVED:
        raise Conflict(
            f"报价单{quote_no}未获批准（{status}），不能用于合同 (quote is not approved)"
        )
    if valid_until < today:
        raise Conflict(f"报价单{quote_no}已于{valid_until}过期 (quote expired)")


# ---------------------------------------------------------------- service levels and terms
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
                f"{level.urgency}: response time ({level.response_minutes} min) exceeds resolution time "
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
            "服务范围含定期巡检时须写明每年巡检次数 (inspection in scope needs inspections_per_year)"
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


# ---------------------------------------------------------------- the contract state machine
class ContractStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SIGNED = "signed"
    ARCHIVED = "archived"


class ReviewPart(StrEnum):
    """Each department reviews its own part of the 合同评审表; the role of the same name signs it off."""

    LEGAL = "legal"  # parties, clauses vs requirements, liability, IP, confidentiality
    FINANCE = "finance"  # payment terms, invoicing data, credit period
    DELIVERY = "delivery"  # time, place, acceptance criteria feasible


class SignMethod(StrEnum):
    SEAL = "seal"  # 盖章
    E_SIGNATURE = "e_signature"  # 电子签名


class Party(StrEnum):
    COMPANY = "company"
    CUSTOMER = "customer"


class ArchiveItem(StrEnum):
    ORIGINAL = "original"  # 合同原件
    CREDENTIALS = "customer_credentials"  # 客户资质证明
    REQUIREMENT_FORM = "requirement_form"  # 需求确认单
    REVIEW_FORM = "review_form"  # 合同评审表


ARCHIVE_WORKING_DAYS = 3
# a time the client gives (a signature, a receipt) may be this far ahead of ours: clocks of two machines differ
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Signature:
    party: Party
    signer: str
    signed_at: datetime
    method: SignMethod


@dataclass(frozen=True)
class SignOff:
    part: ReviewPart
    approved: bool
    reviewer: str
    comments: str
    at: datetime


@dataclass(frozen=True)
class Product:
    model: str
    serial_no: str
    warranty_end: date


@dataclass
class Contract:
    contract_no: str
    status: ContractStatus
    version: int = 1
    review_round: int = 0
    sign_offs: list[SignOff] = field(default_factory=list)  # of the current round only
    products: list[Product] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    document_sha256: str | None = None
    approved_at: datetime | None = None
    signed_at: datetime | None = None
    archive_due_at: datetime | None = None
    archived_at: datetime | None = None
    authors: frozenset[str] = (
        frozenset()
    )  # who drafted it or sells it: none of them may review it (four eyes)

    @property
    def missing_parts(self) -> list[ReviewPart]:
        done = {s.part for s in self.sign_offs if s.approved}
        return [p for p in ReviewPart if p not in done]

    def ensure_editable(self) -> None:
        if self.status in (ContractStatus.SIGNED, ContractStatus.ARCHIVED):
            raise Conflict(
                f"合同{self.contract_no}第{self.version}版已{_zh(self.status)}，不可修改；请发起变更生成新版本 "
                f"(a {self.status} contract is immutable: create an amendment)"
            )

    def edit(self) -> bool:
        """Change the draft; a draft under review or approved goes back to draft and its sign-offs are void."""
        self.ensure_editable()
        voided = self.status in (ContractStatus.IN_REVIEW, ContractStatus.APPROVED)
        if voided:
            self._restart_review()
        return voided

    def submit(self) -> None:
        if self.status is not ContractStatus.DRAFT:
            raise Conflict(
                f"合同{self.contract_no}状态为{_zh(self.status)}，只有草稿可以提交评审 (only a draft can be submitted; it is {self.status})"
            )
        self.status = ContractStatus.IN_REVIEW

    def sign_off(
        self,
        part: ReviewPart,
        approved: bool,
        reviewer: str,
        roles: Iterable[str],
        comments: str,
        now: datetime,
    ) -> None:
        """One department's decision; a rejection sends the draft back; three approvals approve it."""
        roles = set(roles)
        if part.value not in roles and "admin" not in roles:
            raise Forbidden(
                f"只能签署本部门的评审部分：{part.value}部分需要{part.value}角色 (only the {part.value} role signs off the {part.value} part)"
            )
        if self.status is not ContractStatus.IN_REVIEW:
            raise Conflict(
                f"合同{self.contract_no}状态为{_zh(self.status)}，不在评审中 (contract is not in review; it is {self.status})"
            )
        if reviewer in self.authors:
            raise Conflict(
                f"四眼原则：合同{self.contract_no}由您起草或负责销售，不能评审 "
                f"(four eyes: the contract's author or sales rep cannot sign off its review)",
                rule="four_eyes",
            )
        if any(s.part is part for s in self.sign_offs):
            raise Conflict(
                f"{part.value}部分本轮已签署意见 (the {part.value} part was already signed off in this review round)"
            )
        if not approved and not comments.strip():
            raise DomainError("驳回必须写明理由 (a rejection must state its reasons in comments)")
        self.sign_offs.append(SignOff(part, approved, reviewer, comments, now))
        if not approved:
            self._restart_review()
        elif not self.missing_parts:
            self.status = ContractStatus.APPROVED
            self.approved_at = now

    def _restart_review(self) -> None:
        self.status = ContractStatus.DRAFT
        self.review_round += 1
        self.sign_offs = []
        self.approved_at = None

    def sign(self, signatures: list[Signature], document_sha256: str, now: datetime) -> None:
        """Both parties sign the exact reviewed document (by its SHA-256); afterwards the contract is immutable."""
        if self.status in (ContractStatus.SIGNED, ContractStatus.ARCHIVED):
            raise Conflict(
                f"合同{self.contract_no}已签署，不能再次签署 (contract is already {self.status})"
            )
        if self.status is not ContractStatus.APPROVED:
            missing = ", ".join(p.value for p in self.missing_parts)
            raise Conflict(
                f"合同{self.contract_no}尚未通过评审（缺少：{missing}），不能签署 "
                f"(signing needs all review sign-offs; missing: {missing}; status {self.status})",
                missing_sign_offs=[p.value for p in self.missing_parts],
            )
        parties = [s.party for s in signatures]
        if sorted(parties) != sorted(Party):
            raise DomainError(
                "签署需要双方各一个签名 (exactly one signature from the company and one from the customer)"
            )
        if not SHA256_RE.match(document_sha256):
            raise DomainError(
                "document_sha256 must be 64 lowercase hex characters (合同文本哈希格式错误)"
            )
        if self.document_sha256 and document_sha256 != self.document_sha256:
            raise Conflict(
                f"签署文本的SHA-256与评审通过的第{self.version}版不一致 (the signed document is not the reviewed version: "
                f"expected {self.document_sha256})"
            )
        if any(s.signed_at > now + CLOCK_SKEW for s in signatures):
            raise DomainError(
                "签署时间不能晚于当前时间 (a signature cannot be dated in the future)"
            )
        if self.approved_at and any(s.signed_at < self.approved_at for s in signatures):
            raise DomainError(
                "签署时间不能早于评审通过时间 (a signature cannot predate the review approval)"
            )
        self.signatures = list(signatures)
        self.document_sha256 = document_sha256
        self.signed_at = max(s.signed_at for s in signatures)
        self.status = ContractStatus.SIGNED

    def archive(self, items: Iterable[ArchiveItem], now: datetime) -> bool:
        """Archive the signed originals; returns whether it happened by the due time."""
        if self.status is ContractStatus.ARCHIVED:
            raise Conflict(
                f"合同{self.contract_no}第{self.version}版已归档，不能重复归档 (already archived)"
            )
        if self.status is not ContractStatus.SIGNED:
            raise Conflict(
                f"合同{self.contract_no}尚未签署，不能归档 (only a signed contract can be archived; it is {self.status})"
            )
        missing = [i.value for i in ArchiveItem if i not in set(items)]
        if missing:
            raise DomainError(
                f"归档材料不全，缺少：{', '.join(missing)} (archive is missing: {', '.join(missing)})",
                missing=missing,
            )
        self.status = ContractStatus.ARCHIVED
        self.archived_at = now
        return self.archive_due_at is None or now <= self.archive_due_at


def _zh(status: ContractStatus) -> str:
    return {
        "draft": "草稿",
        "in_review": "评审中",
        "approved": "评审通过",
        "signed": "已签署",
        "archived": "已归档",
    }[status]


def document_hash(content: dict[str, Any]) -> str:
    """SHA-256 of a version's canonical text: the same terms always give the same hash."""
    text = json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()


def duplicates(values: list[str]) -> list[str]:
    """Values listed more than once (serial numbers in one contract, and the like)."""
    return sorted({v for v in values if values.count(v) > 1})


# ---------------------------------------------------------------- orders, delivery, installation
class OrderStatus(StrEnum):
    ENTERED = "entered"
    SCHEDULED = "scheduled"  # shipping date fixed, delivery notice pending
    RECEIVED = "received"
    INSTALLATION_BOOKED = "installation_booked"
    INSTALLED = "installed"


NOTICE_BEFORE_SHIPPING = timedelta(hours=24)
OBJECTION_ANSWER_WITHIN = timedelta(hours=2)
INSTALLATION_BOOKING_WORKING_DAYS = 2
INSTALLATION_CONFIRMED_AHEAD = timedelta(days=3)
ORDER_ENTRY_WORKING_DAYS = 1

ORDER_FLOW = [
    OrderStatus.ENTERED,
    OrderStatus.SCHEDULED,
    OrderStatus.RECEIVED,
    OrderStatus.INSTALLATION_BOOKED,
    OrderStatus.INSTALLED,
]


def ensure_contract_orderable(status: str, contract_no: str) -> None:
    if status not in (ContractStatus.SIGNED, ContractStatus.ARCHIVED):
        raise Conflict(
            f"合同{contract_no}尚未签署，不能下单 (orders come from signed contracts; it is {status})"
        )


def delivery_notice_at(ships_at: datetime, now: datetime) -> datetime:
    """The customer hears 24 h before shipping; a date closer than that cannot be promised."""
    notice = ships_at - NOTICE_BEFORE_SHIPPING
    if notice < now:
        raise DomainError(
            f"发货时间须至少在24小时之后，以便提前通知客户 (ships_at must be at least 24 h ahead; earliest {now + NOTICE_BEFORE_SHIPPING:%Y-%m-%d %H:%M} UTC)"
        )
    return notice


def ensure_order_step(
    status: str, order_no: str, allowed: Iterable[OrderStatus], action: str
) -> None:
    allowed = list(allowed)
    if status not in allowed:
        raise Conflict(
            f"订单{order_no}状态为{status}，不能{action} (order is {status}; {action} needs {', '.join(a.value for a in allowed)})"
        )


def check_installation_date(scheduled_for: datetime, now: datetime) -> None:
    if scheduled_for - now < INSTALLATION_CONFIRMED_AHEAD:
        raise DomainError(
            "安装日期须至少提前3天与客户确认 (installation must be confirmed at least 3 days ahead)"
        )
