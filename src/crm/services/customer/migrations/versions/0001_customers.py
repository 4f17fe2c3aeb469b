"""customers, outbox and inbox

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.migration_ops import create_platform_tables, drop_platform_tables
from crm.platform.types import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("phone", sa.String(50)),
        sa.Column("industry", sa.String(100)),
        sa.Column("size", sa.String(20)),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("created_by", sa.String(36)),
        sa.Column("source_user_id", sa.String(36), unique=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
    )
    op.create_index("ix_customers_owner", "customers", ["owner_id"])
    create_platform_tables(op)


def downgrade() -> None:
    drop_platform_tables(op)
    op.drop_table("customers")
