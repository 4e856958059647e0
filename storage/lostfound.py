"""Lost and found reports, claims and the matches told. Every change of state is a
conditional update: of two workers (or a double tap), one wins and the other changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, insert, or_, select, update

from bot.domain.lostfound import (
    Category,
    Claim,
    ClaimStatus,
    Item,
    Kind,
    Status,
)
from storage.db import Session
from storage.tables import lostfound, lostfound_claims, lostfound_matches, units


def _item(row: Row[Any]) -> Item:
    m = row._mapping
    return Item(
        id=m["id"],
        kind=Kind(m["kind"]),
        reporter_id=m["reporter_id"],
        compound_id=m["compound_id"],
        community_id=m["community_id"],
        subdistrict_id=m["subdistrict_id"],
        category=Category(m["category"]),
        text=m["text"],
        place=m["place"],
        day=m["day"],
        photo=m["photo"],
        held_at=m["held_at"],
        announce=bool(m["announce"]),
        status=Status(m["status"]),
        pending_claim_id=m["pending_claim_id"],
        expires_at=m["expires_at"],
        reminded_at=m["reminded_at"],
        created_at=m["created_at"],
    )


def _claim(row: Row[Any]) -> Claim:
    m = row._mapping
    return Claim(
        id=m["id"],
        found_id=m["found_id"],
        lost_id=m["lost_id"],
        claimant_id=m["claimant_id"],
        detail=m["detail"],
        status=ClaimStatus(m["status"]),
        created_at=m["created_at"],
    )


@dataclass(frozen=True, slots=True)
class NewItem:
    kind: Kind
    reporter_id: int
    compound_id: int
    community_id: int
    subdistrict_id: int
    category: Category
    text: str
    place: str
    day: date
    photo: str | None
    held_at: str
    announce: bool
    expires_at: datetime
    proxy_for: str | None = None  # 代办
    flat_id: int | None = None


class LostFoundRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def create(self, new: NewItem, now: datetime) -> Item:
        result = await self.session.execute(
            insert(lostfound)
            .values(
                kind=new.kind,
                reporter_id=new.reporter_id,
                compound_id=new.compound_id,
                community_id=new.community_id,
                subdistrict_id=new.subdistrict_id,
                category=new.category,
                text=new.text,
                place=new.place,
                day=new.day,
                photo=new.photo,
                held_at=new.held_at,
                announce=new.announce,
                status=Status.OPEN,
                expires_at=new.expires_at,
                proxy_for=new.proxy_for,
                flat_id=new.flat_id,
                created_at=now,
            )
            .returning(lostfound.c.id)
        )
        item = await self.get(result.scalar_one())
        assert item is not None
        return item

    async def get(self, item_id: int) -> Item | None:
        row = (
            await self.session.execute(select(lostfound).where(lostfound.c.id == item_id))
        ).one_or_none()
        return _item(row) if row else None

    async def many(self, item_ids: Sequence[int]) -> dict[int, Item]:
        if not item_ids:
            return {}
        rows = await self.session.execute(select(lostfound).where(lostfound.c.id.in_(item_ids)))
        return {item.id: item for item in map(_item, rows)}

    async def open_items(self, created_since: datetime | None = None) -> list[Item]:
        """Open reports, oldest first; only those created since a moment if one is given."""
        query = select(lostfound).where(lostfound.c.status == Status.OPEN)
        if created_since is not None:
            query = query.where(lostfound.c.created_at >= created_since)
        rows = await self.session.execute(query.order_by(lostfound.c.id))
        return [_item(row) for row in rows]

    async def reported_in(self, path: str, start: datetime, end: datetime) -> list[Item]:
        """Reports from the compounds of a subtree in a period, oldest first (the ledger)."""
        compounds = select(units.c.id).where(units.c.path.like(f"{path}%"))
        rows = await self.session.execute(
            select(lostfound)
            .where(
                lostfound.c.created_at >= start,
                lostfound.c.created_at < end,
                lostfound.c.compound_id.in_(compounds),
            )
            .order_by(lostfound.c.created_at, lostfound.c.id)
        )
        return [_item(row) for row in rows]

    async def of_reporter(self, user_id: int, limit: int = 10) -> list[Item]:
        rows = await self.session.execute(
            select(lostfound)
            .where(lostfound.c.reporter_id == user_id)
            .order_by((lostfound.c.status == Status.OPEN).desc(), lostfound.c.id.desc())
            .limit(limit)
        )
        return [_item(row) for row in rows]

    async def close(self, item_id: int, status: Status, now: datetime) -> bool:
        result = await self.session.execute(
            update(lostfound)
            .where(lostfound.c.id == item_id, lostfound.c.status == Status.OPEN)
            .values(status=status, closed_at=now, pending_claim_id=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def extend(self, item_id: int, expires_at: datetime) -> bool:
        result = await self.session.execute(
            update(lostfound)
            .where(lostfound.c.id == item_id, lostfound.c.status == Status.OPEN)
            .values(expires_at=expires_at, reminded_at=None)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def mark_reminded(self, item_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(lostfound)
            .where(
                lostfound.c.id == item_id,
                lostfound.c.status == Status.OPEN,
                lostfound.c.reminded_at.is_(None),
            )
            .values(reminded_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: datetime, remind_before: datetime, limit: int = 200) -> list[Item]:
        """Open reports whose reminder (expiring before `remind_before`, not yet reminded) or
        expiry (expired by `now`) is due; those reminded and still running are left out."""
        rows = await self.session.execute(
            select(lostfound)
            .where(
                lostfound.c.status == Status.OPEN,
                or_(
                    and_(
                        lostfound.c.expires_at <= remind_before,
                        lostfound.c.reminded_at.is_(None),
                    ),
                    lostfound.c.expires_at <= now,
                ),
            )
            .order_by(lostfound.c.expires_at)
            .limit(limit)
        )
        return [_item(row) for row in rows]

    async def hold_for_claim(self, item_id: int, claim_id: int) -> bool:
        result = await self.session.execute(
            update(lostfound)
            .where(
                lostfound.c.id == item_id,
                lostfound.c.status == Status.OPEN,
                lostfound.c.pending_claim_id.is_(None),
            )
            .values(pending_claim_id=claim_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def release_claim(self, item_id: int, claim_id: int) -> None:
        await self.session.execute(
            update(lostfound)
            .where(lostfound.c.id == item_id, lostfound.c.pending_claim_id == claim_id)
            .values(pending_claim_id=None)
        )

    async def add_claim(
        self, found_id: int, lost_id: int | None, claimant_id: int, detail: str, now: datetime
    ) -> Claim:
        result = await self.session.execute(
            insert(lostfound_claims)
            .values(
                found_id=found_id,
                lost_id=lost_id,
                claimant_id=claimant_id,
                detail=detail,
                status=ClaimStatus.PENDING,
                created_at=now,
            )
            .returning(lostfound_claims.c.id)
        )
        claim = await self.claim(result.scalar_one())
        assert claim is not None
        return claim

    async def claim(self, claim_id: int) -> Claim | None:
        row = (
            await self.session.execute(
                select(lostfound_claims).where(lostfound_claims.c.id == claim_id)
            )
        ).one_or_none()
        return _claim(row) if row else None

    async def claims_on(self, found_id: int) -> list[Claim]:
        rows = await self.session.execute(
            select(lostfound_claims)
            .where(lostfound_claims.c.found_id == found_id)
            .order_by(lostfound_claims.c.id)
        )
        return [_claim(row) for row in rows]

    async def decide(self, claim_id: int, status: ClaimStatus, now: datetime) -> bool:
        result = await self.session.execute(
            update(lostfound_claims)
            .where(
                lostfound_claims.c.id == claim_id,
                lostfound_claims.c.status == ClaimStatus.PENDING,
            )
            .values(status=status, decided_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def record_match(self, lost_id: int, found_id: int, score: float, now: datetime) -> None:
        await self.session.execute(
            insert(lostfound_matches).values(
                lost_id=lost_id, found_id=found_id, score=score, created_at=now
            )
        )

    async def matched_lost(self, found_id: int, claimant_id: int) -> Item | None:
        """The claimant's open lost report that was matched with this found item, if any."""
        row = (
            await self.session.execute(
                select(lostfound)
                .join(lostfound_matches, lostfound_matches.c.lost_id == lostfound.c.id)
                .where(
                    and_(
                        lostfound_matches.c.found_id == found_id,
                        lostfound.c.reporter_id == claimant_id,
                        lostfound.c.status == Status.OPEN,
                    )
                )
                .order_by(lostfound_matches.c.score.desc())
                .limit(1)
            )
        ).one_or_none()
        return _item(row) if row else None
