"""Structured logs (JSON in production) carrying the correlation id of the request or event."""

from __future__ import annotations

import logging
import sys

import structlog


class IdlePullIsNotAnError(logging.Filter):
    """FastStream's supervisor logs ERROR with a traceback when a pull `fetch` times out on an empty
    stream (nats-py raises TimeoutError) and then restarts the pull — a normal idle moment, not an
    error: it is logged at DEBUG without the traceback, so an operator can trust ERROR lines
    again."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if (
            exc is not None
            and isinstance(exc, TimeoutError)
            and "raised an exception, retrying" in record.getMessage()
        ):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            record.msg, record.args, record.exc_info, record.exc_text = (
                "idle pull timed out; pull restarted",
                (),
                None,
                None,
            )
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # plain tracebacks: a rich one (with locals) ran to ~1,800 lines per error and held the event
    # loop ~2 s
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    if json:
        processors.append(structlog.processors.format_exc_info)
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # per-message broker logs cost most of the consume CPU: keep them at WARNING
    logging.getLogger("faststream").setLevel(logging.WARNING)
    logging.getLogger("aftersales.broker").setLevel(logging.WARNING)
    logging.getLogger("nats").setLevel(logging.WARNING)
