"""The `aftersales` command: up, migrate, streams apply, token, asyncapi."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from .catalog import SERVICES, service


def _cmd_up(args: argparse.Namespace) -> int:
    from aftersales_shared.settings import LOCAL_DEV_ENV

    from .launcher import run_up

    os.environ.setdefault(
        LOCAL_DEV_ENV, "1"
    )  # `up` is local development: dev secret and local issuer accepted
    return run_up(Path(args.data_dir), args.nats_url, args.nats_port, args.port_base, args.demo)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from aftersales_shared.migrations import upgrade

    names = [s.name for s in SERVICES] if args.service == "all" else [service(args.service).name]
    for name in names:
        settings = service(name).settings_class().offline()
        asyncio.run(upgrade(name, settings.database_url, args.revision))
        print(f"{name}: migrated to {args.revision}")
    return 0


def _cmd_streams(args: argparse.Namespace) -> int:
    from aftersales_shared.provision import run_apply

    return run_apply(args)


def _gate(
    entries: list[tuple[str, Path, Any, list[str]]],
    render: Any,
    write: bool,
    command: str,
    incompatible: str,
) -> int:
    """Check (or write) committed contract documents: (label, file, current document, breaking
    changes)."""
    status = 0
    for label, path, current, problems in entries:
        if problems:
            status = 1
            print(f"{label}: {incompatible}:", file=sys.stderr)
            for p in problems:
                print(f"  {p}", file=sys.stderr)
            continue
        if path.exists() and path.read_text() == render(current):
            continue
        what = "compatible change" if path.exists() else "new"
        if write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(current))
            print(f"{label}: {what}, written to {path}")
        else:
            status = 1
            print(f"{label}: {what} not committed (aftersales {command} --write)", file=sys.stderr)
    return status


def _committed(path: Path) -> Any:
    return json.loads(path.read_text()) if path.exists() else None


def _cmd_event_schemas(args: argparse.Namespace) -> int:
    from aftersales_shared.events import registry
    from aftersales_shared.events.compat import breaking_changes, render, schema_of, schema_path

    entries = []
    for cls in sorted(registry.all(), key=lambda c: c.ce_type()):
        path, current = schema_path(cls.ce_type()), schema_of(cls)
        old = _committed(path)
        entries.append(
            (cls.ce_type(), path, current, breaking_changes(old, current) if old else [])
        )
    return _gate(
        entries,
        render,
        args.write,
        "event-schemas",
        "NOT compatible — publish a new version instead",
    )


def _cmd_api_schemas(args: argparse.Namespace) -> int:
    from .apicompat import breaking_api_changes, committed_path, current_openapi, render

    entries = []
    for info in SERVICES:
        path, current = committed_path(info.name), current_openapi(info.name)
        old = _committed(path)
        entries.append(
            (info.name, path, current, breaking_api_changes(old, current) if old else [])
        )
    return _gate(
        entries,
        render,
        args.write,
        "api-schemas",
        "breaking API change — version the path (/v2/...)",
    )


def _cmd_nats_config(args: argparse.Namespace) -> int:
    from aftersales_shared.natsauth import render_authorization

    print(render_authorization(), end="")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from aftersales_shared.auth import mint_token
    from aftersales_shared.settings import DEV_JWT_SECRET

    secret = args.secret or os.environ.get("AFTERSALES_JWT_SECRET") or DEV_JWT_SECRET
    try:
        print(
            mint_token(
                secret,
                args.sub or args.role[0],
                args.role,
                dealer_id=args.dealer_id,
                customer_id=args.customer_id,
                name=args.name,
                hours=args.hours,
            )
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_link_keys(args: argparse.Namespace) -> int:
    from aftersales_shared.sealing import new_keypair

    private, public = new_keypair()
    print(f"NOTIFICATIONS_LINK_PRIVATE_KEY={private}")
    print(f"SURVEYS_NOTIFICATIONS_PUBLIC_KEY={public}")
    print(f"TICKETS_NOTIFICATIONS_PUBLIC_KEY={public}")  # complaint confirmation links
    return 0


def _cmd_asyncapi(args: argparse.Namespace) -> int:
    import importlib

    from aftersales_shared.service import asyncapi_json

    info = service(args.service)
    app = importlib.import_module(f"{info.name}.app").create_app(info.settings_class().offline())
    print(asyncapi_json(app.state["runtime"]))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftersales", description="Aftersales: run, migrate, provision, mint tokens"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    _run_commands(sub)
    _stream_commands(sub)
    _schema_commands(sub)
    _key_commands(sub)
    return parser


def _run_commands(sub: Any) -> None:
    up = sub.add_parser(
        "up",
        help="start NATS, migrate, provision streams and run all seven services and the console",
    )
    up.add_argument("--data-dir", default=os.environ.get("AFTERSALES_DATA_DIR", ".data"))
    up.add_argument(
        "--nats-url",
        default=os.environ.get("NATS_URL"),
        help="use this NATS instead of starting one",
    )
    up.add_argument(
        "--nats-port", type=int, default=int(os.environ.get("AFTERSALES_NATS_PORT", 4322))
    )
    up.add_argument(
        "--port-base", type=int, default=None, help="first service port (default: 8101…8108)"
    )
    up.add_argument("--demo", action="store_true", help="load demo contracts after start")
    up.set_defaults(func=_cmd_up)

    mig = sub.add_parser(
        "migrate", help="run a service's Alembic migrations against <PREFIX>_DATABASE_URL"
    )
    mig.add_argument("service", choices=[s.name for s in SERVICES] + ["all"])
    mig.add_argument("--revision", default="head")
    mig.set_defaults(func=_cmd_migrate)


def _stream_commands(sub: Any) -> None:
    streams = sub.add_parser("streams", help="JetStream streams")
    streams_sub = streams.add_subparsers(dest="action", required=True)
    apply = streams_sub.add_parser("apply", help="create or update every stream (idempotent)")
    from aftersales_shared.provision import add_apply_arguments

    add_apply_arguments(apply)
    apply.set_defaults(func=_cmd_streams)


def _schema_commands(sub: Any) -> None:
    ncfg = sub.add_parser(
        "nats-config", help="print nats-server's users and permissions (infra/nats/auth.conf)"
    )
    ncfg.set_defaults(func=_cmd_nats_config)

    evs = sub.add_parser(
        "event-schemas", help="check (or --write) the committed JSON Schema of every event version"
    )
    evs.add_argument(
        "--write",
        action="store_true",
        help="write the files of new versions and compatible changes",
    )
    evs.set_defaults(func=_cmd_event_schemas)

    apis = sub.add_parser(
        "api-schemas", help="check (or --write) each service's committed OpenAPI document"
    )
    apis.add_argument(
        "--write", action="store_true", help="write the documents after compatible changes"
    )
    apis.set_defaults(func=_cmd_api_schemas)


def _key_commands(sub: Any) -> None:
    tok = sub.add_parser("token", help="mint a local HS256 token for a role")
    tok.add_argument(
        "--role", action="append", required=True, help="repeatable: sales, legal, finance, … admin"
    )
    tok.add_argument("--sub", default=None, help="user id (default: the role)")
    tok.add_argument("--dealer-id", default=None)
    tok.add_argument("--customer-id", default=None)
    tok.add_argument("--name", default=None)
    tok.add_argument("--hours", type=float, default=8)
    tok.add_argument(
        "--secret", default=None, help="default: $AFTERSALES_JWT_SECRET or the local dev secret"
    )
    tok.set_defaults(func=_cmd_token)

    keys = sub.add_parser(
        "link-keys", help="print a new key pair for sealed survey links (notifications/surveys)"
    )
    keys.set_defaults(func=_cmd_link_keys)

    spec = sub.add_parser("asyncapi", help="print a service's AsyncAPI document")
    spec.add_argument("service", choices=[s.name for s in SERVICES])
    spec.set_defaults(func=_cmd_asyncapi)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
