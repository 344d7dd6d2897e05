"""notifications: keep the message's id and values (say), so each recipient reads it in their own language

Revision ID: e7a2c4f91b36
Revises: d41e7b9a2c55
Create Date: 2026-11-22 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a2c4f91b36'
down_revision = 'd41e7b9a2c55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('say', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('say')
