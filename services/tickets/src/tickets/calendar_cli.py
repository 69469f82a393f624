"""`python -m tickets.calendar_cli import|export`: the same calendar use cases as the admin HTTP
API."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from aftersales_shared.db import create_engine, session_factory, utcnow
from aftersales_shared.errors import DomainError

from .calendar_tables import NATIONAL, parse_table
from .settings import TicketsSettings
from .usecases import calendars


async def _import(args: argparse.Namespace) -> int:
    settings = TicketsSettings.offline()
    path = Path(args.file)
    fmt = args.format or ("yaml" if path.suffix in (".yaml", ".yml") else "csv")
    try:
        table = parse_table(path.read_bytes(), fmt, args.year)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            entries, count, changed = await calendars.apply_year(
                session, args.scope, args.year, table, args.actor, utcnow(), settings
            )
    finally:
        await engine.dispose()
    print(
        f"{args.scope} {args.year}: {entries} days imported; {count} open clocks recomputed, "
        f"{changed} deadlines moved"
    )
    return 0


async def _export(args: argparse.Namespace) -> int:
    settings = TicketsSettings.offline()
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as session:
            text, source = await calendars.export_year(
                session, args.scope, args.year, args.format or "csv"
            )
    finally:
        await engine.dispose()
    sys.stdout.write(text)
    print(f"# source: {source}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tickets.calendar_cli", description="Import or export a year's holiday table"
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    imp = sub.add_parser("import", help="import date,kind,name (CSV or YAML) for one year")
    imp.add_argument("file")
    imp.add_argument("--year", type=int, required=True)
    imp.add_argument(
        "--scope", default=NATIONAL, help="'national' or a calendar id (company closures)"
    )
    imp.add_argument("--format", choices=["csv", "yaml"])
    imp.add_argument("--actor", default="cli")
    exp = sub.add_parser("export", help="print the table in force for a year")
    exp.add_argument("--year", type=int, required=True)
    exp.add_argument("--scope", default=NATIONAL)
    exp.add_argument("--format", choices=["csv", "yaml"])
    args = parser.parse_args(argv)
    return asyncio.run(_import(args) if args.cmd == "import" else _export(args))


if __name__ == "__main__":
    sys.exit(main())
