"""The benchmark script runs end to end on a tiny load (the full run is manual: see the service README)."""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "services" / "notifications" / "bench" / "fanout.py"


async def test_fanout_benchmark_smoke_run_prints_its_figures():
    spec = importlib.util.spec_from_file_location("notifications_bench_fanout", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = io.StringIO()
    results = await bench.run(events=30, paced=20, rate=100, db="auto", out=out)
    text = out.getvalue()
    assert "raw FastStream consume" in text and "fan-out" in text and "p99" in text
    assert results["raw_events_per_s"] > 0 and results["fanout_msgs_per_s"] > 0
    assert 0 < results["p50_ms"] <= results["p99_ms"]
