"""The benchmark script runs end to end on a tiny load (the full run is manual: see the service
README)."""

from __future__ import annotations

import importlib
import io
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"


@pytest.mark.long(55)
async def test_fanout_benchmark_smoke_run_prints_its_figures():
    if str(BENCH_DIR) not in sys.path:
        sys.path.insert(0, str(BENCH_DIR))  # importable by name: its provider process is spawned
    bench = importlib.import_module("fanout")
    out = io.StringIO()
    results = await bench.run(events=30, paced=20, rate=100, db="auto", out=out, latency_runs=2)
    text = out.getvalue()
    assert "raw FastStream consume" in text and "lean baseline" in text and "fan-out" in text
    assert "latency run 2/2" in text and "p99" in text
    assert results["raw_events_per_s"] > 0 and results["lean_events_per_s"] > 0
    assert results["fanout_msgs_per_s"] > 0 and results["ratio_to_lean"] > 0
    assert [r["messages"] for r in results["latency_runs"]] == [40, 40]  # email + SMS per event
    assert 0 < results["p50_ms"] <= results["p99_ms"]
