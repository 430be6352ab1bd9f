"""one outbox: every kind of e-mail in the send log (reminder_sends), in-flight state, backoff

The send log becomes the one outbox: password-reset e-mails queued in outbox_messages move into it (kind
"password_reset", key "outbox:<id>"; sent ones keep their date, their bodies were already cleared), and that
table goes. A row 'sending' (the old batch claim) becomes 'pending', except the first of each claim, which may
have reached the server: 'uncertain'. Failed rows get a time before which they are not retried.

Revision ID: d90959240700
Revises: e1bf010c4b95
Create Date: 2026-12-01 13:06:45

"""
from alembic import op
import sqlalchemy as sa

import tracker.types  # noqa: F401  (custom column types used below)


# revision identifiers, used by Alembic.
revision = 'd90959240700'
down_revision = 'e1bf010c4b95'
branch_labels = None
depends_on = None

SENDS = sa.table(
    'reminder_sends', sa.column('id', sa.Integer), sa.column('recipient', sa.String), sa.column('kind', sa.String),
    sa.column('period', sa.String), sa.column('user_id', sa.Integer), sa.column('recipient_name', sa.String),
    sa.column('subject', sa.String), sa.column('status', sa.String), sa.column('attempts', sa.Integer),
    sa.column('last_error', sa.String), sa.column('claim_token', sa.String),
    sa.column('claimed_at', tracker.types.UTCDateTime(timezone=True)),
    sa.column('created_at', tracker.types.UTCDateTime(timezone=True)),
    sa.column('sent_at', tracker.types.UTCDateTime(timezone=True)))
MESSAGES = sa.table('reminder_messages', sa.column('send_id', sa.Integer), sa.column('body_text', sa.Text),
                    sa.column('body_html', sa.Text))
OUTBOX = sa.table(
    'outbox_messages', sa.column('id', sa.Integer), sa.column('to_address', sa.String), sa.column('to_name', sa.String),
    sa.column('subject', sa.String), sa.column('body', sa.Text),
    sa.column('created_at', tracker.types.UTCDateTime(timezone=True)),
    sa.column('sent_at', tracker.types.UTCDateTime(timezone=True)), sa.column('attempts', sa.Integer),
    sa.column('last_error', sa.String))
#: The kind the old outbox_messages table held: carried back there on a downgrade (the others stay queued).
OUTBOX_KINDS = ('password_reset',)


def upgrade():
    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', tracker.types.UTCDateTime(timezone=True), nullable=True))

    bind = op.get_bind()
    first_of_claims = (sa.select(sa.func.min(SENDS.c.id)).where(SENDS.c.status == 'sending')
                       .group_by(SENDS.c.claim_token))
    bind.execute(SENDS.update().where(SENDS.c.status == 'sending', SENDS.c.id.in_(first_of_claims)).values(
        status='uncertain', claim_token=None,
        last_error='Its sender stopped while the server may have been receiving it: it may or may not have '
                   'been delivered.'))
    bind.execute(SENDS.update().where(SENDS.c.status == 'sending')
                 .values(status='pending', claim_token=None, claimed_at=None))

    queued = bind.execute(sa.select(OUTBOX).order_by(OUTBOX.c.id)).all()
    for row in queued:
        status = 'sent' if row.sent_at is not None else ('failed' if row.attempts else 'pending')
        send_id = bind.execute(SENDS.insert().values(
            recipient=row.to_address.strip().lower()[:254], kind='password_reset', period=f'outbox:{row.id}',
            user_id=None, recipient_name=row.to_name or '', subject=row.subject, status=status,
            attempts=row.attempts, last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
        ).returning(SENDS.c.id)).scalar()
        bind.execute(MESSAGES.insert().values(send_id=send_id, body_text=row.body, body_html=''))

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_pending')
    op.drop_table('outbox_messages')


def downgrade():
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('to_name', sa.String(length=200), nullable=True),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', tracker.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_pending', ['sent_at', 'id'], unique=False)

    bind = op.get_bind()
    moved = bind.execute(
        sa.select(SENDS, MESSAGES.c.body_text).join(MESSAGES, MESSAGES.c.send_id == SENDS.c.id, isouter=True)
        .where(SENDS.c.kind.in_(OUTBOX_KINDS)).order_by(SENDS.c.id)).all()
    for row in moved:
        bind.execute(OUTBOX.insert().values(
            to_address=row.recipient, to_name=row.recipient_name or None, subject=row.subject,
            body=row.body_text or '', created_at=row.created_at,
            sent_at=row.sent_at if row.status in ('sent', 'suppressed', 'uncertain') else None,
            attempts=row.attempts if row.status != 'uncertain' else max(row.attempts, 10),
            last_error=row.last_error))
    ids = [row.id for row in moved]
    if ids:
        bind.execute(MESSAGES.delete().where(MESSAGES.c.send_id.in_(ids)))
        bind.execute(SENDS.delete().where(SENDS.c.id.in_(ids)))
    bind.execute(SENDS.update().where(SENDS.c.status == 'in_flight').values(status='uncertain'))

    with op.batch_alter_table('reminder_sends', schema=None) as batch_op:
        batch_op.drop_column('next_attempt_at')
