"""merge risks

Revision ID: 9afcf822a368
Revises: b9bd0a5779b1, e109b6ee1f1b
Create Date: 2026-12-01 14:08:24.722781

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '9afcf822a368'
down_revision = ('b9bd0a5779b1', 'e109b6ee1f1b')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
