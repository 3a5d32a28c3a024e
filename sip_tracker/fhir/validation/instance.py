"""One validation run: walk an instance along the element trees and collect issues."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fhirpathpy.engine.nodes import ResourceNode

from sip_tracker.fhir import systems
from sip_tracker.fhir.validation.definitions import (
    CORE,
    EXTERNAL_VALUE_SETS,
    REFERENCE,
    Definitions,
    ElementDef,
)
from sip_tracker.fhir.validation.fhirpath import SKIPPED_INVARIANTS, engine_options, evaluate


@dataclass(frozen=True)
class Issue:
    """One finding; code is the OperationOutcome issue type it becomes."""

    severity: str  # error | warning | information
    path: str  # where in the instance, FHIRPath style: CarePlan.category[0]
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.severity}: {self.path}: {self.message}"


def errors(issues: Iterable[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.severity == "error"]


def _capitalise(type_code: str) -> str:
    return type_code[:1].upper() + type_code[1:]


def _matches_pattern(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _matches_pattern(value[key], sub) for key, sub in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(_matches_pattern(item, sub) for item in items) for sub in pattern)
    return bool(value == pattern)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class InstanceValidation:
    """One validation of one resource (and the resources inside it)."""

    def __init__(self, definitions: Definitions, root: Mapping[str, Any]) -> None:
        self.defs = definitions
        self.root = root
        self.issues: list[Issue] = []
        self.current_resource: Mapping[str, Any] = root
        self.engine_options = engine_options(self._resolve)
        self._evaluated: dict[tuple[int, str | None, str], list[Any]] = {}

    def _resolve(self, inputs: list[Any]) -> list[Any]:
        """FHIRPath resolve(): contained resources, else a stub of the named type.

        The stub has only resourceType and id, which is what the core invariants ask of a
        resolved reference (ctm-1: `member.resolve() is Practitioner`).
        """
        found = []
        for item in inputs:
            reference = item.get("reference") if isinstance(item, dict) else item
            if not isinstance(reference, str):
                continue
            if reference.startswith("#"):
                for contained in self._contained(reference[1:]):
                    kind = str(contained.get("resourceType"))
                    found.append(ResourceNode.create_node(contained, kind))
            elif match := REFERENCE.match(reference):
                stub = {"resourceType": match["type"], "id": match["id"]}
                found.append(ResourceNode.create_node(stub, match["type"]))
        return found

    def _contained(self, local_id: str) -> list[dict[str, Any]]:
        """The contained resource with that id; contained resources refer to each other
        through their container, so the outermost resource's are searched too."""
        candidates = [*self.current_resource.get("contained", []), *self.root.get("contained", [])]
        return [r for r in candidates if isinstance(r, dict) and r.get("id") == local_id][:1]

    def add(self, severity: str, path: str, message: str, code: str = "invalid") -> None:
        self.issues.append(Issue(severity, path, message, code))

    # --- resources --------------------------------------------------------------------
    def resource(self, data: Any, path: str, profiles: Iterable[str] | None = None) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
            self.add("error", path, "a resource needs a resourceType", "structure")
            return
        kind = data["resourceType"]
        if kind not in self.defs.resource_types:
            self.add("error", path, f"unknown resource type {kind}", "structure")
            return
        claimed = [str(p) for p in data.get("meta", {}).get("profile", []) if isinstance(p, str)]
        urls = [CORE + kind, *(claimed if profiles is None else profiles)]
        outer = self.current_resource
        self.current_resource = data
        try:
            for url in dict.fromkeys(urls):
                root = self.defs.tree(url)
                if root is None:
                    # A core type we hold no definition for, or a profile claimed in meta
                    # that is not ours: reported, not an error. A profile asked for is.
                    asked = profiles is not None and url in profiles
                    message = f"no definition for {url}; not validated against it"
                    self.add("error" if asked else "warning", path, message, "not-supported")
                    continue
                if self.defs.type_of(url) != kind:
                    self.add("error", path, f"profile {url} is for another type", "invalid")
                    continue
                self.check(root, data, path, kind)
        finally:
            self.current_resource = outer

    # --- one occurrence of an element ---------------------------------------------------
    def check(self, element: ElementDef, value: Any, path: str, type_code: str | None) -> None:
        """Validate one occurrence of element (of type type_code) at path."""
        if type_code in self.defs.primitive_types:
            self.primitive(element, value, path, type_code)
        elif type_code in ("Resource", "DomainResource") or (
            type_code in self.defs.resource_types and element.path != type_code
        ):
            self.resource(value, path)
            return
        else:
            if not isinstance(value, dict):
                self.add("error", path, f"expected an object ({type_code})", "structure")
                return
            self.complex(element, value, path, type_code)
        self.fixed_and_pattern(element, value, path)
        if element.binding is not None:
            self.bound(element, value, path, type_code)

    def complex(
        self, element: ElementDef, value: dict[str, Any], path: str, type_code: str | None
    ) -> None:
        if not any(key != "id" and key != "resourceType" for key in value):
            self.add("error", path, "empty element: needs a value or children (ele-1)", "structure")
        children, type_root = element.children, None
        if type_code and type_code not in ("BackboneElement", "Element"):
            type_root = self.defs.tree(CORE + type_code)
        if not children and type_root is not None:
            children = type_root.children
        if type_code == "Extension":
            self.extension(element, value, path)
        self.children(element, children, value, path)
        if type_code == "Reference":
            self.reference(element, value, path)
        if type_code in ("Coding", "CodeableConcept"):
            for coding, coding_path in self._codings(value, path, type_code):
                self.known_code(coding, coding_path)
        constraints = list(element.constraints)
        if type_root is not None and type_root is not element:
            known = {c["key"] for c in constraints}
            constraints += [c for c in type_root.constraints if c["key"] not in known]
        structural = type_code in (None, "BackboneElement", "Element")
        self.invariants(constraints, value, path, element.path if structural else type_code)

    def primitive(self, element: ElementDef, value: Any, path: str, type_code: str) -> None:
        if type_code == "boolean":
            ok = isinstance(value, bool)
        elif type_code in ("integer", "positiveInt", "unsignedInt"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif type_code == "decimal":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            self.add("error", path, f"{_show(value)} is not a valid {type_code}", "structure")
            return
        if type_code == "xhtml":
            if not value.lstrip().startswith("<div"):
                self.add("error", path, "narrative must be an XHTML <div>", "value")
            return
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        regex = self.defs.regex(type_code)
        if regex is not None and not regex.fullmatch(text):
            self.add("error", path, f"{_show(value)} is not a valid {type_code}", "value")
        max_length = element.raw.get("maxLength")
        if isinstance(max_length, int) and isinstance(value, str) and len(value) > max_length:
            self.add("error", path, f"longer than {max_length} characters", "value")

    # --- children, cardinality, slicing --------------------------------------------------
    def children(
        self,
        parent: ElementDef,
        children: list[ElementDef],
        value: dict[str, Any],
        path: str,
    ) -> None:
        claimed = {"resourceType"} if parent.path in self.defs.resource_types else set()
        for child in children:
            occurrences, keys = self._occurrences(child, value, path)
            claimed |= keys
            self.cardinality(child, len(occurrences), path, child.name.replace("[x]", ""))
            for item, item_path, type_code, extension_only in occurrences:
                if not extension_only:
                    self.check(child, item, item_path, type_code)
            if child.slices:
                self.slices(child, [(o[0], o[1], o[2]) for o in occurrences], path)
        for key in value:
            if key not in claimed:
                self.unknown_key(children, key, path)

    def _occurrences(
        self, child: ElementDef, value: Mapping[str, Any], path: str
    ) -> tuple[list[tuple[Any, str, str | None, bool]], set[str]]:
        """The occurrences of child in value: (item, path, type, only an _element)."""
        found: list[tuple[Any, str, str | None, bool]] = []
        keys: set[str] = set()
        candidates: list[tuple[str, str | None]]
        if child.is_choice:
            prefix = child.name[:-3]
            candidates = [(prefix + _capitalise(t.code), t.code) for t in child.types]
        else:
            code = child.types[0].code if child.types else None
            candidates = [(child.name, code)]
        for key, type_code in candidates:
            if key not in value and f"_{key}" not in value:
                continue
            keys |= {key, f"_{key}"}
            items = value.get(key)
            extras = value.get(f"_{key}")
            if child.repeats:
                if items is not None and not isinstance(items, list):
                    self.add("error", f"{path}.{key}", "must be a JSON array", "structure")
                    items = [items]
                if extras is not None and not isinstance(extras, list):
                    self.add("error", f"{path}._{key}", "must be a JSON array", "structure")
                    extras = [extras]
                if items == [] or extras == []:
                    self.add("error", f"{path}.{key}", "empty array", "structure")
                items, extras = items or [], extras or []
                for index in range(max(len(items), len(extras))):
                    item = items[index] if index < len(items) else None
                    extra = extras[index] if index < len(extras) else None
                    item_path = f"{path}.{key}[{index}]"
                    self._extra(extra, item_path, type_code)
                    if item is None and extra is None:
                        self.add("error", item_path, "null in an array", "structure")
                        continue
                    found.append((item, item_path, type_code, item is None))
            else:
                if isinstance(items, list) or isinstance(extras, list):
                    self.add("error", f"{path}.{key}", "must not be a JSON array", "structure")
                    continue
                self._extra(extras, f"{path}.{key}", type_code)
                if items is None and extras is None:
                    continue
                found.append((items, f"{path}.{key}", type_code, items is None))
        return found, keys

    def _extra(self, extra: Any, path: str, type_code: str | None) -> None:
        """The _element of a primitive: an id and extensions."""
        if extra is None:
            return
        if type_code not in self.defs.primitive_types or not isinstance(extra, dict):
            self.add("error", path, "unexpected primitive extension object", "structure")
            return
        element_root = self.defs.tree(CORE + "Element")
        if element_root is not None:
            self.children(element_root, element_root.children, extra, path)

    def unknown_key(self, children: list[ElementDef], key: str, path: str) -> None:
        for child in children:
            prefix = child.name[:-3] if child.is_choice else None
            suffix = key.lstrip("_")[len(prefix) :] if prefix else ""
            if prefix and key.lstrip("_").startswith(prefix) and suffix[:1].isupper():
                primitive = suffix[:1].lower() + suffix[1:]
                shown = primitive if primitive in self.defs.primitive_types else suffix
                allowed = ", ".join(t.code for t in child.types)
                self.add(
                    "error",
                    f"{path}.{key}",
                    f"type {shown} is not allowed for {child.name} (allowed: {allowed})",
                    "structure",
                )
                return
        self.add("error", f"{path}.{key}", f"unknown element '{key}'", "structure")

    def cardinality(self, element: ElementDef, count: int, path: str, name: str) -> None:
        where = f"{path}.{name}" + (f":{element.slice_name}" if element.slice_name else "")
        what = f"slice '{element.slice_name}'" if element.slice_name else name
        shown_max = "*" if element.max == float("inf") else int(element.max)
        if count < element.min:
            self.add(
                "error",
                where,
                f"{what}: minimum cardinality {element.min} (of {element.min}..{shown_max}),"
                f" found {count}",
                "required",
            )
        if count > element.max:
            self.add(
                "error",
                where,
                f"{what}: maximum cardinality {shown_max}, found {count}",
                "structure",
            )

    def slices(
        self, element: ElementDef, occurrences: list[tuple[Any, str, str | None]], path: str
    ) -> None:
        slicing = element.slicing or {}
        discriminators = slicing.get("discriminator", [])
        counts = {s.id: 0 for s in element.slices}
        for item, item_path, type_code in occurrences:
            match = next(
                (s for s in element.slices if self._in_slice(s, item, discriminators)), None
            )
            if match is None:
                if slicing.get("rules") == "closed":
                    self.add(
                        "error", item_path, "matches no slice and the slicing is closed", "value"
                    )
                continue
            counts[match.id] += 1
            self.check(match, item, item_path, type_code)
        for slice_element in element.slices:
            self.cardinality(slice_element, counts[slice_element.id], path, element.name)

    def _in_slice(
        self, slice_element: ElementDef, item: Any, discriminators: list[Mapping[str, Any]]
    ) -> bool:
        if not discriminators:
            return False
        for discriminator in discriminators:
            if discriminator.get("type") not in ("value", "pattern"):
                return False
            path = str(discriminator["path"])
            wanted = self._discriminator_value(slice_element, path)
            if wanted is None:
                return False
            actual = item
            for step in [] if path == "$this" else path.split("."):
                actual = actual.get(step) if isinstance(actual, dict) else None
            kind, expected = wanted
            if actual is None:
                return False
            if kind.startswith("fixed") and actual != expected:
                return False
            if kind.startswith("pattern") and not _matches_pattern(actual, expected):
                return False
        return True

    def _discriminator_value(self, slice_element: ElementDef, path: str) -> tuple[str, Any] | None:
        if path == "$this":
            return slice_element.fixed or slice_element.pattern
        node: ElementDef | None = slice_element
        for step in path.split("."):
            node = next((c for c in node.children if c.name == step), None) if node else None
        if node is not None and (node.fixed or node.pattern):
            return node.fixed or node.pattern
        if path == "url" and slice_element.types and slice_element.types[0].profiles:
            return ("fixedUri", slice_element.types[0].profiles[0])
        return None

    # --- values ------------------------------------------------------------------------
    def fixed_and_pattern(self, element: ElementDef, value: Any, path: str) -> None:
        if element.fixed is not None and value != element.fixed[1]:
            self.add(
                "error",
                path,
                f"must be exactly {_show(element.fixed[1])}, found {_show(value)}",
                "value",
            )
        if element.pattern is not None and not _matches_pattern(value, element.pattern[1]):
            self.add(
                "error",
                path,
                f"does not match the required pattern {_show(element.pattern[1])}",
                "value",
            )

    def bound(self, element: ElementDef, value: Any, path: str, type_code: str | None) -> None:
        assert element.binding is not None
        strength, url = element.binding
        if strength != "required" or url in EXTERNAL_VALUE_SETS:
            return
        expansion = self.defs.expansion(url)
        if expansion is None:
            self.add("warning", path, f"value set {url} is not available", "not-supported")
            return
        if type_code in ("code", "string", "uri") and isinstance(value, str):
            if value not in self.defs.codes_in(url):
                self.add(
                    "error",
                    path,
                    f"code '{value}' is not in the required value set {url}",
                    "code-invalid",
                )
        elif type_code in ("Coding", "CodeableConcept") and isinstance(value, dict):
            codings = [c for c, _ in self._codings(value, path, type_code)]
            pairs = [(str(c.get("system")), str(c.get("code"))) for c in codings]
            if not any(pair in expansion for pair in pairs):
                found = ", ".join(f"{s}#{c}" for s, c in pairs) or "no coding"
                self.add(
                    "error",
                    path,
                    f"no code from the required value set {url} (found {found})",
                    "code-invalid",
                )

    def _codings(
        self, value: Mapping[str, Any], path: str, type_code: str | None
    ) -> Iterator[tuple[Mapping[str, Any], str]]:
        if type_code == "Coding":
            yield value, path
            return
        codings = value.get("coding", [])
        for index, coding in enumerate(codings if isinstance(codings, list) else []):
            if isinstance(coding, dict):
                yield coding, f"{path}.coding[{index}]"

    def known_code(self, coding: Mapping[str, Any], path: str) -> None:
        system, code = coding.get("system"), coding.get("code")
        code_system = self.defs.code_systems.get(str(system))
        if code_system is None or not isinstance(code, str):
            return
        concept = self.defs.concepts(str(system)).get(code)
        if concept is None:
            complete = code_system.get("content") == "complete"
            self.add(
                "error" if complete else "warning",
                f"{path}.code",
                f"code '{code}' is not in the code system {system}",
                "code-invalid",
            )
            return
        display = coding.get("display")
        names = {concept.get("display")} | {d.get("value") for d in concept.get("designation", [])}
        if isinstance(display, str) and concept.get("display") and display not in names:
            self.add(
                "warning",
                f"{path}.display",
                f"display '{display}' for {code} should be '{concept['display']}'",
                "value",
            )

    def reference(self, element: ElementDef, value: Mapping[str, Any], path: str) -> None:
        targets = [t for ref in element.types for t in ref.targets]
        allowed = {self.defs.type_of(t) or t.rsplit("/", 1)[-1] for t in targets}
        kind: str | None = None
        reference = value.get("reference")
        if isinstance(reference, str):
            if reference.startswith("#"):
                contained = self._contained(reference[1:])
                if reference != "#" and not contained:
                    self.add("error", f"{path}.reference", f"{reference} is not contained")
                kind = contained[0].get("resourceType") if contained else None
            elif match := REFERENCE.match(reference):
                kind = match["type"]
                if kind not in self.defs.resource_types:
                    self.add("error", f"{path}.reference", f"unknown resource type {kind}")
            elif not reference.startswith(("urn:uuid:", "urn:oid:")):
                self.add("error", f"{path}.reference", f"cannot read the reference {reference}")
        declared = value.get("type")
        if isinstance(declared, str):
            if kind is not None and declared != kind:
                self.add("error", f"{path}.type", f"type {declared} but the reference is to {kind}")
            kind = kind or declared
        if kind is not None and targets and "Resource" not in allowed and kind not in allowed:
            names = " | ".join(sorted(allowed))
            self.add(
                "error",
                f"{path}.reference",
                f"reference to {kind}, but {element.path} allows only {names}",
                "value",
            )

    def extension(self, element: ElementDef, value: Mapping[str, Any], path: str) -> None:
        """An extension: validate it against its definition, if we know it."""
        url = value.get("url")
        if not isinstance(url, str) or ":" not in url:
            # No url (Extension.url 1..1 reports it), or a part of a complex extension,
            # which the definition of the extension around it describes.
            return
        profiles = [p for t in element.types for p in t.profiles]
        if url not in profiles and url not in self.defs.structures:
            modifier = element.name == "modifierExtension"
            ours = url.startswith(systems.CANONICAL)
            self.add(
                "error" if modifier or ours else "warning",
                path,
                f"extension {url} is not known" + ("" if modifier or ours else "; not validated"),
                "extension",
            )
            return
        definition = self.defs.structures.get(url)
        root = self.defs.tree(url)
        if definition is None or root is None or definition.get("type") != "Extension":
            self.add("error", path, f"{url} is not an extension definition", "extension")
            return
        host = element.path.rsplit(".", 1)[0]
        contexts = [str(c.get("expression")) for c in definition.get("context", [])]
        if contexts and not any(self._in_context(host, c) for c in contexts):
            self.add(
                "error",
                path,
                f"extension {url} is not allowed on {host} (context: {', '.join(contexts)})",
                "extension",
            )
        self.children(root, root.children, dict(value), path)
        known = {c["key"] for c in element.constraints}
        self.invariants(
            [c for c in root.constraints if c["key"] not in known], value, path, "Extension"
        )

    def _in_context(self, host: str, context: str) -> bool:
        return context in ("Element", "Resource", "DomainResource", host)

    # --- invariants --------------------------------------------------------------------
    def invariants(
        self, constraints: Iterable[Mapping[str, Any]], value: Any, path: str, base: str | None
    ) -> None:
        for constraint in constraints:
            key = str(constraint.get("key"))
            expression = constraint.get("expression")
            if key in SKIPPED_INVARIANTS or not expression:
                continue
            variables = {"resource": self.current_resource, "rootResource": self.root}
            # The core definition and a profile share most invariants: evaluate each once
            # per node (the node is alive for the whole run, so its id is stable).
            cache_key = (id(value), base, expression)
            try:
                if cache_key not in self._evaluated:
                    self._evaluated[cache_key] = evaluate(
                        key, expression, value, base, variables, self.engine_options
                    )
                result = self._evaluated[cache_key]
            except Exception as error:  # an engine gap must not hide the rest
                self.add(
                    "warning",
                    path,
                    f"invariant {key} could not be evaluated: {error}",
                    "not-supported",
                )
                continue
            # Only false fails: the core invariants are written for an engine that gives
            # false where FHIRPath gives empty (a reference with only a display, ref-1).
            if result in ([True], []):
                continue
            if result != [False]:
                self.add(
                    "warning",
                    path,
                    f"invariant {key} gave {result!r}, not a boolean",
                    "not-supported",
                )
            else:
                severity = "warning" if constraint.get("severity") == "warning" else "error"
                self.add(
                    severity,
                    path,
                    f"{key}: {constraint.get('human')}",
                    "invariant",
                )
