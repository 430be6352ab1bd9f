"""sso: linked OpenID Connect identities; a partnership's SSO requirement and just-in-time domains

Revision ID: cde7de5e90f5
Revises: e1bf010c4b95
Create Date: 2026-12-01 12:52:54.000000

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'cde7de5e90f5'
down_revision = 'e1bf010c4b95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('joined_partnership_id', sa.Integer(), nullable=True),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['joined_partnership_id'], ['partnerships.id'],
                            name=op.f('fk_sso_identities_joined_partnership_id_partnerships')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sso_identities_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identities')),
    sa.UniqueConstraint('provider', 'subject', name=op.f('uq_sso_identities_provider_subject'))
    )
    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_identities_joined_partnership_id'), ['joined_partnership_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_sso_identities_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sso_required', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('sso_jit_domains', sa.String(length=2000), nullable=True))


def downgrade():
    # Linked identities and the SSO settings exist only for single sign-on: after a downgrade, people sign in
    # with passwords again (an administrator sends reset links to accounts made just in time).
    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('sso_jit_domains')
        batch_op.drop_column('sso_required')

    with op.batch_alter_table('sso_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_identities_user_id'))
        batch_op.drop_index(batch_op.f('ix_sso_identities_joined_partnership_id'))

    op.drop_table('sso_identities')
