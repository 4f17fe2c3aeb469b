"""signing keys, refresh tokens, API keys, login failures

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("private_key_pem", sa.Text, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("retired_at", UtcDateTime),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("used_at", UtcDateTime),
        sa.Column("revoked_at", UtcDateTime),
        sa.Column("access_token_id", sa.String(64), nullable=False),
        sa.Column("access_expires_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_refresh_family", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_user", "refresh_tokens", ["user_id"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("last_used_at", UtcDateTime),
        sa.Column("revoked_at", UtcDateTime),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["scope", "key", "at"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("api_keys")
    op.drop_table("refresh_tokens")
    op.drop_table("signing_keys")
