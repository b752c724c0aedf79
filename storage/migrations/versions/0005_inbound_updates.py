"""inbound updates: stored before they are acknowledged, replacing processed_update

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 08:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_update',
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('bot_id', sa.BigInteger(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(), nullable=False),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.Column('received_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handled_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('update_id', 'bot_id')
    )
    op.create_index('ix_inbound_update_due', 'inbound_update', ['status', 'update_id'], unique=False)
    op.drop_table('processed_update')


def downgrade() -> None:
    op.create_table('processed_update',
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('bot_id', sa.BigInteger(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id', 'bot_id')
    )
    op.drop_index('ix_inbound_update_due', table_name='inbound_update')
    op.drop_table('inbound_update')
