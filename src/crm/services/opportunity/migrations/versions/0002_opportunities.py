"""opportunities, approvals and the customers projection

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime
from crm.services.opportunity.models import Money

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("probability", sa.Integer, nullable=False),
        sa.Column("expected_close_date", sa.Date),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("activity_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_activity_at", UtcDateTime),
        sa.Column("closed_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.Column("deleted_at", UtcDateTime),
    )
    op.create_index("ix_opportunities_owner", "opportunities", ["owner_id"])
    op.create_index("ix_opportunities_customer", "opportunities", ["customer_id"])
    op.create_index("ix_opportunities_stage", "opportunities", ["stage"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("opportunity_id", sa.String(36), sa.ForeignKey("opportunities.id"), nullable=False),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("requester_id", sa.String(36), nullable=False),
        sa.Column("approver_role", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(36)),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("comment", sa.Text),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_approvals_status_role", "approvals", ["status", "approver_role"])
    op.create_index("ix_approvals_opportunity", "approvals", ["opportunity_id"])
    op.create_index("ix_approvals_requester", "approvals", ["requester_id"])
    op.create_index("ix_approvals_customer", "approvals", ["customer_id"])
    op.create_index(
        "ux_approvals_one_pending",
        "approvals",
        ["opportunity_id"],
        unique=True,
        postgresql_where=sa.text("status = 'PENDING'"),
        sqlite_where=sa.text("status = 'PENDING'"),
    )


def downgrade() -> None:
    op.drop_table("approvals")
    op.drop_table("opportunities")
    op.drop_table("customers")
