"""OperationOutcome: how every FHIR error is told, with the HTTP status that goes with it."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response

FHIR_JSON = "application/fhir+json"


class FhirError(Exception):
    """An error to answer with an OperationOutcome and a 4xx status."""

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str = "invalid",
        expression: list[str] | None = None,
        issues: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.issues = issues or [issue(diagnostics, code=code, expression=expression)]


def issue(
    diagnostics: str,
    *,
    code: str = "invalid",
    severity: str = "error",
    expression: list[str] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        entry["expression"] = expression
    return entry


def outcome_response(status: int, issues: list[dict[str, Any]]) -> Response:
    body = {"resourceType": "OperationOutcome", "issue": issues}
    return Response(orjson.dumps(body), status=status, mimetype=FHIR_JSON)
