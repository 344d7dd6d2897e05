"""cases: worklist indexes cover the sort (precinct, holder, status, tier, due)

Revision ID: 2897da342b92
Revises: 9adca577d4c8
Create Date: 2026-11-21 16:04:25.758369

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2897da342b92'
down_revision = '9adca577d4c8'
branch_labels = None
depends_on = None


def upgrade():
    # tier and due_at in the index: the worklist sorts and counts from the index without reading rows.
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_worklist_assignee'))
        batch_op.drop_index(batch_op.f('ix_cases_worklist_precinct'))
        batch_op.create_index('ix_cases_worklist_precinct', ['precinct_id', 'status', 'tier', 'due_at'], unique=False)
        batch_op.create_index('ix_cases_worklist_holder', ['precinct_id', 'assignee_id', 'status', 'tier', 'due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_worklist_holder')
        batch_op.drop_index('ix_cases_worklist_precinct')
        batch_op.create_index(batch_op.f('ix_cases_worklist_precinct'), ['precinct_id', 'status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_worklist_assignee'), ['assignee_id', 'status', 'due_at'], unique=False)
