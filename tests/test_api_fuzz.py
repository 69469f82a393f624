"""Schemathesis against all seven running services (through the launcher, demo data loaded), as an
admin, a dealer and a customer: no 5xx, no status or content type the OpenAPI does not list, no
answer that breaks its schema, no schema-violating request accepted, `Allow` as documented.

`--checks all` except positive_data_acceptance: that one expects every schema-valid body to be
accepted, while some rules are the domain's and cannot be said in JSON Schema (a credit code's check
digit, a date after another, a serial sold by someone else); those answer 400/409/422 with a reason,
all documented.

The seed is fixed so CI is repeatable (SCHEMATHESIS_SEED=random explores anew;
SCHEMATHESIS_MAX_EXAMPLES=50 for a longer run). Bounded to a few minutes in all.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_launcher_e2e import PROCESSES, _read_until, start_launcher

from aftersales_testing.support import auth

SERVICES = ["contracts", "tickets", "surveys", "notifications", "dealers", "reports", "parts"]
ONLY = [
    s for s in os.environ.get("FUZZ_SERVICES", "").split(",") if s
]  # e.g. FUZZ_SERVICES=reports
ROLES = {
    "admin": auth("admin"),
    "dealer": auth("dealer", dealer_id="D-ZJ-01"),
    "customer": auth("customer", sub="demo-customer", customer_id="C-001"),
}
SEED = os.environ.get("SCHEMATHESIS_SEED", "20261129")
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6")


def _schemathesis() -> str:
    exe = Path(sys.executable).parent / "schemathesis"
    if not exe.exists():
        raise AssertionError(f"schemathesis is not installed beside {sys.executable} (uv sync)")
    return str(exe)


def _fuzz(port: int, name: str, role: str, seed: str) -> str | None:
    """One schemathesis run against one service as one role; what went wrong, or None."""
    run = subprocess.run(
        [
            _schemathesis(),
            "run",
            f"http://127.0.0.1:{port}/schema/openapi.json",
            "-H",
            f"Authorization: {ROLES[role]['Authorization']}",
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            seed,
            "--no-color",
            "--workers",
            "1",
            "--request-timeout",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if run.returncode == 0:
        return None
    failures = re.findall(r"^_+ (.+?) _+\n|^- (ST\d+ .+)$", run.stdout, re.M)
    summary = [a or b for a, b in failures]
    return (
        f"{name} as {role} (seed {seed}):\n  "
        + "\n  ".join(summary[:40])
        + "\n"
        + run.stdout[-3000:]
        + run.stderr[-1000:]
    )


@pytest.mark.long(520)
@pytest.mark.timeout(900)
@pytest.mark.e2e
def test_every_service_answers_as_its_openapi_says_for_admin_and_dealer(tmp_path):
    proc, base, _ = start_launcher(tmp_path / "data", demo=True)
    problems: list[str] = []
    try:
        _read_until(proc, "Press Ctrl-C", timeout=120)
        seed = str(random.randrange(2**32)) if SEED == "random" else SEED
        runs = [
            (PROCESSES.index(name), name, role)  # its port: the launcher's block + its place
            for name in SERVICES
            for role in ROLES
            if not ONLY or name in ONLY
        ]
        # three schemathesis runs at a time: each waits on its service most of the time
        with ThreadPoolExecutor(max_workers=3) as pool:
            for problem in pool.map(lambda r: _fuzz(base + r[0], r[1], r[2], seed), runs):
                if problem:
                    problems.append(problem)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert not problems, "\n\n".join(problems)
