"""services/notifications/bench/crash_window.py, small: the notifications service killed with
SIGKILL while it sends, restarted each time — no SMS lost, and every re-send is counted with its
delivery's idempotency key (the figures themselves are printed for the README, not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crash_window.py"


@pytest.mark.long(105)
def test_no_sms_is_lost_when_the_service_is_killed_while_sending(db_kind):
    database = "postgresql" if db_kind == "postgresql" else "sqlite"
    r = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--events",
            "300",
            "--kills",
            "2",
            "--kill-every",
            "1",
            "--lease",
            "3",
            "--timeout",
            "120",
            "--database",
            database,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    assert figures["lost"] == 0 and figures["kills"] == 2 and figures["unique"] == 300, figures
    assert figures["keyless"] == 0, (
        figures
    )  # every send carries its delivery id as the idempotency key
    assert figures["sent"] == figures["unique"] + figures["resends"], figures
