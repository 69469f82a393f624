"""The contract state machine: draft, review by legal/finance/delivery, signing, archiving; the
document hash."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aftersales_shared.db import CLOCK_SKEW
from aftersales_shared.errors import Conflict, DomainError, Forbidden

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class ContractStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SIGNED = "signed"
    ARCHIVED = "archived"


class ReviewPart(StrEnum):
    """Each department reviews its own part of the 合同评审表; the role of the same name signs it
    off."""

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
    batch_no: str | None = None


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
                f"合同{self.contract_no}第{self.version}版已{_zh(self.status)}，不可修改；"
                "请发起变更生成新版本 "
                f"(a {self.status} contract is immutable: create an amendment)"
            )

    def edit(self) -> bool:
        """Change the draft; a draft under review or approved goes back to draft and its sign-offs
        are void."""
        self.ensure_editable()
        voided = self.status in (ContractStatus.IN_REVIEW, ContractStatus.APPROVED)
        if voided:
            self._restart_review()
        return voided

    def submit(self) -> None:
        if self.status is not ContractStatus.DRAFT:
            raise Conflict(
                f"合同{self.contract_no}状态为{_zh(self.status)}，只有草稿可以提交评审 (only a "
                f"draft can be submitted; it is {self.status})"
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
        """One department's decision; a rejection sends the draft back; three approvals approve
        it."""
        roles = set(roles)
        if part.value not in roles and "admin" not in roles:
            raise Forbidden(
                f"只能签署本部门的评审部分：{part.value}部分需要{part.value}角色 (only the "
                f"{part.value} role signs off the {part.value} part)"
            )
        if self.status is not ContractStatus.IN_REVIEW:
            raise Conflict(
                f"合同{self.contract_no}状态为{_zh(self.status)}，不在评审中 (contract is not in "
                f"review; it is {self.status})"
            )
        if reviewer in self.authors:
            raise Conflict(
                f"四眼原则：合同{self.contract_no}由您起草或负责销售，不能评审 "
                f"(four eyes: the contract's author or sales rep cannot sign off its review)",
                rule="four_eyes",
            )
        if any(s.part is part for s in self.sign_offs):
            raise Conflict(
                f"{part.value}部分本轮已签署意见 (the {part.value} part was already signed off "
                "in this review round)"
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
        """Both parties sign the exact reviewed document (by its SHA-256); afterwards the contract
        is immutable."""
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
                "签署需要双方各一个签名 (exactly one signature from the company and one from the "
                "customer)"
            )
        if not SHA256_RE.match(document_sha256):
            raise DomainError(
                "document_sha256 must be 64 lowercase hex characters (合同文本哈希格式错误)"
            )
        if self.document_sha256 and document_sha256 != self.document_sha256:
            raise Conflict(
                f"签署文本的SHA-256与评审通过的第{self.version}版不一致 (the signed document is "
                "not the reviewed version: "
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
                f"合同{self.contract_no}尚未签署，不能归档 (only a signed contract can be "
                f"archived; it is {self.status})"
            )
        missing = [i.value for i in ArchiveItem if i not in set(items)]
        if missing:
            raise DomainError(
                f"归档材料不全，缺少：{', '.join(missing)} (archive is missing: "
                f"{', '.join(missing)})",
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
