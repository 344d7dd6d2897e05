"""users: the TOTP secret is stored encrypted (AES-GCM under the PII keys, like ID and phone numbers)

Revision ID: d41e7b9a2c55
Revises: c3a9e5d17f20
Create Date: 2026-11-21 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd41e7b9a2c55'
down_revision = 'c3a9e5d17f20'
branch_labels = None
depends_on = None

users = sa.table('users', sa.column('id', sa.Integer), sa.column('totp_secret', sa.Text))


def _rewrite(convert) -> None:
    """Each stored secret through convert (the app's keys: flask db upgrade runs inside the app)."""
    conn = op.get_bind()
    rows = conn.execute(sa.select(users.c.id, users.c.totp_secret).where(users.c.totp_secret.isnot(None))).all()
    for user_id, secret in rows:
        conn.execute(users.update().where(users.c.id == user_id).values(totp_secret=convert(secret)))


def upgrade():
    from dissuasion.privacy.pii import encrypt, key_id_of
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=True)
    _rewrite(lambda secret: secret if key_id_of(secret) else encrypt(secret))


def downgrade():
    from dissuasion.privacy.pii import decrypt
    _rewrite(decrypt)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=True)
