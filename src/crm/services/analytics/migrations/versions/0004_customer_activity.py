"""customer_activity: each customer's timeline, one line per event about it or its work

Revision ID: 0004
Revises: 0003

Starts empty: ``crm analytics rebuild`` fills it from the topics' retained events.
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_activity",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("actor_id", sa.String(36)),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_index("ix_customer_activity_customer", "customer_activity", ["customer_id", "at"])


def downgrade() -> None:
    op.drop_table("customer_activity")
