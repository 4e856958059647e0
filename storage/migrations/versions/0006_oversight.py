"""oversight: per-day unit scorecards (rebuilt from the existing trail), briefings, blue lights

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 16:31:37.426787
"""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import context, op

from bot.domain.complaints import BLUE_AT, Action
from bot.domain.rates import EMPTY, Event, Scorecard, replay

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The scorecards' counters as this revision made them (later revisions add columns of their own).
COUNTERS = (
    "handed", "signed", "signed_in_time", "sign_seconds", "completed", "complete_seconds",
    "returned", "closed", "resolved", "rated", "pleased",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "briefings",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "unit_id", "day", name=op.f("pk_briefings")),
    )
    for name, key in (("unit_days", "day"), ("unit_months", "month")):
        op.create_table(
            name,
            sa.Column(key, sa.Date(), nullable=False),
            sa.Column("unit_id", sa.Integer(), nullable=False),
            *(
                sa.Column(
                    c, sa.BigInteger() if c.endswith("_seconds") else sa.Integer(), nullable=False
                )
                for c in COUNTERS
            ),
            sa.PrimaryKeyConstraint(key, "unit_id", name=op.f(f"pk_{name}")),
        )
    for name, key in (("ticket_days", "day"), ("ticket_months", "month")):
        op.create_table(
            name,
            sa.Column(key, sa.Date(), nullable=False),
            sa.Column("compound_id", sa.Integer(), nullable=False),
            sa.Column("category", sa.String(length=32), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint(
                key, "compound_id", "category", "status", name=op.f(f"pk_{name}")
            ),
        )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blue_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            "ix_complaints_created",
            ["created_at", "compound_id", "category", "status"],
            unique=False,
        )
        batch_op.create_index("ix_complaints_queue", ["status", "unit_id", "due_at"], unique=False)
    _backfill()


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None else None


def _backfill() -> None:
    """Scorecards of every day so far, replayed from the trail with the rules the bot now writes
    them by; and when each open ticket's light turns blue."""
    bind = op.get_bind()
    zone = context.config.attributes.get("zone") or ZoneInfo("Asia/Shanghai")
    when = sa.DateTime()  # stored as naive UTC
    events = sa.table(
        "complaint_events",
        sa.column("id"),
        sa.column("complaint_id"),
        sa.column("at", when),
        sa.column("action"),
        sa.column("from_unit"),
        sa.column("to_unit"),
        sa.column("due_at", when),
        sa.column("note"),
        sa.column("actor_id"),
    )
    rows = bind.execute(sa.select(events).order_by(events.c.complaint_id, events.c.id)).mappings()
    trail = (
        Event(
            r["complaint_id"],
            _aware(r["at"]) or datetime.now(UTC),
            Action(r["action"]),
            r["from_unit"],
            r["to_unit"],
            _aware(r["due_at"]),
            r["note"] or "",
            r["actor_id"],
        )
        for r in rows
    )
    sums = replay(trail, zone)
    by_month: dict[tuple[date, int], Scorecard] = {}
    for (day, unit), card in sums.items():
        month = (day.replace(day=1), unit)
        by_month[month] = by_month.get(month, EMPTY) + card
    for name, column, cards in (("unit_days", "day", sums), ("unit_months", "month", by_month)):
        table = sa.table(name, sa.column(column), sa.column("unit_id"), *map(sa.column, COUNTERS))
        if cards:
            op.bulk_insert(
                table,
                [
                    {column: start, "unit_id": unit, **{n: getattr(card, n) for n in COUNTERS}}
                    for (start, unit), card in cards.items()
                ],
            )
    tickets = sa.table(
        "complaints",
        sa.column("id"),
        sa.column("window_start", when),
        sa.column("due_at", when),
        sa.column("blue_at", when),
        sa.column("created_at", when),
        sa.column("compound_id"),
        sa.column("category"),
        sa.column("status"),
    )
    reported = bind.execute(
        sa.select(tickets.c.created_at, tickets.c.compound_id, tickets.c.category, tickets.c.status)
    ).all()
    days: Counter[tuple[date, int, str, str]] = Counter()
    for created, compound, category, status in reported:
        day = created.replace(tzinfo=UTC).astimezone(zone).date()
        days[(day, compound, category, status)] += 1
    months: Counter[tuple[date, int, str, str]] = Counter()
    for (day, compound_id, category, status), n in days.items():
        months[(day.replace(day=1), compound_id, category, status)] += n
    for name, column, counts in (("ticket_days", "day", days), ("ticket_months", "month", months)):
        table = sa.table(
            name, *map(sa.column, (column, "compound_id", "category", "status", "count"))
        )
        if counts:
            op.bulk_insert(
                table,
                [
                    {
                        column: k[0],
                        "compound_id": k[1],
                        "category": k[2],
                        "status": k[3],
                        "count": n,
                    }
                    for k, n in counts.items()
                ],
            )
    timed = bind.execute(
        sa.select(tickets.c.id, tickets.c.window_start, tickets.c.due_at).where(
            tickets.c.due_at.is_not(None)
        )
    ).all()
    for ticket_id, start, due in timed:
        bind.execute(
            tickets.update()
            .where(tickets.c.id == ticket_id)
            .values(blue_at=start + (due - start) * BLUE_AT)
        )


def downgrade() -> None:
    op.drop_index("ix_complaints_queue", table_name="complaints")
    op.drop_index("ix_complaints_created", table_name="complaints")
    # A plain DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): a batch copy of a table other tables point
    # at fails with foreign keys on once it holds rows.
    op.drop_column("complaints", "blue_at")

    op.drop_table("ticket_months")
    op.drop_table("ticket_days")
    op.drop_table("unit_months")
    op.drop_table("unit_days")
    op.drop_table("briefings")
