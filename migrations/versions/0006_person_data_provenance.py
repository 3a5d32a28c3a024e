"""who recorded a person's details and each närstående

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 22:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('registered_by_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_person_registered_by_unit_id_unit'), 'unit', ['registered_by_unit_id'], ['id']
        )
    with op.batch_alter_table('related_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_unit_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_related_person_recorded_by_unit_id_unit'), 'unit', ['recorded_by_unit_id'], ['id']
        )
    # Until now the unit that started a person's first case registered them.
    op.execute(
        "UPDATE person SET registered_by_unit_id = (SELECT c.initiating_unit_id FROM sip_case c"
        " WHERE c.person_id = person.id ORDER BY c.id LIMIT 1)"
    )
    op.execute(
        "UPDATE related_person SET recorded_by_unit_id = (SELECT p.registered_by_unit_id"
        " FROM person p WHERE p.id = related_person.person_id)"
    )


def downgrade():
    with op.batch_alter_table('related_person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_related_person_recorded_by_unit_id_unit'), type_='foreignkey')
        batch_op.drop_column('recorded_by_unit_id')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_person_registered_by_unit_id_unit'), type_='foreignkey')
        batch_op.drop_column('registered_by_unit_id')
