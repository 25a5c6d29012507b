"""Static types of rule values: what every parameter, input, formula and result field holds.

A type is a kind (decimal, integer, boolean, text, date, month, list, map), its element
types (list of T, map of K to V), whether it can be null (optional T), for text the values
it can take when they are known (an input whose schema has an `enum`, a literal), and for
a number its bounds when known (an input whose schema has `minimum`/`maximum`): a decision
table's gap check looks for gaps only where values can be. The compiler gives every value a type when the rules load, so a rule
set that validates never meets a value of a kind it did not expect.

Runtime values: decimal is a Decimal (or an int: an integer is a decimal), integer an int,
boolean a bool, text and month a str, date a datetime.date, list a tuple (or list), map a
dict, null None.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

SCALARS = ("decimal", "integer", "boolean", "text", "date", "month")
ORDERED = ("decimal", "integer", "text", "date", "month")


@dataclass(frozen=True)
class Type:
    kind: str                           # a scalar kind, list, map, null, nothing (an empty list's items), any
    args: tuple = ()                    # list: (item,); map: (key, value)
    optional: bool = False              # the value can be null
    values: frozenset | None = None     # text: the values it can take, when known
    bounds: tuple | None = None         # decimal, integer read from facts: (lowest, highest) it can be, inclusive,
                                        # None an open side; None: not read from facts (a computed number)

    def __str__(self) -> str:
        return show(self)


DECIMAL, INTEGER, BOOLEAN, TEXT = Type("decimal"), Type("integer"), Type("boolean"), Type("text")
DATE, MONTH, NULL = Type("date"), Type("month"), Type("null")
NOTHING = Type("nothing")   # the items of an empty list: fits any list
ANY = Type("any")           # unknown (after an error was reported): checks pass silently


def list_of(item: Type) -> Type:
    return Type("list", (item,))


def map_of(key: Type, value: Type) -> Type:
    return Type("map", (key, value))


def text_of(*values: str) -> Type:
    return Type("text", values=frozenset(values))


def optional(t: Type) -> Type:
    return t if t.kind in ("null", "any") else replace(t, optional=True)


def required(t: Type) -> Type:
    return replace(t, optional=False)


def is_number(t: Type) -> bool:
    return t.kind in ("decimal", "integer", "any")


def show(t: Type) -> str:
    """As a rule author writes it: 'optional list of text'; text of known values as 'text {a, b}'."""
    if t.kind == "list":
        base = f"list of {show(t.args[0])}"
    elif t.kind == "map":
        base = f"map of {show(t.args[0])} to {show(t.args[1])}"
    elif t.kind == "text" and t.values is not None:   # the values it can take, as a set
        shown = sorted(t.values)
        base = f'text "{shown[0]}"' if len(shown) == 1 else "text {" + ", ".join(shown) + "}"
    else:
        base = t.kind
    return f"optional {base}" if t.optional else base


def parse(text: str) -> Type:
    """'decimal', 'optional month', 'list of text', 'map of text to decimal'. ValueError if not a type."""
    words = str(text).strip()
    if words.startswith("optional "):
        return optional(parse(words[len("optional "):]))
    if words.startswith("list of "):
        return list_of(parse(words[len("list of "):]))
    if words.startswith("map of "):
        rest = words[len("map of "):]
        start = 0
        while (at := rest.find(" to ", start)) != -1:   # the split where both sides are types
            try:
                return map_of(parse(rest[:at]), parse(rest[at + 4:]))
            except ValueError:
                start = at + 1
        raise ValueError(text)
    if words == "string":   # the earlier name of text
        return TEXT
    if words in SCALARS:
        return Type(words)
    raise ValueError(text)


def join(a: Type, b: Type) -> Type | None:
    """The type of a value that is either an a or a b (both branches of an if/else, every
    entry of a map, every item of a list), or None when they do not mix."""
    if a.kind == "any" or b.kind == "any":
        return ANY
    if a.kind == "null" or b.kind == "null":
        other = b if a.kind == "null" else a
        return other if other.kind == "null" else optional(other)
    if a.kind == "nothing" or b.kind == "nothing":
        return b if a.kind == "nothing" else a
    opt = a.optional or b.optional
    if {a.kind, b.kind} == {"decimal", "integer"}:
        return Type("decimal", optional=opt, bounds=_hull(a.bounds, b.bounds))
    if a.kind != b.kind:
        return None
    if a.kind == "text":
        values = None if a.values is None or b.values is None else a.values | b.values
        return Type("text", optional=opt, values=values)
    if a.kind in ("list", "map"):
        parts = [join(x, y) for x, y in zip(a.args, b.args)]
        if any(p is None for p in parts):
            return None
        return Type(a.kind, tuple(parts), opt)
    return Type(a.kind, optional=opt, bounds=_hull(a.bounds, b.bounds) if a.kind in ("decimal", "integer") else None)


def _hull(a, b):
    """The bounds of a value that is within a or within b (None: unbounded)."""
    if a is None or b is None:
        return None
    lo = None if a[0] is None or b[0] is None else min(a[0], b[0])
    hi = None if a[1] is None or b[1] is None else max(a[1], b[1])
    return None if lo is None and hi is None else (lo, hi)


def unbounded(t: Type) -> Type:
    """t without number bounds, at any depth (what arithmetic and functions give)."""
    if t.bounds is None and not t.args:
        return t
    return replace(t, bounds=None, args=tuple(unbounded(a) for a in t.args))


def bounded(t: Type, lo, hi) -> Type:
    """t with bounds (inclusive; None an open side), for a number type read from facts."""
    if t.kind not in ("decimal", "integer"):
        return t
    return replace(t, bounds=(lo, hi))


def accepts(want: Type, got: Type) -> bool:
    """Whether a value of type got can be used where want is expected (null aside: the
    caller says 'can be null' for an optional got where want is required)."""
    if want.kind == "any" or got.kind in ("any", "nothing"):
        return True
    if got.kind == "null":
        return want.optional or want.kind == "null"
    if got.optional and not want.optional:
        return False
    if want.kind == "decimal":
        return got.kind in ("decimal", "integer")
    if want.kind != got.kind:
        return False
    if want.kind == "text" and want.values is not None:
        return got.values is not None and got.values <= want.values
    return all(accepts(w, g) for w, g in zip(want.args, got.args))


def of_value(value) -> Type:
    """The type of a value written in a rule file (a parameter, a map entry, a default)."""
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, Decimal)):
        return DECIMAL    # numbers in rule data are decimals, whole or not
    if isinstance(value, str):
        return text_of(value)
    if isinstance(value, (list, tuple)):
        item = NOTHING
        for v in value:
            item = join(item, of_value(v)) or ANY
        return list_of(item)
    if isinstance(value, dict):
        item = NOTHING
        for v in value.values():
            item = join(item, of_value(v)) or ANY
        return map_of(TEXT, item)
    return ANY


def shown_value(value) -> str:
    """A rule-file value in a message: text quoted, numbers plain (engine.values, rule style)."""
    from .values import show as _show
    return _show(value, "rule")


def key_value(t: Type, text: str):
    """A map key or switch case, written as YAML key text, as a value of type t (the type of
    what it is matched against). ValueError when the text is not such a value."""
    import re
    if t.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError("true or false")
        return text == "true"
    if t.kind == "integer":
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)", text):
            raise ValueError("a whole number")
        return int(text)
    if t.kind == "decimal":
        if not re.fullmatch(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?", text):
            raise ValueError("a number")
        return Decimal(text)
    if t.kind == "date":
        try:
            if len(text) != 10:
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError('a date "YYYY-MM-DD"') from None
    if t.kind == "month":
        if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text):
            raise ValueError('a month "YYYY-MM"')
        return text
    if t.kind == "text":
        if t.values is not None and text not in t.values:
            raise ValueError(f"one of {', '.join(sorted(t.values))}")
        return text
    if t.kind == "any":
        return text
    raise ValueError(f"a key of a kind that can be matched (not {show(t)})")


def finite_values(t: Type):
    """Every value of t when there are few enough to list (an enum, true/false), else None."""
    if t.kind == "boolean":
        values = [True, False]
    elif t.kind == "text" and t.values is not None:
        values = sorted(t.values)
    else:
        return None
    return values + [None] if t.optional else values


__all__ = ["Type", "DECIMAL", "INTEGER", "BOOLEAN", "TEXT", "DATE", "MONTH", "NULL", "NOTHING", "ANY",
           "list_of", "map_of", "text_of", "optional", "required", "is_number", "show", "parse", "join",
           "accepts", "of_value", "shown_value", "key_value", "finite_values"]
