"""Event handlers of the reports service: decode (done by the inbox), call one fact use case.

The inbox commits each event's facts together with its id, so a redelivered event changes no
figure; the facts are keyed by what they describe as well, so a replay from the streams writes the
same rows again. Complaint events (tickets' complaint handling, under way) get their handlers here
beside the tickets ones, writing `ticket_event_facts` (kind `complaint_*`) and the ticket's level.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_shared.events import (
    CardOverdueV1,
    ComplaintClassifiedV1,
    ComplaintOverdueV1,
    ContractSignedV1,
    CorrectiveActionChangedV1,
    CorrectiveActionOverdueV1,
    DealerContactsChangedV1,
    DeductionIssuedV1,
    Envelope,
    FaultClassifiedV1,
    FollowUpOpenedV1,
    PartsReturnOverdueV1,
    ReturnVisitOverdueV1,
    ReturnVisitRecordedV1,
    ServiceCompletedV1,
    SlaBreachedV1,
    SlaEscalatedV1,
    SlaWarningV1,
    SurveyAnsweredV1,
    TicketAcknowledgedV1,
    TicketAssignedV1,
    TicketOpenedV1,
    TicketReopenedV1,
    TrainingFollowUpRecordedV1,
    WarrantyCardRegisteredV1,
    WarrantyServiceOverdueV1,
)
from aftersales_shared.inbox import Inbox
from aftersales_shared.products import product_line

from .usecases import facts
from .usecases.facts import SignedUnit, midnight_of

CONTRACT_SIGNED_READS = (
    "contract_no",
    "signed_at",
    "customer.customer_id",
    "dealer_id",
    "products.model",
    "products.serial_no",
    "products.batch_no",
    "products.product_line",
)
TICKET_OPENED_READS = (
    "ticket_id",
    "ticket_no",
    "opened_at",
    "channel",
    "request_type",
    "urgency",
    "customer_id",
    "dealer_id",
    "product_model",
    "serial_no",
    "acknowledge_due",
    "response_due",
    "resolution_due",
)
TICKET_ACKNOWLEDGED_READS = (
    "ticket_id",
    "ticket_no",
    "channel",
    "opened_at",
    "acknowledged_at",
    "acknowledge_due",
    "urgency",
    "dealer_id",
)
TICKET_ASSIGNED_READS = (
    "ticket_id",
    "ticket_no",
    "assigned_at",
    "assignee_id",
    "assignee_kind",
    "urgency",
    "dealer_id",
)
SERVICE_COMPLETED_READS = (
    "ticket_id",
    "ticket_no",
    "completed_at",
    "request_type",
    "channel",
    "customer_id",
    "engineer_id",
    "dealer_id",
    "product_model",
    "serial_no",
    "within_sla",
    "urgency",
    "batch_no",
    "product_line",
    "symptom",
    "cause_category",
    "failed_part",
    "needs_analysis",
)
FAULT_CLASSIFIED_READS = (
    "ticket_id",
    "ticket_no",
    "product_model",
    "product_line",
    "serial_no",
    "batch_no",
    "symptom",
    "cause_category",
    "failed_part",
)
SLA_READS = ("ticket_id", "clock", "deadline", "urgency", "overdue_seconds")
SLA_WARNING_READS = ("ticket_id", "clock", "deadline", "urgency", "warned_at")
REOPENED_READS = ("ticket_id", "reopened_at")
FOLLOW_UP_READS = ("ticket_id", "ticket_no", "original_ticket_id", "opened_at")
ACTION_STEP_READS = (
    "action_id",
    "action_no",
    "change",
    "changed_at",
    "status",
    "kind",
    "owner_department",
    "cause_category",
    "product_line",
)
ACTION_READS = (
    "action_id",
    "action_no",
    "kind",
    "title",
    "owner_department",
    "due_date",
    "overdue_at",
    "cause_category",
    "product_line",
    "ticket_nos",
)
SURVEY_READS = (
    "survey_id",
    "ticket_id",
    "answered_at",
    "efficiency",
    "attitude",
    "professionalism",
    "recommend",
    "low_score",
    "engineer_id",
    "dealer_id",
    "product_model",
)
VISIT_RECORDED_READS = (
    "visit_id",
    "ticket_id",
    "reason",
    "outcome",
    "on_time",
    "visited_at",
    "dealer_id",
    "engineer_id",
)
VISIT_OVERDUE_READS = ("visit_id", "ticket_id", "reason", "due_at", "dealer_id")
TRAINING_READS = ("training_id", "outcome", "on_time", "called_at")
CARD_READS = ("dealer_id", "serial_no", "registered_at", "on_time", "warranty_recognised")
CARD_OVERDUE_READS = ("dealer_id", "serial_no", "due_date")
PARTS_READS = ("dealer_id", "due_date", "parts")
DEDUCTION_READS = ("dealer_id", "confirmed_at", "amount")
SERVICE_OVERDUE_READS = ("dealer_id", "serial_no", "arrange_due")
DEALER_READS = ("dealer_id", "name", "region", "changed_at")


def register(inbox: Inbox, concurrency: int = 2) -> None:
    before = set(inbox.subscriptions)
    register_contracts(inbox)
    register_tickets(inbox)
    register_surveys(inbox)
    register_dealers(inbox)
    register_complaints(inbox)
    for name in sorted(set(inbox.subscriptions) - before):
        in_groups(inbox, name, concurrency)


def in_groups(inbox: Inbox, name: str, concurrency: int) -> None:
    """Let a consumer's deliveries share transactions: a bulk consumer (aftersales_shared.
    bulkconsume) pulls up to `consumer_bulk_batch_size` events at a time, claims them in the inbox
    with one statement and writes their facts in the same transaction with a few statements
    (facts.Deferred). Each message is acked once its transaction committed; a batch that fails is
    written again event by event, so a poison event is retried and dead-lettered alone. A
    redelivered event is still claimed only once, so it changes no figure. One transaction per
    event had the ingest at a few dozen events a second, FastStream's per-message pipeline with
    group commit at ~0.05× a raw consume (bench/ingest.py). `concurrency` applies to the
    per-event path (replays, the retries of a failed batch)."""
    sub = inbox.subscriptions[name]
    single = sub.handler

    async def many(session: AsyncSession, envs: list[Envelope[Any]]) -> None:
        facts.defer_writes(session)  # the batch's fact rows go in with a few statements at its end
        for env in envs:
            await single(session, env)
        await facts.flush_writes(session)

    inbox.handles_batch(*sub.accepts, concurrency=concurrency, reads=sub.reads, bulk=True)(many)


def register_contracts(inbox: Inbox) -> None:
    @inbox.handles(ContractSignedV1, reads=CONTRACT_SIGNED_READS)
    async def on_contract_signed(session: AsyncSession, env: Envelope[ContractSignedV1]) -> None:
        d = env.data
        units = [  # a contract signed before products carried their line: the same rule derives it
            SignedUnit(p.serial_no, p.model, p.batch_no, p.product_line or product_line(p.model))
            for p in d.products
        ]
        await facts.units_signed(
            session, env.id, d.contract_no, d.signed_at, d.customer.customer_id, d.dealer_id, units
        )

    @inbox.handles(TrainingFollowUpRecordedV1, reads=TRAINING_READS)
    async def on_training(session: AsyncSession, env: Envelope[TrainingFollowUpRecordedV1]) -> None:
        d = env.data
        await facts.follow_up_call(
            session,
            env.id,
            "training_recorded",
            str(d.training_id),
            d.called_at,
            outcome=d.outcome,
            on_time=d.on_time,
        )


def register_tickets(inbox: Inbox) -> None:
    @inbox.handles(TicketOpenedV1, reads=TICKET_OPENED_READS)
    async def on_opened(session: AsyncSession, env: Envelope[TicketOpenedV1]) -> None:
        d = env.data
        await facts.ticket_opened(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            opened_at=d.opened_at,
            channel=d.channel,
            request_type=d.request_type,
            urgency=d.urgency.value,
            customer_id=d.customer_id,
            dealer_id=d.dealer_id,
            product_model=d.product_model,
            serial_no=d.serial_no,
            acknowledge_due=d.acknowledge_due,
            response_due=d.response_due,
            resolution_due=d.resolution_due,
        )

    @inbox.handles(TicketAcknowledgedV1, reads=TICKET_ACKNOWLEDGED_READS)
    async def on_acknowledged(session: AsyncSession, env: Envelope[TicketAcknowledgedV1]) -> None:
        d = env.data
        await facts.ticket_acknowledged(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            d.acknowledged_at,
            d.acknowledge_due,
            channel=d.channel,
            opened_at=d.opened_at,
            urgency=d.urgency.value,
            dealer_id=d.dealer_id,
        )

    @inbox.handles(TicketAssignedV1, reads=TICKET_ASSIGNED_READS)
    async def on_assigned(session: AsyncSession, env: Envelope[TicketAssignedV1]) -> None:
        d = env.data
        await facts.ticket_assigned(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            d.assigned_at,
            d.assignee_id,
            d.assignee_kind,
            d.urgency.value,
            d.dealer_id,
        )

    @inbox.handles(ServiceCompletedV1, reads=SERVICE_COMPLETED_READS)
    async def on_completed(session: AsyncSession, env: Envelope[ServiceCompletedV1]) -> None:
        d = env.data
        await facts.service_completed(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            completed_at=d.completed_at,
            request_type=d.request_type,
            channel=d.channel,
            customer_id=d.customer_id,
            engineer_id=d.engineer_id,
            dealer_id=d.dealer_id,
            product_model=d.product_model,
            serial_no=d.serial_no,
            within_sla=d.within_sla,
            urgency=d.urgency.value if d.urgency else None,
            batch_no=d.batch_no,
            product_line=d.product_line,
            symptom=d.symptom,
            cause_category=d.cause_category.value if d.cause_category else None,
            failed_part=d.failed_part,
            needs_analysis=d.needs_analysis,
        )

    @inbox.handles(FaultClassifiedV1, reads=FAULT_CLASSIFIED_READS)
    async def on_classified(session: AsyncSession, env: Envelope[FaultClassifiedV1]) -> None:
        d = env.data
        await facts.fault_classified(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            product_model=d.product_model,
            product_line=d.product_line,
            serial_no=d.serial_no,
            batch_no=d.batch_no,
            symptom=d.symptom,
            cause_category=d.cause_category.value,
            failed_part=d.failed_part,
            needs_analysis=False,
        )

    @inbox.handles(SlaWarningV1, reads=SLA_WARNING_READS)
    async def on_warning(session: AsyncSession, env: Envelope[SlaWarningV1]) -> None:
        d = env.data
        await facts.ticket_event(
            session,
            env.id,
            d.ticket_id,
            "sla_warning",
            d.warned_at,
            d.clock.value,
            d.urgency.value,
            d.deadline,
        )

    @inbox.handles(SlaBreachedV1, reads=(*SLA_READS, "breached_at"))
    async def on_breached(session: AsyncSession, env: Envelope[SlaBreachedV1]) -> None:
        d = env.data
        await facts.ticket_event(
            session,
            env.id,
            d.ticket_id,
            "sla_breached",
            d.breached_at,
            d.clock.value,
            d.urgency.value,
            d.deadline,
            d.overdue_seconds,
        )

    @inbox.handles(SlaEscalatedV1, reads=(*SLA_READS, "escalated_at"))
    async def on_escalated(session: AsyncSession, env: Envelope[SlaEscalatedV1]) -> None:
        d = env.data
        await facts.ticket_event(
            session,
            env.id,
            d.ticket_id,
            "sla_escalated",
            d.escalated_at,
            d.clock.value,
            d.urgency.value,
            d.deadline,
            d.overdue_seconds,
        )

    @inbox.handles(TicketReopenedV1, reads=REOPENED_READS)
    async def on_reopened(session: AsyncSession, env: Envelope[TicketReopenedV1]) -> None:
        await facts.ticket_event(
            session, env.id, env.data.ticket_id, "reopened", env.data.reopened_at
        )

    @inbox.handles(FollowUpOpenedV1, reads=FOLLOW_UP_READS)
    async def on_follow_up(session: AsyncSession, env: Envelope[FollowUpOpenedV1]) -> None:
        d = env.data
        await facts.follow_up_opened(
            session, env.id, d.ticket_id, d.ticket_no, d.original_ticket_id, d.opened_at
        )

    @inbox.handles(CorrectiveActionChangedV1, reads=ACTION_STEP_READS)
    async def on_action_changed(
        session: AsyncSession, env: Envelope[CorrectiveActionChangedV1]
    ) -> None:
        d = env.data
        await facts.corrective_action_step(
            session,
            env.id,
            action_id=d.action_id,
            action_no=d.action_no,
            change=d.change,
            changed_at=d.changed_at,
            status=d.status,
            kind=d.kind,
            owner_department=d.owner_department,
            cause_category=d.cause_category.value if d.cause_category else None,
            product_line=d.product_line,
        )

    @inbox.handles(CorrectiveActionOverdueV1, reads=ACTION_READS)
    async def on_action_overdue(
        session: AsyncSession, env: Envelope[CorrectiveActionOverdueV1]
    ) -> None:
        d = env.data
        await facts.corrective_action_overdue(
            session,
            env.id,
            action_id=d.action_id,
            action_no=d.action_no,
            kind=d.kind,
            title=d.title,
            owner_department=d.owner_department,
            due_date=d.due_date,
            overdue_at=d.overdue_at,
            cause_category=d.cause_category.value if d.cause_category else None,
            product_line=d.product_line,
            ticket_nos=",".join(d.ticket_nos),
        )


def register_surveys(inbox: Inbox) -> None:
    @inbox.handles(SurveyAnsweredV1, reads=SURVEY_READS)
    async def on_answered(session: AsyncSession, env: Envelope[SurveyAnsweredV1]) -> None:
        d = env.data
        await facts.survey_answered(
            session,
            env.id,
            survey_id=d.survey_id,
            ticket_id=d.ticket_id,
            answered_at=d.answered_at,
            efficiency=d.efficiency,
            attitude=d.attitude,
            professionalism=d.professionalism,
            recommend=d.recommend,
            low_score=d.low_score,
            engineer_id=d.engineer_id,
            dealer_id=d.dealer_id,
            product_model=d.product_model,
        )

    @inbox.handles(ReturnVisitRecordedV1, reads=VISIT_RECORDED_READS)
    async def on_visit(session: AsyncSession, env: Envelope[ReturnVisitRecordedV1]) -> None:
        d = env.data
        await facts.follow_up_call(
            session,
            env.id,
            "return_visit_recorded",
            d.visit_id,
            d.visited_at,
            ticket_id=d.ticket_id,
            reason=d.reason,
            outcome=d.outcome,
            on_time=d.on_time,
            dealer_id=d.dealer_id,
            engineer_id=d.engineer_id,
        )

    @inbox.handles(ReturnVisitOverdueV1, reads=VISIT_OVERDUE_READS)
    async def on_visit_overdue(session: AsyncSession, env: Envelope[ReturnVisitOverdueV1]) -> None:
        d = env.data
        await facts.follow_up_call(
            session,
            env.id,
            "return_visit_overdue",
            d.visit_id,
            d.due_at,
            ticket_id=d.ticket_id,
            reason=d.reason,
            on_time=False,
            dealer_id=d.dealer_id,
        )


def register_dealers(inbox: Inbox) -> None:
    @inbox.handles(WarrantyCardRegisteredV1, reads=CARD_READS)
    async def on_card(session: AsyncSession, env: Envelope[WarrantyCardRegisteredV1]) -> None:
        d = env.data
        await facts.warranty_event(
            session,
            env.id,
            "card_registered",
            d.dealer_id,
            d.registered_at,
            d.serial_no,
            on_time=d.on_time,
            recognised=d.warranty_recognised,
        )

    @inbox.handles(CardOverdueV1, reads=CARD_OVERDUE_READS)
    async def on_card_overdue(session: AsyncSession, env: Envelope[CardOverdueV1]) -> None:
        d = env.data
        await facts.warranty_event(
            session, env.id, "card_overdue", d.dealer_id, midnight_of(d.due_date), d.serial_no
        )

    @inbox.handles(PartsReturnOverdueV1, reads=PARTS_READS)
    async def on_parts(session: AsyncSession, env: Envelope[PartsReturnOverdueV1]) -> None:
        d = env.data
        await facts.warranty_event(
            session,
            env.id,
            "parts_return_overdue",
            d.dealer_id,
            midnight_of(d.due_date),
            parts=d.parts,
        )

    @inbox.handles(DeductionIssuedV1, reads=DEDUCTION_READS)
    async def on_deduction(session: AsyncSession, env: Envelope[DeductionIssuedV1]) -> None:
        d = env.data
        await facts.warranty_event(
            session, env.id, "deduction_issued", d.dealer_id, d.confirmed_at, amount=d.amount
        )

    @inbox.handles(WarrantyServiceOverdueV1, reads=SERVICE_OVERDUE_READS)
    async def on_service_overdue(
        session: AsyncSession, env: Envelope[WarrantyServiceOverdueV1]
    ) -> None:
        d = env.data
        await facts.warranty_event(
            session, env.id, "warranty_service_overdue", d.dealer_id, d.arrange_due, d.serial_no
        )

    @inbox.handles(DealerContactsChangedV1, reads=DEALER_READS)
    async def on_dealer(session: AsyncSession, env: Envelope[DealerContactsChangedV1]) -> None:
        d = env.data
        await facts.dealer_changed(session, d.dealer_id, d.name, d.region, d.changed_at)


COMPLAINT_CLASSIFIED_READS = (
    "ticket_id",
    "ticket_no",
    "level",
    "complaint_type",
    "change",
    "classified_at",
)
COMPLAINT_OVERDUE_READS = ("ticket_id", "stage", "level", "overdue_at", "due_at")


def register_complaints(inbox: Inbox) -> None:
    @inbox.handles(ComplaintClassifiedV1, reads=COMPLAINT_CLASSIFIED_READS)
    async def on_complaint_classified(
        session: AsyncSession, env: Envelope[ComplaintClassifiedV1]
    ) -> None:
        d = env.data
        await facts.complaint_classified(
            session,
            env.id,
            d.ticket_id,
            d.ticket_no,
            d.level.value,
            d.complaint_type.value if d.complaint_type else None,
            d.classified_at,
        )
        if d.change == "escalated":  # counted once per escalation, besides the level it left
            await facts.ticket_event(
                session, env.id, d.ticket_id, "complaint_escalated", d.classified_at
            )

    @inbox.handles(ComplaintOverdueV1, reads=COMPLAINT_OVERDUE_READS)
    async def on_complaint_overdue(
        session: AsyncSession, env: Envelope[ComplaintOverdueV1]
    ) -> None:
        d = env.data
        await facts.ticket_event(
            session,
            env.id,
            d.ticket_id,
            "complaint_overdue",
            d.overdue_at,
            d.stage.value,
            d.level.value,
            d.due_at,
        )
