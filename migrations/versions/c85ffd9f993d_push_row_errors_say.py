"""push row errors: the message's key and values, to show it in the reader's language

A new nullable column; rows stored before it keep showing their Chinese message.

Revision ID: c85ffd9f993d
Revises: e847a1ac517c
Create Date: 2026-12-07 01:58:02.870317

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c85ffd9f993d'
down_revision = 'e847a1ac517c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('push_row_errors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('say', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('push_row_errors', schema=None) as batch_op:
        batch_op.drop_column('say')
