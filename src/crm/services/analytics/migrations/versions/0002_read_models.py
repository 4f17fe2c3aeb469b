"""read models: users, customers, tasks, meetings, opportunities, approvals, notifications, event counts

Revision ID: 0002
Revises: 0001
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(36), primary_key=True)


def _state_at() -> sa.Column[datetime]:
    return sa.Column("state_at", UtcDateTime)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("role", sa.String(20)),
        sa.Column("created_on", sa.Date),
        sa.Column("deleted", sa.Boolean, nullable=False),
        _state_at(),
    )
    op.create_index("ix_users_role", "users", ["deleted", "role"])
    op.create_table(
        "customers",
        _id(),
        sa.Column("industry", sa.String(100)),
        sa.Column("size", sa.String(20)),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("created_on", sa.Date),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("restored_count", sa.Integer, nullable=False),
        _state_at(),
    )
    op.create_index("ix_customers_industry", "customers", ["deleted", "industry"])
    op.create_index("ix_customers_size", "customers", ["deleted", "size"])
    op.create_index("ix_customers_created_on", "customers", ["created_on"])
    op.create_table(
        "tasks",
        _id(),
        sa.Column("kind", sa.String(20)),
        sa.Column("priority", sa.String(20)),
        sa.Column("status", sa.String(20)),
        sa.Column("assignee_id", sa.String(36)),
        sa.Column("due_date", UtcDateTime),
        sa.Column("created_on", sa.Date),
        sa.Column("completed_at", UtcDateTime),
        _state_at(),
    )
    op.create_index("ix_tasks_status_due", "tasks", ["status", "due_date"])
    op.create_index("ix_tasks_created_on", "tasks", ["created_on"])
    op.create_table(
        "meetings",
        _id(),
        sa.Column("status", sa.String(20)),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("starts_at", UtcDateTime),
        sa.Column("created_on", sa.Date),
        _state_at(),
    )
    op.create_index("ix_meetings_status", "meetings", ["status"])
    op.create_table(
        "opportunities",
        _id(),
        sa.Column("customer_id", sa.String(36)),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("stage", sa.String(20)),
        sa.Column("amount_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("created_on", sa.Date),
        _state_at(),
    )
    op.create_index("ix_opportunities_stage", "opportunities", ["stage", "currency"])
    op.create_table(
        "approvals",
        _id(),
        sa.Column("opportunity_id", sa.String(36)),
        sa.Column("requester_id", sa.String(36)),
        sa.Column("status", sa.String(20)),
        sa.Column("requested_at", UtcDateTime),
        sa.Column("decided_at", UtcDateTime),
        sa.Column("decision_seconds", sa.Float),
        _state_at(),
    )
    op.create_index("ix_approvals_status", "approvals", ["status"])
    op.create_table(
        "notifications",
        _id(),
        sa.Column("source_event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("subject_type", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_notifications_user", "notifications", ["user_id", "created_at"])
    op.create_table(
        "notification_reads",
        sa.Column("source_event_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("read_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "event_counts",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("event_type", sa.String(100), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "event_counts",
        "notification_reads",
        "notifications",
        "approvals",
        "opportunities",
        "meetings",
        "tasks",
        "customers",
        "users",
    ):
        op.drop_table(table)
