"""How each kind of formula is evaluated: one table, one entry a kind.

Each evaluator gets the formula, a function that evaluates one of its parts (an
expression, by role), and a warn function; it returns (value, trace details).
"""
from __future__ import annotations

from decimal import Decimal

from ..errors import EvaluationError


def _marginal(table, amount):
    """Progressive: each band [from, to) is charged at its own value."""
    total, rows = Decimal(0), []
    for row in table.rows:
        top = amount if row.high is None else min(amount, row.high)
        portion = max(Decimal(0), top - row.low)
        part = portion * row.value
        total += part
        rows.append({"from": row.low, "to": row.high, "value": row.value, "portion": portion, "amount": part})
    return total, rows


def _lookup(table, amount):
    """Flat: the value of the row whose [from, to) holds the amount."""
    for row in table.rows:
        if amount >= row.low and (row.high is None or amount < row.high):
            return row.value, [{"from": row.low, "to": row.high, "value": row.value, "applies": True}]
    raise EvaluationError(f"{amount} is below the first row of table '{table.name}'", "data")


def _tiers(f, part, warn):
    amount = part("of")
    if amount is None or isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
        raise EvaluationError(f"table '{f.spec['table'].name}' needs a number, found {amount!r}", "type")
    method = f.spec["method"]
    value, rows = (_marginal if method == "marginal" else _lookup)(f.spec["table"], Decimal(amount))
    return value, {"tiers": f.spec["table"].name, "method": method, "of": f.text, "rows": rows}


def _map(f, part, warn):
    """Entries keyed by typed values (the compiler's type pass converted the keys to the
    types of the lookup expressions), so true finds `true:` and 7 finds `7:`."""
    table, node = f.spec["map"], f.spec["entries"]
    keys = [part(f"at[{i}]") for i in range(len(table.keys))]
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            shown = ", ".join(_shown(k) for k in keys)
            if not table.has_missing:   # the type pass makes sure every possible key has an entry
                raise EvaluationError(f"map '{table.name}' has no entry for ({shown})", "data")
            if table.warn_missing:
                warn("NO_MAP_ENTRY", f"map '{table.name}' has no entry for ({shown}); {_shown(table.missing)} is used")
            return table.missing, {"map": table.name, "at": keys, "missing": True}
        node = node[key]
    return node, {"map": table.name, "at": keys}


def _shown(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return "null" if value is None else str(value)


def _switch(f, part, warn):
    """The case whose (typed) value the switch value equals, else the default."""
    on = part("on")
    label = f.spec["cases"].get(on)
    if label is not None:
        return part(label), {"switch": on, "case": label[5:]}
    if any(name == "default" for name, _ in f.parts):
        return part("default"), {"switch": on, "case": "default"}
    raise EvaluationError(f"no case for {_shown(on)} and no default", "data")


def _bands(f, part, warn):
    """The highest band whose lower bound the value reaches; a band with
    stay_until_below holds a value that was in it (previous) until the value drops
    below that bound. A null value falls in the `when_null` band."""
    bands, when_null = f.spec["bands"], f.spec["when_null"]
    value = part("of")
    previous = part("previous") if f.spec["has_previous"] else None
    names = [b.name for b in bands]
    if value is None:
        if when_null is None:
            raise EvaluationError("the value is null and no band is named for null", "data")
        return when_null, {"bands": names, "of": value, "previous": previous, "why": "value is null"}
    index = 0
    for i, band in enumerate(bands):
        if band.low is not None and value >= band.low:
            index = i
    why = f"{value} reaches {bands[index].name}" if bands[index].low is not None else "below every threshold"
    if previous in names:
        held = names.index(previous)
        sticky = bands[held].stay_until_below
        if held > index and sticky is not None and value >= sticky:
            index = held
            why = f"stays {previous} until below {sticky}"
    return bands[index].name, {"bands": names, "of": value, "previous": previous, "why": why}


# A plain expression ("expr") needs no entry: evaluate._run_formula runs it directly.
KINDS = {"tiers": _tiers, "map": _map, "switch": _switch, "bands": _bands}
