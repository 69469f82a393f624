"""Staff API of the surveys service: decode, call one use case, return."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, MediaType, Request, Response, get, post

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.exports import content_disposition
from aftersales_shared.http import FromPath, FromQuery, JSONBody, Limit, Offset, QueryParameter
from aftersales_shared.service import Runtime

from . import figures, services
from .domain import Policy
from .figures import GroupBy
from .models import SurveyRow
from .schemas import (
    AnswerOut,
    DistributionOut,
    PhoneAnswerIn,
    SatisfactionOut,
    SurveyOut,
    SurveyPage,
)

READERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR, Role.MANAGER)
PHONE_RECORDERS = (Role.SERVICE_AGENT, Role.SERVICE_SUPERVISOR)
FIGURE_READERS = (Role.SERVICE_SUPERVISOR, Role.MANAGER)
MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
Month = Annotated[
    str | None, QueryParameter(pattern=MONTH, description="YYYY-MM (month of completion)")
]


def to_out(row: SurveyRow) -> SurveyOut:
    answer = AnswerOut.model_validate(row.answer, from_attributes=True) if row.answer else None
    return SurveyOut.model_validate(
        {c: getattr(row, c) for c in SurveyOut.model_fields if c != "answer"} | {"answer": answer}
    )


def surveys_controller(rt: Runtime, policy: Policy) -> type[Controller]:
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
            status: Annotated[
                str | None, QueryParameter(pattern="^(scheduled|invited|answered|skipped)$")
            ] = None,
            ticket_no: FromQuery[str | None] = None,
            customer_id: FromQuery[str | None] = None,
            month: Month = None,
            low_score: FromQuery[bool | None] = None,
            limit: Limit = 50,
            offset: Offset = 0,
        ) -> SurveyPage:
            async with rt.sessions() as session:
                rows, total = await services.list_surveys(
                    session,
                    status=status,
                    ticket_no=ticket_no,
                    customer_id=customer_id,
                    month=month,
                    low_score=low_score,
                    limit=limit,
                    offset=offset,
                )
                return SurveyPage(
                    items=[to_out(r) for r in rows], total=total, limit=limit, offset=offset
                )

        @get("/{survey_id:str}", guards=[requires(*READERS)], summary="One survey with its answer")
        async def get_one(self, survey_id: FromPath[str]) -> SurveyOut:
            async with rt.sessions() as session:
                return to_out(await services.get_survey(session, survey_id))

        @post(
            "/{survey_id:str}/phone-answer",
            guards=[requires(*PHONE_RECORDERS)],
            summary="Record the answers a customer gave on the phone (marked as recorded by this agent)",
        )
        async def phone_answer(
            self, survey_id: FromPath[str], data: JSONBody[PhoneAnswerIn], request: Request
        ) -> SurveyOut:
            async with rt.sessions.begin() as session:
                await services.answer_by_phone(
                    session, survey_id, data, request.user, policy, utcnow()
                )
            async with rt.sessions() as session:
                return to_out(await services.get_survey(session, survey_id))

    return SurveysController


def figures_controller(rt: Runtime) -> type[Controller]:
    class FiguresController(Controller):
        path = "/figures"
        tags = ["figures"]
        guards = [requires(*FIGURE_READERS)]

        @get(
            "/satisfaction",
            summary="Satisfaction per month, engineer, product, dealer or channel; response rate",
        )
        async def satisfaction(
            self,
            by: Annotated[
                GroupBy, QueryParameter(description="month | engineer | product | dealer | channel")
            ] = GroupBy.MONTH,
            month_from: Month = None,
            month_to: Month = None,
            dealer_id: FromQuery[str | None] = None,
        ) -> SatisfactionOut:
            async with rt.sessions() as session:
                result = await figures.satisfaction(
                    session, by, month_from=month_from, month_to=month_to, dealer_id=dealer_id
                )
            return SatisfactionOut.model_validate(result)

        @get(
            "/satisfaction.csv",
            summary="The same figures as CSV (UTF-8 with BOM, opens in Excel)",
            media_type="text/csv",
        )
        async def satisfaction_csv(
            self,
            by: Annotated[GroupBy, QueryParameter()] = GroupBy.MONTH,
            month_from: Month = None,
            month_to: Month = None,
            dealer_id: FromQuery[str | None] = None,
        ) -> Response[Any]:
            async with rt.sessions() as session:
                result = await figures.satisfaction(
                    session, by, month_from=month_from, month_to=month_to, dealer_id=dealer_id
                )
            name = f"satisfaction-by-{by.value}.csv"
            return Response(
                figures.to_csv(result),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": content_disposition(name)},
            )

        @get(
            "/distribution",
            summary="How many answers gave each score, per dimension",
            media_type=MediaType.JSON,
        )
        async def distribution(
            self,
            month_from: Month = None,
            month_to: Month = None,
            dealer_id: FromQuery[str | None] = None,
        ) -> DistributionOut:
            async with rt.sessions() as session:
                result = await figures.distribution(
                    session, month_from=month_from, month_to=month_to, dealer_id=dealer_id
                )
            return DistributionOut.model_validate(result)

    return FiguresController
