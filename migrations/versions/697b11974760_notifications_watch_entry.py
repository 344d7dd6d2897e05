"""notifications: the watch entry a notification is about

So a notice of a meeting due, missed or raising an alarm links to its entry. Notifications written before this
keep no link.

Revision ID: 697b11974760
Revises: c85ffd9f993d
Create Date: 2026-12-07 02:23:53.875573

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '697b11974760'
down_revision = 'c85ffd9f993d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watch_entry_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_notifications_watch_entry_id_watch_entries'), 'watch_entries',
                                    ['watch_entry_id'], ['id'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_watch_entry_id_watch_entries'), type_='foreignkey')
        batch_op.drop_column('watch_entry_id')
