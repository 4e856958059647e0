"""topics: the 红色议事厅 — residents' proposals (议题), the households that support them, the
households' ballots, objections while a decision is made public (公示) and the ratings of how it
was carried out

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 08:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("proposer_id", sa.BigInteger(), nullable=False),
        sa.Column("flat_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photos", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("supporters", sa.Integer(), nullable=False),
        sa.Column("taken_up_at", sa.DateTime(), nullable=True),
        sa.Column("answer_due_at", sa.DateTime(), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=False),
        sa.Column("minutes_photos", sa.Text(), nullable=False),
        sa.Column("rule", sa.String(length=8), nullable=True),
        sa.Column("consulted", sa.Text(), nullable=False),
        sa.Column("reviewed", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("vote_opens_at", sa.DateTime(), nullable=True),
        sa.Column("vote_closes_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("electorate", sa.Integer(), nullable=False),
        sa.Column("total_flats", sa.Integer(), nullable=False),
        sa.Column("total_area", sa.BigInteger(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=True),
        sa.Column("no", sa.Integer(), nullable=True),
        sa.Column("abstain", sa.Integer(), nullable=True),
        sa.Column("yes_area", sa.BigInteger(), nullable=True),
        sa.Column("no_area", sa.BigInteger(), nullable=True),
        sa.Column("abstain_area", sa.BigInteger(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("public_until", sa.DateTime(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _fk("topics", "compound_id", "units"),
        _fk("topics", "proposer_id", "users"),
        _fk("topics", "flat_id", "flats"),
        _fk("topics", "activity_id", "activities"),
        _fk("topics", "unit_id", "units"),
        _fk("topics", "complaint_id", "complaints"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topics")),
        sa.UniqueConstraint("complaint_id", name=op.f("uq_topics_complaint_id")),
    )
    op.create_index("ix_topics_next_check_at", "topics", ["next_check_at"])
    op.create_index("ix_topics_compound_id_status", "topics", ["compound_id", "status"])
    for name in ("topic_supports", "topic_ballots"):
        extra = (
            [
                sa.Column("vote", sa.String(length=8), nullable=False),
                sa.Column("area", sa.BigInteger(), nullable=False),
                sa.Column("changes", sa.Integer(), nullable=False),
                sa.Column("cast_at", sa.DateTime(), nullable=False),
                sa.Column("changed_at", sa.DateTime(), nullable=False),
            ]
            if name == "topic_ballots"
            else [sa.Column("created_at", sa.DateTime(), nullable=False)]
        )
        op.create_table(
            name,
            sa.Column("topic_id", sa.Integer(), nullable=False),
            sa.Column("flat_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.BigInteger(), nullable=False),
            *extra,
            _fk(name, "topic_id", "topics"),
            _fk(name, "flat_id", "flats"),
            _fk(name, "user_id", "users"),
            sa.PrimaryKeyConstraint("topic_id", "flat_id", name=op.f(f"pk_{name}")),
        )
        op.create_index(f"ix_{name}_user_id", name, ["user_id"])
    op.create_table(
        "topic_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("topic_objections", "topic_id", "topics"),
        _fk("topic_objections", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topic_objections")),
        sa.UniqueConstraint(
            "topic_id", "user_id", name=op.f("uq_topic_objections_topic_id_user_id")
        ),
    )
    op.create_table(
        "topic_ratings",
        sa.Column("topic_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("rating", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        _fk("topic_ratings", "topic_id", "topics"),
        _fk("topic_ratings", "user_id", "users"),
        sa.PrimaryKeyConstraint("topic_id", "user_id", name=op.f("pk_topic_ratings")),
    )


def downgrade() -> None:
    op.drop_table("topic_ratings")
    op.drop_table("topic_objections")
    for name in ("topic_ballots", "topic_supports"):
        op.drop_index(f"ix_{name}_user_id", table_name=name)
        op.drop_table(name)
    op.drop_index("ix_topics_compound_id_status", table_name="topics")
    op.drop_index("ix_topics_next_check_at", table_name="topics")
    op.drop_table("topics")
