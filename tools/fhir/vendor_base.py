"""Copy the base FHIR definitions the SIP profiles build on into fhir_profiles/base/.

The R4 (4.0.1) core package is not published on the npm registry; hl7.fhir.r4b.core 4.3.0
is, and R4B is structurally identical to R4 for every resource the SIP exchange uses. This
script takes from that package only what the profile generator and the validator need:

- the StructureDefinitions of the resources we profile or reference, their datatypes and
  primitive types, following every element type (the closure);
- every ValueSet bound with strength "required" anywhere in those definitions, and the
  CodeSystems those ValueSets draw their codes from (plus a few named below).

The copies are trimmed: narrative (`text`), `differential` and the v2/RIM `mapping`
sections are dropped, which keeps the snapshots (what a validator reads) whole. The two
datatypes R4B added to R4 (CodeableReference, RatioRange) are removed from element type
lists, so that an instance using them is rejected as R4 would. HL7 publishes these
definitions under CC0.

Run it only to refresh the copies (they are committed, so generation and validation work
offline):

    python -m tools.fhir.vendor_base [--package path/to/hl7.fhir.r4b.core-4.3.0.tgz]

Without --package it runs `npm pack hl7.fhir.r4b.core@4.3.0` into ~/.cache/sip-tracker-fhir.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

PACKAGE = "hl7.fhir.r4b.core"
PACKAGE_VERSION = "4.3.0"
REPO = Path(__file__).resolve().parents[2]
BASE_DIR = REPO / "fhir_profiles" / "base"
CACHE = Path.home() / ".cache" / "sip-tracker-fhir"

# The resources the SIP exchange profiles, refers to or answers with.
ROOT_TYPES = (
    "CarePlan",
    "CareTeam",
    "Goal",
    "Task",
    "Consent",
    "Patient",
    "RelatedPerson",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Appointment",
    "Encounter",
    "Location",
    "PlanDefinition",
    "Bundle",
    "OperationOutcome",
    "Extension",
)
# Datatypes that R4B added; R4 (4.0.1) does not have them.
R4B_ONLY_TYPES = frozenset({"CodeableReference", "RatioRange"})
# Code systems worth holding even though no required binding needs them: codes the SIP
# profiles fix (consent scope, goal achievement), so that a wrong code is caught.
EXTRA_CODE_SYSTEMS = (
    "http://terminology.hl7.org/CodeSystem/consentscope",
    "http://terminology.hl7.org/CodeSystem/goal-achievement",
)
FHIRPATH_TYPE_PREFIX = "http://hl7.org/fhirpath/"


def fetch_package() -> Path:
    """Download the package tarball with npm into the cache (outside the repository)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"{PACKAGE}-{PACKAGE_VERSION}.tgz"
    if not tarball.exists():
        subprocess.run(
            ["npm", "pack", f"{PACKAGE}@{PACKAGE_VERSION}", "--pack-destination", str(CACHE)],
            check=True,
        )
    return tarball


def read_package(path: Path) -> dict[str, dict[str, Any]]:
    """Every JSON resource of the package, by file name."""
    files: dict[str, dict[str, Any]] = {}
    if path.is_dir():
        for file in path.glob("*.json"):
            files[file.name] = json.loads(file.read_text(encoding="utf-8"))
        return files
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if member.isfile() and member.name.startswith("package/") and name.endswith(".json"):
                handle = archive.extractfile(member)
                if handle is not None and "/" not in member.name[len("package/") :]:
                    files[name] = json.loads(handle.read().decode("utf-8"))
    return files


def type_closure(definitions: dict[str, dict[str, Any]]) -> list[str]:
    """The names of every StructureDefinition reachable from ROOT_TYPES."""
    seen: set[str] = set()
    todo = [*ROOT_TYPES, "Resource", "DomainResource", "Element", "BackboneElement"]
    while todo:
        name = todo.pop()
        if name in seen or name in R4B_ONLY_TYPES:
            continue
        definition = definitions.get(name)
        if definition is None:
            raise SystemExit(f"{PACKAGE} has no StructureDefinition for {name}")
        seen.add(name)
        if base := definition.get("baseDefinition"):
            todo.append(base.rsplit("/", 1)[1])
        for element in definition["snapshot"]["element"]:
            for element_type in element.get("type", []):
                if not element_type["code"].startswith(FHIRPATH_TYPE_PREFIX):
                    todo.append(element_type["code"])
    return sorted(seen)


def trim_structure_definition(definition: dict[str, Any]) -> dict[str, Any]:
    trimmed = {k: v for k, v in definition.items() if k not in ("text", "differential", "mapping")}
    elements = []
    for element in definition["snapshot"]["element"]:
        element = {k: v for k, v in element.items() if k != "mapping"}
        if "type" in element:
            element["type"] = [t for t in element["type"] if t["code"] not in R4B_ONLY_TYPES]
        elements.append(element)
    trimmed["snapshot"] = {"element": elements}
    return trimmed


def trim_terminology(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k not in ("text", "expansion")}


def vendor(package: Path, out: Path = BASE_DIR) -> list[str]:
    """Write the trimmed copies to out; return the file names written."""
    files = read_package(package)
    structures = {
        f["id"]: f
        for name, f in files.items()
        if name.startswith("StructureDefinition-") and f.get("kind") != "logical"
    }
    value_sets = {
        f["url"]: f for name, f in files.items() if name.startswith("ValueSet-") and "url" in f
    }
    code_systems = {
        f["url"]: f for name, f in files.items() if name.startswith("CodeSystem-") and "url" in f
    }

    written: dict[str, dict[str, Any]] = {}
    needed_value_sets: set[str] = set()
    for name in type_closure(structures):
        definition = trim_structure_definition(structures[name])
        written[f"StructureDefinition-{name}.json"] = definition
        for element in definition["snapshot"]["element"]:
            binding = element.get("binding", {})
            if binding.get("strength") == "required" and "valueSet" in binding:
                needed_value_sets.add(binding["valueSet"].split("|")[0])

    needed_systems: set[str] = set(EXTRA_CODE_SYSTEMS)
    todo = sorted(needed_value_sets)
    while todo:
        url = todo.pop()
        value_set = value_sets.get(url)
        if value_set is None:
            continue
        written[f"ValueSet-{value_set['id']}.json"] = trim_terminology(value_set)
        for part in value_set.get("compose", {}).get("include", []) + value_set.get(
            "compose", {}
        ).get("exclude", []):
            if "system" in part and "concept" not in part:
                needed_systems.add(part["system"])
            for imported in part.get("valueSet", []):
                todo.append(imported.split("|")[0])
    for url in sorted(needed_systems):
        code_system = code_systems.get(url)
        if code_system is not None:
            written[f"CodeSystem-{code_system['id']}.json"] = trim_terminology(code_system)

    if out.exists():
        for old in out.glob("*.json"):
            old.unlink()
    out.mkdir(parents=True, exist_ok=True)
    for file_name, resource in sorted(written.items()):
        text = json.dumps(resource, ensure_ascii=False, indent=1) + "\n"
        (out / file_name).write_text(text, encoding="utf-8")
    manifest = {
        "package": PACKAGE,
        "version": PACKAGE_VERSION,
        "license": "CC0-1.0",
        "trimmed": ["text", "differential", "mapping", "expansion", *sorted(R4B_ONLY_TYPES)],
        "files": sorted(written),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return sorted(written)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, help="the package tarball or its package/ folder")
    args = parser.parse_args(argv)
    if args.package is None and shutil.which("npm") is None:
        print("npm not found: pass --package", file=sys.stderr)
        return 2
    package = args.package or fetch_package()
    written = vendor(package)
    print(f"wrote {len(written)} definitions to {BASE_DIR.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
