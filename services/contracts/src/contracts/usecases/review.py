"""Review (合同评审): submitting a draft, and legal, finance and delivery signing off their
parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.events import ContractReviewedV1, ContractSubmittedV1, Envelope
from aftersales_shared.outbox import enqueue

from .. import domain
from ..models import ContractRow, SignOffRow
from .audit import audit
from .contracts import ensure_owner, get_contract, store_state, to_domain


@dataclass(frozen=True)
class ReviewDecision:
    """A reviewer's decision on its part; a rejection needs comments (the domain rules check)."""

    approved: bool
    comments: str = ""


async def submit_for_review(
    session: AsyncSession, contract_no: str, actor: Principal, now: datetime
) -> ContractRow:
    row = await get_contract(session, contract_no)
    ensure_owner(row, actor)
    contract = to_domain(row)
    contract.submit()
    store_state(row, contract)
    row.submitted_at = now
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "submitted_for_review",
        now,
        version=row.version,
        review_round=row.review_round,
        document_sha256=row.document_sha256,
    )
    submitted = ContractSubmittedV1(
        contract_no=contract_no,
        version=row.version,
        review_round=row.review_round,
        customer_name=row.customer_name,
        dealer_id=row.dealer_id,
        waiting_for=[p.value for p in contract.missing_parts],
        submitted_at=now,
        submitted_by=actor.subject,
    )
    await enqueue(session, Envelope(data=submitted, subject=contract_no))
    return row


async def sign_off(
    session: AsyncSession,
    contract_no: str,
    part: domain.ReviewPart,
    cmd: ReviewDecision,
    actor: Principal,
    now: datetime,
) -> ContractRow:
    """Legal, finance or delivery decides on its own part; the decision is evidence
    (append-only)."""
    row = await get_contract(session, contract_no)
    contract = to_domain(row)
    round_ = row.review_round
    approved = cmd.approved
    contract.sign_off(
        part, approved, actor.subject, [r.value for r in actor.roles], cmd.comments, now
    )
    row.sign_offs.append(
        SignOffRow(
            review_round=round_,
            part=part,
            approved=approved,
            reviewer=actor.subject,
            comments=cmd.comments,
            document_sha256=row.document_sha256,
            at=now,
        )
    )
    store_state(row, contract)
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "review_approved" if approved else "review_rejected",
        now,
        part=part.value,
        version=row.version,
        review_round=round_,
        comments=cmd.comments,
        status_after=row.status,
    )
    reviewed = ContractReviewedV1(
        contract_no=contract_no,
        version=row.version,
        review_round=round_,
        part=part.value,
        approved=approved,
        status_after=row.status,
        waiting_for=[p.value for p in contract.missing_parts] if approved else [],
        reviewed_at=now,
        reviewer=actor.subject,
    )
    await enqueue(session, Envelope(data=reviewed, subject=contract_no))
    return row
