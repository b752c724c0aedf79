"""submitted versions and their answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:00:00

Every submission keeps a snapshot of what was submitted (the archive prints it). A database
that already holds submissions gets one version for each: the answers as they stand at the
upgrade, the best record there is of what was sent.
"""

from alembic import op
import sqlalchemy as sa
import sqlmodel
import storage.types


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('submission_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('by_label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contact.id'], ),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('round_id', 'unit_id', 'version')
    )
    with op.batch_alter_table('submission_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_version_round_id'), ['round_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_version_unit_id'), ['unit_id'], unique=False)

    op.create_table('submitted_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('entry_version', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], ),
    sa.ForeignKeyConstraint(['version_id'], ['submission_version.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('version_id', 'task_id')
    )
    with op.batch_alter_table('submitted_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submitted_answer_version_id'), ['version_id'], unique=False)

    _snapshot_existing_submissions()


def _snapshot_existing_submissions() -> None:
    connection = op.get_bind()
    meta = sa.MetaData()
    submission = sa.Table('submission', meta, autoload_with=connection)
    entry = sa.Table('progress_entry', meta, autoload_with=connection)
    attachment = sa.Table('attachment', meta, autoload_with=connection)
    version = sa.Table('submission_version', meta, autoload_with=connection)
    answer = sa.Table('submitted_answer', meta, autoload_with=connection)
    for sub in connection.execute(sa.select(submission)).mappings().all():
        version_id = connection.execute(
            version.insert().values(
                round_id=sub['round_id'], unit_id=sub['unit_id'], version=sub['version'],
                at=sub['updated_at'], contact_id=sub['contact_id'], by_label='',
                source='bot', file_name='',
            )
        ).inserted_primary_key[0]
        entries = connection.execute(
            sa.select(entry).where(
                entry.c.round_id == sub['round_id'], entry.c.unit_id == sub['unit_id']
            )
        ).mappings().all()
        for row in entries:
            files = connection.execute(
                sa.select(attachment.c.id).where(attachment.c.entry_id == row['id'])
                .order_by(attachment.c.id)
            ).scalars().all()
            connection.execute(
                answer.insert().values(
                    version_id=version_id, task_id=row['task_id'], status=row['status'],
                    text=row['text'], reason=row['reason'], entry_version=row['version'],
                    evidence=list(files),
                )
            )


def downgrade() -> None:
    with op.batch_alter_table('submitted_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submitted_answer_version_id'))

    op.drop_table('submitted_answer')
    with op.batch_alter_table('submission_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_version_unit_id'))
        batch_op.drop_index(batch_op.f('ix_submission_version_round_id'))

    op.drop_table('submission_version')
