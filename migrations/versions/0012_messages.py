"""case messages never changed once sent; their receipts given once

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 00:50:00

The triggers are a frozen copy of sip_tracker/audit/append_only.py (case_message and
message_receipt) as it was written with this revision: a sent message is never updated and
is deleted only with its case; a receipt is acknowledged once and goes only with its message.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


POSTGRESQL_CREATE = (
    """
CREATE OR REPLACE FUNCTION case_message_sent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM sip_case WHERE id = OLD.case_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'case_message is never changed once sent: DELETE '
            || 'refused (a message goes with its case)';
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'case_message is never changed once sent: UPDATE refused';
END;
$$
""",
    'CREATE TRIGGER case_message_sent BEFORE UPDATE OR DELETE ON case_message FOR EACH ROW EXECUTE FUNCTION case_message_sent()',
    """
CREATE OR REPLACE FUNCTION message_receipt_given_once() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM case_message WHERE id = OLD.message_id) THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION USING MESSAGE = 'message_receipt is given once: DELETE refused '
            || '(a receipt goes with its message)';
    END IF;
    IF NEW.message_id <> OLD.message_id OR NEW.unit_id <> OLD.unit_id
            OR OLD.acknowledged_at IS NOT NULL THEN
        RAISE EXCEPTION USING MESSAGE = 'message_receipt is given once: UPDATE refused';
    END IF;
    RETURN NEW;
END;
$$
""",
    'CREATE TRIGGER message_receipt_given_once BEFORE UPDATE OR DELETE ON message_receipt FOR EACH ROW EXECUTE FUNCTION message_receipt_given_once()',
)
POSTGRESQL_DROP = (
    'DROP TRIGGER IF EXISTS message_receipt_given_once ON message_receipt',
    'DROP TRIGGER IF EXISTS case_message_sent ON case_message',
    'DROP FUNCTION IF EXISTS message_receipt_given_once()',
    'DROP FUNCTION IF EXISTS case_message_sent()',
)
SQLITE_CREATE = (
    "CREATE TRIGGER case_message_no_update BEFORE UPDATE ON case_message BEGIN SELECT RAISE(ABORT, 'case_message is never changed once sent: UPDATE refused'); END",
    "CREATE TRIGGER case_message_no_delete BEFORE DELETE ON case_message WHEN EXISTS (SELECT 1 FROM sip_case WHERE id = OLD.case_id) BEGIN SELECT RAISE(ABORT, 'case_message is never changed once sent: DELETE refused (a message goes with its case)'); END",
    "CREATE TRIGGER message_receipt_given_once BEFORE UPDATE ON message_receipt WHEN NEW.message_id IS NOT OLD.message_id OR NEW.unit_id IS NOT OLD.unit_id OR OLD.acknowledged_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'message_receipt is given once: UPDATE refused'); END",
    "CREATE TRIGGER message_receipt_no_delete BEFORE DELETE ON message_receipt WHEN EXISTS (SELECT 1 FROM case_message WHERE id = OLD.message_id) BEGIN SELECT RAISE(ABORT, 'message_receipt is given once: DELETE refused (a receipt goes with its message)'); END",
)
SQLITE_DROP = (
    'DROP TRIGGER IF EXISTS message_receipt_no_delete',
    'DROP TRIGGER IF EXISTS message_receipt_given_once',
    'DROP TRIGGER IF EXISTS case_message_no_delete',
    'DROP TRIGGER IF EXISTS case_message_no_update',
)


def _run(postgresql, sqlite):
    dialect = op.get_bind().dialect.name
    for statement in postgresql if dialect == "postgresql" else sqlite:
        op.execute(statement)


def upgrade():
    _run(POSTGRESQL_CREATE, SQLITE_CREATE)


def downgrade():
    _run(POSTGRESQL_DROP, SQLITE_DROP)
