"""staff roles and the audit trail of what staff do

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:10:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff') as batch:
        batch.add_column(sa.Column('role', sa.String(), nullable=False, server_default='admin'))
        batch.add_column(sa.Column('source', sa.String(), nullable=False, server_default='command'))
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.BigInteger(), nullable=True),
    sa.Column('actor_label', sa.String(), nullable=False),
    sa.Column('action', sa.String(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_event_action', 'audit_event', ['action'])
    op.create_index('ix_audit_event_round_id', 'audit_event', ['round_id'])
    op.create_index('ix_audit_event_unit_id', 'audit_event', ['unit_id'])


def downgrade() -> None:
    op.drop_index('ix_audit_event_unit_id', table_name='audit_event')
    op.drop_index('ix_audit_event_round_id', table_name='audit_event')
    op.drop_index('ix_audit_event_action', table_name='audit_event')
    op.drop_table('audit_event')
    with op.batch_alter_table('staff') as batch:
        batch.drop_column('source')
        batch.drop_column('role')
