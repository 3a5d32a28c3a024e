"""`python -m sip_tracker.fhir.validation file.json …`: validate files, list the issues."""

from sip_tracker.fhir.validation import main

raise SystemExit(main())
