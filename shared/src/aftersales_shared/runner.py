"""Entry point of one service process: settings from the environment, then uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from litestar import Litestar

from .logging import configure_logging
from .settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(settings_cls: type[S], create_app: Callable[[S], Litestar]) -> None:
    settings = settings_cls()
    configure_logging(settings.log_level, settings.log_json)
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
