"""Bulk Data export (FHIR Bulk Data Access IG): kick-off, status, download, and the writer.

`GET /fhir/$export` or `/fhir/Patient/$export` with `Prefer: respond-async` records an
ExportJob and answers 202 with the status URL; the job runs in a daemon thread with its
own app context (so its own database session) and writes one NDJSON file per type. The
writer copies the stored JSON bytes to the file in keyset batches: no FHIR models and no
JSON parsing on the hot path. Each batch is its own short transaction, so exports never
hold a lock that API requests wait for (SQLite included), and the audit rows for a batch
commit with it. The `export-fhir` command uses the same writer.

The files hold personal data, so they expire FHIR_EXPORT_TTL_HOURS after the job finished:
kick-offs, polls and downloads delete expired jobs' folders (as does `purge-fhir-exports`)
and keep the row, marked expired, so that the status URL can say why the files are gone.
They go earlier when data in them may no longer be shared (exports.py), and each download
is logged for the people and cases in the file. A job's thread beats a heartbeat into its
row; a poll of a job that stopped beating (its process ended) marks it failed, so no job
stays running forever.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from flask import Flask, Response, current_app, g, request, send_from_directory
from sqlalchemy import ColumnElement, func, select, update

from sip_tracker.audit.services import record_many
from sip_tracker.changes import after_commit
from sip_tracker.db import commit, db, utcnow
from sip_tracker.fhir.access import visible_resources
from sip_tracker.fhir.api import RESOURCE_TYPES, bp, fhir_base
from sip_tracker.fhir.exports import (
    export_root,  # noqa: F401  (where the folders are: named here by tests and tools)
    forget,
    job_dir,
    log_download,
    record_held,
    remove_folder,
)
from sip_tracker.fhir.models import ApiToken, ExportJob, StoredResource
from sip_tracker.fhir.outcomes import FHIR_JSON, FhirError, issue
from sip_tracker.fhir.store import instant

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
KICK_OFF_PARAMS = frozenset({"_outputFormat", "_type", "_since"})
ERROR_FILE = "OperationOutcome.ndjson"
BATCH_SIZE = 2000
RETRY_AFTER_SECONDS = 2
UNFINISHED = ("queued", "running")
FINISHED = ("done", "failed")
INTERRUPTED = (
    "it was interrupted (the server restarted or stopped while it ran); start a new export"
)
# A FHIR instant: seconds required, a zone required (the Bulk Data IG's _since).
INSTANT = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})",
)

# Threads of running exports, so tests (and a shutdown hook) can wait for them.
_threads: dict[str, threading.Thread] = {}


class ExportCancelled(Exception):
    """The job was deleted, expired or declared interrupted while it ran."""


# --- The writer -----------------------------------------------------------------------------


def parse_since(text: str) -> datetime:
    """A FHIR instant as an aware UTC datetime; ValueError names what is wrong."""
    if not INSTANT.fullmatch(text):
        raise ValueError(
            f"{text!r} is not a FHIR instant (e.g. 2026-05-04T10:00:00Z, with seconds and zone)"
        )
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def parse_types(values: Sequence[str]) -> list[str]:
    """Comma lists (repeatable) of resource types; ValueError on an unknown one."""
    types = [t.strip() for value in values for t in value.split(",") if t.strip()]
    unknown = sorted(set(types) - set(RESOURCE_TYPES))
    if unknown:
        raise ValueError(
            f"unknown resource type(s) {', '.join(unknown)}; known: {', '.join(RESOURCE_TYPES)}"
        )
    return list(dict.fromkeys(types))


def count_rows(types: Sequence[str], where: ColumnElement[bool], since: datetime | None) -> int:
    query = select(db.func.count(StoredResource.id)).where(
        StoredResource.resource_type.in_(types), where
    )
    if since is not None:
        query = query.where(StoredResource.last_updated > since)
    return db.session.scalar(query) or 0


def write_ndjson(
    directory: Path,
    *,
    types: Sequence[str],
    where: ColumnElement[bool],
    since: datetime | None,
    audit_detail: str,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[dict[str, int]], None] | None = None,
    job_id: str | None = None,
) -> list[dict[str, Any]]:
    """Write <Type>.ndjson for each type with rows; return [{type, file, count}] for those.

    One pass in primary-key order over every requested type (each row read once, each
    resource once even if it changes meanwhile, then in its newest version). One audit row
    per (person, case) exported, committed with the read of the batch that first holds
    it, before its bytes reach a file. For a job, the same transaction holds the job's row
    and records the pairs as held (see exports.delete_exports_holding). A type without
    rows gets no file, as the IG asks.
    """
    directory.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(types, 0)
    files: dict[str, BinaryIO] = {}
    audited: set[tuple[int, int | None]] = set()
    query = select(
        StoredResource.id,
        StoredResource.resource_type,
        StoredResource.content,
        StoredResource.person_id,
        StoredResource.case_id,
    ).where(where)
    # Keep SQLite (no statistics) on the primary key: by the type index it would sort
    # every row of the types again for each batch. `resource_type || ''` uses no index.
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    kind = StoredResource.resource_type + "" if sqlite else StoredResource.resource_type
    if set(types) != set(RESOURCE_TYPES):
        query = query.where(kind.in_(types))
    if since is not None:
        query = query.where(StoredResource.last_updated > since)
    last_id = 0
    try:
        while True:
            if job_id is not None:
                _claim(job_id)
            rows = db.session.execute(
                query.where(StoredResource.id > last_id)
                .order_by(StoredResource.id)
                .limit(batch_size)
            ).all()
            subjects = {(row[3], row[4]) for row in rows if row[3] is not None} - audited
            if subjects:
                record_many("fhir.export", user=None, subjects=subjects, detail=audit_detail)
                if job_id is not None:
                    record_held(job_id, subjects)
                audited |= subjects
            # One short transaction per batch: writers never wait long for an export.
            commit()
            if not rows:
                break
            by_type: dict[str, list[bytes]] = {}
            for row in rows:
                by_type.setdefault(row[1], []).append(row[2])
            for resource_type, contents in by_type.items():
                out = files.get(resource_type)
                if out is None:
                    out = files[resource_type] = (directory / f"{resource_type}.ndjson").open("wb")
                out.write(b"\n".join(contents) + b"\n")
                counts[resource_type] += len(contents)
            last_id = rows[-1][0]
            if after_batch is not None:
                after_batch(counts)
            if len(rows) < batch_size:
                break
    finally:
        for out in files.values():
            out.close()
    return [
        {"type": kind, "file": f"{kind}.ndjson", "count": count}
        for kind, count in counts.items()
        if count
    ]


# --- Jobs -----------------------------------------------------------------------------------


def _token_detail(token: ApiToken, job_id: str) -> str:
    return f"API token {token.id} ({token.name}), $export {job_id}"


def run_job(app: Flask, job_id: str) -> None:
    """Run one export in a fresh app context, so with its own database session."""
    with app.app_context():
        try:
            _run(app, job_id)
        except ExportCancelled:
            db.session.rollback()
            _tidy(app, job_id)
        except Exception as error:  # any failure is the job's, told to the client
            db.session.rollback()
            app.logger.exception("FHIR export %s failed", job_id)
            _fail(app, job_id, f"{type(error).__name__}: {error}")
        finally:
            _threads.pop(job_id, None)


def _run(app: Flask, job_id: str) -> None:
    job = db.session.get(ExportJob, job_id)
    if job is None:
        raise ExportCancelled
    token = db.session.get(ApiToken, job.token_id)
    if token is None or token.revoked_at is not None or not token.can_read:
        raise RuntimeError("the token that started the export is revoked")
    where = visible_resources(token)
    if job.level == "patient":
        where = where & StoredResource.person_id.is_not(None)
    types, since, detail = (
        list(job.types or RESOURCE_TYPES),
        job.since,
        _token_detail(token, job_id),
    )
    _set(job_id, status="running", heartbeat_at=utcnow())
    # Tests park or break the export between batches with this hook: (job id, rows so far).
    hook: Callable[[str, int], None] | None = app.config.get("FHIR_EXPORT_BATCH_HOOK")

    progress_at = time.monotonic()

    def after_batch(counts: dict[str, int]) -> None:
        nonlocal progress_at
        if hook is not None:
            hook(job_id, sum(counts.values()))
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if time.monotonic() - progress_at >= 1:  # the status's X-Progress counts these
            progress_at = time.monotonic()
            values["output"] = [{"type": t, "count": n} for t, n in counts.items() if n]
        _set(job_id, **values)

    files = write_ndjson(
        job_dir(app, job_id),
        types=types,
        where=where,
        since=since,
        audit_detail=detail,
        batch_size=int(app.config.get("FHIR_EXPORT_BATCH_SIZE", BATCH_SIZE)),
        after_batch=after_batch,
        job_id=job_id,
    )
    _set(job_id, status="done", output=files, finished_at=utcnow())


def _set(job_id: str, **values: Any) -> None:
    """Update the running job in a transaction of its own (begun by the write, see
    write_ndjson); it may have been deleted, expired or declared interrupted meanwhile:
    then the export is cancelled."""
    commit()
    result = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(UNFINISHED))
        .values(**values)
    )
    commit()
    if getattr(result, "rowcount", 1) == 0:
        raise ExportCancelled


def _claim(job_id: str) -> None:
    """Hold the running job's row for the batch's transaction, beating its heartbeat; it
    may have been deleted, expired or declared interrupted meanwhile: then cancel."""
    result = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.status.in_(UNFINISHED))
        .values(heartbeat_at=utcnow())
    )
    if getattr(result, "rowcount", 1) == 0:
        raise ExportCancelled


def _write_error_file(directory: Path, message: str) -> None:
    """Leave only the OperationOutcome in a failed job's folder.

    The NDJSON written before the failure is not offered for download, and it holds
    personal data: it goes at once, not when the job expires.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for path in directory.iterdir():
        if path.name != ERROR_FILE:
            path.unlink(missing_ok=True)
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [issue(f"The export failed: {message}", code="exception")],
    }
    (directory / ERROR_FILE).write_bytes(orjson.dumps(outcome) + b"\n")


def _tidy(app: Flask, job_id: str) -> None:
    """After a job was taken from its thread, leave on disk only what its row still offers."""
    try:
        job = db.session.execute(
            select(ExportJob.status, ExportJob.error).where(ExportJob.id == job_id)
        ).first()
        commit()
        if job is not None and job.status == "failed":  # declared interrupted by a poll
            _write_error_file(job_dir(app, job_id), job.error or INTERRUPTED)
        else:  # deleted or expired
            remove_folder(app, job_id)
    except Exception:  # nothing more to do; the log has it
        db.session.rollback()
        app.logger.exception("FHIR export %s: could not tidy its folder", job_id)


def _fail(app: Flask, job_id: str, message: str) -> None:
    try:
        _write_error_file(job_dir(app, job_id), message)
        _set(job_id, status="failed", error=message, finished_at=utcnow())
    except ExportCancelled:
        db.session.rollback()
        _tidy(app, job_id)
    except Exception:  # nothing more to tell; the log has it
        db.session.rollback()
        app.logger.exception("FHIR export %s: could not record the failure", job_id)


def start_job(app: Flask, job_id: str) -> None:
    """Run the job: inline when FHIR_EXPORT_SYNC (tests), else in a daemon thread."""
    if app.config.get("FHIR_EXPORT_SYNC"):
        run_job(app, job_id)
        return
    thread = threading.Thread(
        target=run_job, args=(app, job_id), name=f"fhir-export-{job_id}", daemon=True
    )
    _threads[job_id] = thread
    thread.start()


def wait_for_exports(timeout: float = 10.0) -> bool:
    """Wait for running export threads; True when none is left."""
    for thread in list(_threads.values()):
        thread.join(timeout)
    return not any(t.is_alive() for t in _threads.values())


# --- Expiry and stalled jobs ----------------------------------------------------------------


def _ttl(app: Flask) -> timedelta:
    return timedelta(hours=float(app.config["FHIR_EXPORT_TTL_HOURS"]))


def _stall(app: Flask) -> timedelta:
    return timedelta(seconds=float(app.config["FHIR_EXPORT_STALL_SECONDS"]))


def _last_sign_of_life() -> ColumnElement[datetime]:
    return func.coalesce(ExportJob.heartbeat_at, ExportJob.created_at)


def expire_exports(app: Flask) -> int:
    """Mark expired jobs expired and delete their folders; return how many expired now.

    A job expires FHIR_EXPORT_TTL_HOURS after it finished; one whose process ended before
    it finished, that long after its last sign of life. One query when nothing expired.
    """
    now = utcnow()
    expired = (ExportJob.status.in_(FINISHED) & (ExportJob.finished_at < now - _ttl(app))) | (
        ExportJob.status.in_(UNFINISHED)
        & (_last_sign_of_life() < now - max(_ttl(app), _stall(app)))
    )
    job_ids = list(db.session.scalars(select(ExportJob.id).where(expired)))
    if not job_ids:
        return 0
    result = db.session.execute(
        update(ExportJob)
        .where(ExportJob.id.in_(job_ids), expired)
        .values(status="expired", output=[])
        .execution_options(synchronize_session=False)
    )
    forget(job_ids)
    for job_id in job_ids:  # a running thread of one of them stops at its next batch
        remove_folder(app, job_id)
    return int(getattr(result, "rowcount", len(job_ids)))


def _fail_if_stalled(app: Flask, job_id: str, last_sign_of_life: datetime) -> None:
    """Mark a queued or running job failed when it showed no sign of life for too long.

    A job runs in a thread of one process; when that process ends (a restart, a crash),
    nothing else would ever finish it.
    """
    cutoff = utcnow() - _stall(app)
    if last_sign_of_life >= cutoff:
        return
    result = db.session.execute(
        update(ExportJob)
        .where(
            ExportJob.id == job_id,
            ExportJob.status.in_(UNFINISHED),
            _last_sign_of_life() < cutoff,  # not if it beat meanwhile
        )
        .values(status="failed", error=INTERRUPTED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not getattr(result, "rowcount", 0):
        return  # it beat or finished meanwhile
    app.logger.warning("FHIR export %s: no sign of life, reported interrupted", job_id)
    try:
        _write_error_file(job_dir(app, job_id), INTERRUPTED)
    except OSError:  # the manifest still says it failed
        app.logger.exception("FHIR export %s: could not write its error file", job_id)


# --- Routes ---------------------------------------------------------------------------------


def _token() -> ApiToken:
    token: ApiToken = g.api_token
    return token


def _kick_off(level: str) -> Response:
    prefer = {p.strip().lower() for p in request.headers.get("Prefer", "").split(",")}
    if "respond-async" not in prefer:
        raise FhirError(400, "$export needs the header Prefer: respond-async", code="required")
    if g.get("fhir_version", "4.0") != "4.0":
        raise FhirError(406, "$export writes FHIR R4 (4.0) only", code="not-supported")
    unknown = sorted(set(request.args) - KICK_OFF_PARAMS)
    if unknown:
        raise FhirError(
            400,
            f"Unsupported $export parameter(s): {', '.join(unknown)}. "
            f"Supported: {', '.join(sorted(KICK_OFF_PARAMS))}.",
            code="not-supported",
        )
    for value in request.args.getlist("_outputFormat"):
        if value not in OUTPUT_FORMATS:
            raise FhirError(
                400,
                f"_outputFormat={value}: only application/fhir+ndjson is produced",
                code="not-supported",
                expression=["_outputFormat"],
            )
    try:
        types = parse_types(request.args.getlist("_type"))
    except ValueError as error:
        raise FhirError(400, f"_type: {error}", expression=["_type"]) from None
    since_values = request.args.getlist("_since")
    if len(since_values) > 1:
        raise FhirError(400, "_since may be given once", expression=["_since"])
    since = None
    if since_values:
        try:
            since = parse_since(since_values[0])
        except ValueError as error:
            raise FhirError(400, f"_since: {error}", expression=["_since"]) from None
    expire_exports(current_app)
    job_id = str(uuid.uuid4())
    job = ExportJob(
        id=job_id,
        token_id=_token().id,
        level=level,
        types=types,
        since=since,
        status="queued",
        request_url=request.url[:2000],
        output=[],
    )
    db.session.add(job)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # The job's thread has a session of its own: it starts once the job is committed.
    after_commit(lambda: start_job(app, job_id))
    body = {
        "resourceType": "OperationOutcome",
        "issue": [
            issue(
                "Export started; poll the Content-Location",
                severity="information",
                code="informational",
            )
        ],
    }
    response = Response(orjson.dumps(body), status=202, mimetype=FHIR_JSON)
    response.headers["Content-Location"] = f"{fhir_base()}/$export-status/{job_id}"
    return response


@bp.get("/$export")
def export_system() -> Response:
    return _kick_off("system")


@bp.get("/Patient/$export")
def export_patients() -> Response:
    return _kick_off("patient")


def _own_job(job_id: str) -> ExportJob:
    """The caller's live job, fresh from the database, or 404 (also for another token's
    job, and for an expired one: saying so)."""
    job = db.session.scalar(
        select(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.token_id == _token().id)
        .execution_options(populate_existing=True)
    )
    if job is None:
        raise FhirError(404, f"No export {job_id} for this token", code="not-found")
    if job.status == "expired":
        hours = f"{float(current_app.config['FHIR_EXPORT_TTL_HOURS']):g}"
        raise FhirError(
            404,
            f"Export {job_id} has expired: its files are kept for {hours} hours after it "
            "finishes and have been deleted. Start a new export.",
            code="deleted",
        )
    if job.status == "deleted":
        raise FhirError(
            404,
            f"Export {job_id} was deleted because {job.error}. Start a new export.",
            code="deleted",
        )
    return job


@bp.get("/$export-status/<job_id>")
def export_status(job_id: str) -> Response:
    expire_exports(current_app)
    job = _own_job(job_id)
    if job.status in UNFINISHED:
        _fail_if_stalled(current_app, job_id, job.heartbeat_at or job.created_at)
        job = _own_job(job_id)
    status, output = job.status, list(job.output or [])
    transaction_time, request_url = instant(job.created_at), job.request_url
    expires = job.finished_at + _ttl(current_app) if job.finished_at else None
    if status in UNFINISHED:
        response = Response(status=202)
        response.headers["X-Progress"] = (
            "queued"
            if status == "queued"
            else f"running: {sum(o['count'] for o in output)} resources written"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    base = fhir_base()
    manifest = {
        "transactionTime": transaction_time,
        "request": request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": o["type"],
                "url": f"{base}/$export-file/{job_id}/{o['file']}",
                "count": o["count"],
            }
            for o in output
            if o.get("file")
        ],
        "error": [],
    }
    if status == "failed":
        manifest["error"] = [
            {"type": "OperationOutcome", "url": f"{base}/$export-file/{job_id}/{ERROR_FILE}"}
        ]
    response = Response(orjson.dumps(manifest), status=200, mimetype="application/json")
    response.expires = expires  # the Bulk Data IG: when the files will be deleted
    return response


@bp.delete("/$export-status/<job_id>")
def export_delete(job_id: str) -> Response:
    """Cancel a running export or delete a finished one's files."""
    job = _own_job(job_id)
    db.session.delete(job)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    after_commit(lambda: remove_folder(app, job_id))
    return Response(status=202)


@bp.get("/$export-file/<job_id>/<file_name>")
def export_file(job_id: str, file_name: str) -> Response:
    expire_exports(current_app)
    job = _own_job(job_id)
    names = {o.get("file") for o in job.output or []}
    if job.status == "failed":
        names.add(ERROR_FILE)
    if job.status not in ("done", "failed") or file_name not in names:
        raise FhirError(404, f"No file {file_name} in export {job_id}", code="not-found")
    response = send_from_directory(
        job_dir(current_app, job_id),
        file_name,
        mimetype=NDJSON,
        conditional=True,
    )
    if response.status_code in (200, 206):  # not a 304: nothing was sent again
        log_download(job_id, file_name, _token_detail(_token(), job_id))
    return response
