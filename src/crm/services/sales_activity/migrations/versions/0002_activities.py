"""tasks, meetings and the customers projection

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("customer_id", sa.String(36)),
        sa.Column("opportunity_id", sa.String(36)),
        sa.Column("assignee_id", sa.String(36)),
        sa.Column("created_by", sa.String(36)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("due_date", UtcDateTime),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("origin_key", sa.String(100), unique=True),
        sa.Column("completed_at", UtcDateTime),
        sa.Column("completed_by", sa.String(36)),
        sa.Column("due_soon_notified_at", UtcDateTime),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_tasks_assignee", "tasks", ["assignee_id"])
    op.create_index("ix_tasks_customer", "tasks", ["customer_id"])
    op.create_index("ix_tasks_due_date", "tasks", ["due_date"])
    op.create_index("ix_tasks_created_by", "tasks", ["created_by"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("customer_id", sa.String(36), nullable=False),
        sa.Column("opportunity_id", sa.String(36)),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime),
        sa.Column("summary", sa.Text),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("location", sa.String(200)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_meetings_owner", "meetings", ["owner_id"])
    op.create_index("ix_meetings_customer", "meetings", ["customer_id"])
    op.create_index("ix_meetings_starts_at", "meetings", ["starts_at"])
    op.create_table(
        "customers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner_id", sa.String(36)),
        sa.Column("name", sa.String(200)),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("updated_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("customers")
    op.drop_table("meetings")
    op.drop_table("tasks")
