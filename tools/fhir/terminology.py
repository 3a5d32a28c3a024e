"""CodeSystems and ValueSets of the SIP exchange, generated from the domain's code lists.

The codes and their Swedish displays come from sip_tracker/cases/codes.py (the msgid of
each label, which is the Swedish text) and sip_tracker/organizations/reference.py (the
kommuner); English designations come from the English message catalogue. What the domain
does not hold (descriptions, the role "deltagare", the kinds of huvudman) is written in
fhir_profiles/src/terminology.json.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from sip_tracker.cases import codes
from sip_tracker.fhir import systems
from sip_tracker.handlingsplan.files import read_plan_file
from sip_tracker.organizations.reference import KOMMUNER

REPO = Path(__file__).resolve().parents[2]
ENGLISH_CATALOG = REPO / "sip_tracker" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# The county action plan as shipped: its målområden are the codes of sip-malomrade.
PLAN_FILE = REPO / "sip_tracker" / "handlingsplan" / "data" / "handlingsplan.yaml"


def label_msgids(module: Any) -> dict[str, dict[str, str]]:
    """The *_LABELS dicts of a module as {dict name: {code: Swedish msgid}}.

    The labels are lazy strings that only resolve inside a request; the msgid (the Swedish
    text) is read from the source instead, so the generator needs no application.
    """
    tree = ast.parse(inspect.getsource(module))
    found: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)):
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id.endswith("_LABELS")):
            continue
        labels: dict[str, str] = {}
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if not (
                isinstance(key, ast.Attribute)
                and isinstance(key.value, ast.Name)
                and isinstance(value, ast.Call)
                and value.args
                and isinstance(value.args[0], ast.Constant)
            ):
                raise ValueError(f"{target.id}: unexpected entry at line {node.lineno}")
            enum: type[StrEnum] = getattr(module, key.value.id)
            labels[enum[key.attr].value] = str(value.args[0].value)
        found[target.id] = labels
    return found


def english_catalog() -> dict[str, str]:
    with ENGLISH_CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def _bilingual(text: Mapping[str, str]) -> str:
    return f"{text['sv']}\n\n*English:* {text['en']}"


def _common(kind: str, spec: Mapping[str, Any], url: str, meta: Mapping[str, Any]) -> dict:
    return {
        "resourceType": kind,
        "id": spec["id"],
        "url": url,
        "version": meta["version"],
        "name": spec["name"],
        "title": spec["title"],
        "status": meta["status"],
        "experimental": False,
        "publisher": meta["publisher"],
        "contact": meta["contact"],
        "description": _bilingual(spec["description"]),
        "jurisdiction": meta["jurisdiction"],
    }


def concepts_for(spec: Mapping[str, Any], english: Mapping[str, str]) -> list[dict[str, Any]]:
    """The concepts of one code system: from the domain's labels, then from the source."""
    rows: list[tuple[str, str, str | None, str | None]] = []
    source = spec.get("from")
    if source == "kommuner":
        rows = [(code, name, None, None) for code, name, _official in KOMMUNER]
    elif source == "handlingsplan:malomraden":
        malomraden = read_plan_file(PLAN_FILE).malomraden
        rows = [(m.code, m.title, None, m.description or None) for m in malomraden]
    elif source:
        labels = label_msgids(codes)[source]
        rows = [(code, sv, None, None) for code, sv in labels.items()]
    for extra in spec.get("concepts", []):
        rows.append((extra["code"], extra["display"], extra.get("en"), extra.get("definition")))
    concepts = []
    for code, display, en, definition in rows:
        concept: dict[str, Any] = {"code": code, "display": display}
        if definition:
            concept["definition"] = definition
        english_text = en or english.get(display)
        if english_text and english_text != display:
            concept["designation"] = [
                {"language": "en", "use": _DISPLAY_USE, "value": english_text}
            ]
        concepts.append(concept)
    return concepts


_DISPLAY_USE = {
    "system": "http://terminology.hl7.org/CodeSystem/designation-usage",
    "code": "display",
}


def code_system(spec: Mapping[str, Any], meta: Mapping[str, Any], english: Mapping[str, str]):
    url = getattr(systems, spec["constant"])
    concepts = concepts_for(spec, english)
    resource = _common("CodeSystem", spec, url, meta)
    resource.update(
        {
            "caseSensitive": True,
            "valueSet": systems.value_set(spec["id"]),
            "content": spec.get("content", "complete"),
            "count": len(concepts),
            "concept": concepts,
        }
    )
    return resource


def value_set(spec: Mapping[str, Any], meta: Mapping[str, Any], code_system_resource: dict):
    """The ValueSet of one code system: all its codes, or the subset the source names."""
    vs_spec = {**spec, **spec.get("valueSet", {})}
    resource = _common("ValueSet", vs_spec, systems.value_set(spec["id"]), meta)
    include: dict[str, Any] = {"system": code_system_resource["url"]}
    wanted = vs_spec.get("codes")
    if wanted is not None:
        known = {c["code"]: c["display"] for c in code_system_resource["concept"]}
        include["concept"] = [{"code": code, "display": known[code]} for code in wanted]
    elif code_system_resource["content"] != "complete":
        # A fragment: name the codes, so the value set is exactly what is listed.
        include["concept"] = [
            {"code": c["code"], "display": c["display"]} for c in code_system_resource["concept"]
        ]
    resource["immutable"] = False
    resource["compose"] = {"include": [include]}
    return resource


def terminology(source: Mapping[str, Any], meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every CodeSystem and ValueSet the source describes, in a stable order."""
    english = english_catalog()
    resources = []
    for spec in source["codeSystems"]:
        system_resource = code_system(spec, meta, english)
        resources.append(system_resource)
        resources.append(value_set(spec, meta, system_resource))
    return resources
