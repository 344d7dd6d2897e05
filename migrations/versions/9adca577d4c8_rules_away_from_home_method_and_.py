"""rules: away-from-home method and relatives per tier

Revision ID: 9adca577d4c8
Revises: 8de7ccb3e819
Create Date: 2026-11-21 15:43:46.506376

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9adca577d4c8'
down_revision = '8de7ccb3e819'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows get SPEC's away-from-home rule: phone whatever the tier, relatives too for 高 and 特高危.
    with op.batch_alter_table('rule_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away_method', sa.Enum('visit', 'phone', 'sms', 'video', 'relatives', 'other', name='method', native_enum=False, length=20), nullable=False, server_default='phone'))
        batch_op.add_column(sa.Column('away_relatives', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE rule_settings SET away_relatives = TRUE WHERE tier IN ('extra_high', 'high')")


def downgrade():
    with op.batch_alter_table('rule_settings', schema=None) as batch_op:
        batch_op.drop_column('away_relatives')
        batch_op.drop_column('away_method')
