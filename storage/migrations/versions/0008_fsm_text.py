"""The FSM table's key and state as text: neither a storage key (it carries a business connection
id and a destiny) nor a state name (nested state groups) has a bound; PostgreSQL refused more than
128 characters where SQLite kept them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fsm", schema=None) as batch_op:
        batch_op.alter_column(
            "key", existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=False
        )
        batch_op.alter_column(
            "state", existing_type=sa.String(length=128), type_=sa.Text(), existing_nullable=True
        )


def downgrade() -> None:
    # Refused by PostgreSQL while a key or state longer than 128 characters is stored.
    with op.batch_alter_table("fsm", schema=None) as batch_op:
        batch_op.alter_column(
            "state", existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=True
        )
        batch_op.alter_column(
            "key", existing_type=sa.Text(), type_=sa.String(length=128), existing_nullable=False
        )
