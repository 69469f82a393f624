"""Provisioning JetStream from a service image (no developer tools installed): the streams Job runs
``python -m aftersales_shared.provision apply --nats-url tls://nats:4222 --user
provisioner --replicas 3`` (password in NATS_PASSWORD). The ``aftersales streams apply`` command of
the tools calls the same code."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Mapping
from typing import Any

ARCHIVE_MAX_BYTES_ENV = "AFTERSALES_ARCHIVE_MAX_BYTES"
ARCHIVE_MAX_AGE_DAYS_ENV = "AFTERSALES_ARCHIVE_MAX_AGE_DAYS"
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(text: str) -> int:
    """Bytes from `8589934592`, `8GiB`, `8G`, `500MiB` (binary units)."""
    m = re.fullmatch(r"\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*", text.lower())
    if not m:
        raise ValueError(
            f"{text!r} is not a size: write bytes or a number with KiB, MiB, GiB or TiB, e.g. 8GiB "
            "(容量格式如 8GiB)"
        )
    return int(m.group(1)) * _UNITS[m.group(2)]


def _size_argument(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:  # argparse shows an ArgumentTypeError's own words
        raise argparse.ArgumentTypeError(str(exc)) from None


def archive_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """apply_streams' ARCHIVE limits from AFTERSALES_ARCHIVE_MAX_BYTES / _MAX_AGE_DAYS (the launcher
    and the CLI's defaults); absent: the defaults of aftersales_shared.streams."""
    opts: dict[str, Any] = {}
    if environ.get(ARCHIVE_MAX_BYTES_ENV):
        opts["archive_max_bytes"] = parse_size(environ[ARCHIVE_MAX_BYTES_ENV])
    if environ.get(ARCHIVE_MAX_AGE_DAYS_ENV):
        opts["archive_max_age_days"] = int(environ[ARCHIVE_MAX_AGE_DAYS_ENV])
    return opts


def add_apply_arguments(apply: argparse.ArgumentParser) -> None:
    apply.add_argument("--nats-url", default=os.environ.get("NATS_URL", "nats://127.0.0.1:4222"))
    apply.add_argument(
        "--replicas", type=int, default=int(os.environ.get("AFTERSALES_STREAM_REPLICAS", 1))
    )
    apply.add_argument(
        "--user",
        default=os.environ.get("NATS_USER"),
        help=(
            "NATS user allowed to declare streams (production: provisioner); password in "
            "NATS_PASSWORD"
        ),
    )
    apply.add_argument(
        "--creds-file", default=os.environ.get("NATS_CREDS_FILE"), help="or a NATS .creds file"
    )
    apply.add_argument(
        "--archive-max-bytes",
        type=_size_argument,
        default=os.environ.get(ARCHIVE_MAX_BYTES_ENV) or None,
        help=(
            "size of the ARCHIVE stream (e.g. 64GiB; reserved on every NATS node): bytes per event "
            f"× events per month × 48; default 8GiB, or {ARCHIVE_MAX_BYTES_ENV}"
        ),
    )
    apply.add_argument(
        "--archive-max-age-days",
        type=int,
        default=os.environ.get(ARCHIVE_MAX_AGE_DAYS_ENV) or None,
        help=f"how long ARCHIVE keeps events (default 1461: 4 years; at least 1096), or "
        f"{ARCHIVE_MAX_AGE_DAYS_ENV}",
    )
    apply.add_argument(
        "--tls-ca-file",
        default=os.environ.get("NATS_TLS_CA_FILE"),
        help="CA of the NATS server's certificate (tls://)",
    )


def run_apply(args: argparse.Namespace) -> int:
    """Create or update every stream (idempotent); 2 with the reason when NATS cannot be reached."""
    import nats

    from .streams import StreamApplyError, apply_streams, archive_spec

    try:
        archive_spec(args.archive_max_bytes, args.archive_max_age_days)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def run() -> str | None:
        opts: dict[str, object] = {}
        if args.creds_file:
            opts["user_credentials"] = args.creds_file
        elif args.user:
            opts |= {"user": args.user, "password": os.environ.get("NATS_PASSWORD", "")}
        if args.user:
            # replies come to the user's own inbox prefix: the only one its permissions let it read
            from .natsauth import inbox_prefix

            opts["inbox_prefix"] = inbox_prefix(args.user)
        if args.tls_ca_file or args.nats_url.startswith("tls://"):
            import ssl

            opts["tls"] = ssl.create_default_context(cafile=args.tls_ca_file or None)

        async def quiet(_: Exception) -> None:  # the reason is printed once, below
            return None

        try:
            nc = await nats.connect(
                args.nats_url, connect_timeout=10, allow_reconnect=False, error_cb=quiet, **opts
            )
        except Exception as exc:
            return f"error: cannot connect to {args.nats_url}: {exc}"
        try:
            done = await apply_streams(
                nc.jetstream(),
                replicas=args.replicas,
                archive_max_bytes=args.archive_max_bytes,
                archive_max_age_days=args.archive_max_age_days,
            )
            for line in done:
                print(line)
        except StreamApplyError as exc:
            return f"error: {exc}"
        finally:
            await nc.close()
        return None

    problem = asyncio.run(run())
    if problem:
        print(problem, file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftersales_shared.provision")
    sub = parser.add_subparsers(dest="action", required=True)
    add_apply_arguments(sub.add_parser("apply", help="create or update every stream (idempotent)"))
    return run_apply(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
