"""meetings: when a meeting was last moved, so answers given before the move show as such

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 00:40:00

"""
from alembic import op
import sqlalchemy as sa

import sip_tracker.db


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_at', sip_tracker.db.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('moved_at')
