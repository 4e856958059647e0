"""End-to-end tests: whatever else a test checks, the bot sent nothing Telegram would refuse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness import Sandbox


@pytest.fixture(autouse=True)
def telegram_takes_it(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test in which the bot sent what Telegram refuses as malformed (HTML it cannot
    parse, a bad button, a text too long): Telegram would drop that message, whether or not the
    test looked for it. The sandbox logs each one as it happens."""
    sandbox: Sandbox | None = (
        request.getfixturevalue("sandbox") if "sandbox" in request.fixturenames else None
    )
    yield
    if sandbox is not None:
        refused = sandbox.state.refused
        assert not refused, "Telegram would refuse:\n" + "\n".join(map(str, refused))
