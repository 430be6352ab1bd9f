"""form tokens, kept forms and update corrections: no lost or doubled work

Revision ID: f0a5e7c2b913
Revises: e1bf010c4b95
Create Date: 2026-12-01 13:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'f0a5e7c2b913'
down_revision = 'e1bf010c4b95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('form_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('posted_to', sa.String(length=500), nullable=False),
    sa.Column('saved_url', sa.String(length=500), nullable=True),
    sa.Column('spent_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_tokens')),
    sa.UniqueConstraint('token', name=op.f('uq_form_tokens_token'))
    )
    with op.batch_alter_table('form_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_tokens_spent_at'), ['spent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('kept_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_kept_forms_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_forms')),
    sa.UniqueConstraint('key', name=op.f('uq_kept_forms_key'))
    )
    with op.batch_alter_table('kept_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_forms_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_forms_user_id'), ['user_id'], unique=False)

    op.create_table('update_corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_update_corrections_author_id_users')),
    sa.ForeignKeyConstraint(['update_id'], ['progress_updates.id'], name=op.f('fk_update_corrections_update_id_progress_updates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_update_corrections'))
    )
    with op.batch_alter_table('update_corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_update_corrections_update_id'), ['update_id'], unique=False)


def downgrade():
    # Spent tokens and kept forms are short-lived working state; corrections refuse to be dropped silently.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM update_corrections")).scalar():
        raise RuntimeError("update_corrections holds corrected narratives: export them before downgrading")
    with op.batch_alter_table('update_corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_update_corrections_update_id'))
    op.drop_table('update_corrections')
    with op.batch_alter_table('kept_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_forms_user_id'))
        batch_op.drop_index(batch_op.f('ix_kept_forms_created_at'))
    op.drop_table('kept_forms')
    with op.batch_alter_table('form_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_form_tokens_spent_at'))
    op.drop_table('form_tokens')
