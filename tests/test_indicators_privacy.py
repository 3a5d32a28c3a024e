"""The "<5" rule and the cells hidden so that no "<5" can be worked out from the totals."""

from __future__ import annotations

import random

import pytest

from sip_tracker.indicators.privacy import Count, Mark, _safe, protect
from sip_tracker.indicators.report import count_constraints


def marks_of(values: dict[str, int], rules, persons: dict[str, int] | None = None):
    persons = persons or {}
    cells = {k: Count(v, persons.get(k, v)) for k, v in values.items()}
    return protect(cells, rules)


def test_one_to_four_persons_is_small_and_zero_is_shown():
    marks = marks_of({"a": 0, "b": 1, "c": 4, "d": 5}, [])
    assert marks == {"a": Mark.SHOWN, "b": Mark.SMALL, "c": Mark.SMALL, "d": Mark.SHOWN}


def test_persons_not_events_decide():
    # One person followed up six times is still one person.
    marks = marks_of({"a": 6}, [], persons={"a": 1})
    assert marks["a"] == Mark.SMALL


def test_a_lone_small_cell_under_a_shown_total_takes_the_smallest_other_with_it():
    marks = marks_of({"T": 20, "a": 2, "b": 10, "c": 8}, [("T", ["a", "b", "c"])])
    assert marks == {"T": Mark.SHOWN, "a": Mark.SMALL, "b": Mark.SHOWN, "c": Mark.HIDDEN}


def test_hidden_cells_must_together_count_five():
    # 1 + 2 = 3 hidden under a total of 20 would tell that three persons are there.
    marks = marks_of({"T": 20, "a": 1, "b": 2, "c": 6, "d": 11}, [("T", ["a", "b", "c", "d"])])
    assert marks["a"] == marks["b"] == Mark.SMALL
    assert marks["c"] == Mark.HIDDEN
    assert marks["d"] == Mark.SHOWN and marks["T"] == Mark.SHOWN


def test_a_small_cell_is_never_pinned_by_what_x_and_small_mean():
    # 6 = <5 + x: x is at least 5, so <5 would be 1. A third cell is hidden too.
    marks = marks_of({"T": 13, "a": 1, "b": 5, "c": 7}, [("T", ["a", "b", "c"])])
    assert marks == {"T": Mark.SHOWN, "a": Mark.SMALL, "b": Mark.HIDDEN, "c": Mark.HIDDEN}
    # Two fours under a shown 8 would both be 4: the total goes instead.
    marks = marks_of({"T": 8, "a": 4, "b": 4}, [("T", ["a", "b"])])
    assert marks["T"] == Mark.HIDDEN


def test_when_nothing_is_left_to_hide_the_total_is_hidden():
    marks = marks_of({"T": 6, "a": 1, "b": 5}, [("T", ["a", "b"])])
    assert marks == {"T": Mark.HIDDEN, "a": Mark.SMALL, "b": Mark.HIDDEN}


def test_a_hidden_total_is_not_the_sum_of_shown_cells():
    # T was hidden for another total; its parts must not add up to it in plain sight.
    rules = [("G", ["T", "U"]), ("T", ["a", "b"])]
    marks = marks_of({"G": 30, "T": 12, "U": 3, "a": 5, "b": 7}, rules)
    assert marks["U"] == Mark.SMALL and marks["T"] == Mark.HIDDEN
    assert Mark.HIDDEN in (marks["a"], marks["b"])


def test_safe_rule_directly():
    assert _safe([])
    assert not _safe([(3, Mark.SMALL)])
    assert not _safe([(1, Mark.SMALL), (2, Mark.SMALL)])  # three in all
    assert _safe([(2, Mark.SMALL), (3, Mark.SMALL)])
    assert not _safe([(1, Mark.SMALL), (5, Mark.HIDDEN)])  # 6 - 5 = 1
    assert _safe([(2, Mark.SMALL), (5, Mark.HIDDEN)])  # 1 or 2
    assert not _safe([(4, Mark.SMALL), (4, Mark.SMALL)])  # both 4


def test_the_same_figures_give_the_same_marks():
    values = {"T": 20, "a": 2, "b": 5, "c": 5, "d": 8}
    rules = [("T", ["a", "b", "c", "d"])]
    assert marks_of(values, rules) == marks_of(dict(reversed(values.items())), rules)


@pytest.mark.parametrize("seed", range(25))
def test_no_shown_total_gives_a_hidden_cell_away_in_a_whole_cube(seed):
    """Random months × units of two huvudmän, sakområden: every rule holds afterwards."""
    rng = random.Random(seed)
    units_of = {"h1": ["u1", "u2", "u3"], "h2": ["u4", "u5"]}
    sak = ["s1", "s2", "s3"]
    cells: dict = {}
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    for month in months:
        for units in units_of.values():
            for unit in units:
                cells[("month", month, "unit", unit)] = rng.choice([0, 0, 1, 2, 3, 5, 8, 12])
        counts = [cells[("month", month, "unit", u)] for us in units_of.values() for u in us]
        total = sum(counts)
        split = sorted(rng.randint(0, total) for _ in range(len(sak) - 1))
        for s, low, high in zip(sak, [0, *split], [*split, total], strict=True):
            cells[("month", month, "sakomrade", s)] = high - low

    # Sum everything up the hierarchy, as SQL would.
    def add(key, value):
        cells[key] = cells.get(key, 0) + value

    for (_period, month, dimension, key), value in list(cells.items()):
        quarter = f"2025-Q{(int(month[5:]) + 2) // 3}"
        keys = [(dimension, key)]
        if dimension == "unit":
            keys.append(("huvudman", next(h for h, us in units_of.items() if key in us)))
            keys.append(("total", "*"))
        for dim, k in keys:
            if (dim, k) != (dimension, key):
                add(("month", month, dim, k), value)
            add(("quarter", quarter, dim, k), value)
            add(("year", "2025", dim, k), value)
    groups = [("total", "*"), ("huvudman", "h1"), ("huvudman", "h2")]
    groups += [("unit", u) for us in units_of.values() for u in us]
    groups += [("sakomrade", s) for s in sak]
    items = {
        "huvudman": ["h1", "h2"],
        "sakomrade": sak,
        "unit": [u for us in units_of.values() for u in us],
    }
    rules = count_constraints([2025], groups, units_of, items)
    for parent, children in rules:
        for key in (parent, *children):
            cells.setdefault(key, 0)
    marks = protect({k: Count(v, v) for k, v in cells.items()}, rules)
    for key, value in cells.items():
        if 0 < value < 5:
            assert marks[key] == Mark.SMALL
    for parent, children in rules:
        if marks[parent] == Mark.SHOWN:
            hidden = [(cells[c], marks[c]) for c in children if marks[c] != Mark.SHOWN and cells[c]]
            assert _safe(hidden), (parent, hidden)
        elif cells[parent]:
            assert any(marks[c] != Mark.SHOWN and cells[c] for c in children), parent
