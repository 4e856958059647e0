"""lost and found

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 12:12:10.843289
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "lostfound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("reporter_id", sa.BigInteger(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("held_at", sa.Text(), nullable=False),
        sa.Column("announce", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("pending_claim_id", sa.Integer(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["units.id"], name=op.f("fk_lostfound_compound_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_lostfound_reporter_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lostfound")),
    )
    with op.batch_alter_table("lostfound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lostfound_reporter_id"), ["reporter_id"], unique=False)
        batch_op.create_index(
            "ix_lostfound_status_created_at", ["status", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_lostfound_status_expires_at", ["status", "expires_at"], unique=False
        )

    op.create_table(
        "lostfound_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("found_id", sa.Integer(), nullable=False),
        sa.Column("lost_id", sa.Integer(), nullable=True),
        sa.Column("claimant_id", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claimant_id"], ["users.id"], name=op.f("fk_lostfound_claims_claimant_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["found_id"], ["lostfound.id"], name=op.f("fk_lostfound_claims_found_id_lostfound")
        ),
        sa.ForeignKeyConstraint(
            ["lost_id"], ["lostfound.id"], name=op.f("fk_lostfound_claims_lost_id_lostfound")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lostfound_claims")),
    )
    with op.batch_alter_table("lostfound_claims", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lostfound_claims_found_id"), ["found_id"], unique=False
        )

    op.create_table(
        "lostfound_matches",
        sa.Column("lost_id", sa.Integer(), nullable=False),
        sa.Column("found_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["found_id"], ["lostfound.id"], name=op.f("fk_lostfound_matches_found_id_lostfound")
        ),
        sa.ForeignKeyConstraint(
            ["lost_id"], ["lostfound.id"], name=op.f("fk_lostfound_matches_lost_id_lostfound")
        ),
        sa.PrimaryKeyConstraint("lost_id", "found_id", name=op.f("pk_lostfound_matches")),
    )
    with op.batch_alter_table("lostfound_matches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lostfound_matches_found_id"), ["found_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("lostfound_matches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lostfound_matches_found_id"))

    op.drop_table("lostfound_matches")
    with op.batch_alter_table("lostfound_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lostfound_claims_found_id"))

    op.drop_table("lostfound_claims")
    with op.batch_alter_table("lostfound", schema=None) as batch_op:
        batch_op.drop_index("ix_lostfound_status_expires_at")
        batch_op.drop_index("ix_lostfound_status_created_at")
        batch_op.drop_index(batch_op.f("ix_lostfound_reporter_id"))

    op.drop_table("lostfound")
