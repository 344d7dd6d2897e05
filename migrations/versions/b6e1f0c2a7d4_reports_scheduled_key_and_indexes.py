"""reports: scheduled_key (one Monday report per week and scope), indexes on cases.closed_at, followups.done_at

Revision ID: b6e1f0c2a7d4
Revises: 352bac68639b
Create Date: 2026-11-21 16:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6e1f0c2a7d4'
down_revision = '352bac68639b'
branch_labels = None
depends_on = None


def upgrade():
    # A unique key on the scheduler's reports: two runs, or two processes, store each Monday report once.
    with op.batch_alter_table('weekly_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_key', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_weekly_reports_scheduled_key'), ['scheduled_key'])
    # The weekly report counts closed cases and done follow-ups by week (bench/report.py).
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_closed_at'), ['closed_at'], unique=False)
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followups_done_at'), ['done_at'], unique=False)


def downgrade():
    with op.batch_alter_table('followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followups_done_at'))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_closed_at'))
    with op.batch_alter_table('weekly_reports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_weekly_reports_scheduled_key'), type_='unique')
        batch_op.drop_column('scheduled_key')
