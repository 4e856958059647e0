"""stars: the 五星小区 criteria versions, each compound's monthly evaluation (run), the figures
behind it and the indicators the community enters with evidence

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "star_criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=7), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("example", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_star_criteria")),
        sa.UniqueConstraint("version", name=op.f("uq_star_criteria_version")),
    )
    op.create_table(
        "star_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("criteria_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("computed", sa.String(length=64), nullable=False),
        sa.Column("stars", sa.String(length=64), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=False),
        sa.Column("reviewed_by", sa.BigInteger(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("public_until", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_star_runs_compound_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["criteria_id"],
            ["star_criteria.id"],
            name=op.f("fk_star_runs_criteria_id_star_criteria"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_star_runs")),
        sa.UniqueConstraint("compound_id", "month", name=op.f("uq_star_runs_compound_id_month")),
    )
    op.create_index("ix_star_runs_month_status", "star_runs", ["month", "status"])
    op.create_table(
        "star_figures",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("star", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("part", sa.Float(), nullable=False),
        sa.Column("whole", sa.Float(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["star_runs.id"], name=op.f("fk_star_figures_run_id_star_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "indicator", name=op.f("pk_star_figures")),
    )
    op.create_table(
        "star_entries",
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("indicator", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.BigInteger(), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_star_entries_compound_id_units")
        ),
        sa.PrimaryKeyConstraint("compound_id", "month", "indicator", name=op.f("pk_star_entries")),
    )


def downgrade() -> None:
    op.drop_table("star_entries")
    op.drop_table("star_figures")
    op.drop_index("ix_star_runs_month_status", table_name="star_runs")
    op.drop_table("star_runs")
    op.drop_table("star_criteria")
