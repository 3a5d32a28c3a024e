"""Snapshot generation: a base snapshot with a profile's differential merged in.

The algorithm is the usual one, restricted to what the SIP profiles use:

1. Start from a copy of the base definition's snapshot (e.g. the core CarePlan).
2. Walk the differential in snapshot order. An element whose id is in the snapshot is
   merged into it. A slice (`Patient.identifier:personnummer`) is a copy of the sliced
   element inserted after the sliced element's subtree and its earlier slices. A child of
   an element that has no children yet (`...:personnummer.system`) first expands the
   element's datatype: the datatype's own snapshot, re-rooted under the element.
3. Merging: min, max, type, binding, fixed[x]/pattern[x], slicing, short, definition,
   comment, mustSupport and the other scalar properties replace the base's; constraints
   are appended. A profile may only narrow: a wider cardinality or a type the base does
   not allow is an error.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

Element = dict[str, Any]
TypeLookup = Callable[[str], Mapping[str, Any]]

# Properties a differential sets outright; constraint is appended instead.
_REPLACED = (
    "sliceName",
    "short",
    "definition",
    "comment",
    "requirements",
    "alias",
    "min",
    "max",
    "type",
    "meaningWhenMissing",
    "maxLength",
    "condition",
    "mustSupport",
    "isModifier",
    "isModifierReason",
    "isSummary",
    "binding",
    "slicing",
)


# ElementDefinition's properties in the order FHIR's JSON lists them.
_ORDER = [
    "id",
    "extension",
    "path",
    "representation",
    "sliceName",
    "sliceIsConstraining",
    "label",
    "code",
    "slicing",
    "short",
    "definition",
    "comment",
    "requirements",
    "alias",
    "min",
    "max",
    "base",
    "contentReference",
    "type",
    "defaultValue",
    "meaningWhenMissing",
    "orderMeaning",
    "fixed",
    "pattern",
    "example",
    "minValue",
    "maxValue",
    "maxLength",
    "condition",
    "constraint",
    "mustSupport",
    "isModifier",
    "isModifierReason",
    "isSummary",
    "binding",
    "mapping",
]


def canonical(element: Element) -> Element:
    """The element with its properties in FHIR's order (fixedUri sorts as fixed, ...)."""

    def rank(key: str) -> int:
        for position, name in enumerate(_ORDER):
            if key == name or (
                name in ("fixed", "pattern", "defaultValue", "example") and key.startswith(name)
            ):
                return position
        return len(_ORDER)

    return {key: element[key] for key in sorted(element, key=rank)}


class SnapshotError(ValueError):
    """The differential asks for something the base does not allow."""


def parent_id(element_id: str) -> str:
    return element_id.rsplit(".", 1)[0]


def path_of(element_id: str) -> str:
    """The path of an element id: slice names removed."""
    return ".".join(part.split(":", 1)[0] for part in element_id.split("."))


def _max_value(value: str) -> float:
    return float("inf") if value == "*" else int(value)


def _is_descendant(candidate: str, ancestor: str) -> bool:
    """Whether candidate lies inside ancestor (its children, slices' children, ...)."""
    return candidate.startswith(ancestor + ".")


class SnapshotBuilder:
    """Build the snapshot of one profile from its base and differential."""

    def __init__(self, base: Mapping[str, Any], types: TypeLookup) -> None:
        self.elements: list[Element] = copy.deepcopy(base["snapshot"]["element"])
        self.types = types

    def _index(self, element_id: str) -> int | None:
        for position, element in enumerate(self.elements):
            if element["id"] == element_id:
                return position
        return None

    def _subtree_end(self, position: int) -> int:
        """The position after the element at position and everything inside it."""
        root = self.elements[position]["id"]
        end = position + 1
        while end < len(self.elements):
            candidate = self.elements[end]["id"]
            # Descendants, and slices of the same element (Patient.identifier:slice...).
            if _is_descendant(candidate, root) or candidate.startswith(root + ":"):
                end += 1
            else:
                break
        return end

    def ensure(self, element_id: str) -> int:
        """The position of element_id in the snapshot, creating it if needed."""
        found = self._index(element_id)
        if found is not None:
            return found
        if "." not in element_id:
            raise SnapshotError(f"{element_id}: not in the base definition")
        last = element_id.rsplit(".", 1)[1]
        if ":" in last:
            return self._add_slice(element_id)
        parent = self.ensure(parent_id(element_id))
        if self._subtree_end(parent) == parent + 1 or not self._has_children(parent):
            self._expand(parent)
        found = self._index(element_id)
        if found is None:
            raise SnapshotError(f"{element_id}: no such element in the base or its datatype")
        return found

    def _has_children(self, position: int) -> bool:
        root = self.elements[position]["id"]
        return any(
            parent_id(e["id"]) == root
            for e in self.elements[position + 1 : self._subtree_end(position)]
        )

    def _add_slice(self, element_id: str) -> int:
        head, last = element_id.rsplit(".", 1)
        name, slice_name = last.split(":", 1)
        sliced_id = f"{head}.{name}"
        sliced_position = self.ensure(sliced_id)
        sliced = self.elements[sliced_position]
        if "slicing" not in sliced:
            raise SnapshotError(f"{element_id}: {sliced_id} is not sliced")
        new = {
            k: copy.deepcopy(v)
            for k, v in sliced.items()
            if k not in ("slicing", "id", "path", "sliceName")
        }
        new = {"id": element_id, "path": sliced["path"], "sliceName": slice_name, **new}
        # A slice starts from the element as the base defines it: its own minimum may be
        # lower than the sliced element's (CareTeam.participant.role 1..* with a 0..1 slice).
        new["min"] = sliced.get("base", {}).get("min", 0)
        at = self._subtree_end(sliced_position)
        self.elements.insert(at, new)
        return at

    def _expand(self, position: int) -> None:
        """Insert the children of the element's datatype under it."""
        element = self.elements[position]
        codes = {t["code"] for t in element.get("type", [])}
        if len(codes) != 1:
            raise SnapshotError(f"{element['id']}: cannot expand an element of types {codes}")
        datatype = self.types(codes.pop())
        children = []
        root_path = datatype["snapshot"]["element"][0]["path"]
        for child in datatype["snapshot"]["element"][1:]:
            child = copy.deepcopy(child)
            child["id"] = element["id"] + child["id"][len(root_path) :]
            child["path"] = element["path"] + child["path"][len(root_path) :]
            children.append(child)
        end = position + 1
        self.elements[end:end] = children

    def merge(self, differential: Element) -> None:
        position = self.ensure(differential["id"])
        target = self.elements[position]
        for key, value in differential.items():
            if key in ("id", "path"):
                continue
            if key == "constraint":
                known = {c["key"] for c in target.get("constraint", [])}
                added = [copy.deepcopy(c) for c in value if c["key"] not in known]
                target["constraint"] = target.get("constraint", []) + added
            elif key == "min":
                if value < target.get("min", 0):
                    raise SnapshotError(f"{differential['id']}: min {value} below the base's")
                target["min"] = value
            elif key == "max":
                if _max_value(value) > _max_value(target.get("max", "*")):
                    raise SnapshotError(f"{differential['id']}: max {value} above the base's")
                target["max"] = value
            elif key == "type":
                allowed = {t["code"] for t in target.get("type", [])}
                wanted = {t["code"] for t in value}
                if not wanted <= allowed:
                    raise SnapshotError(
                        f"{differential['id']}: types {sorted(wanted - allowed)} not in the base"
                    )
                target["type"] = copy.deepcopy(value)
            elif key.startswith(("fixed", "pattern")) or key in _REPLACED:
                if key.startswith(("fixed", "pattern")):
                    for old in [k for k in target if k.startswith(("fixed", "pattern"))]:
                        del target[old]
                target[key] = copy.deepcopy(value)
            else:
                raise SnapshotError(f"{differential['id']}: property {key} not supported")
        if "min" in target and "max" in target and target["min"] > _max_value(target["max"]):
            raise SnapshotError(f"{differential['id']}: min above max")

    def positions(self) -> dict[str, int]:
        return {e["id"]: i for i, e in enumerate(self.elements)}


def build_snapshot(
    base: Mapping[str, Any], differential: list[Element], types: TypeLookup
) -> list[Element]:
    """The snapshot elements for a differential on base; datatypes come from types()."""
    builder = SnapshotBuilder(base, types)
    # Slicing first: a slice can only be added once its element is sliced.
    for element in [e for e in differential if "slicing" in e] + [
        e for e in differential if "slicing" not in e
    ]:
        builder.merge(element)
    return [canonical(e) for e in builder.elements]


def order_differential(differential: list[Element], snapshot: list[Element]) -> list[Element]:
    """The differential in snapshot order, as the specification requires."""
    position = {e["id"]: i for i, e in enumerate(snapshot)}
    return [canonical(e) for e in sorted(differential, key=lambda e: position[e["id"]])]
