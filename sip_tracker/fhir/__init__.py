"""The FHIR adapter: SIP cases as profiled HL7 FHIR resources (R4 by default, R5 on request)."""
