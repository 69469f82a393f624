"""The contract API's conversions between the HTTP schemas and the use cases' terms (the bodies
decoded into drafts, signings and review parts; a contract row answered as ContractOut)."""

from __future__ import annotations

from collections.abc import Iterable

from aftersales_shared.errors import NotFound

from ..domain import ReviewPart, ServiceLevel, Signature
from ..models import ContractRow
from ..schemas.contracts import ContractDraftIn, ContractOut, ContractPatch, SignIn, SignOffOut
from ..usecases import contracts, drafting, signing
from .customers import new_customer


def contract_out(row: ContractRow) -> ContractOut:
    current = [s for s in row.sign_offs if s.review_round == row.review_round]
    plain = {
        c: getattr(row, c)
        for c in ContractOut.model_fields
        if c not in ("products", "signatures", "sign_offs", "missing_sign_offs")
    }
    return ContractOut.model_validate(
        plain
        | {
            "products": [
                {
                    "model": p.model,
                    "serial_no": p.serial_no,
                    "warranty_end": p.warranty_end,
                    "batch_no": p.batch_no,
                }
                for p in row.products
            ],
            "signatures": [
                {"party": s.party, "signer": s.signer, "signed_at": s.signed_at, "method": s.method}
                for s in row.signatures
            ],
            "sign_offs": [SignOffOut.model_validate(s) for s in current],
            "missing_sign_offs": [p.value for p in contracts.to_domain(row).missing_parts],
        }
    )


def review_part(part: str) -> ReviewPart:
    if part not in ReviewPart._value2member_map_:
        raise NotFound(
            f"评审部分“{part}”不存在，应为 legal、finance 或 delivery (unknown review part)"
        )
    return ReviewPart(part)


def draft_content(
    data: ContractDraftIn | ContractPatch, given: Iterable[str]
) -> drafting.DraftContent:
    """The draft's terms as the use case takes them; `given`: the fields the caller stated."""
    return drafting.DraftContent(
        given=frozenset(given),
        products=None if data.products is None else [p.model_dump() for p in data.products],
        service_levels=None
        if data.service_levels is None
        else [ServiceLevel(**s.model_dump()) for s in data.service_levels],
        terms=None if data.terms is None else data.terms.model_dump(mode="json"),
        calendar=data.calendar,
        dealer_id=data.dealer_id,
        sales_rep=data.sales_rep,
        quote_no=data.quote_no,
        requirement_no=data.requirement_no,
    )


def new_draft(data: ContractDraftIn) -> drafting.NewDraft:
    """A new draft states every term (the request's defaults included)."""
    return drafting.NewDraft(
        contract_no=data.contract_no,
        customer=None if data.customer is None else new_customer(data.customer),
        customer_id=data.customer_id,
        content=draft_content(data, drafting.DRAFT_CONTENT),
    )


def signing_of(data: SignIn) -> signing.Signing:
    return signing.Signing(
        document_sha256=data.document_sha256,
        signatures=[Signature(**s.model_dump()) for s in data.signatures],
    )
