"""actions plan stamp index: the plan page's change stamp read from an index alone

Revision ID: b7c41e9d2f30
Revises: aa98251c341a
Create Date: 2026-12-01 16:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'b7c41e9d2f30'
down_revision = 'aa98251c341a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_actions_plan_stamp', 'actions', ['plan_id', 'id', 'version', 'updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_actions_plan_stamp', table_name='actions')
