"""Generate the SIP profiles, extensions and terminology in fhir_profiles/ from their sources.

    python -m tools.fhir.build_profiles          # write fhir_profiles/*.json
    python -m tools.fhir.build_profiles --check  # exit 1 if a committed file is stale

Sources (fhir_profiles/src/): one compact JSON file per profile and per extension, and
terminology.json. Base definitions: fhir_profiles/base/ (trimmed copies of
hl7.fhir.r4b.core 4.3.0, see tools/fhir/vendor_base.py), so generation runs offline.
URLs are never written in the sources: `{{NAME}}` stands for a constant of
sip_tracker/fhir/systems.py, `{{url:NAME}}` for the canonical URL of the StructureDefinition
whose id that constant holds, and short ids (`sip-patient`) for our own canonicals.

The source format, per profile (see fhir_profiles/README.md for the full description):
    {"id", "type", "name", "title", "description": {"sv", "en"}, "purpose",
     "elements": [{"id": "CarePlan.category:sip", "min": 1, ...}, ...]}
with these shorthands in an element:
    "extension": "sip-stage"            type Extension with that profile
    "references": ["sip-patient", ...]  type Reference with those target profiles
    "binding": "sip-role"               required binding to our ValueSet
A slice of an `extension` element gets the standard slicing (by url) when none is given.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sip_tracker.fhir import systems
from tools.fhir.docs import profiles_markdown
from tools.fhir.snapshot import build_snapshot, order_differential, path_of
from tools.fhir.terminology import terminology

REPO = Path(__file__).resolve().parents[2]
PROFILES_DIR = REPO / "fhir_profiles"
SOURCE_DIR = PROFILES_DIR / "src"
BASE_DIR = PROFILES_DIR / "base"
CORE = "http://hl7.org/fhir/StructureDefinition/"
DOCS = "PROFILES.md"

META: dict[str, Any] = {
    "version": "0.1.0",
    "status": "draft",
    "publisher": "sip-tracker",
    "contact": [
        {
            "name": "sip-tracker",
            "telecom": [{"system": "url", "value": systems.CANONICAL}],
        }
    ],
    "jurisdiction": [
        {"coding": [{"system": "urn:iso:std:iso:3166", "code": "SE", "display": "Sweden"}]}
    ],
}
_TEMPLATE = re.compile(r"\{\{(url:)?([A-Z0-9_]+)\}\}")
_EXTENSION_SLICING = {
    "discriminator": [{"type": "value", "path": "url"}],
    "ordered": False,
    "rules": "open",
}


class SourceError(ValueError):
    """A source file asks for something the generator cannot produce."""


def _substitute(value: Any) -> Any:
    """Replace {{NAME}} with the constant NAME of sip_tracker.fhir.systems, recursively."""
    if isinstance(value, str):

        def constant(match: re.Match[str]) -> str:
            name = match.group(2)
            if not hasattr(systems, name):
                raise SourceError(f"systems.py has no constant {name}")
            value = str(getattr(systems, name))
            return systems.structure_definition(value) if match.group(1) else value

        return _TEMPLATE.sub(constant, value)
    if isinstance(value, list):
        return [_substitute(v) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v) for k, v in value.items()}
    return value


def canonical(ref: str) -> str:
    """A profile/extension reference: our short id, a core type name, or a full URL."""
    if "/" in ref or ":" in ref:
        return ref
    if ref[:1].isupper():
        return CORE + ref
    return systems.structure_definition(ref)


def _bilingual(text: Mapping[str, str]) -> str:
    return f"{text['sv']}\n\n*English:* {text['en']}"


class Definitions:
    """The base definitions in fhir_profiles/base/, and the extensions built so far."""

    def __init__(self, base_dir: Path = BASE_DIR) -> None:
        self.by_url: dict[str, dict[str, Any]] = {}
        for file in sorted(base_dir.glob("StructureDefinition-*.json")):
            definition = json.loads(file.read_text(encoding="utf-8"))
            self.by_url[definition["url"]] = definition

        # Our profiles' resource types by URL, so references to them can be checked before
        # they are built (profiles refer to each other).
        self.profile_types: dict[str, str] = {}

    def get(self, url: str) -> dict[str, Any]:
        try:
            return self.by_url[url]
        except KeyError:
            raise SourceError(f"no StructureDefinition {url} in {BASE_DIR}") from None

    def type(self, code: str) -> dict[str, Any]:
        return self.get(CORE + code)


def expand_element(source: Mapping[str, Any]) -> dict[str, Any]:
    """One differential element from its source form (shorthands resolved)."""
    element: dict[str, Any] = {"id": source["id"], "path": path_of(source["id"])}
    last = source["id"].rsplit(".", 1)[-1]
    if ":" in last:
        element["sliceName"] = last.split(":", 1)[1]
    for key, value in source.items():
        if key == "id":
            continue
        if key == "extension":
            element["type"] = [{"code": "Extension", "profile": [canonical(value)]}]
        elif key == "references":
            element["type"] = [
                {"code": "Reference", "targetProfile": [canonical(v) for v in value]}
            ]
        elif key == "binding" and isinstance(value, str):
            element["binding"] = {
                "strength": "required",
                "valueSet": systems.value_set(value),
            }
        elif key == "binding":
            binding = dict(value)
            if not str(binding["valueSet"]).startswith(("http", "urn")):
                binding["valueSet"] = systems.value_set(binding["valueSet"])
            element["binding"] = binding
        elif key == "constraint":
            element["constraint"] = [dict(c) for c in value]
        else:
            element[key] = copy.deepcopy(value)
    return element


def _with_slicing(differential: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add the standard extension slicing where a slice of `extension` needs it."""
    ids = {e["id"]: e for e in differential}
    added: list[dict[str, Any]] = []
    for element in differential:
        if "sliceName" not in element:
            continue
        sliced_id = element["id"].rsplit(":", 1)[0]
        if not sliced_id.endswith(("extension", "modifierExtension")):
            continue
        sliced = ids.get(sliced_id)
        if sliced is None:
            sliced = {"id": sliced_id, "path": path_of(sliced_id)}
            ids[sliced_id] = sliced
            added.append(sliced)
        sliced.setdefault("slicing", dict(_EXTENSION_SLICING))
    return differential + added


def _add_sources(differential: list[dict[str, Any]], url: str) -> None:
    for element in differential:
        for constraint in element.get("constraint", []):
            constraint.setdefault("source", url)


def _extension_defaults(
    differential: list[dict[str, Any]], definitions: Definitions
) -> list[dict[str, Any]]:
    """Copy the short and definition of each used extension onto its slice."""
    for element in differential:
        for element_type in element.get("type", []):
            if element_type["code"] != "Extension" or "profile" not in element_type:
                continue
            profile = element_type["profile"][0]
            known = definitions.by_url.get(profile)
            if known is None:
                continue
            root = known["snapshot"]["element"][0]
            element.setdefault("short", root.get("short"))
            element.setdefault("definition", root.get("definition"))
    return differential


def _check_targets(
    differential: list[dict[str, Any]], base: Mapping[str, Any], types: Mapping[str, str]
) -> None:
    """A reference may only narrow its targets: each target's type must be one the base allows."""
    base_targets = {
        e["path"]: {
            t.rsplit("/", 1)[1] for typ in e.get("type", []) for t in typ.get("targetProfile", [])
        }
        for e in base["snapshot"]["element"]
    }
    for element in differential:
        allowed = base_targets.get(element["path"])
        for element_type in element.get("type", []):
            for target in element_type.get("targetProfile", []):
                target_type = types.get(target, target.rsplit("/", 1)[1])
                if allowed and "Resource" not in allowed and target_type not in allowed:
                    raise SourceError(f"{element['id']}: {target_type} is not a target in the base")


def structure_definition(
    source: Mapping[str, Any], definitions: Definitions, kind: str
) -> dict[str, Any]:
    """A full StructureDefinition (differential and snapshot) from a profile source."""
    source = _substitute(source)
    sd_id = source["id"]
    url = systems.structure_definition(sd_id)
    base_type = "Extension" if kind == "extension" else source["type"]
    base = definitions.type(base_type)
    if kind == "extension":
        elements = extension_elements(source)
    else:
        elements = [expand_element(e) for e in source["elements"]]
    differential = _with_slicing(elements)
    _add_sources(differential, url)
    differential = _extension_defaults(differential, definitions)
    _check_targets(differential, base, definitions.profile_types)
    snapshot = build_snapshot(base, differential, definitions.type)
    differential = order_differential(differential, snapshot)

    resource: dict[str, Any] = {
        "resourceType": "StructureDefinition",
        "id": sd_id,
        "url": url,
        "version": META["version"],
        "name": source["name"],
        "title": source["title"],
        "status": META["status"],
        "experimental": False,
        "publisher": META["publisher"],
        "contact": META["contact"],
        "description": _bilingual(source["description"]),
        "jurisdiction": META["jurisdiction"],
    }
    if "purpose" in source:
        resource["purpose"] = source["purpose"]
    resource["fhirVersion"] = systems.FHIR_VERSION
    if kind == "extension":
        resource.update(
            {
                "kind": "complex-type",
                "abstract": False,
                "context": [{"type": "element", "expression": c} for c in source["context"]],
                "type": "Extension",
            }
        )
    else:
        resource.update({"kind": "resource", "abstract": False, "type": source["type"]})
    resource.update(
        {
            "baseDefinition": base["url"],
            "derivation": "constraint",
            "snapshot": {"element": snapshot},
            "differential": {"element": differential},
        }
    )
    return resource


def extension_elements(source: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The differential of an extension: a simple value, or named parts (complex)."""
    url = systems.structure_definition(source["id"])
    short = source["title"]
    definition = _bilingual(source["description"])
    root: dict[str, Any] = {"id": "Extension", "short": short, "definition": definition}
    if "min" in source:
        root["min"] = source["min"]
    if "max" in source:
        root["max"] = source["max"]
    if "constraint" in source:
        root["constraint"] = source["constraint"]
    elements: list[dict[str, Any]] = [root]
    if "parts" in source:
        # The parts are all there is: a part by another name is an error (closed slicing).
        slicing = {**_EXTENSION_SLICING, "rules": "closed"}
        elements.append({"id": "Extension.extension", "slicing": slicing})
        for name, part in source["parts"].items():
            slice_id = f"Extension.extension:{name}"
            head = {"id": slice_id, "min": part.get("min", 0), "max": part.get("max", "1")}
            for key in ("short", "definition", "mustSupport"):
                if key in part:
                    head[key] = part[key]
            elements.append(head)
            elements.append({"id": f"{slice_id}.extension", "max": "0"})
            elements.append({"id": f"{slice_id}.url", "fixedUri": name})
            value = {"id": f"{slice_id}.value[x]", "min": 1, **_value_element(part)}
            elements.append(value)
        elements.append({"id": "Extension.url", "fixedUri": url})
        elements.append({"id": "Extension.value[x]", "max": "0"})
    else:
        elements.append({"id": "Extension.extension", "max": "0"})
        elements.append({"id": "Extension.url", "fixedUri": url})
        value = {"id": "Extension.value[x]", "min": 1, **_value_element(source["value"])}
        elements.append(value)
    return [expand_element(e) for e in elements]


def _value_element(spec: Mapping[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = {"type": [{"code": spec["type"]}]}
    if "targetProfile" in spec:
        value["type"][0]["targetProfile"] = [canonical(t) for t in spec["targetProfile"]]
    for key in ("binding", "short", "definition", "maxLength", "constraint"):
        if key in spec:
            value[key] = spec[key]
    return value


def _load_sources(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(file.read_text(encoding="utf-8")) for file in sorted(folder.glob("*.json"))]


def build(source_dir: Path = SOURCE_DIR, base_dir: Path = BASE_DIR) -> dict[str, dict]:
    """Every generated resource, by file name."""
    definitions = Definitions(base_dir)
    files: dict[str, dict[str, Any]] = {}
    # Extensions first: profiles copy their short and definition onto extension slices.
    for source in _load_sources(source_dir / "extensions"):
        resource = structure_definition(source, definitions, "extension")
        definitions.by_url[resource["url"]] = resource
        files[f"StructureDefinition-{resource['id']}.json"] = resource
    profiles = _load_sources(source_dir / "profiles")
    definitions.profile_types = {systems.structure_definition(p["id"]): p["type"] for p in profiles}
    for source in profiles:
        resource = structure_definition(source, definitions, "profile")
        definitions.by_url[resource["url"]] = resource
        files[f"StructureDefinition-{resource['id']}.json"] = resource
    terminology_source = json.loads((source_dir / "terminology.json").read_text(encoding="utf-8"))
    for resource in terminology(_substitute(terminology_source), META):
        files[f"{resource['resourceType']}-{resource['id']}.json"] = resource
    return files


def render(resource: Mapping[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=2) + "\n"


def generated_files(out: Path = PROFILES_DIR) -> list[Path]:
    """The generated files present in out (the patterns build() writes)."""
    patterns = ("StructureDefinition-*.json", "CodeSystem-*.json", "ValueSet-*.json", DOCS)
    return sorted(p for pattern in patterns for p in out.glob(pattern))


def rendered() -> dict[str, str]:
    """Every generated file's text, by name: the resources and PROFILES.md."""
    files = build()
    texts = {name: render(resource) for name, resource in files.items()}
    texts[DOCS] = profiles_markdown(files)
    return texts


def stale_files(out: Path = PROFILES_DIR) -> list[str]:
    """Names of files that differ from what build() produces (missing, changed or extra)."""
    expected = rendered()
    present = {p.name: p.read_text(encoding="utf-8") for p in generated_files(out)}
    return sorted(
        name for name in expected.keys() | present.keys() if expected.get(name) != present.get(name)
    )


def write(out: Path = PROFILES_DIR) -> list[str]:
    texts = rendered()
    for old in generated_files(out):
        if old.name not in texts:
            old.unlink()
    for name, text in sorted(texts.items()):
        (out / name).write_text(text, encoding="utf-8")
    return sorted(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files()
        for name in stale:
            print(f"out of date: fhir_profiles/{name}", file=sys.stderr)
        return 1 if stale else 0
    written = write()
    print(f"wrote {len(written)} files to fhir_profiles/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
