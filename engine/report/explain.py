"""A decision as text (`--format text`): the result, then how it was computed, written for a
reviewer who checks it by hand.

- A value the result shows rounded is shown at that rounding, with its name ("0.1963,
  ratio"); JSON keeps full precision.
- A table names the row that applied with its tests and output; tiers show the bands that
  took part of the amount (the rest are folded into one line).
- Values computed only for parts of the result this decision does not show (a what-if
  whose `when` is false) are folded into one line that names them, and so are values of a
  collection that are zero for every item.
"""
from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from ..kinds import kind_of_call
from ..run.versions import fmt_ts
from ..values import show


def num(value) -> str:
    """A value as a person reads it (engine.values, readable)."""
    return show(value, "readable")


def _result_lines(result: dict, indent: str) -> list[str]:
    lines = []
    width = max((len(k) for k in result), default=0)
    for key, value in result.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{indent}{key}")
            for item in value:
                lines.append(f"{indent}  - " + ", ".join(f"{k} {num(v)}" for k, v in item.items()))
        else:
            lines.append(f"{indent}{key.ljust(width)}  {num(value)}")
    return lines


def roundings(version) -> dict:
    """(scope, formula or input name) -> the Rounding a result field shows it at."""
    out = {}

    def walk(fields):
        for f in fields:
            if f.kind == "value" and f.rounding is not None and f.ref is not None and f.ref.kind == "value":
                out.setdefault((f.ref.child, f.ref.target), f.rounding)
            walk(f.fields)
    walk(version.result)
    return out


def shown_parts(version, result: dict) -> set:
    """(scope, name) of every formula the shown result depends on: its fields, less the
    objects this decision shows as null (their `when` is false: a what-if not taken), and
    what those read, and the conditions it raised."""
    todo = []

    def start(ref):
        if ref is not None:
            todo.extend(ref.keys())

    def walk(fields, values):
        for f in fields:
            value = values.get(f.key) if isinstance(values, dict) else None
            start(f.when)
            if f.kind == "object" and f.when is not None and value is None:
                continue   # not shown: what only it reads is a what-if this decision did not take
            start(f.ref)
            sub = value[0] if f.kind == "each" and isinstance(value, list) and value else value
            walk(f.fields, sub if isinstance(sub, dict) else {})

    walk(version.result, result)
    return todo, start


def _reached(version, d) -> set:
    todo, start = shown_parts(version, d.result)
    for index in d.raised:
        c = version.conditions[index]
        for ref in tuple(c.refs) + tuple(c.message_refs) + ((c.item,) if c.item else ()):
            start(ref)
    formulas = {(f.scope, f.name): f for f in version.plan}
    seen: set = set()
    while todo:
        key = todo.pop()
        if key in seen or key not in formulas:
            continue
        seen.add(key)
        for ref in formulas[key].refs:
            start(ref)
    return seen


def _scope_of(entry) -> str:
    """The scope of a trace entry, from its item's label: accounts[a].wallets[spot] -> accounts.wallets."""
    item = entry.get("item", "")
    return ".".join(part.split("[")[0] for part in item.split(".")) if item else ""


def _value(value, rounding) -> str:
    if rounding is not None and isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        rounded = Decimal(value).quantize(rounding.quantum, rounding=rounding.mode or ROUND_HALF_EVEN)
        return f"{show(rounded.copy_abs() if rounded.is_zero() else rounded, 'readable')} ({rounding.name})"
    return show(value, "brief")


def _zero(value) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool) and value == 0


def render_text(d) -> str:
    v = d.version
    head = (f"{v.policy} {v.version} (effective {v.effective_from}, published "
            f"{v.published.strftime('%Y-%m-%d %H:%M UTC')}), as of {d.as_of}, known at {fmt_ts(d.known_at)}")
    lines = [head, f"  {v.title}", f"  source: {v.source['document']} ({v.source['date']})", "", "result"]
    lines += _result_lines(d.result, "  ")
    lines += ["", "how it was computed"]
    rounded = roundings(v)
    used = _reached(v, d)
    folded: list[str] = []
    zeros: dict = {}
    collapsed: dict = {}
    for entry in d.trace:
        scope = _scope_of(entry)
        if (scope, entry["name"]) not in used:
            if entry["name"] not in folded:
                folded.append(entry["name"])
            continue
        item = entry.get("item", "")
        if item.count(".") >= 1:   # items of nested collections: one line per formula and parent
            parent, _, leaf = item.rpartition(".")
            key = (parent, leaf.split("[")[0], entry["name"])
            if key not in collapsed:
                collapsed[key] = [entry, []]
                lines.append(key)
            collapsed[key][1].append(entry["value"])
            continue
        lines.extend(_entry_lines(v, entry, rounded.get((scope, entry["name"])), rounded, scope))
    everywhere: dict = {}   # (collection, formula) -> zero for every item under every parent
    for (_parent, coll, name), (_entry, values) in collapsed.items():
        everywhere[(coll, name)] = everywhere.get((coll, name), True) and all(_zero(x) for x in values)
    out = []
    for line in lines:
        if not isinstance(line, tuple):
            out.append(line)
            continue
        entry, values = collapsed[line]
        parent, coll, name = line
        if everywhere[(coll, name)]:   # folded into one line
            zeros.setdefault(f"{_scope_of(entry)}.{name}", None)
            continue
        rounding = rounded.get((_scope_of(entry), name))
        out.append(f"  {parent}.{coll}[*].{name} = {entry.get('expr', '?')}: {_summary(values, rounding)}")
    if zeros:
        out.append(f"  0 for every item: {', '.join(zeros)}")
    if folded:
        out.append(f"  computed, but nothing shown depends on them (what-ifs this decision did not take): "
                   f"{', '.join(folded)}")
    if d.warnings:
        out += ["", "warnings"]
        out += [f"  {w.get('path', '') + ': ' if w.get('path') else ''}{w['message']} [{w['code']}]" for w in d.warnings]
    return "\n".join(out) + "\n"


def _summary(values, rounding=None) -> str:
    """Values of many items: listed when few, else their count and range."""
    def one(x):
        return _value(x, rounding) if rounding is not None else show(x, "brief")
    if len(values) <= 4:
        return ", ".join(one(x) for x in values)
    if all(isinstance(x, (Decimal, int)) and not isinstance(x, bool) for x in values):
        total = f", total {show(sum(values), 'brief')}"
        return f"{len(values)} items from {one(min(values))} to {one(max(values))}{total}"
    distinct = list(dict.fromkeys(show(x, 'brief') for x in values))
    return f"{len(values)} items: " + ", ".join(distinct[:4]) + (" ..." if len(distinct) > 4 else "")


def _entry_lines(version, entry, rounding, rounded, scope) -> list[str]:
    name = f"{entry['item']}.{entry['name']}" if entry.get("item") else entry["name"]
    where = ", ".join(f"{k} = {_value(x, rounded.get((scope, k)) or rounded.get(('', k)))}"
                      for k, x in entry.get("inputs", {}).items())
    lines = [f"  {name} = {_value(entry['value'], rounding)} = {entry['expr']}" + (f"  [{where}]" if where else "")]
    for call in entry.get("calls", ()):   # the tables and tiers it called: which rows applied
        kind = kind_of_call(call)
        describe = getattr(kind, "explain_in", None)
        shown = describe(call, getattr(version, kind.SECTION).get(call[kind.CALL_KEY])) if describe else \
            kind.explain(call)
        lines += [f"      {line}" for line in shown]
    return lines
