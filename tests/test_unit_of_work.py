"""One commit per request, after the view; services only flush; effects are named.

Issue 8, point 2: a reader of a service sees every effect, and a failure anywhere before the
commit leaves nothing half-written (neither the change, nor its audit row, nor its FHIR
version).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import func, select

import sip_tracker
from sip_tracker.audit.models import AuditEvent
from sip_tracker.cases import services as cases
from sip_tracker.cases.models import SipCase
from sip_tracker.db import db
from sip_tracker.fhir import systems
from sip_tracker.fhir.models import StoredResource
from tests.factories import login

PACKAGE = Path(sip_tracker.__file__).parent


def _commit_calls() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
                and not (isinstance(node.func.value, ast.Name) and node.func.value.id == "self")
            ):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_the_application_commits_in_one_place():
    """db.commit() is the unit of work's end; everything else flushes."""
    assert [place.split(":")[0] for place in _commit_calls()] == ["db.py"]


def _careplan_version(case_id: int) -> int | None:
    return db.session.scalar(
        select(StoredResource.version_id).where(
            StoredResource.resource_type == "CarePlan",
            StoredResource.logical_id == systems.careplan_id(case_id),
        )
    )


def test_a_failure_after_a_change_leaves_nothing_of_it(client, make, monkeypatch):
    """The kartläggning is saved, then the request fails: no change, no log row, no version."""
    user = make.user()
    case = make.case(user)
    make.commit()
    version = _careplan_version(case.id)
    rows = db.session.scalar(select(func.count(AuditEvent.id)))
    saved = cases.save_kartlaggning

    def save_then_fail(*args, **kwargs):  # type: ignore[no-untyped-def]
        saved(*args, **kwargs)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(cases, "save_kartlaggning", save_then_fail)
    login(client, user)
    with pytest.raises(RuntimeError):
        client.post(
            f"/cases/{case.id}/kartlaggning",
            data={
                "what_matters": "Att bo kvar hemma.",
                "needs-0-area": "halsa",
                "lock_version": "1",
            },
        )

    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(SipCase, case.id).what_matters == ""
    assert db.session.scalar(select(func.count(AuditEvent.id))) == rows
    assert _careplan_version(case.id) == version


def test_a_change_is_published_to_fhir_with_its_commit(client, make):
    """The service names the change (record_change); the commit stores the new version."""
    user = make.user()
    case = make.case(user)
    make.commit()
    version = _careplan_version(case.id)
    login(client, user)

    response = client.post(
        f"/cases/{case.id}/kartlaggning",
        data={"what_matters": "Att bo kvar hemma.", "needs-0-area": "halsa", "lock_version": "1"},
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert _careplan_version(case.id) == (version or 0) + 1
