"""Signing: both parties' signatures on the reviewed version; ContractSigned and the archive
deadline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.auth import Principal
from aftersales_shared.calendars import ALWAYS_OPEN, load_calendar
from aftersales_shared.events import ContractSignedV1, Envelope
from aftersales_shared.events.contracts import EntitlementTerms
from aftersales_shared.outbox import enqueue
from aftersales_shared.products import product_line
from aftersales_shared.scheduler import schedule

from .. import domain
from ..models import ContractRow, SignatureRow
from .archiving import ARCHIVE_JOB, archive_job_key
from .audit import audit
from .common import today
from .contracts import get_contract, to_domain


@dataclass(frozen=True)
class Signing:
    """Both parties' signatures, on the version whose document hash the signers quote."""

    document_sha256: str
    signatures: list[domain.Signature]


async def sign_contract(
    session: AsyncSession,
    contract_no: str,
    cmd: Signing,
    actor: Principal,
    now: datetime,
    *,
    tz: ZoneInfo,
    office_calendar: str = "default",
) -> ContractRow:
    """Record both signatures on the reviewed version; ContractSigned leaves through the outbox;
    archiving is due."""
    row = await get_contract(session, contract_no)
    contract = to_domain(row)
    signatures = list(cmd.signatures)
    contract.sign(signatures, cmd.document_sha256, now)
    row.status, row.document_sha256, row.signed_at = (
        contract.status,
        contract.document_sha256,
        contract.signed_at,
    )
    row.signatures.extend(
        SignatureRow(party=s.party, signer=s.signer, signed_at=s.signed_at, method=s.method)
        for s in signatures
    )
    terms = row.terms or {}
    row.term_start, row.term_end = domain.service_term(
        today(row.signed_at, tz), terms.get("term_months", 12)
    )
    calendar = await load_calendar(
        session, office_calendar if row.calendar == ALWAYS_OPEN else row.calendar
    )
    row.archive_due_at = calendar.add_working_days(row.signed_at, domain.ARCHIVE_WORKING_DAYS)
    row.archive_due_provisional = calendar.is_provisional(row.signed_at, row.archive_due_at)
    row.updated_at = now
    await schedule(
        session, ARCHIVE_JOB, archive_job_key(row), row.archive_due_at, {"contract_id": row.id}
    )
    await enqueue(
        session,
        Envelope(
            data=contract_signed_event(row),
            subject=row.contract_no,
            correlation_id=actor.claims.get("cid"),
        ),
    )
    await audit(
        session,
        actor,
        "contract",
        contract_no,
        "signed",
        now,
        version=row.version,
        document_sha256=row.document_sha256,
        signatures=[asdict(s) for s in signatures],
        archive_due_at=row.archive_due_at,
    )
    return row


def contract_signed_event(row: ContractRow) -> ContractSignedV1:
    terms = row.terms or {}
    return ContractSignedV1(
        contract_no=row.contract_no,
        signed_at=row.signed_at,
        customer={
            "customer_id": row.customer_id,
            "name": row.customer_name,
            "credit_code": row.credit_code,
            "contacts": row.contacts,
        },
        products=[
            {
                "model": p.model,
                "serial_no": p.serial_no,
                "warranty_end": p.warranty_end,
                "batch_no": p.batch_no,
                "product_line": product_line(p.model),
            }
            for p in row.products
        ],
        service_levels=row.service_levels,
        calendar=row.calendar,
        dealer_id=row.dealer_id,
        sales_rep=row.sales_rep,
        document_sha256=row.document_sha256,
        version=row.version,
        entitlement=EntitlementTerms(
            scope=terms.get("scope") or [],
            always_open=row.calendar == ALWAYS_OPEN,
            term_start=row.term_start,
            term_end=row.term_end,
            auto_renew=bool(terms.get("auto_renew")),
            loaner_promised=bool(terms.get("loaner_promised")),
            loaner_grade=terms.get("loaner_grade"),
            inspections_per_year=terms.get("inspections_per_year"),
        ),
    )
