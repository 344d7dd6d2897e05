"""cases: the first attempt and the first time someone was reached, kept apart

first_contact_at was set by any attempt, so one unanswered call counted as the first contact and met the contact
deadline. It becomes first_attempt_at; first_reached_at is new. Both are filled from the contacts already logged
(the earliest contact, and the earliest that reached the person or a relative).

Revision ID: a20f1c7e5b3d
Revises: a22c5e7d9b10
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a20f1c7e5b3d'
down_revision = 'a22c5e7d9b10'
branch_labels = None
depends_on = None

cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('first_attempt_at', sa.DateTime),
                 sa.column('first_reached_at', sa.DateTime))
contacts = sa.table('contacts', sa.column('case_id', sa.Integer), sa.column('reached', sa.String),
                    sa.column('contacted_at', sa.DateTime))


def _earliest(*where):
    return (sa.select(sa.func.min(contacts.c.contacted_at)).where(contacts.c.case_id == cases.c.id, *where)
            .scalar_subquery())


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('first_contact_at', new_column_name='first_attempt_at', existing_type=sa.DateTime(),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('first_reached_at', sa.DateTime(), nullable=True))
    has_contacts = sa.exists().where(contacts.c.case_id == cases.c.id)
    op.execute(cases.update().where(has_contacts).values(first_attempt_at=_earliest()))
    reached = sa.exists().where(contacts.c.case_id == cases.c.id, contacts.c.reached != 'none')
    op.execute(cases.update().where(reached).values(first_reached_at=_earliest(contacts.c.reached != 'none')))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('first_reached_at')
        batch_op.alter_column('first_attempt_at', new_column_name='first_contact_at', existing_type=sa.DateTime(),
                              existing_nullable=True)
