"""indicators: definitions, yearly targets, values per period (append-only) and their breakdowns

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-22 08:18:02.834790

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('indicators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('unit', sa.Enum('count', 'percentage', 'hours', 'rate', name='unit', native_enum=False, length=20), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('higher_is_better', sa.Boolean(), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('responsible_officer_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_indicators_plan_id_plans')),
    sa.ForeignKeyConstraint(['responsible_officer_id'], ['users.id'], name=op.f('fk_indicators_responsible_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicators')),
    sa.UniqueConstraint('plan_id', 'name', name=op.f('uq_indicators_plan_id_name'))
    )
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicators_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_indicators_responsible_officer_id'), ['responsible_officer_id'], unique=False)

    op.create_table('indicator_items',
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_items_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['framework_items.id'], name=op.f('fk_indicator_items_item_id_framework_items')),
    sa.PrimaryKeyConstraint('indicator_id', 'item_id', name=op.f('pk_indicator_items'))
    )
    with op.batch_alter_table('indicator_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_items_item_id'), ['item_id'], unique=False)

    op.create_table('indicator_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('financial_year', sa.Integer(), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_targets_indicator_id_indicators'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_targets')),
    sa.UniqueConstraint('indicator_id', 'financial_year', name=op.f('uq_indicator_targets_indicator_id_financial_year'))
    )
    op.create_table('indicator_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_indicator_values_entered_by_id_users')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_indicator_values_indicator_id_indicators')),
    sa.ForeignKeyConstraint(['replaces_id'], ['indicator_values.id'], name=op.f('fk_indicator_values_replaces_id_indicator_values')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_indicator_values_replaces_id'))
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_entered_by_id'), ['entered_by_id'], unique=False)
        batch_op.create_index('ix_indicator_values_indicator_period', ['indicator_id', 'period_start'], unique=False)

    op.create_table('indicator_breakdowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.Enum('locality', 'protected_characteristic', name='dimension', native_enum=False, length=30), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['value_id'], ['indicator_values.id'], name=op.f('fk_indicator_breakdowns_value_id_indicator_values')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_breakdowns'))
    )
    with op.batch_alter_table('indicator_breakdowns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_breakdowns_value_id'), ['value_id'], unique=False)



def downgrade():
    with op.batch_alter_table('indicator_breakdowns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_breakdowns_value_id'))

    op.drop_table('indicator_breakdowns')
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_values_indicator_period')
        batch_op.drop_index(batch_op.f('ix_indicator_values_entered_by_id'))

    op.drop_table('indicator_values')
    op.drop_table('indicator_targets')
    with op.batch_alter_table('indicator_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_items_item_id'))

    op.drop_table('indicator_items')
    with op.batch_alter_table('indicators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicators_responsible_officer_id'))
        batch_op.drop_index(batch_op.f('ix_indicators_plan_id'))

    op.drop_table('indicators')
