"""The notification rules as data (usecases/rulebook.py): read by the readers, changed by the
admin only — the whole set, one rule, a rule switched on or off, an old version or the defaults
restored — each change a new version, refused with 409 when someone saved in between."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from aftersales_shared.auth import Role, requires
from aftersales_shared.db import utcnow
from aftersales_shared.errors import DomainError
from aftersales_shared.http import FromQuery, JSONBody, Limit, Offset
from aftersales_shared.schemas import Page, page_of
from aftersales_shared.service import Runtime

from ..domain import Channel, MessageKind
from ..models import RuleSetVersionRow
from ..rules import CONSUMED, SELECTOR, RuleSet
from ..schemas import (
    CatalogEventOut,
    RestoreIn,
    RuleCatalogOut,
    RuleIn,
    RulesIn,
    RulesOut,
    RuleSwitchIn,
    RuleVersionOut,
)
from ..usecases import rulebook
from ..usecases.planning import Notifier
from .access import READERS

EDIT = requires(Role.ADMIN)
RuleId = Annotated[str, PathParameter(pattern=r"^[a-z0-9_.-]{2,60}$", description="rule id")]
Number = Annotated[int, PathParameter(ge=1, le=2**31 - 1, description="version number")]
Expected = Annotated[int, QueryParameter(ge=0, le=2**31 - 1, description="the version changed")]
SELECTORS = [*SELECTOR.pattern.strip("^$()").split("|")[:6], "group:<name>", "duty:<group>"]


def _out(row: RuleSetVersionRow) -> RulesOut:
    return RulesOut.model_validate(
        {
            **RuleVersionOut.model_validate(row).model_dump(),
            "rules": row.document.get("rules", []),
        }
    )


class RulesController(Controller):
    path = "/rules"
    tags = ["rules"]

    @get("/", guards=[requires(*READERS)], summary="The rules in force (the latest version)")
    async def rules(self, rt: NamedDependency[Runtime]) -> RulesOut:
        async with rt.sessions() as session:
            return _out(await rulebook.current(session))

    @put("/", guards=[EDIT], summary="Save the whole rule set as the next version (admin)")
    async def save(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        data: JSONBody[RulesIn],
        request: Request,
    ) -> RulesOut:
        raw = {"rules": data.rules}
        return await self._saved(
            rt,
            notifier,
            rulebook.save,
            raw,
            data.expected_version,
            request.user,
            utcnow(),
            data.note,
        )

    @get("/versions", guards=[requires(*READERS)], summary="The history of the rules, newest first")
    async def versions(
        self, rt: NamedDependency[Runtime], limit: Limit = 20, offset: Offset = 0
    ) -> Page[RuleVersionOut]:
        async with rt.sessions() as session:
            rows, total = await rulebook.history(session, limit, offset)
        return page_of(RuleVersionOut, rows, total, limit, offset)

    @get("/versions/{number:int}", guards=[requires(*READERS)], summary="One version's rules")
    async def version(self, rt: NamedDependency[Runtime], number: Number) -> RulesOut:
        async with rt.sessions() as session:
            return _out(await rulebook.version(session, number))

    @get(
        "/catalog",
        guards=[requires(*READERS)],
        summary="What a rule may name: events, versions, fields, templates, selectors",
    )
    async def catalog(self, notifier: NamedDependency[Notifier]) -> RuleCatalogOut:
        events = [
            CatalogEventOut(
                name=name,
                type=classes[0].ce_type().rsplit(".", 1)[0],
                producer=classes[0].PRODUCER,
                summary=(classes[-1].__doc__ or "").strip().split("\n")[0],
                versions={c.VERSION: sorted(c.model_fields) for c in classes},
            )
            for name, classes in CONSUMED.items()
        ]
        return RuleCatalogOut(
            events=events,
            templates=sorted(notifier.templates.names),
            selectors=SELECTORS,
            channels=[c.value for c in Channel],
            kinds=[k.value for k in MessageKind],
            operators=["eq", "in", "gte", "lte"],
        )

    @put("/items/{rule_id:str}", guards=[EDIT], summary="Add or replace one rule (admin)")
    async def put_rule(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        rule_id: RuleId,
        data: JSONBody[RuleIn],
        request: Request,
    ) -> RulesOut:
        if data.rule.get("id", rule_id) != rule_id:
            raise DomainError(
                f"规则编号 {data.rule.get('id')} 与地址中的 {rule_id} 不一致 (the rule's id must "
                "be the path's)",
                code="invalid_rules",
            )
        return await self._saved(
            rt,
            notifier,
            rulebook.put_rule,
            rule_id,
            data.rule,
            data.expected_version,
            request.user,
            utcnow(),
            data.note,
        )

    @delete(
        "/items/{rule_id:str}", guards=[EDIT], status_code=200, summary="Remove one rule (admin)"
    )
    async def remove_rule(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        rule_id: RuleId,
        expected_version: Expected,
        request: Request,
        note: FromQuery[str | None] = None,
    ) -> RulesOut:
        return await self._saved(
            rt,
            notifier,
            rulebook.remove_rule,
            rule_id,
            expected_version,
            request.user,
            utcnow(),
            (note or "")[:500] or None,
        )

    @post(
        "/items/{rule_id:str}/enabled",
        guards=[EDIT],
        status_code=200,
        summary="Switch a rule on or off, keeping it (admin)",
    )
    async def switch(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        rule_id: RuleId,
        data: JSONBody[RuleSwitchIn],
        request: Request,
    ) -> RulesOut:
        return await self._saved(
            rt,
            notifier,
            rulebook.switch_rule,
            rule_id,
            data.enabled,
            data.expected_version,
            request.user,
            utcnow(),
            data.note,
        )

    @post(
        "/restore/{number:int}",
        guards=[EDIT],
        status_code=200,
        summary="A new version equal to an old one (admin)",
    )
    async def restore(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        number: Number,
        data: JSONBody[RestoreIn],
        request: Request,
    ) -> RulesOut:
        return await self._saved(
            rt,
            notifier,
            rulebook.restore,
            number,
            data.expected_version,
            request.user,
            utcnow(),
            data.note,
        )

    @post(
        "/restore-defaults",
        guards=[EDIT],
        status_code=200,
        summary="A new version equal to the rules file the service seeds from (admin)",
    )
    async def restore_defaults(
        self,
        rt: NamedDependency[Runtime],
        notifier: NamedDependency[Notifier],
        rule_defaults: NamedDependency[RuleSet],
        data: JSONBody[RestoreIn],
        request: Request,
    ) -> RulesOut:
        return await self._saved(
            rt,
            notifier,
            rulebook.restore_defaults,
            rule_defaults,
            data.expected_version,
            request.user,
            utcnow(),
            data.note,
        )

    @staticmethod
    async def _saved(rt: Runtime, notifier: Notifier, change: Any, *args: Any) -> RulesOut:
        """One change in one transaction; this replica takes the new version at once (the others
        with their next batch of events)."""
        async with rt.sessions.begin() as session:
            row = await change(session, notifier, *args)
            out = _out(row)
        notifier.use(rulebook.validate(row.document, notifier), row.version)
        return out
