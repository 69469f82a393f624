"""Load every core for a bounded time (the suite must pass beside it):
python cpuburn.py --seconds 900.

Stops by itself after --seconds; one busy process per core unless --workers says otherwise."""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time


def _burn(until: float) -> None:
    x = 0
    while time.monotonic() < until:
        for i in range(100_000):
            x = (x * 31 + i) % 1_000_003


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=600.0)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    args = p.parse_args()
    if not 0 < args.seconds <= 4 * 3600:
        p.error("--seconds must be between 0 and 14400")
    until = time.monotonic() + args.seconds
    procs = [mp.Process(target=_burn, args=(until,), daemon=True) for _ in range(args.workers)]
    for proc in procs:
        proc.start()
    print(
        f"cpuburn: {args.workers} busy processes for {args.seconds:.0f} s (pid {os.getpid()})",
        flush=True,
    )
    for proc in procs:
        proc.join()


if __name__ == "__main__":
    main()
