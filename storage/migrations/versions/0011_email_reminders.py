"""e-mail reminders: contacts' e-mail addresses and preference, the outbox's channel

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-19 10:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact') as batch:
        batch.add_column(sa.Column('email', sa.String(), nullable=False, server_default=''))
        batch.add_column(
            sa.Column('remind_by_email', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column('email_error', sa.String(), nullable=False, server_default=''))
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(
            sa.Column('channel', sa.String(), nullable=False, server_default='telegram')
        )
    op.create_index(
        'ix_outbox_channel_due', 'outbox', ['channel', 'status', 'next_attempt_at']
    )


def downgrade() -> None:
    op.drop_index('ix_outbox_channel_due', table_name='outbox')
    op.execute("DELETE FROM outbox WHERE channel = 'email'")
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('channel')
    with op.batch_alter_table('contact') as batch:
        batch.drop_column('email_error')
        batch.drop_column('remind_by_email')
        batch.drop_column('email')
