"""merge forms

Revision ID: c0599c5d1059
Revises: 88ba95568545, f0a5e7c2b913
Create Date: 2026-12-01 14:31:01.046341

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'c0599c5d1059'
down_revision = ('88ba95568545', 'f0a5e7c2b913')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
