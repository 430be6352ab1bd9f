"""issued_papers: the PDF paper and covering report issued in a set with each workbook, with checksums

Revision ID: a4c1d2e3f405
Revises: e1bf010c4b95
Create Date: 2026-12-01 13:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4c1d2e3f405'
down_revision = 'e1bf010c4b95'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issued_papers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workbook_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['workbook_id'], ['issued_workbooks.id'],
                            name=op.f('fk_issued_papers_workbook_id_issued_workbooks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_papers')),
    sa.UniqueConstraint('workbook_id', 'kind', name=op.f('uq_issued_papers_workbook_id_kind'))
    )
    with op.batch_alter_table('issued_papers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_papers_workbook_id'), ['workbook_id'], unique=False)


def downgrade():
    # Refuse rather than drop issued papers silently: they are the record of what a committee was sent.
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM issued_papers")).scalar():
        raise RuntimeError("issued_papers holds issued committee papers: back them up and remove them before "
                           "downgrading.")
    with op.batch_alter_table('issued_papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_papers_workbook_id'))
    op.drop_table('issued_papers')
