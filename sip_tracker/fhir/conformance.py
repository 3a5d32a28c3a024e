"""The conformance resources of the exchange, served as committed: our profiles and extensions
(StructureDefinition), code systems and value sets, from fhir_profiles/.

They are the contract and hold no personal data, so they are read without a token
(api.PUBLIC_ENDPOINTS). The routes name their type, so they win over the generic
``/<resource_type>/<logical_id>`` route of api.py, which serves only stored resources.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

import orjson
from flask import Response, request

from sip_tracker.fhir.api import bp, fhir_base, fhir_json_response, fhir_version_asked
from sip_tracker.fhir.outcomes import FhirError
from sip_tracker.fhir.search import check_format
from sip_tracker.fhir.validation.definitions import PROFILES_DIR

KINDS = ("StructureDefinition", "CodeSystem", "ValueSet")
SEARCH_PARAMS = {"url", "_id", "_format"}


@dataclass(frozen=True)
class Artifact:
    kind: str
    logical_id: str
    url: str
    version: str
    body: bytes


@cache
def artifacts() -> dict[tuple[str, str], Artifact]:
    """Every committed conformance resource by (type, id), read once per process."""
    found: dict[tuple[str, str], Artifact] = {}
    for kind in KINDS:
        for file in sorted(PROFILES_DIR.glob(f"{kind}-*.json")):
            resource = json.loads(file.read_text(encoding="utf-8"))
            found[(kind, resource["id"])] = Artifact(
                kind, resource["id"], resource["url"], resource["version"], orjson.dumps(resource)
            )
    return found


def _only_r4() -> None:
    """The definitions are R4 (4.0.1) profiles: there is no R5 edition of them to serve."""
    if fhir_version_asked() != "4.0":
        raise FhirError(
            406,
            "The conformance resources are FHIR R4 (4.0.1) definitions; "
            "ask for application/fhir+json; fhirVersion=4.0",
            code="not-supported",
        )


@bp.get("/StructureDefinition/<logical_id>", defaults={"kind": "StructureDefinition"})
@bp.get("/CodeSystem/<logical_id>", defaults={"kind": "CodeSystem"})
@bp.get("/ValueSet/<logical_id>", defaults={"kind": "ValueSet"})
def conformance_read(kind: str, logical_id: str) -> Response:
    _only_r4()
    artifact = artifacts().get((kind, logical_id))
    if artifact is None:
        raise FhirError(404, f"{kind}/{logical_id} is not known", code="not-found")
    return fhir_json_response(artifact.body, headers={"ETag": f'W/"{artifact.version}"'})


def _matches(artifact: Artifact, urls: list[str], ids: list[str]) -> bool:
    """url matches the canonical, or canonical|version with our version; _id the id."""
    if ids and artifact.logical_id not in ids:
        return False
    if urls:
        wanted = {artifact.url, f"{artifact.url}|{artifact.version}"}
        return any(url in wanted for url in urls)
    return True


@bp.get("/StructureDefinition", defaults={"kind": "StructureDefinition"})
@bp.get("/CodeSystem", defaults={"kind": "CodeSystem"})
@bp.get("/ValueSet", defaults={"kind": "ValueSet"})
def conformance_search(kind: str) -> Response:
    """Search by url (the canonical, optionally |version) and _id; without either, all."""
    _only_r4()
    args = list(request.args.items(multi=True))
    unknown = sorted({name for name, _ in args if name not in SEARCH_PARAMS})
    if unknown:
        raise FhirError(
            400,
            f"Unknown or unsupported search parameter(s) for {kind}: {', '.join(unknown)}. "
            f"Supported: {', '.join(sorted(SEARCH_PARAMS))}.",
            code="not-supported",
        )
    for name, value in args:
        if name == "_format":
            check_format(value)
    urls = [u for name, value in args if name == "url" for u in value.split(",") if u]
    ids = [i for name, value in args if name == "_id" for i in value.split(",") if i]
    found = [a for (k, _), a in sorted(artifacts().items()) if k == kind and _matches(a, urls, ids)]
    base = fhir_base()
    head = orjson.dumps(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": len(found),
            "link": [{"relation": "self", "url": request.url}],
        }
    )
    entries = [
        b'{"fullUrl":"%s/%s/%s","resource":%s,"search":{"mode":"match"}}'
        % (base.encode(), kind.encode(), a.logical_id.encode(), a.body)
        for a in found
    ]
    return fhir_json_response(head[:-1] + b',"entry":[' + b",".join(entries) + b"]}")
