"""The read path (fhir/read.py): one statement checks the token, finds the resource, applies
the access rule and writes the audit row. What it answers, and what it logs, in each case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import func, make_url, select, text

from sip_tracker.audit.models import AuditEvent
from sip_tracker.config import ConfigError, load_config
from sip_tracker.db import db
from sip_tracker.fhir import read as read_path
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import ApiToken
from sip_tracker.fhir.read import _conninfo
from sip_tracker.fhir.tokens import issue_token, revoke_token
from sip_tracker.organizations.models import Huvudman
from tests.fhir_api.conftest import Api


def careplan(world) -> str:
    return f"CarePlan/{systems.careplan_id(world.case_id)}"


def read_rows() -> int:
    db.session.rollback()  # see what the read committed
    return db.session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "fhir.read")
    )


def postgresql_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip(
            "PostgreSQL only: the read path keeps its own connections there "
            "(make test runs it with SIP_TEST_DATABASE_URL)"
        )


def test_a_served_read_writes_one_audit_row_naming_the_token(api: Api, world):
    assert api.get(careplan(world)).status_code == 200
    assert read_rows() == 1
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fhir.read")).one()
    assert (row.person_id, row.case_id) == (world.person_id, world.case_id)
    assert row.user_id is None and row.detail.endswith("(Journal)")


def test_a_304_an_unknown_id_and_a_hidden_case_write_no_audit_row(client, api: Api, world):
    assert api.get(careplan(world), **{"If-None-Match": 'W/"1"'}).status_code == 304
    assert api.get("CarePlan/sip-999999").status_code == 404
    assert Api(client, world.outsider_token).get(careplan(world)).status_code == 404
    assert read_rows() == 0
    # A stale ETag is a real read.
    assert api.get(careplan(world), **{"If-None-Match": 'W/"7"'}).status_code == 200
    assert read_rows() == 1


def test_an_organisation_holds_no_personal_data_and_is_not_logged(api: Api, world):
    bundle = api.get(f"Patient/{systems.patient_id(world.person_id)}/$everything").get_json()
    organisation = next(
        e["resource"]["id"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Organization"
    )
    before = read_rows()
    assert api.get(f"Organization/{organisation}").status_code == 200
    assert read_rows() == before


def test_a_revoked_token_is_401_and_logs_nothing(client, world, make):
    region = db.session.get(Huvudman, world.region_id)
    issued = issue_token(name="Gammal", huvudman=region, read=True, write=False)
    revoke_token(issued.row)
    make.commit()
    response = Api(client, issued.secret).get(careplan(world))
    assert response.status_code == 401
    assert response.get_json()["issue"][0]["code"] == "login"
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert read_rows() == 0


def test_a_token_without_read_scope_is_403_and_logs_nothing(client, world, make):
    region = db.session.get(Huvudman, world.region_id)
    writer = issue_token(name="Bara skrivning", huvudman=region, read=False, write=True).secret
    make.commit()
    response = Api(client, writer).get(careplan(world))
    assert response.status_code == 403
    assert response.get_json()["issue"][0]["code"] == "forbidden"
    assert read_rows() == 0


def test_an_unknown_type_is_404_for_a_good_token_and_401_for_a_bad_one(client, api: Api, world):
    response = api.get("Observation/1")
    assert response.status_code == 404
    assert "Observation" in response.get_json()["issue"][0]["diagnostics"]
    assert Api(client, "sip_nonsense").get("Observation/1").status_code == 401


def test_a_read_records_when_the_token_was_last_used_once_a_minute(api: Api, world):
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Journal")).one()
    assert token.last_used_at is None
    api.get(careplan(world))
    db.session.rollback()
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None
    api.get(careplan(world))
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).last_used_at == first
    # A minute on, the next read records the time again.
    db.session.get(ApiToken, token.id).last_used_at = first - timedelta(minutes=2)
    db.session.commit()
    api.get(careplan(world))
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).last_used_at > first - timedelta(minutes=1)


def test_reads_go_on_after_the_database_drops_the_connection(api: Api, world):
    postgresql_only()
    assert api.get(careplan(world)).status_code == 200
    # As a database restart or an idle timeout would: end every other session of this user.
    db.session.execute(
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    )
    db.session.commit()
    assert api.get(careplan(world)).status_code == 200
    assert read_rows() == 2


def test_the_read_connection_keeps_every_option_of_the_database_url():
    url = make_url(
        "postgresql+psycopg://sip:hemligt@db.example:5433/sip"
        "?options=-csearch_path%3Dsip%20-cstatement_timeout%3D5000&sslmode=require"
    )
    assert conninfo_to_dict(_conninfo(url)) == {
        "host": "db.example",
        "port": "5433",
        "user": "sip",
        "password": "hemligt",
        "dbname": "sip",
        "options": "-csearch_path=sip -cstatement_timeout=5000",
        "sslmode": "require",
    }


def read_connection_setting(app, api: Api, world) -> str:
    assert api.get(careplan(world)).status_code == 200
    conninfo = read_path._conninfo(db.engine.url)
    synchronous = app.config["FHIR_READ_AUDIT_COMMIT"] == "sync"
    # The connection that read is idle now: the next take gets it.
    cursor = read_path._connections.take(conninfo, synchronous=synchronous)
    try:
        return str(cursor.connection.execute("SHOW synchronous_commit").fetchone()[0])
    finally:
        read_path._connections.give_back(cursor, conninfo=conninfo, synchronous=synchronous)


def test_read_audit_rows_commit_without_waiting_for_the_disk_by_default(app, api: Api, world):
    postgresql_only()
    assert read_connection_setting(app, api, world) == "off"


def test_a_deployment_can_make_read_audit_rows_wait_for_the_disk(app, api: Api, world, monkeypatch):
    postgresql_only()
    monkeypatch.setitem(app.config, "FHIR_READ_AUDIT_COMMIT", "sync")
    assert read_connection_setting(app, api, world) == "on"
    assert read_rows() == 1


def test_an_unknown_read_audit_commit_mode_stops_the_app_with_one_clear_line(monkeypatch, tmp_path):
    monkeypatch.setenv("SIP_FHIR_READ_AUDIT_COMMIT", "sometimes")
    with pytest.raises(ConfigError, match="must be async or sync, not 'sometimes'"):
        load_config(str(tmp_path))


def test_simultaneous_reads_get_their_own_connections_and_reuse_them_after(ctx):
    postgresql_only()
    conninfo = read_path._conninfo(db.engine.url)
    pool = read_path._Connections()
    first = pool.take(conninfo, synchronous=False)
    second = pool.take(conninfo, synchronous=False)  # a second request while one runs
    pids = {c.connection.info.backend_pid for c in (first, second)}
    assert len(pids) == 2
    pool.give_back(first, conninfo=conninfo, synchronous=False)
    pool.give_back(second, conninfo=conninfo, synchronous=False)
    again = [pool.take(conninfo, synchronous=False) for _ in range(2)]
    assert {c.connection.info.backend_pid for c in again} == pids  # no new sessions
    # A connection for the other setting is never one opened for this one.
    for cursor in again:
        pool.give_back(cursor, conninfo=conninfo, synchronous=False)
    strict = pool.take(conninfo, synchronous=True)
    assert strict.connection.info.backend_pid not in pids
    assert strict.connection.execute("SHOW synchronous_commit").fetchone()[0] == "on"
    strict.connection.close()
