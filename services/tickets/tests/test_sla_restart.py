"""Kill the tickets service while deadlines pass, restart two replicas: each breach fires exactly
once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import pytest
from tickets_helpers import stream_types

from aftersales_shared.streams import apply_streams
from aftersales_testing import natsaccess
from aftersales_testing.support import auth, contract_signed, migrated, publish, wait_until
from aftersales_tools.natsserver import free_port

pytestmark = pytest.mark.e2e


def _start(url: str, nats_url: str, port: int, log) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TICKETS_")}
    env |= (
        natsaccess.credentials().service_env("tickets", "TICKETS_")
        if natsaccess.credentials()
        else {}
    )
    env |= {"TICKETS_DATABASE_URL": url, "TICKETS_NATS_URL": nats_url, "TICKETS_PORT": str(port)}
    return subprocess.Popen(
        [sys.executable, "-m", "tickets"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _ready(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"tickets on {port} not ready")


def _one_minute_contract(contract: str) -> Any:
    """ContractSigned for a contract whose critical tickets are due within a minute, around the
    clock."""
    env = contract_signed(contract)
    data = type(env.data).model_validate(
        env.data.model_dump(mode="json")
        | {
            "calendar": "24x7",
            "service_levels": [
                {
                    "urgency": "critical",
                    "response_minutes": 1,
                    "resolution_minutes": 1,
                    "onsite_minutes": 1,
                }
            ],
        }
    )
    return type(env)(data=data, source="/tests")


@pytest.mark.long(90)
async def test_breaches_fire_once_after_a_kill_and_with_two_replicas(databases, own_nats, tmp_path):
    nc = await natsaccess.connect(own_nats.url)
    await apply_streams(nc.jetstream())
    await nc.close()
    url = await migrated(databases, "tickets")
    contract = f"HT-K-{uuid.uuid4().hex[:6]}"
    env = _one_minute_contract(contract)
    log = open(tmp_path / "tickets.log", "ab")
    ports = [free_port(), free_port()]
    procs = [_start(url, own_nats.url, ports[0], log)]
    try:
        _ready(ports[0])
        await publish(own_nats.url, env)
        base = f"http://127.0.0.1:{ports[0]}"
        async with httpx.AsyncClient(base_url=base, headers=auth("service_agent")) as client:

            async def entitled():
                return (await client.get(f"/entitlements/{contract}")).status_code == 200

            await wait_until(entitled, what="entitlement")
            r = await client.post(
                "/tickets",
                json={
                    "channel": "phone",
                    "request_type": "quality_issue",
                    "urgency": "critical",
                    "description": "停机",
                    "contact": {"name": "周工", "phone": "13500000000"},
                    "serial_no": f"{contract}-SN1",
                },
            )
            assert r.status_code == 201, r.text
            ticket = r.json()
        opened = time.monotonic()
        os.kill(procs[0].pid, signal.SIGKILL)  # the deadlines pass while no replica runs
        procs[0].wait()
        while time.monotonic() < opened + 63:
            time.sleep(0.5)
        procs = [
            _start(url, own_nats.url, port, log) for port in ports
        ]  # two replicas come back at once
        for port in ports:
            _ready(port)

        async def three():
            types = await stream_types(own_nats.url, "tickets.sla_breached.v1", ticket["ticket_no"])
            return types if len(types) >= 3 else None

        await wait_until(three, timeout=60, what="three breaches")
        time.sleep(3)  # both replicas have had several ticks: nothing more may arrive
        types = await stream_types(own_nats.url, "tickets.sla_breached.v1", ticket["ticket_no"])
        assert types == ["SlaBreached"] * 3, types
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{ports[1]}", headers=auth("service_agent")
        ) as client:
            clocks = {
                c["kind"]: c
                for c in (await client.get(f"/tickets/{ticket['ticket_no']}")).json()["clocks"]
            }
        assert {k for k, c in clocks.items() if c["breached_at"]} == {
            "response",
            "onsite",
            "resolution",
        }
        assert clocks["acknowledge"]["breached_at"] is None  # its 10 minutes have not passed
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
        log.close()
