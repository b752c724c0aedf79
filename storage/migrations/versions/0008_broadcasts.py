"""broadcasts: the office's notices, their recipients and acknowledgements (收到)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('audience', sa.String(), nullable=False),
    sa.Column('audience_label', sa.String(), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('entities', sa.JSON(), nullable=False),
    sa.Column('attachment_kind', sa.String(), nullable=False),
    sa.Column('attachment_file_id', sa.String(), nullable=False),
    sa.Column('attachment_name', sa.String(), nullable=False),
    sa.Column('attachment_size', sa.Integer(), nullable=False),
    sa.Column('ask_ack', sa.Boolean(), nullable=False),
    sa.Column('timezone', sa.String(), nullable=False),
    sa.Column('scheduled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('created_by_label', sa.String(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress_chat_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_message_id', sa.BigInteger(), nullable=True),
    sa.Column('progress_shown', sa.JSON(), nullable=False),
    sa.Column('progress_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress_edits', sa.Integer(), nullable=False),
    sa.Column('reminders', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_broadcast_status', 'broadcast', ['status'])
    op.create_table('broadcast_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('outbox_key', sa.String(), nullable=False),
    sa.Column('acked_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acked_by_user_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('broadcast_id', 'contact_id')
    )
    op.create_index('ix_broadcast_recipient_broadcast_id', 'broadcast_recipient', ['broadcast_id'])
    op.create_index('ix_broadcast_recipient_outbox_key', 'broadcast_recipient', ['outbox_key'])


def downgrade() -> None:
    op.drop_index('ix_broadcast_recipient_outbox_key', table_name='broadcast_recipient')
    op.drop_index('ix_broadcast_recipient_broadcast_id', table_name='broadcast_recipient')
    op.drop_table('broadcast_recipient')
    op.drop_index('ix_broadcast_status', table_name='broadcast')
    op.drop_table('broadcast')
