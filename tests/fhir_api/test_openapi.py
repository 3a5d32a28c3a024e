"""The OpenAPI description of /fhir (fhir_profiles/openapi.yaml): it matches the routes, and
the API answers generated requests as it says, never with a 5xx."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from sip_tracker.db import db
from sip_tracker.demo import load_demo_data
from sip_tracker.fhir import bulk, conformance
from sip_tracker.fhir import search as fhir_search
from sip_tracker.fhir.access import visible_resources
from sip_tracker.fhir.api import RESOURCE_TYPES
from sip_tracker.fhir.models import StoredResource
from sip_tracker.fhir.tokens import issue_token, token_for
from sip_tracker.organizations.models import Huvudman, HuvudmanKind
from sip_tracker.organizations.reference import load_reference_data

DESCRIPTION = Path(__file__).resolve().parents[2] / "fhir_profiles" / "openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
# Generated requests per operation and mode (valid, invalid): bounded so the run stays short.
EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def described() -> dict[str, Any]:
    return yaml.safe_load(DESCRIPTION.read_text(encoding="utf-8"))


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) of every operation described."""
    return [
        (path, method, item[method])
        for path, item in described()["paths"].items()
        for method in METHODS
        if method in item
    ]


def concrete(path: str) -> str:
    """A path of the description with values in its parameters."""
    return (
        path.replace("{id}", "sip-1")
        .replace("{jobId}", str(uuid.uuid4()))
        .replace("{fileName}", "CarePlan.ndjson")
    )


def query_parameters(operation: dict[str, Any]) -> set[str]:
    components = described()["components"]["parameters"]
    found = set()
    for parameter in operation.get("parameters", []):
        if "$ref" in parameter:
            parameter = components[parameter["$ref"].rsplit("/", 1)[1]]
        if parameter["in"] == "query":
            found.add(parameter["name"])
    return found


# --- The description matches the code -----------------------------------------------------


def test_every_described_path_is_a_route_and_every_route_is_described(app: Flask):
    adapter = app.url_map.bind("localhost")
    routed: set[tuple[str, str]] = set()
    missing = []
    for path, method, _ in operations():
        try:
            rule, _args = adapter.match(concrete(path), method=method.upper(), return_rule=True)
        except (NotFound, MethodNotAllowed):
            missing.append(f"{method.upper()} {path}")
            continue
        assert rule.endpoint.startswith("fhir."), path
        routed.add((rule.rule, method.upper()))
    assert missing == [], "described but no such route"

    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("fhir.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routes - routed == set(), "routes of the fhir blueprint not described"


def test_every_resource_type_is_described_with_exactly_the_search_parameters_parsed():
    paths = described()["paths"]
    searched = {p.split("/")[2] for p in paths if p.count("/") == 2 and p[6:7].isupper()}
    assert searched == set(RESOURCE_TYPES) | set(conformance.KINDS)
    for kind in RESOURCE_TYPES:
        assert f"/fhir/{kind}/{{id}}" in paths, kind
        expected = fhir_search.COMMON | fhir_search.BY_TYPE.get(kind, set())
        assert query_parameters(paths[f"/fhir/{kind}"]["get"]) == expected, kind
    for kind in conformance.KINDS:
        assert f"/fhir/{kind}/{{id}}" in paths, kind
        assert query_parameters(paths[f"/fhir/{kind}"]["get"]) == conformance.SEARCH_PARAMS
    includes = described()["components"]["parameters"]["_include"]["schema"]["enum"]
    assert set(includes) == set(fhir_search.INCLUDES)
    for path in ("/fhir/$export", "/fhir/Patient/$export"):
        assert query_parameters(paths[path]["get"]) == bulk.KICK_OFF_PARAMS


# --- Schemathesis against the app ---------------------------------------------------------


@pytest.fixture
def token(app: Flask, ctx: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Demo data, and a read and write token of the region that takes part in most of it."""
    monkeypatch.setitem(app.config, "FHIR_EXPORT_SYNC", True)
    monkeypatch.setitem(app.config, "FHIR_EXPORT_DIR", str(tmp_path / "exports"))
    load_reference_data()
    load_demo_data()
    region = db.session.scalar(select(Huvudman).where(Huvudman.kind == HuvudmanKind.REGION))
    assert region is not None
    secret = issue_token(name="Schemathesis", huvudman=region, read=True, write=True).secret
    db.session.commit()
    yield secret
    assert bulk.wait_for_exports(10)


class BufferedClient(FlaskClient):
    """Reads each answer whole and closes it: Schemathesis reads a streamed file (an export
    download) without closing it."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["buffered"] = True
        return super().open(*args, **kwargs)


def run(operation: Any, mode: GenerationMode, send: Callable[[Any], Any], examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def test(case: Any) -> None:
        send(case)

    test()


def test_generated_requests_get_only_described_answers_and_no_5xx(app: Flask, token, capsys):
    schema = schemathesis.openapi.from_path(str(DESCRIPTION))
    auth = {"Authorization": f"Bearer {token}"}
    statuses: Counter[int] = Counter()
    client = BufferedClient(app, app.response_class)

    def send(case: Any) -> Any:
        response = case.call(app=app, session=client, headers=auth)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=auth)
        return response

    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run(operation, mode, send, EXAMPLES)
            except Unsatisfiable:
                assert mode == GenerationMode.NEGATIVE  # nothing to make invalid (no inputs)
            except (Exception, BaseExceptionGroup) as error:  # every operation is tried
                failures[f"{operation.label} ({mode.value})"] = str(error)[:3000]

    # Requests that find data: a read of a resource of each type the token may read, and a
    # whole export (its status, every file, its deletion).
    by_label = {operation.label: operation for operation in operations}
    visible = visible_resources(token_for(token))
    for kind in RESOURCE_TYPES:
        logical_id = db.session.scalar(
            select(StoredResource.logical_id).where(StoredResource.resource_type == kind, visible)
        )
        if logical_id is not None:
            read = by_label[f"GET /fhir/{kind}/{{id}}"].Case(path_parameters={"id": logical_id})
            assert send(read).status_code == 200, kind
    started = send(by_label["GET /fhir/$export"].Case(headers={"Prefer": "respond-async"}))
    job = {"jobId": started.headers["content-location"][0].rsplit("/", 1)[1]}
    manifest = send(by_label["GET /fhir/$export-status/{jobId}"].Case(path_parameters=job))
    assert manifest.status_code == 200
    for output in manifest.json()["output"]:
        file_name = {"fileName": output["url"].rsplit("/", 1)[1]}
        download = by_label["GET /fhir/$export-file/{jobId}/{fileName}"]
        assert send(download.Case(path_parameters={**job, **file_name})).status_code == 200
    deleted = send(by_label["DELETE /fhir/$export-status/{jobId}"].Case(path_parameters=job))
    assert deleted.status_code == 202

    with capsys.disabled():
        counts = dict(sorted(statuses.items()))
        print(f"\n{sum(statuses.values())} requests to {len(operations)} operations: {counts}")
    assert failures == {}
    assert statuses[200] > 0 and statuses[400] > 0
