"""Generate and refresh the FHIR profiles in fhir_profiles/."""
