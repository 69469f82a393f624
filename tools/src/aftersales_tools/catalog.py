"""The seven services and the console: module, settings class and local port (imported lazily by
name, never coupled)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from aftersales_shared.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    settings_path: str

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    def settings_class(self) -> type[ServiceSettings]:
        module, _, cls = self.settings_path.partition(":")
        return getattr(importlib.import_module(module), cls)

    @property
    def default_port(self) -> int:
        return self.settings_class().default_port


SERVICES: tuple[ServiceInfo, ...] = (
    ServiceInfo("contracts", "contracts.settings:ContractsSettings"),
    ServiceInfo("tickets", "tickets.settings:TicketsSettings"),
    ServiceInfo("surveys", "surveys.settings:SurveysSettings"),
    ServiceInfo("notifications", "notifications.settings:NotificationsSettings"),
    ServiceInfo("dealers", "dealers.settings:DealersSettings"),
    ServiceInfo("reports", "reports.settings:ReportsSettings"),
    ServiceInfo("parts", "parts.settings:PartsSettings"),
)


# the web front end: no database, no stream; it calls the services' HTTP APIs and hears the
# tickets service's events as its read-only NATS user `console` (live updates)
CONSOLE = ServiceInfo("console", "console.settings:ConsoleSettings")
# every process the launcher runs, in the order of their ports (--port-base + index): the console
# keeps B+6, where it was before parts (B+7) came
PROCESSES: tuple[ServiceInfo, ...] = (*SERVICES[:6], CONSOLE, *SERVICES[6:])


def port_index(info: ServiceInfo) -> int:
    """A process's place in the port block (its port is --port-base + this)."""
    return next(i for i, p in enumerate(PROCESSES) if p.name == info.name)


def service(name: str) -> ServiceInfo:
    for info in SERVICES:
        if info.name == name:
            return info
    raise KeyError(f"unknown service {name!r}; known: {', '.join(s.name for s in SERVICES)}")
