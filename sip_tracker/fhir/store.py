"""Keep every case's FHIR resources current, validated, in the same transaction as the change.

The write path names what it changed (`sip_tracker.changes`); just before the transaction
commits, those cases are mapped again and each resource whose content changed is stored as
a new version. Reads, searches and exports then serve the stored bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from fhir.resources.R4B.resource import Resource
from flask import current_app
from sqlalchemy import delete, select

from sip_tracker.cases.models import SipCase
from sip_tracker.changes import Changes, subscribe
from sip_tracker.clock import STOCKHOLM
from sip_tracker.db import db, utcnow
from sip_tracker.fhir.models import StoredResource
from sip_tracker.fhir.validation import errors, validate
from sip_tracker.handlingsplan.queries import activities, activities_for_case

# Resources about the person rather than one case: shared by all the person's cases.
PERSON_SCOPED = frozenset({"Patient", "RelatedPerson"})
SHARED = frozenset({"Organization"})


class InvalidResource(RuntimeError):
    """A mapped resource fails validation against the specification or our profiles."""


def instant(moment: datetime) -> str:
    """A FHIR instant in UTC with milliseconds, as servers commonly write it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _without_version(body: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in body.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    stripped = {k: v for k, v in body.items() if k != "meta"}
    if meta:
        stripped["meta"] = meta
    return stripped


def _moment(text: str | None, *, end: bool) -> datetime | None:
    """A FHIR date or dateTime as a UTC moment; an end date covers its whole day (a date is
    a day in Stockholm, as searches read it: fhir/search.py)."""
    if not text:
        return None
    if len(text) == 10:
        day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
        return datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM).astimezone(UTC)
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _period(period: dict[str, str] | None) -> tuple[datetime | None, datetime | None]:
    if not period:
        return None, None
    return _moment(period.get("start"), end=False), _moment(period.get("end"), end=True)


def store_resource(
    resource: Resource, *, case_id: int | None, person_id: int | None, now: datetime | None = None
) -> StoredResource | None:
    """Store the resource if its content changed since the last version; return the row
    (None when a new resource fails validation outside tests)."""
    body = resource.model_dump(mode="json", exclude_none=True)
    resource_type, logical_id = body["resourceType"], body["id"]
    row = db.session.scalar(
        select(StoredResource).where(
            StoredResource.resource_type == resource_type, StoredResource.logical_id == logical_id
        )
    )
    if row is not None and _without_version(orjson.loads(row.content)) == _without_version(body):
        if row.content_r5 is None:  # stored before the R5 mapping: add it, same version
            row.content_r5 = _r5_content(resource, orjson.loads(row.content)["meta"])
        return row
    problems = errors(validate(body))
    if problems:
        # The mapping produced something the profiles refuse: a bug. It is never stored or
        # served. Tests fail on it; in production the coordinator's change still saves,
        # the previous version stays, and the log says what to fix.
        message = f"{resource_type}/{logical_id}: " + "; ".join(map(str, problems))
        if current_app.config.get("FHIR_STRICT", current_app.testing):
            raise InvalidResource(message)
        current_app.logger.error("FHIR resource not stored, it fails validation: %s", message)
        return row
    now = now or utcnow()
    if row is None:
        row = StoredResource(resource_type=resource_type, logical_id=logical_id, version_id=0)
        db.session.add(row)
    row.version_id += 1
    row.last_updated = now
    row.case_id = case_id
    row.person_id = person_id
    row.status = body.get("status")
    row.date_start, row.date_end = _period(body.get("period"))
    body["meta"] = {
        **body.get("meta", {}),
        "versionId": str(row.version_id),
        "lastUpdated": instant(now),
    }
    row.content = orjson.dumps(body)
    row.content_r5 = _r5_content(resource, body["meta"])
    return row


def _r5_content(resource: Resource, meta: dict[str, Any]) -> bytes | None:
    """The R5 edition of the version, with the same versionId and lastUpdated.

    Checked by the fhir.resources R5 model only (our profiles are R4). A failure is a bug
    in the R5 mapping: tests fail on it; in production the R4 version is stored, the R5
    one is left out (R5 reads answer 404) and the log says what to fix.
    """
    from sip_tracker.fhir.outbound_r5 import to_r5

    try:
        body = to_r5(resource).model_dump(mode="json", exclude_none=True)
    except ValueError as error:  # pydantic's ValidationError
        if current_app.config.get("FHIR_STRICT", current_app.testing):
            raise InvalidResource(f"R5 {resource.get_resource_type()}: {error}") from error
        current_app.logger.error("FHIR R5 edition not stored: %s", error)
        return None
    body["meta"] = {k: v for k, v in meta.items() if k in ("versionId", "lastUpdated")}
    return orjson.dumps(body)


def publish_case(case: SipCase) -> list[StoredResource]:
    """Map the case again and store what changed."""
    from sip_tracker.fhir.outbound import activity_url, case_resources

    linked = [activity_url(a) for a in db.session.scalars(activities_for_case(case.id))]
    rows = []
    for resource in case_resources(case, handlingsplan_activities=linked):
        kind = resource.get_resource_type()
        row = store_resource(
            resource,
            case_id=None if kind in PERSON_SCOPED | SHARED else case.id,
            person_id=None if kind in SHARED else case.person_id,
        )
        if row is not None:
            rows.append(row)
    return rows


def publish_cases(case_ids: Iterable[int]) -> None:
    for case_id in sorted(set(case_ids)):
        case = db.session.get(SipCase, case_id)
        if case is not None:
            publish_case(case)


def unpublish_case(case_id: int) -> None:
    """Delete the case's resources (the case itself is being deleted)."""
    db.session.execute(delete(StoredResource).where(StoredResource.case_id == case_id))


def unpublish_person(person_id: int) -> None:
    """Delete the person's own resources, Patient and RelatedPerson (the person is being
    deleted, and with them every case of theirs)."""
    db.session.execute(delete(StoredResource).where(StoredResource.person_id == person_id))


def publish_activities() -> list[StoredResource]:
    """Map every activity of the action plan again (a few dozen) and store what changed.

    Shared: no case, no person, so every token may read them.
    """
    from sip_tracker.fhir.outbound import plandefinition

    rows = []
    for activity in db.session.scalars(activities()):
        row = store_resource(plandefinition(activity), case_id=None, person_id=None)
        if row is not None:
            rows.append(row)
    return rows


def publish(changes: Changes) -> None:
    """Map and store what the transaction changed (a subscriber of sip_tracker.changes)."""
    if changes.action_plan:
        publish_activities()
    if changes.case_ids:
        publish_cases(changes.case_ids)


def install() -> None:
    """Publish at every commit that follows a named change."""
    subscribe(publish)
