"""Injected clocks: the real one, and a shiftable one for the demo and end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    """Tells the time; always aware, always UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The machine's time plus an offset kept in a file.

    Only built when `[testing] enabled` is on. The demo page and the end-to-end tests move time forward
    by writing a number of seconds to the file, so deadlines and reminders can be shown without waiting;
    the file lets the bot process and the sandbox (or a test) share one offset across restarts.
    """

    def __init__(self, offset_file: Path) -> None:
        self._file = offset_file
        self._cached: tuple[tuple[int, int], float] | None = None  # ((inode, mtime), seconds)

    def offset(self) -> timedelta:
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            return timedelta(0)
        stamp = (stat.st_ino, stat.st_mtime_ns)  # advance() replaces the file: a new inode
        if self._cached is None or self._cached[0] != stamp:
            text = self._file.read_text(encoding="utf-8").strip() or "0"
            self._cached = (stamp, float(text))
        return timedelta(seconds=self._cached[1])

    def advance(self, delta: timedelta) -> timedelta:
        """Move time forward by delta; returns the new total offset."""
        total = self.offset() + delta
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_suffix(".tmp")
        tmp.write_text(str(total.total_seconds()), encoding="utf-8")
        tmp.replace(self._file)
        self._cached = None
        return total

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()
