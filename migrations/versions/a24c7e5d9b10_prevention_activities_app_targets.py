"""prevention: the publicity log (activities) and APP registration targets per community

Revision ID: a24c7e5d9b10
Revises: a5d1c7e3b921
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a24c7e5d9b10'
down_revision = 'a5d1c7e3b921'
branch_labels = None
depends_on = None

COUNTS = ('people', 'households', 'materials', 'banners', 'posts', 'app_registrations', 'officers')


def upgrade():
    op.create_table(
        'activities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('precinct_id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=True),
        sa.Column('place', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.Enum('lecture', 'community_visit', 'school', 'bank_company', 'street', 'van', 'banner',
                                  'leaflets', 'screen', 'social_media', 'registry_window', 'peak_policing', 'other',
                                  name='activitykind', native_enum=False, length=20), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('participants', sa.String(length=200), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['precinct_id'], ['precincts.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_precinct_day', ['precinct_id', 'held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_activities_community_id'), ['community_id'], unique=False)

    op.create_table(
        'app_targets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('target', sa.Integer(), nullable=False),
        sa.Column('since', sa.Date(), nullable=False),
        sa.Column('set_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['communities.id']),
        sa.ForeignKeyConstraint(['set_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id'),
    )


def downgrade():
    op.drop_table('app_targets')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_activities_community_id'))
        batch_op.drop_index('ix_activities_precinct_day')
    op.drop_table('activities')
