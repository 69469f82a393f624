"""Contract rules: credit codes, default service levels, the draft → signed transition. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from aftersales_shared.errors import Conflict, DomainError

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class InvalidCreditCode(DomainError):
    code = "invalid_credit_code"


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters, the last a mod-31 check character."""
    code = code.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode(f"统一社会信用代码应为18位，实际为{len(code)}位 (credit code must have 18 characters)")
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
    ServiceLevel(Urgency.URGENT, response_minutes=2 * 60, resolution_minutes=24 * 60, onsite_minutes=4 * 60),
    ServiceLevel(Urgency.CRITICAL, response_minutes=30, resolution_minutes=24 * 60, onsite_minutes=4 * 60),
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


class ContractStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class SignMethod(StrEnum):
    SEAL = "seal"  # 盖章
    E_SIGNATURE = "e_signature"  # 电子签名


class Party(StrEnum):
    COMPANY = "company"
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Signature:
    party: Party
    signer: str
    signed_at: datetime
    method: SignMethod


@dataclass(frozen=True)
class Product:
    model: str
    serial_no: str
    warranty_end: date


@dataclass
class Contract:
    contract_no: str
    status: ContractStatus
    products: list[Product] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    document_sha256: str | None = None
    signed_at: datetime | None = None

    def sign(self, signatures: list[Signature], document_sha256: str, now: datetime) -> None:
        """Both parties sign the exact document (by its SHA-256); afterwards the contract is immutable."""
        if self.status is not ContractStatus.DRAFT:
            raise Conflict(f"合同{self.contract_no}已签署，不能再次签署 (contract is already {self.status})")
        parties = [s.party for s in signatures]
        if sorted(parties) != sorted(Party):
            raise DomainError("签署需要双方各一个签名 (exactly one signature from the company and one from the customer)")
        if not SHA256_RE.match(document_sha256):
            raise DomainError("document_sha256 must be 64 lowercase hex characters (合同文本哈希格式错误)")
        if any(s.signed_at > now for s in signatures):
            raise DomainError("签署时间不能晚于当前时间 (a signature cannot be dated in the future)")
        self.signatures = list(signatures)
        self.document_sha256 = document_sha256
        self.signed_at = max(s.signed_at for s in signatures)
        self.status = ContractStatus.SIGNED
