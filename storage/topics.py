"""Topics of the 红色议事厅: the proposals, their supports, ballots, objections and ratings.

Every move of a topic is a conditional update on its version (one winner); a household supports
and votes once (its primary key), and a vote is changed in place until the vote closes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update

from bot.domain.oversight import TopicFigures
from bot.domain.topics import (
    OPEN,
    Ballot,
    Rule,
    Tally,
    Topic,
    TopicStatus,
    Verdict,
    Vote,
)
from storage.db import Session
from storage.tables import (
    topic_ballots,
    topic_objections,
    topic_ratings,
    topic_supports,
    topics,
)

_ENUMS = ("status", "rule", "verdict")


def _topic(row: Row[Any]) -> Topic:
    m = row._mapping
    tally = None
    if m["verdict"] is not None:
        tally = Tally(
            yes=m["yes"] or 0,
            no=m["no"] or 0,
            abstain=m["abstain"] or 0,
            yes_area=m["yes_area"] or 0,
            no_area=m["no_area"] or 0,
            abstain_area=m["abstain_area"] or 0,
            verdict=Verdict(m["verdict"]),
        )
    return Topic(
        id=m["id"],
        compound_id=m["compound_id"],
        proposer_id=m["proposer_id"],
        flat_id=m["flat_id"],
        title=m["title"],
        text=m["text"],
        photos=tuple(json.loads(m["photos"] or "[]")),
        status=TopicStatus(m["status"]),
        version=m["version"],
        threshold=m["threshold"],
        supporters=m["supporters"],
        created_at=m["created_at"],
        taken_up_at=m["taken_up_at"],
        answer_due_at=m["answer_due_at"],
        stage=m["stage"],
        next_check_at=m["next_check_at"],
        answered_at=m["answered_at"],
        reason=m["reason"],
        activity_id=m["activity_id"],
        minutes=m["minutes"],
        minutes_photos=tuple(json.loads(m["minutes_photos"] or "[]")),
        rule=Rule(m["rule"]) if m["rule"] else None,
        consulted=m["consulted"],
        reviewed=m["reviewed"],
        unit_id=m["unit_id"],
        vote_opens_at=m["vote_opens_at"],
        vote_closes_at=m["vote_closes_at"],
        reminded=m["reminded_at"] is not None,
        electorate=m["electorate"],
        total_flats=m["total_flats"],
        total_area=m["total_area"],
        tally=tally,
        decided_at=m["decided_at"],
        public_until=m["public_until"],
        complaint_id=m["complaint_id"],
        done_at=m["done_at"],
        merged_into=m["merged_into"],
    )


class TopicRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- topics

    async def create(
        self,
        *,
        compound_id: int,
        proposer_id: int,
        flat_id: int,
        title: str,
        text: str,
        photos: Sequence[str],
        threshold: int,
        now: datetime,
    ) -> Topic:
        result = await self.session.execute(
            insert(topics)
            .values(
                compound_id=compound_id,
                proposer_id=proposer_id,
                flat_id=flat_id,
                title=title,
                text=text,
                photos=json.dumps(list(photos)),
                status=TopicStatus.COLLECTING.value,
                version=1,
                threshold=threshold,
                supporters=0,
                stage=0,
                reason="",
                minutes="",
                minutes_photos="[]",
                consulted="",
                reviewed="",
                electorate=0,
                total_flats=0,
                total_area=0,
                created_at=now,
                updated_at=now,
            )
            .returning(topics.c.id)
        )
        found = await self.get(int(result.scalar_one()))
        assert found is not None
        return found

    async def get(self, topic_id: int) -> Topic | None:
        row = (await self.session.execute(select(topics).where(topics.c.id == topic_id))).first()
        return _topic(row) if row else None

    async def by_complaint(self, complaint_id: int) -> Topic | None:
        row = (
            await self.session.execute(select(topics).where(topics.c.complaint_id == complaint_id))
        ).first()
        return _topic(row) if row else None

    async def listed(self, compound_ids: Sequence[int], now: datetime, limit: int) -> list[Topic]:
        """The public list: open topics, those being carried out, and decisions still made
        public (公示), newest first."""
        rows = await self.session.execute(
            select(topics)
            .where(
                topics.c.compound_id.in_(list(compound_ids)),
                or_(
                    topics.c.status.in_([s.value for s in (*OPEN, TopicStatus.CARRYING)]),
                    topics.c.public_until >= now,
                ),
                topics.c.status != TopicStatus.MERGED.value,
            )
            .order_by(topics.c.id.desc())
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    async def in_status(
        self, compound_ids: Sequence[int], statuses: Sequence[TopicStatus], limit: int
    ) -> list[Topic]:
        rows = await self.session.execute(
            select(topics)
            .where(
                topics.c.compound_id.in_(list(compound_ids)),
                topics.c.status.in_([s.value for s in statuses]),
            )
            .order_by(topics.c.id)
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    async def move(self, topic: Topic, now: datetime, **values: Any) -> bool:
        """Change a topic only if nobody moved it since it was read (its version): one winner."""
        for key in _ENUMS:
            if values.get(key) is not None:
                values[key] = str(values[key])
        for key in ("photos", "minutes_photos"):
            if key in values:
                values[key] = json.dumps(list(values[key]))
        result = await self.session.execute(
            update(topics)
            .where(topics.c.id == topic.id, topics.c.version == topic.version)
            .values(version=topics.c.version + 1, updated_at=now, **values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, limit: int) -> list[Topic]:
        rows = await self.session.execute(
            select(topics)
            .where(topics.c.next_check_at <= now)
            .order_by(topics.c.next_check_at)
            .limit(limit)
        )
        return [_topic(row) for row in rows]

    # --- supports

    async def support(self, topic_id: int, flat_id: int, user_id: int, now: datetime) -> bool:
        """A household's support; False when that household supports it already."""
        if await self._has(topic_supports, topic_id, flat_id):
            return False
        await self.session.execute(
            insert(topic_supports).values(
                topic_id=topic_id, flat_id=flat_id, user_id=user_id, created_at=now
            )
        )
        await self.session.execute(
            update(topics).where(topics.c.id == topic_id).values(supporters=topics.c.supporters + 1)
        )
        return True

    async def _has(self, table: Any, topic_id: int, flat_id: int) -> bool:
        found = await self.session.execute(
            select(table.c.flat_id).where(table.c.topic_id == topic_id, table.c.flat_id == flat_id)
        )
        return found.first() is not None

    async def supported(self, topic_id: int, flat_id: int) -> bool:
        return await self._has(topic_supports, topic_id, flat_id)

    async def supporters_of(self, topic_id: int) -> list[tuple[int, int]]:
        """(flat, user) of each household that supports the topic, in the order they did."""
        rows = await self.session.execute(
            select(topic_supports.c.flat_id, topic_supports.c.user_id)
            .where(topic_supports.c.topic_id == topic_id)
            .order_by(topic_supports.c.created_at, topic_supports.c.flat_id)
        )
        return [(row.flat_id, row.user_id) for row in rows]

    # --- ballots

    async def cast(
        self, topic_id: int, flat_id: int, user_id: int, vote: Vote, area: int, now: datetime
    ) -> bool:
        """The household's vote; True for its first, False when it changed an earlier one."""
        if await self._has(topic_ballots, topic_id, flat_id):
            await self.session.execute(
                update(topic_ballots)
                .where(topic_ballots.c.topic_id == topic_id, topic_ballots.c.flat_id == flat_id)
                .values(
                    vote=vote.value,
                    user_id=user_id,
                    area=area,
                    changes=topic_ballots.c.changes + 1,
                    changed_at=now,
                )
            )
            return False
        await self.session.execute(
            insert(topic_ballots).values(
                topic_id=topic_id,
                flat_id=flat_id,
                user_id=user_id,
                vote=vote.value,
                area=area,
                changes=0,
                cast_at=now,
                changed_at=now,
            )
        )
        return True

    async def ballots(self, topic_id: int) -> list[Ballot]:
        rows = await self.session.execute(
            select(topic_ballots).where(topic_ballots.c.topic_id == topic_id)
        )
        return [Ballot(row.flat_id, Vote(row.vote), row.area) for row in rows]

    async def vote_of(self, topic_id: int, flat_id: int) -> Vote | None:
        row = (
            await self.session.execute(
                select(topic_ballots.c.vote).where(
                    topic_ballots.c.topic_id == topic_id, topic_ballots.c.flat_id == flat_id
                )
            )
        ).first()
        return Vote(row.vote) if row else None

    async def voters(self, topic_id: int) -> list[int]:
        rows = await self.session.execute(
            select(topic_ballots.c.user_id)
            .where(topic_ballots.c.topic_id == topic_id)
            .order_by(topic_ballots.c.cast_at)
        )
        return [row.user_id for row in rows]

    # --- objections and ratings

    async def _once(self, table: Any, topic_id: int, user_id: int, **values: Any) -> bool:
        """A person's one row of a topic (an objection, a rating); False when there is one."""
        exists = await self.session.execute(
            select(table.c.topic_id).where(table.c.topic_id == topic_id, table.c.user_id == user_id)
        )
        if exists.first() is not None:
            return False
        await self.session.execute(
            insert(table).values(topic_id=topic_id, user_id=user_id, **values)
        )
        return True

    async def object(self, topic_id: int, user_id: int, text: str, now: datetime) -> bool:
        return await self._once(topic_objections, topic_id, user_id, text=text, created_at=now)

    async def objections(self, topic_id: int) -> int:
        found = await self.session.execute(
            select(func.count()).where(topic_objections.c.topic_id == topic_id)
        )
        return int(found.scalar_one())

    async def rate(self, topic_id: int, user_id: int, rating: str, now: datetime) -> bool:
        """A participant's rating of the result; the first one stands."""
        return await self._once(topic_ratings, topic_id, user_id, rating=rating, created_at=now)

    async def ratings(self, topic_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(topic_ratings.c.rating, func.count())
            .where(topic_ratings.c.topic_id == topic_id)
            .group_by(topic_ratings.c.rating)
        )
        return {row[0]: int(row[1]) for row in rows}

    # --- oversight

    async def figures(
        self, compound_ids: Sequence[int], since: datetime, until: datetime
    ) -> dict[int, TopicFigures]:
        """Per compound, the topics proposed in [since, until) (merged ones left out) and how
        many of them were taken up, decided and done, with the mean days to done."""
        rows = await self.session.execute(
            select(
                topics.c.compound_id,
                topics.c.taken_up_at,
                topics.c.decided_at,
                topics.c.done_at,
                topics.c.created_at,
            ).where(
                topics.c.compound_id.in_(list(compound_ids)),
                topics.c.created_at >= since,
                topics.c.created_at < until,
                topics.c.status != TopicStatus.MERGED.value,
            )
        )
        sums: dict[int, list[float]] = {}
        for row in rows:
            acc = sums.setdefault(row.compound_id, [0, 0, 0, 0, 0.0])
            acc[0] += 1
            acc[1] += row.taken_up_at is not None
            acc[2] += row.decided_at is not None
            if row.done_at is not None:
                acc[3] += 1
                acc[4] += (row.done_at - row.created_at).total_seconds() / 86400
        return {
            cid: TopicFigures(
                int(acc[0]),
                int(acc[1]),
                int(acc[2]),
                int(acc[3]),
                acc[4] / acc[3] if acc[3] else None,
            )
            for cid, acc in sums.items()
        }
