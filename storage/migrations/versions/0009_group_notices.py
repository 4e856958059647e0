"""group notices: the found-item and activity notices posted in residents groups, kept so they
can be edited when the item is returned or expires and as an activity fills up or ends

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "group_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("shown", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_notices")),
    )
    with op.batch_alter_table("group_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_group_notices_kind_subject_id", ["kind", "subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("group_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_group_notices_kind_subject_id")
    op.drop_table("group_notices")
