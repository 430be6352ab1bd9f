"""risks: risk registers, scored reviews (append-only), matrices, review reminders

Revision ID: b9bd0a5779b1
Revises: e1bf010c4b95
Create Date: 2026-12-01 13:03:19.617236

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'b9bd0a5779b1'
down_revision = 'e1bf010c4b95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('risk_matrices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('bands', sa.JSON(), nullable=False),
    sa.Column('updated_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_risk_matrices_partnership_id_partnerships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_matrices')),
    sa.UniqueConstraint('partnership_id', name=op.f('uq_risk_matrices_partnership_id'))
    )
    op.create_table('risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('categories', sa.String(length=500), nullable=False),
    sa.Column('mitigations', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('open', 'tolerated', 'closed', name='riskstatus', native_enum=False, length=20), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=True),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_risks_owner_id_users')),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_risks_partnership_id_partnerships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risks')),
    sa.UniqueConstraint('partnership_id', 'reference', name=op.f('uq_risks_partnership_id_reference'))
    )
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risks_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_risks_partnership_status', ['partnership_id', 'status'], unique=False)

    op.create_table('risk_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('review_date', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('queued_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_reminders_risk_id_risks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_risk_reminders_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_reminders')),
    sa.UniqueConstraint('risk_id', 'review_date', name=op.f('uq_risk_reminders_risk_id_review_date'))
    )
    with op.batch_alter_table('risk_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_reminders_user_id'), ['user_id'], unique=False)

    op.create_table('risk_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('open', 'tolerated', 'closed', name='riskstatus', native_enum=False, length=20), nullable=False),
    sa.Column('inherent_likelihood', sa.Integer(), nullable=False),
    sa.Column('inherent_impact', sa.Integer(), nullable=False),
    sa.Column('residual_likelihood', sa.Integer(), nullable=False),
    sa.Column('residual_impact', sa.Integer(), nullable=False),
    sa.Column('target_likelihood', sa.Integer(), nullable=False),
    sa.Column('target_impact', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_risk_reviews_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_reviews_risk_id_risks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_reviews'))
    )
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_reviews_reviewed_by_id'), ['reviewed_by_id'], unique=False)
        batch_op.create_index('ix_risk_reviews_risk_id_id', ['risk_id', 'id'], unique=False)

    op.create_table('risk_plans',
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_risk_plans_plan_id_plans')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_plans_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('risk_id', 'plan_id', name=op.f('pk_risk_plans'))
    )
    with op.batch_alter_table('risk_plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_plans_plan_id'), ['plan_id'], unique=False)

    op.create_table('risk_actions',
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['actions.id'], name=op.f('fk_risk_actions_action_id_actions')),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_actions_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('risk_id', 'action_id', name=op.f('pk_risk_actions'))
    )
    with op.batch_alter_table('risk_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_actions_action_id'), ['action_id'], unique=False)



def downgrade():
    with op.batch_alter_table('risk_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_actions_action_id'))

    op.drop_table('risk_actions')
    with op.batch_alter_table('risk_plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_plans_plan_id'))

    op.drop_table('risk_plans')
    with op.batch_alter_table('risk_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_risk_reviews_risk_id_id')
        batch_op.drop_index(batch_op.f('ix_risk_reviews_reviewed_by_id'))

    op.drop_table('risk_reviews')
    with op.batch_alter_table('risk_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_reminders_user_id'))

    op.drop_table('risk_reminders')
    with op.batch_alter_table('risks', schema=None) as batch_op:
        batch_op.drop_index('ix_risks_partnership_status')
        batch_op.drop_index(batch_op.f('ix_risks_owner_id'))

    op.drop_table('risks')
    op.drop_table('risk_matrices')
