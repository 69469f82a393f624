"""End to end through the launcher: real processes, real NATS, SQLite files in a data folder."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from aftersales_shared.natsserver import free_port
from support import auth, draft_body, sign_contract_via_http

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers"]


def _free_block(n: int) -> int:
    for _ in range(100):
        base = random.randint(20000, 40000)
        if all(_is_free(base + i) for i in range(n)):
            return base
    raise RuntimeError("no block of free ports")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"launcher did not print {marker!r}; output:\n{''.join(seen)}")


@pytest.mark.e2e
def test_launcher_runs_everything_and_contract_reaches_tickets(tmp_path):
    base, nats_port = _free_block(5), free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "NATS_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "aftersales_shared.cli", "up", "--data-dir", str(tmp_path / "data"),
         "--port-base", str(base), "--nats-port", str(nats_port), "--demo"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        out = _read_until(proc, "Press Ctrl-C", timeout=120)
        assert "demo: signed contract DEMO-HT-2026-001" in out
        for i, name in enumerate(SERVICES):
            assert f"http://127.0.0.1:{base + i}/schema" in out
            r = httpx.get(f"http://127.0.0.1:{base + i}/ready", timeout=5)
            assert r.status_code == 200 and r.json()["service"] == name, r.text
        assert (tmp_path / "data" / "tickets.db").exists() and (tmp_path / "data" / "nats").is_dir()

        contracts, tickets = f"http://127.0.0.1:{base}", f"http://127.0.0.1:{base + 1}"
        no = f"E2E-{uuid.uuid4().hex[:8]}"
        assert httpx.post(f"{contracts}/contracts", json=draft_body(no), headers=auth("sales")).status_code == 201
        assert sign_contract_via_http(contracts, no).status_code == 200
        deadline = time.monotonic() + 30
        while True:
            r = httpx.get(f"{tickets}/entitlements/{no}", headers=auth("service_agent"))
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200, r.text
        assert r.json()["units"][0]["serial_no"] == f"{no}-SN1"
        demo = httpx.get(f"{tickets}/entitlements/DEMO-HT-2026-002", headers=auth("service_agent"))
        assert demo.status_code == 200 and demo.json()["dealer_id"] == "D-ZJ-01"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    assert all(_is_free(base + i) for i in range(5)) and _is_free(nats_port)
