"""Logs an operator can trust: an idle pull is not an ERROR; an error's traceback is plain and
short."""

from __future__ import annotations

import logging
import sys

import structlog

from aftersales_shared.logging import IdlePullIsNotAnError, configure_logging


def _record(
    exc: BaseException, msg: str = "Task-13 raised an exception, retrying...\nIf this behavior…"
) -> logging.LogRecord:
    try:
        raise exc
    except BaseException:
        info = sys.exc_info()
    return logging.LogRecord("aftersales.broker.tickets", logging.ERROR, __file__, 1, msg, (), info)


def test_an_idle_pull_timeout_is_not_an_error_but_other_failures_stay_errors():
    f = IdlePullIsNotAnError()
    idle = _record(TimeoutError())
    assert f.filter(idle) is False  # dropped unless DEBUG is on
    assert idle.levelno == logging.DEBUG and idle.exc_info is None
    real = _record(RuntimeError("database is gone"))
    assert f.filter(real) is True and real.levelno == logging.ERROR and real.exc_info is not None
    other = _record(TimeoutError(), msg="handler timed out")
    assert f.filter(other) is True and other.levelno == logging.ERROR


def test_an_unhandled_error_is_logged_as_a_plain_short_traceback(capsys):
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    configure_logging("INFO", json=False)
    try:
        log = structlog.get_logger("test")

        def deep(n: int) -> None:
            if n == 0:
                payload = {
                    "customer": "苏州精工" * 50,
                    "rows": list(range(500)),
                }  # locals a rich traceback would print
                raise ValueError(f"boom with {len(payload)} keys")
            deep(n - 1)

        try:
            deep(40)
        except ValueError:
            log.exception("http.unhandled_error", path="/tickets")
        err = capsys.readouterr().err
        assert "http.unhandled_error" in err and "ValueError: boom with 2 keys" in err
        assert "\x1b[" not in err  # no colour codes
        assert len(err.splitlines()) < 150, len(err.splitlines())  # plain frames, no locals
        assert "苏州精工苏州精工" not in err
    finally:
        structlog.reset_defaults()
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def test_the_brokers_logger_drops_idle_pull_timeouts_and_keeps_real_errors():
    from aftersales_shared.service import broker_logger

    logger = broker_logger("testsvc")
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    logger.addHandler(handler)
    try:
        for exc in (TimeoutError(), RuntimeError("nats: permissions violation")):
            try:
                raise exc
            except BaseException as raised:
                logger.error("Task-7 raised an exception, retrying...", exc_info=raised)
        assert [r.levelname for r in seen] == ["ERROR"] and "RuntimeError" in str(seen[0].exc_info)
    finally:
        logger.removeHandler(handler)
