"""security, second round: API tokens expire and are revoked with a time, remember their last address; a TOTP code
is good once (the last step used is kept); ID and mobile numbers typed into free text are stored encrypted

Existing tokens get 90 days from now (not from their creation: a token in use today must not stop without
warning at the upgrade). Notes, reasons and case-timeline messages holding a number are encrypted here with the
app's keys (flask db upgrade runs inside the app); the downgrade writes them back in plain text.

Revision ID: a22c5e7d9b10
Revises: a24c7e5d9b10
Create Date: 2026-12-06 11:00:00

"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a22c5e7d9b10'
down_revision = 'a24c7e5d9b10'
branch_labels = None
depends_on = None

#: (table, column) of the free text people type.
FREE_TEXT = (('warnings', 'reason'), ('warnings', 'notes'), ('contacts', 'note'), ('followups', 'note'),
             ('case_events', 'message'))


def _rewrite(convert) -> None:
    conn = op.get_bind()
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    for name, column in FREE_TEXT:
        if name not in tables:
            continue
        table = sa.table(name, sa.column('id', sa.Integer), sa.column(column, sa.Text))
        rows = conn.execute(sa.select(table.c.id, table.c[column]).where(table.c[column].isnot(None),
                                                                         table.c[column] != '')).all()
        for row_id, value in rows:
            new = convert(value)
            if new != value:
                conn.execute(table.update().where(table.c.id == row_id).values({column: new}))


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_used_ip', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(), nullable=True))
    tokens = sa.table('api_tokens', sa.column('expires_at', sa.DateTime()))
    op.get_bind().execute(tokens.update().values(expires_at=dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=90)))
    encrypt_existing()


def encrypt_existing():
    """Every stored note, reason and timeline message that holds an ID or mobile number, encrypted."""
    from dissuasion.privacy.freetext import has_numbers
    from dissuasion.privacy.pii import CIPHER_PREFIX, encrypt
    _rewrite(lambda text: encrypt(text) if not text.startswith(CIPHER_PREFIX) and has_numbers(text) else text)


def downgrade():
    from dissuasion.privacy.pii import decrypt
    _rewrite(decrypt)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('last_used_ip')
        batch_op.drop_column('expires_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
