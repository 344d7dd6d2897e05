"""warnings entered by hand (who reported them), 退回 (not this county's), a lead's request to send a case back,
and the counter that numbers hand entries

Revision ID: a5d1c7e3b921
Revises: f3b8d2a6c1e9
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = 'a5d1c7e3b921'
down_revision = 'f3b8d2a6c1e9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_by', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('returned_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('returned_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('return_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.create_foreign_key('fk_warnings_returned_by_id_users', 'users', ['returned_by_id'], ['id'])
        batch_op.create_index('ix_warnings_returned_at', ['returned_at'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('return_request_reason', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'entry_counters',
        sa.Column('key', sa.String(length=60), nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name='pk_entry_counters'),
    )


def downgrade():
    op.drop_table('entry_counters')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('return_request_reason')
        batch_op.drop_column('return_requested_at')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index('ix_warnings_returned_at')
        batch_op.drop_constraint('fk_warnings_returned_by_id_users', type_='foreignkey')
        batch_op.drop_column('return_reason')
        batch_op.drop_column('returned_by_id')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('reported_by')
