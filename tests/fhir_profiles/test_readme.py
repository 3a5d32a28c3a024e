"""The README's mapping table names only elements that exist in the profiles."""

from __future__ import annotations

import re

from sip_tracker.fhir.validation import CORE, ElementDef, default_definitions
from tests.fhir_profiles.helpers import PROFILES

TYPES = (
    "CarePlan|CareTeam|Goal|Task|Consent|Patient|RelatedPerson|Organization|PractitionerRole"
    "|Appointment|Encounter"
)
PATH = re.compile(rf"`((?:{TYPES})(?:\.[a-zA-Z]+(?:\[\d+\])?)+)`")


def _resolve(root: ElementDef, path: str) -> bool:
    definitions = default_definitions()
    node = root
    for step in re.sub(r"\[\d+\]", "", path).split(".")[1:]:
        children = node.children
        if not children and node.types:
            type_root = definitions.tree(CORE + node.types[0].code)
            children = type_root.children if type_root else []
        found = next((c for c in children if c.name in (step, f"{step}[x]")), None)
        if found is None:
            return False
        node = found
    return True


def test_every_fhir_path_in_the_mapping_table_exists():
    text = (PROFILES / "README.md").read_text(encoding="utf-8")
    mapping = text.split("## Mapping from the domain", 1)[1].split("\n## ", 1)[0]
    fhir_column = [
        re.split(r"(?<!\\)\|", line)[2] for line in mapping.splitlines() if line.startswith("| ")
    ]
    paths = sorted({path for cell in fhir_column for path in PATH.findall(cell)})
    definitions = default_definitions()

    missing = []
    for path in paths:
        root = definitions.tree(CORE + path.split(".", 1)[0])
        if root is None or not _resolve(root, path):
            missing.append(path)

    assert len(paths) > 80
    assert missing == []
