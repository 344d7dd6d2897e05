"""persons: one with an invalid ID number and no phone is matched by name + that number, not name + address

Before, two people of the same name and village with different mistyped ID numbers (and no phone) became one
person. Their keys are recomputed here (the app's keys: flask db upgrade runs inside the app); a key another
person already holds is left as it was.

Revision ID: f3b8d2a6c1e9
Revises: e7a2c4f91b36
Create Date: 2026-11-22 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d2a6c1e9'
down_revision = 'e7a2c4f91b36'
branch_labels = None
depends_on = None

persons = sa.table('persons', sa.column('id', sa.Integer), sa.column('match_key', sa.String),
                   sa.column('name', sa.String), sa.column('id_number', sa.Text), sa.column('id_valid', sa.Boolean),
                   sa.column('phone', sa.Text))


def upgrade():
    from dissuasion.privacy.pii import decrypt, person_match_key
    conn = op.get_bind()
    taken = set(conn.execute(sa.select(persons.c.match_key)).scalars())
    rows = conn.execute(sa.select(persons.c.id, persons.c.match_key, persons.c.name, persons.c.id_number).where(
        persons.c.id_number.isnot(None), persons.c.id_valid.is_(False), persons.c.phone.is_(None),
        persons.c.match_key.like('a%'))).all()
    for person_id, old, name, stored in rows:
        number = decrypt(stored)
        new = person_match_key(number, False, name or "", "", "") if number else old
        if new != old and new not in taken:
            conn.execute(persons.update().where(persons.c.id == person_id).values(match_key=new))
            taken.add(new)


def downgrade():
    pass  # the old keys merged different people; nothing to restore
