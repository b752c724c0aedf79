"""review decisions: the office accepts a submitted version, or returns it with a comment

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 10:00:00
"""

from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('review_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.String(), nullable=False),
    sa.Column('by_user_id', sa.BigInteger(), nullable=True),
    sa.Column('by_label', sa.String(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_review_decision_round_id', 'review_decision', ['round_id'])
    op.create_index('ix_review_decision_unit_id', 'review_decision', ['unit_id'])


def downgrade() -> None:
    op.drop_index('ix_review_decision_unit_id', table_name='review_decision')
    op.drop_index('ix_review_decision_round_id', table_name='review_decision')
    op.drop_table('review_decision')
