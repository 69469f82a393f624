"""Entry point of one service process: settings from the environment, then uvicorn."""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from litestar import Litestar

from .logging import configure_logging
from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def tune_gc(settings: ServiceSettings) -> None:
    """Fewer, cheaper collections for a long-running server: what exists after start-up (modules, the app)
    is moved out of the collector's way (`gc.freeze`), and the youngest generation is collected after
    `gc_gen0_threshold` allocations instead of 700. Measured on the notification fan-out at 200 events/s:
    p99 latency ~85 → ~60 ms (bench/fanout.py)."""
    if settings.gc_gen0_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.gc_gen0_threshold, gen1, gen2)


def serve(settings_cls: type[S], create_app: Callable[[S], Litestar]) -> None:
    settings = settings_cls()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    tune_gc(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
