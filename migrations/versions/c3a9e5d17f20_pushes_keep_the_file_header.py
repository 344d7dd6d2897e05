"""pushes: keep the file's header row (the error report puts the original rows under it)

Revision ID: c3a9e5d17f20
Revises: b6e1f0c2a7d4
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e5d17f20'
down_revision = 'b6e1f0c2a7d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headers', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('pushes', schema=None) as batch_op:
        batch_op.drop_column('headers')
