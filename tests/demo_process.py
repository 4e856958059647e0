"""`python -m bot demo` as a child process, for the tests that use the demo as a newcomer would."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests.harness import ROOT

# What the demo prints once its page is served and the bot is polling (bot/sandbox/demo.py).
READY = "Last Meter demo is running"
READY_TIMEOUT = 180.0  # generous: two cores shared with other test runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Demo:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    async def start(self, timeout: float = READY_TIMEOUT) -> None:
        """Start the demo and wait for its readiness line; fail with its log if it does not come."""
        seen = len(self.output())  # a restart appends to the same log
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "demo", "--port", str(self.port),
                "--data", str(self.data_dir), cwd=ROOT, stdout=log, stderr=log, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while READY not in self.output()[seen:]:
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"the demo exited with {self.proc.returncode}:\n{self.output()[-4000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the demo was not ready after {timeout:.0f} s:\n{self.output()[-4000:]}"
                )
            await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 60.0) -> int:
        """Stop it as Ctrl+C would; its exit code."""
        if self.proc is None:
            return 0
        if self.proc.returncode is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGINT)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"the demo did not stop:\n{self.output()[-4000:]}") from None

    async def kill(self) -> None:
        """As a crash would: nothing saved on the way out."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


@asynccontextmanager
async def running_demo(tmp: Path, clock_offset: float | None = None) -> AsyncIterator[Demo]:
    """The demo on a free port with its data in `tmp`; stopped afterwards. With clock_offset,
    the bot's clock starts that many seconds ahead (as if time had been moved forward before)."""
    demo = Demo(tmp / "demo", free_port(), tmp / "demo.log")
    if clock_offset is not None:
        demo.data_dir.mkdir(parents=True, exist_ok=True)
        (demo.data_dir / "clock").write_text(str(clock_offset), encoding="utf-8")
    await demo.start()
    try:
        yield demo
    finally:
        await demo.stop()
