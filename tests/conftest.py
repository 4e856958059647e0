"""Shared fixtures: a sandbox in the test's loop and the real bot process talking to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.harness import BotProcess, Sandbox, open_sandbox, write_config


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    sb, runner = await open_sandbox()
    try:
        yield sb
    finally:
        await sb.http.close()
        await runner.cleanup()


@pytest.fixture
async def bot(sandbox: Sandbox, tmp_path: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(write_config(tmp_path, sandbox.port), sandbox)
    await process.start()
    try:
        yield process
    finally:
        code = await process.stop()
        assert code == 0, f"the bot exited with {code}:\n{process.log.read_text()[-3000:]}"
