"""Shared fixtures: a sandbox in the test's loop and the real bot process talking to it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

# Every prepared SELECT is also run through SQLAlchemy and must answer the same (storage/prepared.py);
# set before anything imports storage, and inherited by the bot processes the tests start.
os.environ["LASTMETER_CHECK_PREPARED"] = "1"

import pytest

from tests import dbs
from tests.harness import BotProcess, Sandbox, open_sandbox, running_bot


def pytest_report_header() -> str:
    return f"databases: {dbs.engine()}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if dbs.on_postgres():
        dbs.drop_all()


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """The sandbox; afterwards, every test proves that nothing the bot wrote to a group chat
    carried personal data (DESIGN.md §3: personal data goes to private chats only)."""
    sb, runner = await open_sandbox()
    try:
        yield sb
        leaks = sb.group_leaks()
    finally:
        await sb.http.close()
        await runner.cleanup()
    assert not leaks, "personal data in a group chat:\n" + "\n".join(leaks)


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(sandbox, tmp_path) as process:
        yield process
