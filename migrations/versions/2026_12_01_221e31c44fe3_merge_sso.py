"""merge sso

Revision ID: 221e31c44fe3
Revises: aa70ae532731, cde7de5e90f5
Create Date: 2026-12-01 14:17:33.618414

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '221e31c44fe3'
down_revision = ('aa70ae532731', 'cde7de5e90f5')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
