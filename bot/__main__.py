"""Command line: run · demo · migrate · import-org · import-flats · import-campaigns · copy-db."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import ENV_VAR, Config, ConfigError, config_path, load_config
from bot.domain.campaigns import CampaignFileError
from bot.flatfile import FlatFileError
from bot.orgfile import OrgFileError
from bot.starsfile import StarsFileError

EXIT_CONFIG = 2
EXIT_FAILED = 1


def _parser() -> argparse.ArgumentParser:
    logs = argparse.ArgumentParser(add_help=False)
    logs.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    common = argparse.ArgumentParser(add_help=False, parents=[logs])
    common.add_argument(
        "--config", help=f"path of config.toml (default: the {ENV_VAR} variable, else built-in)"
    )
    parser = argparse.ArgumentParser(
        prog="lastmeter", description="Last Meter (最后一米): the compound service-desk bot."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", parents=[common], help="run the bot (polling or webhook)")
    demo = commands.add_parser(
        "demo", parents=[common], help="the local demo: sandbox, bot and a chat page"
    )
    demo.add_argument("--port", type=int, default=8088, help="port of the demo page (127.0.0.1)")
    demo.add_argument("--data", default="data/demo", help="folder for the demo database")
    demo.add_argument("--reset", action="store_true", help="start the demo from scratch")
    commands.add_parser("migrate", parents=[common], help="apply database migrations")
    org = commands.add_parser(
        "import-org", parents=[common], help="import the organisation tree (.toml or .csv)"
    )
    org.add_argument("file", help="the organisation file")
    flats = commands.add_parser(
        "import-flats",
        parents=[common],
        help="import the flats of compounds (.toml or .csv); run import-org first",
    )
    flats.add_argument("file", help="the flats file ([[compound]] entries, or a CSV)")
    campaigns = commands.add_parser(
        "import-campaigns",
        parents=[common],
        help="create environmental campaigns from a .toml file",
    )
    campaigns.add_argument("file", help="the campaign file ([[campaign]] entries)")
    copy = commands.add_parser(
        "copy-db",
        parents=[logs],
        help="copy every row into a new, empty database (SQLite to PostgreSQL) and verify it",
        description="Stop the bot first. The target is created or migrated, must hold no rows, "
        "and is filled in one transaction; then every table is compared row by row. "
        "Exit 0: copied and verified; 1: failed or different; 2: refused, nothing written.",
    )
    copy.add_argument(
        "--from", dest="source", required=True, help="the database to copy (the [database] url)"
    )
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        help="the empty database to fill, e.g. postgresql+asyncpg://lastmeter@127.0.0.1/lastmeter",
    )
    copy.add_argument(
        "--timezone",
        help="the config's [bot] timezone; only used if the source needs migrating first "
        "(default Asia/Shanghai)",
    )
    return parser


def _load(args: argparse.Namespace) -> Config:
    return load_config(config_path(args.config))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("alembic", "aiogram.event", "apscheduler"):  # one line per update is too much
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.root.level))
    try:
        if args.command == "demo":
            from bot.sandbox.demo import prepare_data_dir, run_demo

            prepare_data_dir(Path(args.data), reset=args.reset)
            asyncio.run(run_demo(port=args.port, data_dir=Path(args.data)))
            return 0
        if args.command == "copy-db":  # two URLs, no config: the config names only one database
            return asyncio.run(_copy_db(args.source, args.target, args.timezone))
        config = _load(args)
        if args.command == "run":
            return _run(config)
        if args.command == "migrate":
            asyncio.run(_migrate(config))
            print("database is up to date")
            return 0
        if args.command == "import-campaigns":
            path = Path(args.file)
            content = path.read_text(encoding="utf-8")
            made = asyncio.run(_import_campaigns(config, path.name, content))
            print(f"imported {made} campaign(s)")
            return 0
        if args.command == "import-org":
            created, updated = asyncio.run(_import(config, Path(args.file)))
            print(f"imported {created + updated} units: {created} new, {updated} updated")
            return 0
        if args.command == "import-flats":
            created, updated = asyncio.run(_import_flats(config, Path(args.file)))
            print(f"imported flats: {created} new, {updated} updated")
            return 0
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CampaignFileError as exc:
        print(f"campaign file error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OrgFileError as exc:
        print(f"organisation file error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FlatFileError as exc:
        print(f"flats file error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except StarsFileError as exc:
        print(f"五星小区 criteria file error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return 1


def _run(config: Config) -> int:
    if not config.telegram.token:
        print(
            "No Telegram token is configured ([telegram] token in the config file).\n"
            "To try the bot on this machine without one, run:  python -m bot demo",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    from bot.app import serve

    return 0 if asyncio.run(serve(config)) else EXIT_FAILED


async def _import_campaigns(config: Config, name: str, content: str) -> int:
    from bot.app import build_clock
    from bot.i18n import build_i18n
    from bot.services.campaigns import import_file
    from storage.db import Database

    db = Database(config.database_url)
    try:
        await db.migrate(config.bot.zone)
        with build_i18n(config.bot.default_language).context():
            made = await import_file(db, build_clock(config), config, content, name)
            return len(made)
    finally:
        await db.close()


async def _copy_db(source_url: str, target_url: str, timezone: str | None) -> int:
    from storage.copy import CopyFailed, CopyRefused, copy_database, opened, verify_copy

    try:
        zone = ZoneInfo(timezone) if timezone else None
    except (ZoneInfoNotFoundError, ValueError):
        print(f"copy-db refused: unknown time zone {timezone!r}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        async with opened(source_url, target_url) as (source, target):
            copied = await copy_database(source, target, report=print, zone=zone)
            checks = await verify_copy(source, target)
    except CopyRefused as exc:
        print(f"copy-db refused, the target is unchanged: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except CopyFailed as exc:
        print(f"copy-db failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    for check in checks:
        if check.ok:
            print(f"{check.name}: {check.target_rows} rows")
        else:
            print(
                f"{check.name}: {check.source_rows} rows in the source, {check.target_rows} in "
                "the target, DIFFERENT"
            )
    different = [check.name for check in checks if not check.ok]
    if different:
        print(f"copy-db: verification failed for {', '.join(different)}", file=sys.stderr)
        return EXIT_FAILED
    print(f"copied and verified {sum(copied.values())} rows in {len(copied)} tables")
    return 0


async def _migrate(config: Config) -> None:
    from storage.db import Database

    db = Database(config.database_url)
    try:
        await db.migrate(config.bot.zone)
    finally:
        await db.close()


async def _import(config: Config, file: Path) -> tuple[int, int]:
    from bot.app import import_org
    from storage.db import Database

    db = Database(config.database_url)
    try:
        await db.migrate(config.bot.zone)
        return await import_org(db, file)
    finally:
        await db.close()


async def _import_flats(config: Config, file: Path) -> tuple[int, int]:
    from bot.app import build_clock, import_flats
    from storage.db import Database

    db = Database(config.database_url)
    try:
        await db.migrate(config.bot.zone)
        return await import_flats(db, file, build_clock(config))
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(main())
