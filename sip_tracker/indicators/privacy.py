"""Small numbers stay hidden: the "<5" rule and the cells hidden to protect them.

Primary rule: a figure that counts 1–4 persons is shown as "<5". A zero is shown as 0.

Secondary rule, for counts (which add up): wherever a total is shown - the row total, the
column total, the whole year over its months and quarters, a huvudman over its units - the
cells under it that are hidden must not be recoverable by subtracting the shown ones:

* none of them is hidden, or at least two are;
* together they count at least 5;
* knowing that a "<5" cell holds 1–4 and an "x" cell at least 5, no "<5" cell is pinned
  to a single value (1 + x = 6 would give the "<5" away).

When a total breaks the rule, the smallest shown non-zero cell under it is hidden too
(shown as "x"), and the check runs again until every total keeps the rule. Totals marked
fixed are never hidden: they are the same in every view, so two views of one table cannot
be played against each other. Only when no cell under a total is left to hide is the
total itself hidden.

Shares and medians are not sums, and the counts they are computed from are not shown, so
they get the primary rule only: a share or median of fewer than 5 persons is "<5".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

THRESHOLD = 5
# What a reader knows of a hidden cell: "<5" holds 1–4, "x" at least THRESHOLD.
SMALL_RANGE = (1, THRESHOLD - 1)

K = TypeVar("K", bound=Hashable)


class Mark(StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # counts 1–4 persons: "<5"
    HIDDEN = "hidden"  # hidden so that a "<5" cannot be worked out: "x"
    EMPTY = "empty"  # a share or median of nobody: "–"


@dataclass(frozen=True)
class Count:
    value: int
    persons: int


def is_small(persons: int) -> bool:
    return 0 < persons < THRESHOLD


def primary(persons: int) -> Mark:
    return Mark.SMALL if is_small(persons) else Mark.SHOWN


def protect(
    cells: Mapping[K, Count],
    constraints: Iterable[tuple[K, Sequence[K]]],
    fixed: Mapping[K, Mark] | None = None,
) -> dict[K, Mark]:
    """Mark every cell of a table of counts: shown, "<5", or hidden to protect one.

    constraints: (total, cells it is the sum of), in a stable order.
    fixed: cells whose marks are decided already and must not change.
    """
    fixed = fixed or {}
    marks = {key: fixed.get(key) or primary(count.persons) for key, count in cells.items()}
    rules = [(parent, tuple(children)) for parent, children in constraints]

    def value(key: K) -> int:
        return cells[key].value

    def hidden(key: K) -> bool:
        return marks[key] in (Mark.SMALL, Mark.HIDDEN)

    under: dict[K, list[int]] = {}
    for index, (_parent, children) in enumerate(rules):
        for child in children:
            under.setdefault(child, []).append(index)

    def knock_on(cell: K, rule: int) -> int:
        """How many other shown totals hiding this cell would leave with one hidden cell."""
        count = 0
        for other in under.get(cell, ()):
            parent, children = rules[other]
            alone = not any(hidden(c) and value(c) > 0 for c in children if c != cell)
            if other != rule and not hidden(parent) and alone:
                count += 1
        return count

    def candidate(rule: int) -> K | None:
        """The shown cell to hide: the one that drags the fewest others along, then the
        smallest. Hiding within the same huvudman before another one keeps more shown."""
        children = rules[rule][1]
        shown = [c for c in children if not hidden(c) and value(c) > 0 and c not in fixed]
        return min(shown, key=lambda c: (knock_on(c, rule), value(c), str(c)), default=None)

    changed = True
    while changed:
        changed = False
        for rule, (parent, children) in enumerate(rules):
            if hidden(parent):
                # A hidden total must not be the sum of shown cells.
                if value(parent) > 0 and not any(hidden(c) and value(c) > 0 for c in children):
                    pick = candidate(rule)
                    if pick is not None:
                        marks[pick] = Mark.HIDDEN
                        changed = True
                continue
            while not _safe([(value(c), marks[c]) for c in children if hidden(c) and value(c) > 0]):
                pick = candidate(rule)
                if pick is not None:
                    marks[pick] = Mark.HIDDEN
                elif parent not in fixed:
                    marks[parent] = Mark.HIDDEN
                else:
                    break  # nothing left to hide under a fixed total
                changed = True
                if hidden(parent):
                    break
    return marks


def _safe(hidden: list[tuple[int, Mark]]) -> bool:
    """Whether the hidden cells under a shown total keep their secret (the module's rule)."""
    if not hidden:
        return True
    total = sum(v for v, _ in hidden)
    if len(hidden) == 1 or total < THRESHOLD:
        return False
    low = [SMALL_RANGE[0] if m == Mark.SMALL else THRESHOLD for _, m in hidden]
    high = [SMALL_RANGE[1] if m == Mark.SMALL else total for _, m in hidden]
    for index, (_, mark) in enumerate(hidden):
        if mark != Mark.SMALL:
            continue
        least = max(SMALL_RANGE[0], total - (sum(high) - high[index]))
        most = min(SMALL_RANGE[1], total - (sum(low) - low[index]))
        if most <= least:
            return False
    return True
