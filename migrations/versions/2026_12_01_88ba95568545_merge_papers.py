"""merge papers

Revision ID: 88ba95568545
Revises: 221e31c44fe3, a4c1d2e3f405
Create Date: 2026-12-01 14:25:56.388856

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '88ba95568545'
down_revision = ('221e31c44fe3', 'a4c1d2e3f405')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
