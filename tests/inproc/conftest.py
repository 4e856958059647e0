"""Fixtures: a harness per test, on a copy of one migrated database per worker."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.dbs import on_postgres
from tests.inproc.harness import Harness, build_template, open_harness


@pytest.fixture(scope="session", autouse=True)
def frozen_imports() -> None:
    """As bot.app.serve does once started: what the imports built (aiogram's models, the
    modules) is kept out of the collector's scans, or every full collection stalls a test by a
    quarter of a second."""
    gc.collect()
    gc.freeze()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The migrated database with the example organisation (SQLite only: on PostgreSQL each
    test migrates its own)."""
    if on_postgres():
        return None
    path = tmp_path_factory.mktemp("inproc") / "template.db"
    build_template(path)
    return path


@pytest.fixture
async def h(template: Path | None, tmp_path: Path) -> AsyncIterator[Harness]:
    async with open_harness(tmp_path, template=template) as harness:
        yield harness
    # Handlers write the outbox; only start-up (getMe) talks to the Bot API.
    assert [type(m).__name__ for m in harness.session.requests] == ["GetMe"]
