"""The lost and found reports each process keeps indexed in memory, to tell likely owners."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.lostfound import Item, Kind, match_days
from bot.domain.matching import Candidate, MatchIndex, profile, worth_telling
from storage.lostfound import LostFoundRepo

OVERLAP = timedelta(minutes=5)  # reports written by transactions still running at the last look


class Matcher:
    """The open reports of each kind, indexed in this process. The database stays the truth:
    new reports are read in before every search (with an overlap, so a report whose transaction
    was still running is not missed), and every candidate is checked to be still open."""

    def __init__(self, *, subdistrict: bool = False) -> None:
        self.subdistrict = subdistrict
        self.indexes = {Kind.LOST: MatchIndex(), Kind.FOUND: MatchIndex()}
        self.read_at: datetime | None = None

    async def refresh(self, repo: LostFoundRepo, now: datetime) -> None:
        since = None if self.read_at is None else min(self.read_at, now) - OVERLAP
        for item in await repo.open_items(since):
            self.indexes[item.kind].add(
                item.id,
                item.scope(self.subdistrict),
                item.day.toordinal(),
                profile(item.text, item.category),
            )
        self.read_at = now

    async def candidates(self, repo: LostFoundRepo, item: Item) -> list[tuple[Item, float]]:
        """The open reports of the other kind worth telling about, best first. Call `refresh`
        before writing `item`: the index must only ever hold reports that were committed."""
        index = self.indexes[item.kind.other]
        first, last = match_days(item.kind, item.day)
        ranked = index.query(
            profile(item.text, item.category),
            scope=item.scope(self.subdistrict),
            first_day=first,
            last_day=last,
        )
        current = await repo.many([c.item_id for c in ranked])
        alive: list[Candidate] = []
        for candidate in ranked:
            other = current.get(candidate.item_id)
            if other is None or not other.is_open:
                index.discard(candidate.item_id)
            elif other.reporter_id != item.reporter_id:
                alive.append(candidate)
        return [(current[c.item_id], c.score) for c in worth_telling(alive)]
