"""reminders and scheduler: send log and messages, reminder preferences, chief officer contacts, scheduler heartbeat

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 08:48:02.278433

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scheduler_heartbeats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_job', sa.String(length=100), nullable=True),
    sa.Column('last_job_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_job_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduler_heartbeats'))
    )
    op.create_table('partnership_reminder_settings',
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('chief_officer_email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_partnership_reminder_settings_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partnership_id', name=op.f('pk_partnership_reminder_settings'))
    )
    op.create_table('reminder_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('due_soon', sa.Enum('daily', 'weekly', 'off', name='duesoonfrequency', native_enum=False, length=20), nullable=False),
    sa.Column('updated_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_reminder_preferences'))
    )
    op.create_table('reminder_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'uncertain', 'suppressed', name='sendstatus', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reminder_sends_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder_sends')),
    sa.UniqueConstraint('recipient', 'kind', 'period', name=op.f('uq_reminder_sends_recipient_kind_period'))
    )
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_sends_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_sends_user_id'), ['user_id'], unique=False)

    op.create_table('reminder_messages',
    sa.Column('send_id', sa.Integer(), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['send_id'], ['reminder_sends.id'], name=op.f('fk_reminder_messages_send_id_reminder_sends'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('send_id', name=op.f('pk_reminder_messages'))
    )


def downgrade():
    op.drop_table('reminder_messages')
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reminder_sends_user_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_sends_status'))

    op.drop_table('reminder_sends')
    op.drop_table('reminder_preferences')
    op.drop_table('partnership_reminder_settings')
    op.drop_table('scheduler_heartbeats')
