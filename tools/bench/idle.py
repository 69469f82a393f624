"""Idle at rest: the CPU each service costs when nothing happens (issue 24).

Starts the whole system as `./dev up` does (`aftersales up`: NATS, the services with their relays,
schedulers and consumers, the console) in a fresh data folder, lets it settle, then reads each
process's CPU time from /proc over a window and prints it as a share of one core. Target: under
0.5 % of a core per service.

    uv run python tools/bench/idle.py                 # 60 s window after 30 s of settling
    uv run python tools/bench/idle.py --demo          # the same with the demo's data loaded
    uv run python tools/bench/idle.py --seconds 120 --settle 60
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aftersales_shared.procstat import cpu_seconds

TARGET_PERCENT = 0.5


def children(parent: int) -> dict[int, str]:
    """The launcher's child processes: pid → a short name (the service module or nats-server)."""
    found: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(") ")[2].split()
            if int(fields[1]) != parent:
                continue
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        args = [a.decode() for a in argv if a]
        pid = int(stat.parent.name)
        if "-m" in args:
            found[pid] = args[args.index("-m") + 1]
        else:
            found[pid] = Path(args[0]).name if args else str(pid)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="measuring window")
    ap.add_argument("--settle", type=float, default=30.0, help="wait after start-up")
    ap.add_argument("--demo", action="store_true", help="load the demo data first")
    ap.add_argument("--port-base", type=int, default=19100)
    ap.add_argument("--nats-port", type=int, default=14999)
    args = ap.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="aftersales-idle-"))
    cmd = [
        str(Path(sys.executable).with_name("aftersales")),
        "up",
        "--data-dir",
        str(data_dir),
        "--port-base",
        str(args.port_base),
        "--nats-port",
        str(args.nats_port),
    ] + (["--demo"] if args.demo else [])
    launcher = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    up = threading.Event()

    def read() -> None:  # keep draining the launcher's output so it never blocks
        assert launcher.stdout is not None
        for line in launcher.stdout:
            if "Press Ctrl-C" in line:
                up.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not up.wait(timeout=240):
            print("the system did not start within 240 s", file=sys.stderr)
            return 2
        print(f"started ({data_dir}); settling {args.settle:.0f} s", flush=True)
        time.sleep(args.settle)
        procs = children(launcher.pid)
        before = {pid: cpu_seconds(pid) or 0.0 for pid in procs}
        t0 = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - t0
        after = {pid: cpu_seconds(pid) for pid in procs}
        print(f"\nCPU over {elapsed:.0f} s at rest, as a share of one core (target < 0.5 %):")
        print(f"{'process':<16}{'CPU s':>8}{'% core':>9}")
        worst, total = 0.0, 0.0
        for pid, name in sorted(procs.items(), key=lambda p: p[1]):
            if after[pid] is None:
                print(f"{name:<16}{'exited':>8}")
                continue
            used = after[pid] - before[pid]
            percent = 100 * used / elapsed
            total += percent
            service = name != "nats-server"
            if service:
                worst = max(worst, percent)
            mark = "" if not service else ("  met" if percent < TARGET_PERCENT else "  NOT met")
            print(f"{name:<16}{used:>8.3f}{percent:>8.2f}%{mark}")
        print(f"{'all':<16}{'':>8}{total:>8.2f}%")
        print(f"\nworst service: {worst:.2f} % of a core (target < {TARGET_PERCENT} %)")
        return 0 if worst < TARGET_PERCENT else 1
    finally:
        try:
            os.killpg(launcher.pid, signal.SIGINT)
            launcher.wait(timeout=60)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(launcher.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
