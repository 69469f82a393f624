"""Subprocesses started by the tests travel with the suite (AFTERSALES_TEST_NOW): see
aftersales_testing/clock.py.

Only on PYTHONPATH while the suite travels; it moves the wall clock by the offset the parent
computed, so a token minted by the test and checked by a service agree on the time."""

import os

_offset = os.environ.get("AFTERSALES_TEST_CLOCK_OFFSET")
if _offset:
    import time

    import time_machine

    _travel = time_machine.travel(time.time() + float(_offset), tick=True)
    _travel.start()
    time.time()  # ticking starts at the first reading: now, like the parent's
