"""Selling seasons and stocking plans."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from aftersales_shared.schemas import In, Out

from .fields import Id


class SeasonIn(In):
    code: str = Id
    name: str = Field(min_length=1, max_length=100)
    starts_on: date


class SeasonOut(Out):
    code: str
    name: str
    starts_on: date
    plan_due: date
    created_by: str
    created_at: datetime


class PlanLineIn(In):
    part_no: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=100000)


class PlanIn(In):
    dealer_id: str | None = Field(default=None, max_length=64)
    season_code: str = Id
    lines: list[PlanLineIn] = Field(min_length=1, max_length=500)


class PlanOut(Out):
    id: str
    dealer_id: str
    season_code: str
    lines: list[dict]
    submitted_at: datetime
    submitted_by: str
    due: date
    on_time: bool
