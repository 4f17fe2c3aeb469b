"""opportunities.closed_on: the day a deal reached WON or LOST, for the sales summary of a period

Revision ID: 0003
Revises: 0002

Deals already closed get the day of their last state change (their closing, since a stage change is the
only change after creation); ``crm analytics rebuild`` recomputes it from the events anyway.
"""

import sqlalchemy as sa
from alembic import op

from crm.platform.types import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_deals = sa.table(
    "opportunities",
    sa.column("id", sa.String),
    sa.column("stage", sa.String),
    sa.column("state_at", UtcDateTime),
    sa.column("closed_on", sa.Date),
)


def upgrade() -> None:
    op.add_column("opportunities", sa.Column("closed_on", sa.Date))
    op.create_index("ix_opportunities_closed_on", "opportunities", ["closed_on"])
    connection = op.get_bind()
    closed = connection.execute(
        sa.select(_deals.c.id, _deals.c.state_at).where(
            _deals.c.stage.in_(("WON", "LOST")), _deals.c.state_at.is_not(None)
        )
    ).all()
    for deal_id, state_at in closed:  # in Python: a timestamp's date is spelt differently per database
        connection.execute(_deals.update().where(_deals.c.id == deal_id).values(closed_on=state_at.date()))


def downgrade() -> None:
    op.drop_index("ix_opportunities_closed_on", "opportunities")
    op.drop_column("opportunities", "closed_on")
