"""web form: contacts without Telegram, web invites (whom they are for) and browser sessions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contact') as batch:
        batch.alter_column('telegram_user_id', existing_type=sa.BigInteger(), nullable=True)
        batch.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=True)
    with op.batch_alter_table('invite') as batch:
        batch.add_column(
            sa.Column('channel', sa.String(), nullable=False, server_default='telegram')
        )
    op.create_table('web_link',
    sa.Column('invite_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(), nullable=False),
    sa.Column('phone', sa.String(), nullable=False),
    sa.ForeignKeyConstraint(['invite_id'], ['invite.id'], ),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.PrimaryKeyConstraint('invite_id')
    )
    op.create_index('ix_web_link_contact_id', 'web_link', ['contact_id'])
    op.create_table('web_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('invite_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['invite_id'], ['invite.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_web_session_token_hash', 'web_session', ['token_hash'], unique=True)
    op.create_index('ix_web_session_contact_id', 'web_session', ['contact_id'])


def downgrade() -> None:
    op.drop_index('ix_web_session_contact_id', table_name='web_session')
    op.drop_index('ix_web_session_token_hash', table_name='web_session')
    op.drop_table('web_session')
    op.drop_index('ix_web_link_contact_id', table_name='web_link')
    op.drop_table('web_link')
    with op.batch_alter_table('invite') as batch:
        batch.drop_column('channel')
    op.execute('DELETE FROM contact WHERE telegram_user_id IS NULL OR chat_id IS NULL')
    with op.batch_alter_table('contact') as batch:
        batch.alter_column('chat_id', existing_type=sa.BigInteger(), nullable=False)
        batch.alter_column('telegram_user_id', existing_type=sa.BigInteger(), nullable=False)
