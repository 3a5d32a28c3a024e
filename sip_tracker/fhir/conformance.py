"""Routes on the /fhir blueprint: see the module's docstring once written."""

from __future__ import annotations

from sip_tracker.fhir.api import bp  # noqa: F401  (routes are added to the FHIR blueprint)
