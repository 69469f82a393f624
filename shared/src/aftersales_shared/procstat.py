"""CPU time of processes from Linux /proc, for the benchmarks' CPU-per-request figures."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int | None = None, comm: str | None = None) -> float | None:
    """User + system CPU seconds of one process (`pid`), or summed over every process named `comm`
    (e.g. all PostgreSQL backends and helpers on this machine); None when no such process can be
    read."""
    paths = [Path(f"/proc/{pid}/stat")] if pid is not None else Path("/proc").glob("[0-9]*/stat")
    total, found = 0.0, False
    for stat in paths:
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(" (")[2].rpartition(") ")
        if comm is not None and name != comm:
            continue
        fields = rest.split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        found = True
    return total if found else None
