"""watch lists: kinds, entries with two responsible people, meetings; the 考评 weights

New tables only. The two kinds the product comes with (重复预警关注, 涉诈回流人员) are written here; weights start
empty (each indicator's default applies until an admin sets one).

Revision ID: b25c0a7e9d14
Revises: a20f1c7e5b3d
Create Date: 2026-12-06 11:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b25c0a7e9d14'
down_revision = 'a20f1c7e5b3d'
branch_labels = None
depends_on = None


def upgrade():
    kinds = op.create_table('watch_kinds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('name')
    )
    op.create_table('watch_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind_id', sa.Integer(), nullable=False),
    sa.Column('precinct_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('cadre_name', sa.String(length=64), nullable=False),
    sa.Column('cadre_phone', sa.String(length=32), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'ended', name='watchstatus', native_enum=False, length=20), nullable=False),
    sa.Column('next_due_at', sa.DateTime(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('due_told_for', sa.DateTime(), nullable=True),
    sa.Column('missed_told_for', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], ),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['kind_id'], ['watch_kinds.id'], ),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], ),
    sa.ForeignKeyConstraint(['precinct_id'], ['precincts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('watch_entries', schema=None) as batch_op:
        batch_op.create_index('ix_watch_entries_due', ['status', 'next_due_at'], unique=False)
        batch_op.create_index('ix_watch_entries_precinct', ['precinct_id', 'officer_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entries_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_entries_person_id'), ['person_id'], unique=False)

    op.create_table('watch_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('met_at', sa.DateTime(), nullable=False),
    sa.Column('met_by', sa.Enum('officer', 'cadre', 'both', name='metby', native_enum=False, length=20), nullable=False),
    sa.Column('method', sa.Enum('visit', 'phone', 'video', name='meetingmethod', native_enum=False, length=20), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('observed', sa.Text(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('alarm', sa.Boolean(), nullable=False),
    sa.Column('alerted_at', sa.DateTime(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['watch_entries.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('watch_meetings', schema=None) as batch_op:
        batch_op.create_index('ix_watch_meetings_met', ['met_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_watch_meetings_entry_id'), ['entry_id'], unique=False)

    op.create_table('assessment_weights',
    sa.Column('indicator', sa.String(length=32), nullable=False),
    sa.Column('weight', sa.Numeric(precision=6, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('indicator')
    )
    op.bulk_insert(kinds, [{'code': 'repeat', 'name': '重复预警关注', 'active': True},
                           {'code': 'returnee', 'name': '涉诈回流人员', 'active': True}])


def downgrade():
    op.drop_table('assessment_weights')
    with op.batch_alter_table('watch_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_meetings_entry_id'))
        batch_op.drop_index('ix_watch_meetings_met')
    op.drop_table('watch_meetings')
    with op.batch_alter_table('watch_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watch_entries_person_id'))
        batch_op.drop_index(batch_op.f('ix_watch_entries_case_id'))
        batch_op.drop_index('ix_watch_entries_precinct')
        batch_op.drop_index('ix_watch_entries_due')
    op.drop_table('watch_entries')
    op.drop_table('watch_kinds')
