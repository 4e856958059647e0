"""households: flats of each compound, the residents who claim them (confirmed by the household
contact or the branch), household contacts (党群中心户) and their appointment links; a ticket's
flat and whom a proxy (代办) filed it for; the scorecards count proxy ratings apart

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORECARDS = ("unit_days", "unit_months")
PROXY_COUNTERS = ("proxy_rated", "proxy_pleased")


def upgrade() -> None:
    op.create_table(
        "flats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=True),
        sa.Column("representative_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_flats_compound_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flats")),
        sa.UniqueConstraint(
            "compound_id",
            "building",
            "unit",
            "number",
            name=op.f("uq_flats_compound_id_building_unit_number"),
        ),
    )
    op.create_table(
        "residents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tenure", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["flat_id"], ["flats.id"], name=op.f("fk_residents_flat_id_flats")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_residents_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_residents")),
    )
    op.create_index("ix_residents_flat_id_status", "residents", ["flat_id", "status"])
    op.create_index("ix_residents_user_id_status", "residents", ["user_id", "status"])
    op.create_table(
        "household_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("appointed_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_household_contacts_compound_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_household_contacts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_contacts")),
    )
    op.create_index(
        "ix_household_contacts_user_id", "household_contacts", ["user_id"], unique=False
    )
    op.create_index(
        "ix_household_contacts_compound_id_building",
        "household_contacts",
        ["compound_id", "building", "unit"],
    )
    op.create_table(
        "contact_invites",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("building", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_contact_invites_compound_id_units")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_contact_invites")),
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flat_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("proxy_for", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_complaints_flat_id", ["flat_id"], unique=False)
    with op.batch_alter_table("lostfound", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proxy_for", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("flat_id", sa.Integer(), nullable=True))
    op.create_table(
        "proxy_signups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("signed_by", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name=op.f("fk_proxy_signups_activity_id_activities")
        ),
        sa.ForeignKeyConstraint(
            ["resident_id"], ["residents.id"], name=op.f("fk_proxy_signups_resident_id_residents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_signups")),
        sa.UniqueConstraint(
            "activity_id", "resident_id", name=op.f("uq_proxy_signups_activity_id_resident_id")
        ),
    )
    op.create_index("ix_proxy_signups_activity_id", "proxy_signups", ["activity_id"])
    for table in SCORECARDS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in PROXY_COUNTERS:
                batch_op.add_column(
                    sa.Column(name, sa.Integer(), nullable=False, server_default="0")
                )


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch would copy and drop the table,
    # which the foreign keys of the tables that refer to it forbid once they hold rows.
    for table in SCORECARDS:
        for name in PROXY_COUNTERS:
            op.drop_column(table, name)
    op.drop_index("ix_proxy_signups_activity_id", table_name="proxy_signups")
    op.drop_table("proxy_signups")
    op.drop_column("lostfound", "flat_id")
    op.drop_column("lostfound", "proxy_for")
    op.drop_index("ix_complaints_flat_id", table_name="complaints")
    op.drop_column("complaints", "proxy_for")
    op.drop_column("complaints", "flat_id")
    op.drop_table("contact_invites")
    op.drop_index("ix_household_contacts_compound_id_building", table_name="household_contacts")
    op.drop_index("ix_household_contacts_user_id", table_name="household_contacts")
    op.drop_table("household_contacts")
    op.drop_index("ix_residents_user_id_status", table_name="residents")
    op.drop_index("ix_residents_flat_id_status", table_name="residents")
    op.drop_table("residents")
    op.drop_table("flats")
