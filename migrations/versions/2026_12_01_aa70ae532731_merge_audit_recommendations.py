"""merge audit recommendations

Revision ID: aa70ae532731
Revises: 52365de8ed8f, 9afcf822a368
Create Date: 2026-12-01 14:14:59.258388

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'aa70ae532731'
down_revision = ('52365de8ed8f', '9afcf822a368')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
