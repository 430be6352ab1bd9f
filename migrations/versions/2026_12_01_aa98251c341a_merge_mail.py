"""merge mail

Revision ID: aa98251c341a
Revises: c0599c5d1059, d90959240700
Create Date: 2026-12-01 14:44:30.917443

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'aa98251c341a'
down_revision = ('c0599c5d1059', 'd90959240700')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
