"""The organisation tree."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Row, bindparam, func, literal, or_, select, update

from bot.domain.org import Unit, UnitKind, make_path
from bot.orgfile import UnitSpec
from storage.db import START_LOCKS, Session, on_postgres
from storage.prepared import prepared
from storage.tables import units


def _unit(row: Row[tuple[object, ...]]) -> Unit:
    m = row._mapping
    return Unit(
        id=m["id"],
        code=m["code"],
        kind=UnitKind(m["kind"]),
        name=m["name"],
        name_en=m["name_en"],
        parent_id=m["parent_id"],
        path=m["path"],
        lat=m["lat"],
        lon=m["lon"],
        radius_m=m["radius_m"],
    )


_GET = prepared(select(units).where(units.c.id == bindparam("unit_id")))  # read by most updates
_AROUND_EACH = prepared(
    select(units).where(  # compounds with their wings and the units above them
        or_(
            units.c.id.in_(bindparam("b_ids", expanding=True)),
            units.c.parent_id.in_(bindparam("b_compounds", expanding=True)),
        )
    )
)


class UnitRepo:
    def __init__(self, session: Session) -> None:
        self.session = session

    async def get(self, unit_id: int) -> Unit | None:
        row = (await self.session.execute(_GET, {"unit_id": unit_id})).first()
        return _unit(row) if row else None

    async def by_code(self, code: str) -> Unit | None:
        row = (await self.session.execute(select(units).where(units.c.code == code))).first()
        return _unit(row) if row else None

    async def many(self, unit_ids: Sequence[int]) -> dict[int, Unit]:
        if not unit_ids:
            return {}
        rows = await self.session.execute(select(units).where(units.c.id.in_(list(unit_ids))))
        return {unit.id: unit for unit in map(_unit, rows)}

    async def around(self, compound: Unit) -> dict[int, Unit]:
        """A compound with its wings and every unit above it: all a complaint there can touch."""
        return (await self.around_each([compound]))[compound.id]

    async def around_each(self, compounds: Sequence[Unit]) -> dict[int, dict[int, Unit]]:
        """`around` for several compounds in one read, by compound id."""
        if not compounds:
            return {}
        rows = await self.session.execute(
            _AROUND_EACH,
            {
                "b_ids": sorted({i for c in compounds for i in (*c.ancestor_ids, c.id)}),
                "b_compounds": [c.id for c in compounds],
            },
        )
        found = {unit.id: unit for unit in map(_unit, rows)}
        wings: dict[int, list[Unit]] = {}
        for unit in found.values():
            if unit.parent_id is not None:
                wings.setdefault(unit.parent_id, []).append(unit)
        return {
            c.id: {
                **{i: found[i] for i in (*c.ancestor_ids, c.id) if i in found},
                **{wing.id: wing for wing in wings.get(c.id, ())},
            }
            for c in compounds
        }

    async def children(self, parent_id: int | None) -> list[Unit]:
        where = units.c.parent_id.is_(None) if parent_id is None else units.c.parent_id == parent_id
        rows = await self.session.execute(select(units).where(where).order_by(units.c.name))
        return [_unit(row) for row in rows]

    async def of_kind(self, kind: UnitKind) -> list[Unit]:
        rows = await self.session.execute(
            select(units).where(units.c.kind == kind.value).order_by(units.c.name)
        )
        return [_unit(row) for row in rows]

    async def compounds_in(self, path: str, limit: int = 100) -> list[Unit]:
        """The compounds in the subtree of the unit with this materialised path, by name."""
        rows = await self.session.execute(
            select(units)
            .where(units.c.kind == UnitKind.COMPOUND.value, units.c.path.like(f"{path}%"))
            .order_by(units.c.name, units.c.id)
            .limit(limit)
        )
        return [_unit(row) for row in rows]

    async def count(self) -> int:
        return int(
            (await self.session.execute(select(func.count()).select_from(units))).scalar_one()
        )

    async def import_specs(self, specs: Sequence[UnitSpec]) -> tuple[int, int]:
        """Insert new units and update existing ones by code; returns (created, updated)."""
        if on_postgres(self.session):
            # Replicas starting together import the same file one after the other.
            await self.session.execute(select(func.pg_advisory_xact_lock(START_LOCKS, 2)))
        created = updated = 0
        for spec in specs:
            parent = await self.by_code(spec.parent_code) if spec.parent_code else None
            values = {
                "kind": spec.kind.value,
                "name": spec.name,
                "name_en": spec.name_en,
                "parent_id": parent.id if parent else None,
                "lat": spec.lat,
                "lon": spec.lon,
                "radius_m": spec.radius_m,
            }
            existing = await self.by_code(spec.code)
            if existing is None:
                result = await self.session.execute(
                    units.insert().values(code=spec.code, path="/", **values).returning(units.c.id)
                )
                unit_id = int(result.scalar_one())
                created += 1
            else:
                unit_id = existing.id
                await self.session.execute(
                    update(units).where(units.c.id == unit_id).values(**values)
                )
                updated += 1
            path = make_path(parent.path if parent else None, unit_id)
            await self.session.execute(update(units).where(units.c.id == unit_id).values(path=path))
            if existing is not None and existing.path != path:
                # Moved: its whole subtree moves along, listed in this file or not.
                await self.session.execute(
                    update(units)
                    .where(units.c.path.startswith(existing.path), units.c.id != unit_id)
                    .values(path=literal(path) + func.substr(units.c.path, len(existing.path) + 1))
                )
        return created, updated
