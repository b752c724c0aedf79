"""web console: one-time staff login links and staff browser sessions

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-12 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('staff_login_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_staff_login_link_token_hash', 'staff_login_link', ['token_hash'], unique=True)
    op.create_index('ix_staff_login_link_telegram_user_id', 'staff_login_link', ['telegram_user_id'])
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(), nullable=False),
    sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_staff_session_token_hash', 'staff_session', ['token_hash'], unique=True)
    op.create_index('ix_staff_session_telegram_user_id', 'staff_session', ['telegram_user_id'])


def downgrade() -> None:
    op.drop_index('ix_staff_session_telegram_user_id', table_name='staff_session')
    op.drop_index('ix_staff_session_token_hash', table_name='staff_session')
    op.drop_table('staff_session')
    op.drop_index('ix_staff_login_link_telegram_user_id', table_name='staff_login_link')
    op.drop_index('ix_staff_login_link_token_hash', table_name='staff_login_link')
    op.drop_table('staff_login_link')
