"""Import: `POST /fhir` with a transaction Bundle holding one SIP creates or updates the case.

All or nothing: the Bundle is checked (400: its structure; 422: a resource against our
profiles, or a party we do not know), the case is written through one database
transaction, and any error rolls it back. The case's FHIR resources are stored before the
answer, a transaction-response Bundle with where each entry went.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, g, request
from sqlalchemy import select, tuple_

from sip_tracker.changes import run_pending
from sip_tracker.db import db
from sip_tracker.errors import DomainError
from sip_tracker.fhir.api import bp
from sip_tracker.fhir.inbound import import_sip, read_bundle, read_sip
from sip_tracker.fhir.models import ApiToken, StoredResource
from sip_tracker.fhir.outcomes import FHIR_JSON, FhirError, issue
from sip_tracker.fhir.store import instant

ACCEPTED_TYPES = (FHIR_JSON, "application/json")


def _body() -> Any:
    if request.mimetype not in ACCEPTED_TYPES:
        raise FhirError(
            415, f"Send the Bundle as {FHIR_JSON}, not {request.mimetype!r}", code="not-supported"
        )
    try:
        return orjson.loads(request.get_data())
    except orjson.JSONDecodeError as error:
        raise FhirError(400, f"The body is not JSON: {error}", code="structure") from None


def _stored(keys: set[tuple[str, str]]) -> dict[tuple[str, str], StoredResource]:
    if not keys:
        return {}
    rows = db.session.scalars(
        select(StoredResource).where(
            tuple_(StoredResource.resource_type, StoredResource.logical_id).in_(list(keys))
        )
    )
    return {(r.resource_type, r.logical_id): r for r in rows}


@bp.post("")
@bp.post("/")
def transaction() -> Response:
    token: ApiToken = g.api_token
    sip = read_sip(read_bundle(_body()))
    try:
        # All or nothing: any refusal undoes the whole import (the request commits after).
        with db.session.begin_nested():
            imported = import_sip(sip, token)
            keys = set(imported.targets.values())
            before = set(_stored(keys))
            run_pending()  # store the new versions now, to answer with them
    except DomainError as error:
        raise FhirError(422, error.message, code="business-rule") from None
    after = _stored(keys)
    entries = []
    for entry in sip.entries.entries:
        kind, logical_id = imported.targets.get(entry.index, (entry.type, ""))
        row = after.get((kind, logical_id))
        response: dict[str, Any] = {
            "status": "200 OK" if (kind, logical_id) in before else "201 Created"
        }
        if row is not None:
            response["location"] = f"{kind}/{logical_id}/_history/{row.version_id}"
            response["etag"] = f'W/"{row.version_id}"'
            response["lastModified"] = instant(row.last_updated)
        elif logical_id:
            response["location"] = f"{kind}/{logical_id}"
        warnings = imported.warnings.get(entry.index)
        if warnings:  # stored, but not all of it: say what and why (R4 entry.response.outcome)
            response["outcome"] = {
                "resourceType": "OperationOutcome",
                "issue": [
                    issue(text, severity="warning", code="business-rule") for text in warnings
                ],
            }
        entries.append({"response": response})
    body = {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
    return Response(orjson.dumps(body), status=200, mimetype=FHIR_JSON)
