"""FHIR → domain: a SIP sent as a transaction Bundle, read and written into the domain.

bundle.py checks the Bundle's structure and validates each resource against our profiles;
parse.py reads it into the typed records of records.py (pure); apply.py finds or creates
the person and the case and brings the case to what the Bundle says. transaction.py is the
endpoint.
"""

from __future__ import annotations

from sip_tracker.fhir.inbound.apply import Imported, import_sip
from sip_tracker.fhir.inbound.bundle import Entries, read_bundle
from sip_tracker.fhir.inbound.parse import read_sip
from sip_tracker.fhir.inbound.records import SipBundle

__all__ = ["Entries", "Imported", "SipBundle", "import_sip", "read_bundle", "read_sip"]
