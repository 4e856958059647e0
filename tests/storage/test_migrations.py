"""The newest migration is known without Alembic, and a database at it starts without loading
Alembic (nor numpy, which only a lost-and-found search needs); one behind is migrated to it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from storage.db import HEAD, Database, alembic_config, revision
from tests.dbs import database_url, on_postgres

ROOT = Path(__file__).resolve().parents[2]


def test_the_head_from_the_file_names_is_alembics() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD


async def test_a_database_behind_is_migrated_and_one_at_head_is_left_alone(tmp_path: Path) -> None:
    db = Database(database_url(tmp_path))
    try:
        await db.migrate()
        async with db.engine.begin() as connection:
            assert await connection.run_sync(revision) == HEAD
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0012"))
            assert await connection.run_sync(revision) == "0012"
        await db.migrate()
        async with db.engine.begin() as connection:
            assert await connection.run_sync(revision) == HEAD
    finally:
        await db.close()
    if on_postgres():
        return  # the check below starts a process on the test's SQLite file
    script = (
        "import asyncio, sys\n"
        "import bot.app\n"  # the bot as it starts, with its handlers and services
        "from storage.db import Database\n"
        f"db = Database({database_url(tmp_path)!r})\n"
        "async def main():\n"
        "    await db.migrate()\n"
        "    await db.close()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in ('alembic', 'numpy') if m in sys.modules))\n"
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
