"""record versions: the records colleagues edit at once carry a version and who saved last

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:24:12.459622

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# Every model with sip_tracker.versions.Versioned. Existing rows start at version 1.
TABLES = (
    'sip_case',
    'person',
    'meeting',
    'user_account',
    'unit',
    'activity',
    'malomrade',
    'strategisk_inriktning',
    'plan_sakomrade',
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('lock_version', sa.Integer(), server_default='1', nullable=False)
            )
            batch_op.add_column(sa.Column('updated_by_id', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f'fk_{table}_updated_by_id_user_account'),
                'user_account',
                ['updated_by_id'],
                ['id'],
                ondelete='SET NULL',
            )


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f'fk_{table}_updated_by_id_user_account'), type_='foreignkey'
            )
            batch_op.drop_column('updated_by_id')
            batch_op.drop_column('lock_version')
