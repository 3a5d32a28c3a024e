"""Whose data a Bulk Data export holds, and deleting its files before they expire.

The writer (bulk.py) records the (person, case) pairs an export holds in the transaction
that logs them as exported. A download is then logged for the people and cases whose data
that file can hold, and when data in an export may no longer be shared (its consent was
withdrawn, its case was purged) the export is marked deleted, saying why, and its folder
goes once that commits. The folders are the app user's alone (operations/files.py sets
the umask).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import delete, select, update

from sip_tracker.audit.services import record_many
from sip_tracker.cases.models import SipCase
from sip_tracker.changes import after_commit
from sip_tracker.db import db
from sip_tracker.fhir.models import ExportJob, ExportSubject
from sip_tracker.fhir.store import PERSON_SCOPED

# Why an export was deleted early: the status URL and its files answer 404 saying so.
CONSENT_WITHDRAWN = "a consent covering data in it was withdrawn"
CASE_PURGED = "data in it was removed under the retention rules (gallring)"
RESTORED = "the server's database was restored from a backup"
# Jobs whose folder may hold files (expired and deleted ones have none).
LIVE = ("queued", "running", "done", "failed")

# Stored without a person (store.py: SHARED, publish_activities): a file of them names nobody.
WITHOUT_PERSONS = frozenset({"Organization", "PlanDefinition"})


def export_root(app: Flask) -> Path:
    return Path(app.config.get("FHIR_EXPORT_DIR") or Path(app.instance_path) / "bulk_exports")


def job_dir(app: Flask, job_id: str) -> Path:
    return export_root(app) / job_id


def remove_folder(app: Flask, job_id: str) -> None:
    try:
        shutil.rmtree(job_dir(app, job_id))
    except FileNotFoundError:
        pass
    except OSError:  # personal data may be left: the operator must know
        app.logger.exception("FHIR export %s: could not delete its files", job_id)


def record_held(job_id: str, subjects: Iterable[tuple[int, int | None]]) -> None:
    """Add the batch's new (person, case) pairs to the record of what the job holds."""
    rows = [
        {"job_id": job_id, "person_id": person_id, "case_id": case_id}
        for person_id, case_id in subjects
    ]
    if rows:
        db.session.execute(ExportSubject.__table__.insert(), rows)


def log_download(job_id: str, file_name: str, detail: str) -> None:
    """Log a download of one file: one row per (person, case) whose data it can hold.

    Per person and case, not one row per job, so that a person's log extract and the
    reviewer's filter by person show it without a join through the export's own rows. A
    Patient or RelatedPerson file logs the export's people, any other file of personal
    data its cases (one of them may lack a resource of that type: the log errs on the side
    of naming it), a file of organisations or activities nobody. Pairs kept per file
    would be nearly a row per resource, and doubled the time of an export when measured.
    """
    resource_type = file_name.removesuffix(".ndjson")
    if resource_type in WITHOUT_PERSONS:
        return
    person_scoped = resource_type in PERSON_SCOPED
    subjects = db.session.execute(
        select(ExportSubject.person_id, ExportSubject.case_id)
        .where(
            ExportSubject.job_id == job_id,
            ExportSubject.case_id.is_(None)
            if person_scoped
            else ExportSubject.case_id.is_not(None),
        )
        .order_by(ExportSubject.id)
    ).all()
    record_many(
        "fhir.export.download",
        user=None,
        subjects=[(person_id, case_id) for person_id, case_id in subjects],
        detail=f"{detail}, {file_name}",
    )


def delete_exports_holding(case: SipCase, *, reason: str) -> int:
    """Delete every export whose files hold the case's data or its person's, finished or
    still running, whichever token made it; return how many.

    Their rows stay, marked deleted with the reason, so the status URL can say why the
    files are gone; the folders go once the transaction commits. A running export stops
    at its next batch; what it has not read yet it reads as the case is now.
    """
    # A running export records what it read in a transaction that holds its job's row
    # (bulk.write_ndjson). Locking the live jobs first waits for a batch in flight, so the
    # record read next is complete (PostgreSQL; SQLite runs one writer at a time anyway).
    db.session.execute(
        select(ExportJob.id)
        .where(ExportJob.status.in_(LIVE))
        .order_by(ExportJob.id)
        .with_for_update()
    ).all()
    holding = select(ExportSubject.job_id).where(
        (ExportSubject.case_id == case.id)
        | (ExportSubject.case_id.is_(None) & (ExportSubject.person_id == case.person_id))
    )
    job_ids = list(
        db.session.scalars(
            select(ExportJob.id).where(ExportJob.status.in_(LIVE), ExportJob.id.in_(holding))
        )
    )
    if not job_ids:
        return 0
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.id.in_(job_ids))
        .values(status="deleted", error=reason, output=[])
        .execution_options(synchronize_session=False)
    )
    forget(job_ids)
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def remove_folders() -> None:
        for job_id in job_ids:
            remove_folder(app, job_id)

    after_commit(remove_folders)
    return len(job_ids)


def forget(job_ids: list[str]) -> None:
    """Drop the record of whose data the jobs held: their files are gone."""
    db.session.execute(delete(ExportSubject).where(ExportSubject.job_id.in_(job_ids)))


def delete_all_exports(app: Flask, *, reason: str) -> None:
    """Delete every export's files, then mark the live ones deleted.

    After a restore the rows no longer describe the folders on disk: folders of exports the
    backup never knew would otherwise stay, with their personal data, for ever. The files
    go first: a backup from an older version may lack the tables the rest needs.
    """
    root = export_root(app)
    if root.is_dir():
        for folder in root.iterdir():
            remove_folder(app, folder.name)
    db.session.execute(
        update(ExportJob)
        .where(ExportJob.status.in_(LIVE))
        .values(status="deleted", error=reason, output=[])
        .execution_options(synchronize_session=False)
    )
    db.session.execute(delete(ExportSubject))
