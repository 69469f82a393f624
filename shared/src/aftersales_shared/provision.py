"""Provisioning JetStream from a service image (no developer tools installed): the streams Job runs
``python -m aftersales_shared.provision apply --nats-url tls://nats:4222 --user
provisioner --replicas 3`` (password in NATS_PASSWORD). The ``aftersales streams apply`` command of
the tools calls the same code."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys


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
        "--tls-ca-file",
        default=os.environ.get("NATS_TLS_CA_FILE"),
        help="CA of the NATS server's certificate (tls://)",
    )


def run_apply(args: argparse.Namespace) -> int:
    """Create or update every stream (idempotent); 2 with the reason when NATS cannot be reached."""
    import nats

    from .streams import apply_streams

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
            for line in await apply_streams(nc.jetstream(), replicas=args.replicas):
                print(line)
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
