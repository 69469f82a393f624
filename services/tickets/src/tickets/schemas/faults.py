"""Faults (故障分类): as the engineer found them, the fault catalogue, the technical
department's analysis."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from aftersales_shared.events import CauseCategory
from aftersales_shared.patch import NoNullsUnlessClearable
from aftersales_shared.schemas import In, Out, Page

from .fields import LINE_PATTERN, Code


class FaultIn(In):
    """The fault as the engineer found it (故障分类): symptom and cause category from the catalogue,
    or needs_analysis when the technical department is to find the cause."""

    symptom: Code | None = Field(
        default=None, description="故障现象: GET /fault-catalogue/symptoms"
    )
    cause_category: CauseCategory | None = Field(
        default=None, description="原因类别: GET /fault-catalogue/cause-categories"
    )
    failed_part: Code | None = Field(
        default=None, description="故障部件: GET /fault-catalogue/parts"
    )
    cause_detail: str | None = Field(default=None, max_length=2000, description="原因说明")
    needs_analysis: bool = Field(
        default=False, description="原因待分析: the technical department fills in the cause"
    )


class CauseCategoryOut(Out):
    code: CauseCategory
    label_zh: str
    label_en: str


class CatalogueEntryIn(In):
    code: Code
    product_line: str = Field(
        pattern=LINE_PATTERN,
        description="the model family (XK-200 → XK), or * for every product line",
    )
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)


class CatalogueEntryPatch(NoNullsUnlessClearable, In):
    """Rename, describe, deactivate (active: false) or reactivate an entry; entries are never
    deleted."""

    clearable = frozenset({"description"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    active: bool | None = None


class CatalogueEntryOut(Out):
    code: str
    kind: str
    product_line: str
    name: str
    description: str | None
    active: bool
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


CatalogueEntryPage = Page[CatalogueEntryOut]


class FaultAnalysisIn(In):
    """The technical department's finding: fills in a cause left to analysis, or corrects one."""

    cause_category: CauseCategory
    symptom: Code | None = Field(default=None, description="required if none was recorded")
    failed_part: Code | None = None
    cause_detail: str | None = Field(default=None, max_length=2000)


class FaultOut(Out):
    ticket_no: str
    request_type: str
    product_model: str | None
    product_line: str | None
    completed_at: datetime | None
    symptom_code: str | None
    symptom: str | None
    cause_category: str | None
    cause_label: str | None = Field(description="原因类别 in Chinese")
    failed_part_code: str | None
    failed_part: str | None
    cause_detail: str | None
    needs_analysis: bool
    analysis_due_at: datetime | None
    analysis_overdue_at: datetime | None
    calendar_id: str = Field(
        description="the ticket's working calendar: its analysis deadline counts working days on it"
    )
    recorded_by: str
    recorded_at: datetime
    classified_by: str | None
    classified_at: datetime | None
    classified_via: str | None = Field(description="completion | analysis | reclassification")


FaultPage = Page[FaultOut]
