"""The cells of a decision table's input columns: simple tests (-, null, a value, a list,
a comparison, a range), read from the rule file, typed for the columns a call gives them,
and the analysis of a table's rows for one caller: overlapping rows (hit unique), rows
never used (hit first) and gaps (no default)."""
from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from decimal import Decimal
from itertools import product

from .. import types as T
from ..errors import did_you_mean
from ..values import show

COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "!=": operator.ne,
               "==": operator.eq}
_CMP = re.compile(r"^\s*(<=|>=|!=|==|<|>)\s*(\S.*?)\s*$")
_RANGE = re.compile(r"^\s*([\[(])\s*(\S+?)\s*\.\.\s*(\S+?)\s*([\])])\s*$")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
MAX_COMBINATIONS = 20000   # the checks try at most this many combinations of column values


@dataclass(frozen=True)
class Test:
    """One input cell: kind any | null | eq | in | cmp | range. Bounds are a Decimal or a
    parameter's name until the table is bound to a version (`resolve`)."""

    kind: str
    value: object = None       # eq: the value; in: a tuple of values; cmp: the bound
    op: str = ""               # cmp
    lo: object = None          # range
    hi: object = None
    lo_closed: bool = True
    hi_closed: bool = True
    text: str = ""             # as written, for messages and documents

    def matches(self, v) -> bool:
        kind = self.kind
        if kind == "any":
            return True
        if kind == "null":
            return v is None
        if v is None:
            return False
        if kind == "eq":
            return v == self.value and (type(v) is bool) == (type(self.value) is bool)
        if kind == "in":
            return any(v == x and (type(v) is bool) == (type(x) is bool) for x in self.value)
        if kind == "cmp":
            return COMPARISONS[self.op](v, self.value)
        lo_ok = v >= self.lo if self.lo_closed else v > self.lo
        return lo_ok and (v <= self.hi if self.hi_closed else v < self.hi)

    def bounds(self) -> list:
        """The values where this test draws a line (for the checks)."""
        if self.kind in ("eq", "cmp"):
            return [self.value]
        if self.kind == "in":
            return list(self.value)
        if self.kind == "range":
            return [self.lo, self.hi]
        return []


def _bound(text: str):
    """A bound: a number, or a parameter's name (resolved when bound to a version)."""
    return Decimal(text) if _NUMBER.fullmatch(text) else text


def parse_test(cell) -> tuple[Test, str | None]:
    if cell == "-":
        return Test("any", text="-"), None
    if cell is None:
        return Test("null", text="null"), None
    if isinstance(cell, list):
        if any(isinstance(x, (list, dict)) or x is None or x == "-" for x in cell):
            return Test("any"), "a list of values holds plain values (no -, null or lists)"
        return Test("in", tuple(cell), text=show(list(cell), "readable")), None
    if isinstance(cell, dict):
        return Test("any"), "a test is -, null, a value, a list of values, a comparison (\">= x\") or a range (\"[a..b)\")"
    if isinstance(cell, str):
        m = _CMP.match(cell)
        if m:
            return Test("cmp", _bound(m.group(2)), op=m.group(1), text=f"{m.group(1)} {m.group(2)}"), None
        m = _RANGE.match(cell)
        if m:
            return Test("range", lo=_bound(m.group(2)), hi=_bound(m.group(3)), lo_closed=m.group(1) == "[",
                        hi_closed=m.group(4) == "]", text=cell.strip()), None
    return Test("eq", cell, text=show(cell, "readable")), None


# -- typing a test against its column, and the checks ------------------------------------------------

def typed_test(test: Test, column: T.Type, params: dict):
    """The test with its values as the column's type and its bounds resolved, or (None, problem)."""
    def value(x, what):
        if isinstance(x, str) and column.kind in ("decimal", "integer") and not _NUMBER.fullmatch(x):
            p = params.get(x)
            if p is None or not isinstance(p.value, Decimal):
                numbers = [n for n, q in params.items() if isinstance(q.value, Decimal)]
                raise ValueError(f"'{x}' is not a number or a number parameter{did_you_mean(x, numbers)}")
            return p.value
        if column.kind == "any":
            return x
        if column.kind in ("decimal", "integer"):
            if isinstance(x, bool) or not isinstance(x, (int, Decimal)):
                raise ValueError(f"{what} {T.shown_value(x)} is not a number, and the column is {T.show(column)}")
            return Decimal(x)
        if column.kind == "boolean":
            if not isinstance(x, bool):
                raise ValueError(f"{what} {T.shown_value(x)} is not true or false, and the column is boolean")
            return x
        if column.kind in ("text", "month", "date"):
            if not isinstance(x, str):
                raise ValueError(f"{what} {T.shown_value(x)} is not text, and the column is {T.show(column)}")
            try:
                return T.key_value(T.required(column), x)
            except ValueError as exc:
                hint = did_you_mean(x, sorted(column.values)) if column.values else ""
                raise ValueError(f"{what} {T.shown_value(x)} is not {exc}{hint}") from None
        raise ValueError(f"a column of {T.show(column)} cannot be tested")

    try:
        if test.kind in ("any", "null"):
            return test, None
        if test.kind == "eq":
            return Test("eq", value(test.value, "the value"), text=test.text), None
        if test.kind == "in":
            return Test("in", tuple(value(x, "the value") for x in test.value), text=test.text), None
        if column.kind not in ("decimal", "integer", "any"):
            return None, f"'{test.text}' compares, and the column is {T.show(column)}, not a number"
        if test.kind == "cmp":
            return Test("cmp", value(test.value, "the bound"), op=test.op, text=test.text), None
        lo, hi = value(test.lo, "the bound"), value(test.hi, "the bound")
        if lo > hi or (lo == hi and not (test.lo_closed and test.hi_closed)):
            return None, f"the range '{test.text}' holds no value"
        return Test("range", lo=lo, hi=hi, lo_closed=test.lo_closed, hi_closed=test.hi_closed, text=test.text), None
    except ValueError as exc:
        return None, str(exc)


def _atoms(column: T.Type, tests: list):
    """(value, description) for each region of the column's values the tests tell apart,
    or None when they cannot be listed (then the checks are not made)."""
    atoms = []
    if column.optional or column.kind == "null":
        atoms.append((None, "null"))
    kind = column.kind
    if kind == "boolean":
        return atoms + [(True, "true"), (False, "false")]
    if kind == "text" and column.values is not None:
        return atoms + [(v, f'"{v}"') for v in sorted(column.values)]
    if kind in ("text", "month", "date"):
        if any(t.kind in ("cmp", "range") for t in tests):
            return None
        listed = sorted({v for t in tests for v in t.bounds()}, key=str)
        other = "\x00" if kind != "date" else None
        shown = [show(v, "rule") for v in listed]
        rest = ("other than " + ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")) if shown else "of any value"
        return atoms + list(zip(listed, shown)) + ([(other, rest)] if other is not None else [])
    if kind in ("decimal", "integer"):
        low, high = column.bounds or (None, None)   # from the facts schema: no gap is sought outside them
        points = sorted({Decimal(v) for t in tests for v in t.bounds()} | {b for b in (low, high) if b is not None})
        if kind == "integer":   # a bound between whole numbers (2.5) splits at both (2 and 3)
            points = sorted({q for p in points for q in (p.to_integral_value(rounding="ROUND_FLOOR"),
                                                          p.to_integral_value(rounding="ROUND_CEILING"))})
        out = []
        edges = [None] + points + [None]
        for i, p in enumerate(points):
            out.append((p, show(p, "rule")))
        for lo, hi in zip(edges, edges[1:]):   # the open stretches between the points
            rep = _between(lo, hi, kind == "integer")
            if rep is not None:
                shown = ("below " + show(hi, "rule") if lo is None else "above " + show(lo, "rule") if hi is None
                         else _whole_between(lo, hi) if kind == "integer"
                         else f"between {show(lo, 'rule')} and {show(hi, 'rule')}")
                out.append((rep, shown))
        out = [a for a in out if (low is None or a[0] >= low) and (high is None or a[0] <= high)]
        return atoms + sorted(out, key=lambda a: a[0])
    return None


def _whole_between(lo, hi) -> str:
    """The whole numbers strictly between two whole numbers, as a person says them."""
    first, last = lo + 1, hi - 1
    return show(first, "rule") if first == last else f"from {show(first, 'rule')} to {show(last, 'rule')}"


def _between(lo, hi, integer: bool):
    if lo is None and hi is None:
        return Decimal(0)
    if lo is None:
        return hi - 1
    if hi is None:
        return lo + 1
    if integer:
        k = lo.to_integral_value() + 1 if lo == lo.to_integral_value() else lo.to_integral_value(rounding="ROUND_CEILING")
        return k if k < hi else None
    return (lo + hi) / 2


def check(table, rows: list, columns: tuple, used: set) -> list[tuple[tuple, str]]:
    """(path, message) for every overlap (unique) and gap (no default) of the table as typed
    for one caller; `used` gets the rows that answer some combination (a `first` table's
    other rows, over every caller, are never used: see unused_rows)."""
    if any(column.kind == "any" for column in columns):
        used.update(range(len(rows)), range(-len(rows), 0))   # a column of unknown type: an error elsewhere says why
        return []
    # without a default a table must answer every value; `complete: true` asks the same of one with a default
    must_cover = (not table.has_default or table.complete) and \
        not (table.hit == "collect" and table.aggregate in ("sum", "count", "list"))
    atoms = []
    for j, column in enumerate(columns):
        a = _atoms(column, [tests[j] for tests, _ in rows])
        if a is None:
            used.update(range(len(rows)), range(-len(rows), 0))
            return [] if not must_cover else [(table.at, f"table '{table.name}': its gaps cannot be checked for column "
                                                         f"'{table.inputs[j]}' ({T.show(column)}) with comparisons: "
                                                         + ("drop complete: true" if table.complete else "give it a default"))]
        atoms.append(a)
    size = 1
    for a in atoms:
        size *= len(a)
    if size > MAX_COMBINATIONS:
        used.update(range(len(rows)), range(-len(rows), 0))
        return [] if not must_cover else [(table.at, f"table '{table.name}': too many combinations of column "
                                                     f"values ({size}) to check its gaps: "
                                                     + ("drop complete: true" if table.complete else "give it a default"))]
    problems, overlaps, gaps = [], set(), []
    for combo in product(*atoms):
        values = [v for v, _ in combo]
        hits = [i for i, (tests, _) in enumerate(rows) if all(t.matches(v) for t, v in zip(tests, values))]
        if hits:
            used.add(hits[0])
            used.update(-1 - h for h in hits)   # matched (negative: -1 - row), whether first or not
            if table.hit == "unique" and len(hits) > 1:
                pair = (hits[0], hits[1])
                if pair not in overlaps:
                    overlaps.add(pair)
                    problems.append((table.rows[hits[1]].at, f"table '{table.name}': rows {hits[0] + 1} and "
                                     f"{hits[1] + 1} both match {_shown(table, combo)}; a unique table's rows must not "
                                     "overlap (or make it hit: first)"))
        elif must_cover:
            gaps.append(combo)
    if gaps:
        shown = "; ".join(_shown(table, c) for c in gaps[:3]) + (f"; and {len(gaps) - 3} more" if len(gaps) > 3 else "")
        fix = "add rows or a catch-all row (- in every column); it says complete: true" if table.complete else \
            "add rows, a catch-all row (- in every column), or a default"
        problems.append((table.at + ("rows",), f"table '{table.name}' has no row for {shown}: {fix}"
                                               + _bounds_hint(table, columns, gaps)))
    return problems


def _bounds_hint(table, columns, gaps) -> str:
    """Where a gap lies below or above every row of a number column the facts schema does
    not bound: the schema may be what is missing."""
    for combo in gaps:
        for name, column, (_v, desc) in zip(table.inputs, columns, combo):
            if column.bounds is None:   # a computed number: the facts schema cannot bound it
                continue
            lo, hi = column.bounds
            side = "minimum" if desc.startswith("below ") and lo is None else \
                "maximum" if desc.startswith("above ") and hi is None else None
            if side and column.kind in ("decimal", "integer"):
                return f"; or, if {name} is never {desc}, give it a {side} in the facts schema"
    return ""


def unused_rows(table, used: set) -> list[tuple[tuple, str]]:
    """A `first` table's rows that answer nothing for any of its callers."""
    if table.hit != "first":
        return []
    return [(row.at, f"table '{table.name}': row {i + 1} is never used: "
                     + ("rows above it match everything it matches" if -1 - i in used
                        else "it matches no value its callers pass"))
            for i, row in enumerate(table.rows) if i not in used]


def _shown(table, combo) -> str:
    return ", ".join(f"{name} {desc}" for name, (_v, desc) in zip(table.inputs, combo))


