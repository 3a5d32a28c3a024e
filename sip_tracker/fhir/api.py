"""The FHIR REST API under /fhir: JSON, bearer tokens, reads and searches from stored JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, g, request
from sqlalchemy import Select, func, select

from sip_tracker.audit.services import record_many
from sip_tracker.db import db
from sip_tracker.extensions import csrf
from sip_tracker.fhir import search as fhir_search
from sip_tracker.fhir import systems
from sip_tracker.fhir.access import visible_resources
from sip_tracker.fhir.capability import capability_statement
from sip_tracker.fhir.models import ApiToken, StoredResource
from sip_tracker.fhir.outcomes import FHIR_JSON, FhirError, outcome_response
from sip_tracker.fhir.read import read_stored
from sip_tracker.fhir.tokens import token_for
from sip_tracker.guards import database_id
from sip_tracker.people.identifiers import InvalidIdentifier, parse_identifier
from sip_tracker.people.models import Person

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
csrf.exempt(bp)

RESOURCE_TYPES = (
    "CarePlan",
    "CareTeam",
    "Goal",
    "Task",
    "Consent",
    "Patient",
    "RelatedPerson",
    "Organization",
    "PractitionerRole",
    "Appointment",
    "Encounter",
    "PlanDefinition",
)
# No personal data: the CapabilityStatement and the conformance resources (conformance.py).
PUBLIC_ENDPOINTS = {"fhir.metadata", "fhir.conformance_read", "fhir.conformance_search"}
# The fhirVersion parameter of the media type (FHIR R5 http.html#version-parameter) → the
# version served. R4 unless the client asks for R5.
FHIR_VERSIONS = {"4.0": "4.0", "4.0.1": "4.0", "5.0": "5.0", "5.0.0": "5.0"}
R4, R5 = "4.0", "5.0"


@bp.errorhandler(FhirError)
def fhir_error(error: FhirError) -> Response:
    response = outcome_response(error.status, error.issues)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="sip-tracker"'
    return response


@bp.before_request
def authenticate() -> None:
    """Every call but the CapabilityStatement needs a live bearer token with read scope."""
    _negotiate()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    secret = _bearer_secret()
    if request.endpoint == "fhir.read":
        return  # checks the token in the read's own statement (fhir/read.py)
    # Cancelling one's own export is part of reading, not a change of data.
    cancelling_export = request.method == "DELETE" and request.path.startswith(
        "/fhir/$export-status/"
    )
    changes = request.method in ("POST", "PUT", "DELETE") and not cancelling_export
    token = token_for(secret)
    if token is None:
        _check_token(live=False, has_scope=False, needed="read")
    elif changes:
        _check_token(live=True, has_scope=token.can_write, needed="write")
    else:
        _check_token(live=True, has_scope=token.can_read, needed="read")
    g.api_token = token


def _bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise FhirError(401, "A bearer token is required (Authorization: Bearer …)", code="login")
    return secret.strip()


def _check_token(*, live: bool, has_scope: bool, needed: str) -> None:
    """401 for an unknown or revoked token, 403 for one without the scope needed."""
    if not live:
        raise FhirError(401, "The bearer token is unknown or revoked", code="login")
    if not has_scope:
        raise FhirError(403, f"The token has no {needed} scope", code="forbidden")


def _negotiate() -> None:
    """JSON only; the FHIR version from the first acceptable media range that names one."""
    accept = request.headers.get("Accept", "*/*")
    acceptable = (
        "application/fhir+json",
        "application/json",
        "*/*",
        "application/*",
        # Bulk Data downloads ask for NDJSON.
        "application/fhir+ndjson",
        "application/ndjson",
    )
    if not any(kind in accept for kind in acceptable):
        raise FhirError(406, f"Only {FHIR_JSON} is served, not {accept}", code="not-supported")
    asked = []
    for media_range in accept.split(","):
        kind, *params = (part.strip() for part in media_range.split(";"))
        if kind not in acceptable:
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "fhirversion":
                asked.append(value.strip().strip('"'))
    known = [FHIR_VERSIONS[v] for v in asked if v in FHIR_VERSIONS]
    if asked and not known:
        raise FhirError(
            406,
            f"fhirVersion={asked[0]} is not served; ask for 4.0 (R4, the default) or 5.0 (R5)",
            code="not-supported",
        )
    g.fhir_version = known[0] if known else R4


def fhir_version_asked() -> str:
    """ "4.0" or "5.0": the FHIR version this request is answered in."""
    version: str = g.get("fhir_version", R4)
    return version


def _content(row: StoredResource) -> bytes:
    """The stored JSON in the version asked for."""
    if fhir_version_asked() == R4:
        return row.content
    if row.content_r5 is None:
        # Stored before the R5 mapping existed and unchanged since: the next change maps it,
        # as does `flask publish-fhir`.
        raise FhirError(
            404,
            f"{row.resource_type}/{row.logical_id} has no R5 version yet; read it in R4",
            code="not-found",
        )
    return row.content_r5


def _token() -> ApiToken:
    token: ApiToken = g.api_token
    return token


def fhir_base() -> str:
    """The server's FHIR base URL, as clients reached it."""
    # What request.url_root gives, without its IRI round trip (this is on the read path).
    return f"{request.scheme}://{request.host}{request.root_path}/fhir"


def fhir_json_response(
    body: bytes, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """FHIR JSON, its media type naming the FHIR version it is in."""
    return Response(
        body,
        status=status,
        headers=headers,
        content_type=f"{FHIR_JSON}; fhirVersion={fhir_version_asked()}",
    )


_json = fhir_json_response


@bp.get("/metadata")
def metadata() -> Response:
    return _json(orjson.dumps(capability_statement(fhir_base(), fhir_version_asked())))


def _check_type(resource_type: str) -> None:
    if resource_type not in RESOURCE_TYPES:
        raise FhirError(
            404,
            f"This server has no resource type {resource_type!r}; see /fhir/metadata",
            code="not-supported",
        )


def _audit_rows(rows: Iterable[StoredResource], action: str) -> None:
    """One audit row per resource holding a person's data, attributed to the token."""
    token = _token()
    detail = f"API token {token.id} ({token.name})"
    record_many(
        action,
        user=None,
        subjects=[(r.person_id, r.case_id) for r in rows if r.person_id is not None],
        detail=detail,
    )


@bp.get("/<resource_type>/<logical_id>")
def read(resource_type: str, logical_id: str) -> Response:
    secret = _bearer_secret()
    if resource_type not in RESOURCE_TYPES:
        token = token_for(secret)
        _check_token(
            live=token is not None, has_scope=bool(token and token.can_read), needed="read"
        )
        _check_type(resource_type)
    asked = request.headers.get("If-None-Match", "")
    outcome = read_stored(
        secret,
        resource_type,
        logical_id,
        r5=fhir_version_asked() == R5,
        unless_version=_etag_version(asked),
    )
    _check_token(live=outcome.token_live, has_scope=outcome.can_read, needed="read")
    if not (outcome.found and outcome.allowed):
        raise FhirError(404, f"{resource_type}/{logical_id} is not known", code="not-found")
    if outcome.content is None:
        # Stored before the R5 mapping existed and unchanged since: the next change maps it,
        # as does `flask publish-fhir`.
        raise FhirError(
            404,
            f"{resource_type}/{logical_id} has no R5 version yet; read it in R4",
            code="not-found",
        )
    etag = f'W/"{outcome.version_id}"'
    if asked == etag:
        return Response(status=304, headers={"ETag": etag})
    assert outcome.last_updated is not None
    location = f"{fhir_base()}/{resource_type}/{logical_id}/_history/{outcome.version_id}"
    headers = {
        "ETag": etag,
        "Last-Modified": outcome.last_updated.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Content-Location": location,
    }
    return _json(outcome.content, headers=headers)


# A weak ETag as this server writes it: ASCII digits (str.isdigit() also takes "²" and
# "١"), no more than a version number can have.
_ETAG = re.compile(r'W/"([0-9]{1,9})"')


def _etag_version(etag: str) -> int:
    """The version a weak ETag W/"n" names; 0 (no version) for anything else."""
    match = _ETAG.fullmatch(etag)
    return int(match[1]) if match else 0


def _query(search: fhir_search.Search) -> Select[tuple[StoredResource]]:
    token = _token()
    query = select(StoredResource).where(
        StoredResource.resource_type == search.resource_type, visible_resources(token)
    )
    if search.ids:
        query = query.where(StoredResource.logical_id.in_(search.ids))
    for bound in search.last_updated:
        query = query.where(fhir_search.last_updated_clause(bound))
    for bound in search.dates:
        query = query.where(
            fhir_search.period_clause(bound, StoredResource.date_start, StoredResource.date_end)
        )
    if search.statuses:
        query = query.where(StoredResource.status.in_(search.statuses))
    if search.categories:
        sip = any(
            code == systems.INERA_SIP_CODE and system in (None, systems.INERA_TYPE_OF_CARE_PLAN)
            for system, code in search.categories
        )
        if not sip:
            query = query.where(StoredResource.id.is_(None))  # every CarePlan here is a SIP
    person_ids: set[int] | None = None
    if search.patient_ids:
        person_ids = {pk for pk in map(_person_pk, search.patient_ids) if pk is not None}
    for identifiers in (search.patient_identifiers, search.identifiers):
        if identifiers:
            found = _people_by_identifier(identifiers)
            person_ids = found if person_ids is None else person_ids & found
    if person_ids is not None:
        query = query.where(StoredResource.person_id.in_(person_ids or [-1]))
    return query


def _person_pk(logical_id: str) -> int | None:
    prefix = systems.patient_id(0)[:-1]
    # Beyond the database's integers there is no such person (and no query to make).
    return database_id(logical_id[len(prefix) :]) if logical_id.startswith(prefix) else None


def _people_by_identifier(identifiers: list[tuple[str | None, str]]) -> set[int]:
    """People by personnummer or samordningsnummer, in the FHIR or the older OID systems."""
    found: set[int] = set()
    accepted = {
        systems.PERSONNUMMER,
        systems.SAMORDNINGSNUMMER,
        systems.PERSONNUMMER_OID,
        systems.SAMORDNINGSNUMMER_OID,
    }
    for system, value in identifiers:
        if system is not None and system not in accepted:
            continue
        try:
            digits = parse_identifier(value).digits
        except InvalidIdentifier as error:
            raise FhirError(
                400, f"identifier {value!r}: {error}", expression=["identifier"]
            ) from None
        found.update(db.session.scalars(select(Person.id).where(Person.identifier == digits)))
    return found


def _bundle(
    search: fhir_search.Search,
    matches: list[StoredResource],
    included: list[StoredResource],
    total: int,
) -> bytes:
    base = fhir_base()
    asked = list(request.args.items(multi=True))
    args = [(k, v) for k, v in asked if k != "_offset"]
    links = [
        {
            "relation": "self",
            "url": f"{base}/{search.resource_type}?{urlencode(asked)}",
        }
    ]
    if search.offset + search.count < total and search.count > 0:
        following = [*args, ("_offset", str(search.offset + search.count))]
        links.append(
            {"relation": "next", "url": f"{base}/{search.resource_type}?{urlencode(following)}"}
        )
    if search.offset > 0:
        previous = [*args, ("_offset", str(max(0, search.offset - search.count)))]
        links.append(
            {"relation": "previous", "url": f"{base}/{search.resource_type}?{urlencode(previous)}"}
        )
    head = orjson.dumps(
        {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    )
    entries = [
        b'{"fullUrl":"%s/%s/%s","resource":%s,"search":{"mode":"%s"}}'
        % (base.encode(), row.resource_type.encode(), row.logical_id.encode(), _content(row), mode)
        for rows, mode in ((matches, b"match"), (included, b"include"))
        for row in rows
    ]
    return head[:-1] + b',"entry":[' + b",".join(entries) + b"]}"


def _included(search: fhir_search.Search, matches: list[StoredResource]) -> list[StoredResource]:
    """Resources named by the matches' references, for _include; only those the token sees."""
    wanted: set[tuple[str, str]] = set()
    for row in matches:
        body = orjson.loads(row.content)
        for element in search.includes:
            for reference in _references(body.get(element)):
                kind, _, logical = reference.partition("/")
                if kind and logical:
                    wanted.add((kind, logical))
    if not wanted:
        return []
    rows = db.session.scalars(
        select(StoredResource).where(
            StoredResource.logical_id.in_({logical for _, logical in wanted}),
            visible_resources(_token()),
        )
    )
    seen = {(m.resource_type, m.logical_id) for m in matches}
    return [r for r in rows if (r.resource_type, r.logical_id) in wanted - seen]


def _references(value: Any) -> list[str]:
    """Every reference string inside an element (a Reference, a list, or an activity)."""
    if isinstance(value, list):
        return [ref for item in value for ref in _references(item)]
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            return [value["reference"]]
        return [ref for item in value.values() for ref in _references(item)]
    return []


@bp.get("/<resource_type>")
def search_type(resource_type: str) -> Response:
    _check_type(resource_type)
    search = fhir_search.parse(resource_type, list(request.args.items(multi=True)))
    query = _query(search)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    matches = list(
        db.session.scalars(
            query.order_by(StoredResource.last_updated.desc(), StoredResource.id)
            .offset(search.offset)
            .limit(search.count)
        )
    )
    included = _included(search, matches)
    _audit_rows([*matches, *included], "fhir.search")
    body = _bundle(search, matches, included, total)
    return _json(body)


@bp.get("/Patient/<logical_id>/$everything")
def everything(logical_id: str) -> Response:
    """The patient and every resource of the cases the token may see."""
    token = _token()
    patient = db.session.scalar(
        select(StoredResource).where(
            StoredResource.resource_type == "Patient",
            StoredResource.logical_id == logical_id,
            visible_resources(token),
        )
    )
    if patient is None:
        raise FhirError(404, f"Patient/{logical_id} is not known", code="not-found")
    rows = list(
        db.session.scalars(
            select(StoredResource)
            .where(
                StoredResource.person_id == patient.person_id,
                visible_resources(token),
            )
            .order_by(StoredResource.resource_type, StoredResource.logical_id)
        )
    )
    organisations = _included(
        fhir_search.Search(
            "Organization", includes=["managingOrganization", "owner", "partOf", "organization"]
        ),
        rows,
    )
    _audit_rows(rows, "fhir.read")
    base = fhir_base()
    entries = [
        b'{"fullUrl":"%s/%s/%s","resource":%s}'
        % (base.encode(), row.resource_type.encode(), row.logical_id.encode(), _content(row))
        for row in [*rows, *organisations]
    ]
    head = orjson.dumps({"resourceType": "Bundle", "type": "searchset", "total": len(entries)})
    return _json(head[:-1] + b',"entry":[' + b",".join(entries) + b"]}")


# Routes defined in their own modules, on this blueprint.
from sip_tracker.fhir import bulk, conformance, transaction  # noqa: E402, F401
