"""party members and activities

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 13:25:52.578436
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("place", sa.String(length=128), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("signed", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("day_reminded_at", sa.DateTime(), nullable=True),
        sa.Column("hour_reminded_at", sa.DateTime(), nullable=True),
        sa.Column("settled_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_activities_compound_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activities_compound_id"), ["compound_id"], unique=False
        )
        batch_op.create_index("ix_activities_settled_ends", ["settled_at", "ends_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_activities_starts_at"), ["starts_at"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(), nullable=True),
        sa.Column("checked_out_at", sa.DateTime(), nullable=True),
        sa.Column("check_in_method", sa.String(length=16), nullable=True),
        sa.Column("check_out_method", sa.String(length=16), nullable=True),
        sa.Column("distance_m", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_attendance_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_attendance_user_id_users")
        ),
        sa.PrimaryKeyConstraint("activity_id", "user_id", name=op.f("pk_attendance")),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_user_id"), ["user_id"], unique=False)

    op.create_table(
        "party_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=128), nullable=False),
        sa.Column("workplace", sa.String(length=128), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_party_members_compound_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_party_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_members")),
    )
    with op.batch_alter_table("party_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_party_members_compound_status", ["compound_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_party_members_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("party_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_members_user_id"))
        batch_op.drop_index("ix_party_members_compound_status")

    op.drop_table("party_members")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_user_id"))

    op.drop_table("attendance")
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activities_starts_at"))
        batch_op.drop_index("ix_activities_settled_ends")
        batch_op.drop_index(batch_op.f("ix_activities_compound_id"))

    op.drop_table("activities")
    op.drop_table("files")
