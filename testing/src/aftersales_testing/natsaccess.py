"""NATS with accounts in the tests: one set of users and passwords per test run
(aftersales_shared.natsauth).

Every server the tests start (the session's, `own_nats`) requires them; each service built in a test
connects as its own user (its `<PREFIX>NATS_USER` / `<PREFIX>NATS_PASSWORD` are in the environment);
the tests' own probes connect with `connect()` as `admin` unless they say which user they are. With
NATS_URL (a server the tests did not start) nothing is set and clients connect as that server
allows.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nats

from aftersales_shared.natsauth import ADMIN, NatsCredentials
from aftersales_tools.catalog import CONSOLE, SERVICES
from aftersales_tools.natsserver import NatsServer

SESSION: list[NatsCredentials] = []


def enable() -> NatsCredentials:
    """Make this run's users and put each service's into the environment (services built later read
    it)."""
    if not SESSION:
        SESSION.append(NatsCredentials.generate())
    creds = SESSION[0]
    for info in (*SERVICES, CONSOLE):
        os.environ.update(creds.service_env(info.name, info.env_prefix))
    return creds


def credentials() -> NatsCredentials | None:
    return SESSION[0] if SESSION else None


def kwargs(user: str = ADMIN) -> dict[str, Any]:
    creds = credentials()
    return creds.connect_kwargs(user) if creds else {}


async def connect(url: str, user: str = ADMIN, **options: Any) -> Any:
    """A plain nats-py client as `user` (admin: may do anything) on a server the tests started."""
    return await nats.connect(url, **kwargs(user), **options)


def server(store_dir: Path, **options: Any) -> NatsServer:
    """A nats-server with this run's users (not started)."""
    return NatsServer(store_dir, auth=credentials(), **options)
