"""Consumers against producers: every subscription declares the fields of the event it reads, and
each declared field exists in the producer's committed JSON Schema of that version
(aftersales_shared/events/schemas).

A producer cannot drop a field a consumer reads without the compatibility gate (test_event_schemas)
failing, and a consumer cannot start reading a field the producer never sends without this test
failing."""

from __future__ import annotations

import importlib

import pytest

from aftersales_shared.events import CalendarChangedV1, ContractSignedV1
from aftersales_shared.events.compat import field_paths, schema_path, unknown_reads
from aftersales_shared.inbox import Subscription
from aftersales_tools.catalog import SERVICES


def _subscriptions() -> list[tuple[str, Subscription]]:
    found = []
    for info in SERVICES:
        app = importlib.import_module(f"{info.name}.app")
        rt = app.create_app(info.settings_class()(nats_url="nats://127.0.0.1:1")).state["runtime"]
        found += [(info.name, sub) for sub in rt.inbox.subscriptions.values()]
    return found


SUBSCRIPTIONS = _subscriptions()


@pytest.mark.parametrize(
    "service,sub", SUBSCRIPTIONS, ids=[f"{name}:{sub.subject}" for name, sub in SUBSCRIPTIONS]
)
def test_each_consumer_reads_only_fields_its_producer_sends(
    service: str, sub: Subscription
) -> None:
    (cls,) = sub.accepts
    assert sub.reads, (
        f"{service} consumes {cls.ce_type()} without declaring the fields it reads: "
        f"add reads=(...) to its inbox.handles(...) in {service}/messaging.py"
    )
    missing = unknown_reads(cls.ce_type(), sub.reads)
    assert not missing, (
        f"{service} reads {missing} of {cls.ce_type()}, which the producer's schema "
        f"({schema_path(cls.ce_type()).name}) does not have: read a field the producer sends, or "
        "ask the "
        "producer for a new version that carries it"
    )


def test_the_check_knows_nested_list_and_map_fields_and_refuses_others() -> None:
    import json

    signed = field_paths(json.loads(schema_path(ContractSignedV1.ce_type()).read_text("utf-8")))
    assert {"contract_no", "customer.contacts.phone", "products.serial_no"} <= signed
    calendar = field_paths(json.loads(schema_path(CalendarChangedV1.ce_type()).read_text("utf-8")))
    assert "years.*.kind" in calendar
    assert unknown_reads(ContractSignedV1.ce_type(), ["contract_no", "customer.fax"]) == [
        "customer.fax"
    ]
    assert unknown_reads("cn.aftersales.nobody.Nothing.v1", ["x"]) == ["x"]
