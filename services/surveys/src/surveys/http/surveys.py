"""Staff API of the surveys: list and read invitations with their answers, record a phone answer."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.schemas import Page
from aftersales_shared.service import Runtime

from ..domain import Policy
from ..models import SurveyRow
from ..schemas import AnswerOut, PhoneAnswerIn, SurveyOut
from ..usecases import answers, reading
from ..usecases.answers import PhoneAnswer

READERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER)
PHONE_RECORDERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Month = Annotated[
    str | None, QueryParameter(pattern=MONTH, description="YYYY-MM (month of completion)")
]


def to_out(row: SurveyRow) -> SurveyOut:
    answer = AnswerOut.model_validate(row.answer, from_attributes=True) if row.answer else None
    return SurveyOut.model_validate(
        {c: getattr(row, c) for c in SurveyOut.model_fields if c != "answer"} | {"answer": answer}
    )


class SurveysController(Controller):
    path = "/surveys"
    tags = ["surveys"]

    @get(
        "/",
        guards=[requires(*READERS)],
        summary="List survey invitations (filters, pagination)",
    )
    async def list_(
        self,
        rt: NamedDependency[Runtime],
        status: Annotated[
            str | None, QueryParameter(pattern="^(scheduled|invited|answered|skipped)$")
        ] = None,
        ticket_no: FromQuery[str | None] = None,
        customer_id: FromQuery[str | None] = None,
        month: Month = None,
        low_score: FromQuery[bool | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[SurveyOut]:
        async with rt.sessions() as session:
            rows, total = await reading.list_surveys(
                session,
                status=status,
                ticket_no=ticket_no,
                customer_id=customer_id,
                month=month,
                low_score=low_score,
                limit=limit,
                offset=offset,
            )
            return Page[SurveyOut](
                items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset
            )

    @get("/{survey_id:str}", guards=[requires(*READERS)], summary="One survey with its answer")
    async def get_one(self, rt: NamedDependency[Runtime], survey_id: FromPath[str]) -> SurveyOut:
        async with rt.sessions() as session:
            return to_out(await reading.get_survey(session, survey_id))

    @post(
        "/{survey_id:str}/phone-answer",
        guards=[requires(*PHONE_RECORDERS)],
        summary=(
            "Record the answers a customer gave on the phone (marked as recorded by this agent)"
        ),
    )
    async def phone_answer(
        self,
        rt: NamedDependency[Runtime],
        policy: NamedDependency[Policy],
        survey_id: FromPath[str],
        data: JSONBody[PhoneAnswerIn],
        request: Request,
    ) -> SurveyOut:
        cmd = PhoneAnswer(**data.model_dump())
        async with rt.sessions.begin() as session:
            await answers.answer_by_phone(session, survey_id, cmd, request.user, policy, utcnow())
        async with rt.sessions() as session:
            return to_out(await reading.get_survey(session, survey_id))
