"""fhir export subject: whose data a Bulk Data export holds

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'fhir_export_subject',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.String(length=36), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ['job_id'],
            ['fhir_export_job.id'],
            name=op.f('fk_fhir_export_subject_job_id_fhir_export_job'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fhir_export_subject')),
    )
    with op.batch_alter_table('fhir_export_subject', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fhir_export_subject_job_id'), ['job_id'], unique=False)


def downgrade():
    with op.batch_alter_table('fhir_export_subject', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fhir_export_subject_job_id'))

    op.drop_table('fhir_export_subject')
