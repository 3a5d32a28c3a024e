"""The definitions a validation reads: StructureDefinitions as element trees, and the
ValueSets and CodeSystems that required bindings and codes are checked against."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PROFILES_DIR = Path(__file__).resolve().parents[3] / "fhir_profiles"
CORE = "http://hl7.org/fhir/StructureDefinition/"
_FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
_REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"

# ValueSets that draw on terminologies we do not hold: their bindings are not checked.
EXTERNAL_VALUE_SETS: dict[str, str] = {
    "http://hl7.org/fhir/ValueSet/mimetypes": "BCP 13 media types are not enumerated",
    "http://hl7.org/fhir/ValueSet/currencies": "ISO 4217 currencies are not enumerated",
    "http://hl7.org/fhir/ValueSet/all-languages": "BCP 47 language tags are not enumerated",
}

# A relative or absolute literal reference: Type/id, optionally with a version.
REFERENCE = re.compile(
    r"^(?:(?P<base>https?://\S+?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


@dataclass
class TypeRef:
    code: str
    profiles: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


@dataclass
class ElementDef:
    """An element of a snapshot, with its children and slices linked."""

    id: str
    path: str
    name: str
    min: int
    max: float
    base_max: float
    types: list[TypeRef]
    raw: Mapping[str, Any]
    fixed: tuple[str, Any] | None = None
    pattern: tuple[str, Any] | None = None
    binding: tuple[str, str] | None = None
    constraints: list[Mapping[str, Any]] = field(default_factory=list)
    children: list[ElementDef] = field(default_factory=list)
    slices: list[ElementDef] = field(default_factory=list)
    slicing: Mapping[str, Any] | None = None
    slice_name: str | None = None
    content_reference: str | None = None

    @property
    def is_choice(self) -> bool:
        return self.name.endswith("[x]")

    @property
    def repeats(self) -> bool:
        return self.base_max > 1


def _max(value: str | None) -> float:
    return float("inf") if value in (None, "*") else float(int(str(value)))


def _type_code(raw_type: Mapping[str, Any]) -> str:
    code = str(raw_type["code"])
    if code.startswith("http://hl7.org/fhirpath/"):
        for ext in raw_type.get("extension", []):
            if ext.get("url") == _FHIR_TYPE_EXT:
                return str(ext.get("valueUrl") or ext.get("valueUri"))
        return "string"
    return code


def _element(raw: Mapping[str, Any]) -> ElementDef:
    element_id = str(raw["id"])
    path = str(raw["path"])
    node = ElementDef(
        id=element_id,
        path=path,
        name=path.rsplit(".", 1)[-1],
        min=int(raw.get("min", 0)),
        max=_max(raw.get("max")),
        base_max=_max(raw.get("base", {}).get("max", raw.get("max"))),
        types=[
            TypeRef(
                _type_code(t),
                tuple(t.get("profile", ())),
                tuple(t.get("targetProfile", ())),
            )
            for t in raw.get("type", [])
        ],
        raw=raw,
        constraints=list(raw.get("constraint", [])),
        slicing=raw.get("slicing"),
        slice_name=raw.get("sliceName"),
        content_reference=raw.get("contentReference"),
    )
    for key, value in raw.items():
        if key.startswith("fixed"):
            node.fixed = (key, value)
        elif key.startswith("pattern"):
            node.pattern = (key, value)
    binding = raw.get("binding")
    if binding and binding.get("valueSet"):
        node.binding = (str(binding["strength"]), str(binding["valueSet"]).split("|")[0])
    return node


def _tree(definition: Mapping[str, Any]) -> ElementDef:
    """The snapshot of a StructureDefinition as a tree of ElementDef."""
    nodes: dict[str, ElementDef] = {}
    root: ElementDef | None = None
    for raw in definition["snapshot"]["element"]:
        node = _element(raw)
        nodes[node.id] = node
        if "." not in node.id:
            root = node
            continue
        parent_id, last = node.id.rsplit(".", 1)
        if ":" in last:
            nodes[f"{parent_id}.{last.split(':', 1)[0]}"].slices.append(node)
        else:
            nodes[parent_id].children.append(node)
    if root is None:
        raise ValueError(f"{definition['url']}: empty snapshot")
    for node in nodes.values():
        # Consent.provision.provision is "like Consent.provision": share its children.
        if node.content_reference and not node.children:
            node.children = nodes[node.content_reference.split("#", 1)[1]].children
    return root


class Definitions:
    """StructureDefinitions, ValueSets and CodeSystems from the profile folders."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.structures: dict[str, Mapping[str, Any]] = {}
        self.value_sets: dict[str, Mapping[str, Any]] = {}
        self.code_systems: dict[str, Mapping[str, Any]] = {}
        for folder in folders:
            for file in sorted(folder.glob("*.json")):
                kind = file.name.split("-", 1)[0]
                if kind not in ("StructureDefinition", "ValueSet", "CodeSystem"):
                    continue
                resource = json.loads(file.read_text(encoding="utf-8"))
                target = {
                    "StructureDefinition": self.structures,
                    "ValueSet": self.value_sets,
                    "CodeSystem": self.code_systems,
                }[kind]
                target[resource["url"]] = resource
        self._trees: dict[str, ElementDef] = {}
        self._expansions: dict[str, frozenset[tuple[str, str]] | None] = {}
        self._codes: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._plain_codes: dict[str, frozenset[str]] = {}
        self._regex: dict[str, re.Pattern[str] | None] = {}
        self.primitive_types = frozenset(
            str(d["type"]) for d in self.structures.values() if d["kind"] == "primitive-type"
        )
        self.resource_types = frozenset(self.concepts("http://hl7.org/fhir/resource-types")) - {
            "Resource",
            "DomainResource",
        } | {str(d["type"]) for d in self.structures.values() if d["kind"] == "resource"}

    def tree(self, url: str) -> ElementDef | None:
        url = url.split("|")[0]
        if url not in self._trees:
            definition = self.structures.get(url)
            if definition is None:
                return None
            self._trees[url] = _tree(definition)
        return self._trees[url]

    def type_of(self, url: str) -> str | None:
        definition = self.structures.get(url.split("|")[0])
        return str(definition["type"]) if definition else None

    def regex(self, primitive: str) -> re.Pattern[str] | None:
        if primitive not in self._regex:
            pattern = None
            definition = self.structures.get(CORE + primitive)
            for raw in definition["snapshot"]["element"] if definition else []:
                if raw["id"] == f"{primitive}.value":
                    for ext in (e for t in raw.get("type", []) for e in t.get("extension", [])):
                        if ext["url"] == _REGEX_EXT:
                            pattern = re.compile(ext["valueString"])
            self._regex[primitive] = pattern
        return self._regex[primitive]

    def concepts(self, system: str) -> dict[str, Mapping[str, Any]]:
        """Every concept of a code system we hold, nested ones included, by code."""
        if system not in self._codes:
            found: dict[str, Mapping[str, Any]] = {}

            def walk(concepts: Iterable[Mapping[str, Any]]) -> None:
                for concept in concepts:
                    found[str(concept["code"])] = concept
                    walk(concept.get("concept", []))

            walk(self.code_systems.get(system, {}).get("concept", []))
            self._codes[system] = found
        return self._codes[system]

    def expansion(self, url: str) -> frozenset[tuple[str, str]] | None:
        """The (system, code) pairs of a ValueSet, or None if we cannot enumerate it."""
        url = url.split("|")[0]
        if url in self._expansions:
            return self._expansions[url]
        self._expansions[url] = None  # guards against cycles
        value_set = self.value_sets.get(url)
        result: frozenset[tuple[str, str]] | None = None
        if value_set is not None and url not in EXTERNAL_VALUE_SETS:
            compose = value_set.get("compose", {})
            included = self._compose(compose.get("include", []))
            excluded = self._compose(compose.get("exclude", []))
            if included is not None and excluded is not None:
                result = frozenset(included - excluded)
        self._expansions[url] = result
        return result

    def codes_in(self, url: str) -> frozenset[str]:
        """The codes of a ValueSet, whatever their system (for elements of type code)."""
        if url not in self._plain_codes:
            self._plain_codes[url] = frozenset(code for _, code in self.expansion(url) or ())
        return self._plain_codes[url]

    def _compose(self, parts: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]] | None:
        codes: set[tuple[str, str]] = set()
        for part in parts:
            if "filter" in part:
                return None
            selected: set[tuple[str, str]] | None = None
            if "system" in part:
                system = str(part["system"])
                if "concept" in part:
                    selected = {(system, str(c["code"])) for c in part["concept"]}
                elif system in self.code_systems:
                    selected = {(system, code) for code in self.concepts(system)}
                else:
                    return None
            for imported in part.get("valueSet", []):
                expansion = self.expansion(imported)
                if expansion is None:
                    return None
                selected = set(expansion) if selected is None else selected & expansion
            codes |= selected or set()
        return codes


@cache
def default_definitions() -> Definitions:
    """The definitions in fhir_profiles/, loaded once per process."""
    return Definitions([PROFILES_DIR / "base", PROFILES_DIR])
