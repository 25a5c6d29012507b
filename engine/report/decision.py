"""A decision: the result with everything needed to trust it, as JSON or as text."""
from __future__ import annotations

import json
from functools import cached_property
from datetime import date, datetime
from decimal import Decimal

from ..compile.model import Version
from ..values import json_scalar, show
from ..kinds import kind_of_call
from ..run.versions import fmt_ts


def to_plain(value):
    """JSON-ready data, as to_json writes it."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    return json_scalar(value)


_ENCODERS: dict = {}


def _json_default(value):
    """The JSON encoder's hook for what it cannot write itself."""
    plain = json_scalar(value)
    if plain is value:
        raise TypeError(f"{type(value).__name__} is not JSON")
    return plain


class Decision:
    """version, as_of, known_at, result, warnings; raw_trace, raised (indexes of the
    version's conditions raised) and reached ((table or tiers, row) used), for the trace
    and coverage. A decision made by generated code has a `replay` instead: the
    interpreter's run of the same facts, made the first time one of those three is read."""

    def __init__(self, version: Version, as_of: date, known_at: datetime, result: dict, raw_trace, warnings: list,
                 raised: tuple = (), reached: frozenset = frozenset(), replay=None):
        self.version, self.as_of, self.known_at = version, as_of, known_at
        self.result, self.warnings = result, warnings
        self._replay = replay
        if replay is None:
            self.__dict__.update(raw_trace=raw_trace, raised=raised, reached=reached)

    def _replayed(self):
        raw_trace, raised, reached = self._replay()
        self.__dict__.update(raw_trace=raw_trace, raised=raised, reached=reached)

    @cached_property
    def raw_trace(self) -> list:
        self._replayed()
        return self.__dict__["raw_trace"]

    @cached_property
    def raised(self) -> tuple:
        self._replayed()
        return self.__dict__["raised"]

    @cached_property
    def reached(self) -> frozenset:
        self._replayed()
        return self.__dict__["reached"]

    @cached_property
    def trace(self) -> list[dict]:
        """Every named value with the inputs behind it: built when first read, so that a
        caller who wants only the result does not pay for it."""
        from ..run.evaluate import trace_entries
        return trace_entries(self.raw_trace, self.version.plan_order)

    @property
    def policy(self) -> str:
        return self.version.policy

    def _raw(self, trace: bool = True) -> dict:
        head = {"policy": self.version.policy, "version": self.version.version, "digest": self.version.digest,
                "as_of": self.as_of.isoformat(), "known_at": fmt_ts(self.known_at), "result": self.result}
        return {**head, "trace": self.trace, "warnings": self.warnings} if trace else {**head, "warnings": self.warnings}

    def to_dict(self) -> dict:
        """JSON-ready data: Decimals as strings, dates as ISO text."""
        return to_plain(self._raw())

    def to_json(self, indent: int | None = 2, trace: bool = True) -> str:
        """Byte-identical for identical inputs: key order is the rule file's, never a set's.
        Decimals and dates are written by the encoder's hook (no copy of the trace first).
        trace=False leaves the trace out (and it is never built)."""
        encoder = _ENCODERS.get(indent)
        if encoder is None:   # json.dumps builds one a call: these are built once
            encoder = _ENCODERS[indent] = json.JSONEncoder(indent=indent, ensure_ascii=False,
                                                           default=_json_default).encode
        return encoder(self._raw(trace))

    def to_text(self) -> str:
        return render_text(self)


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


def render_text(d: Decision) -> str:
    v = d.version
    head = (f"{v.policy} {v.version} (effective {v.effective_from}, published "
            f"{v.published.strftime('%Y-%m-%d %H:%M UTC')}), as of {d.as_of}, known at {fmt_ts(d.known_at)}")
    lines = [head, f"  {v.title}", f"  source: {v.source['document']} ({v.source['date']})", "", "result"]
    lines += _result_lines(d.result, "  ")
    lines += ["", "how it was computed"]
    collapsed: dict = {}
    for entry in d.trace:
        item = entry.get("item", "")
        if item.count(".") >= 1:   # items of nested collections: one line per formula and parent
            parent, _, leaf = item.rpartition(".")
            key = (parent, leaf.split("[")[0], entry["name"])
            if key not in collapsed:
                collapsed[key] = [entry, []]
                lines.append(key)
            collapsed[key][1].append(entry["value"])
            continue
        lines.extend(_entry_lines(entry))
    out = []
    for line in lines:
        if isinstance(line, tuple):
            entry, values = collapsed[line]
            parent, coll, name = line
            out.append(f"  {parent}.{coll}[*].{name} = {_definition(entry)}: {_summary(values)}")
        else:
            out.append(line)
    if d.warnings:
        out += ["", "warnings"]
        out += [f"  {w.get('path', '') + ': ' if w.get('path') else ''}{w['message']} [{w['code']}]" for w in d.warnings]
    return "\n".join(out) + "\n"


def _definition(entry) -> str:
    """How a traced value was defined, in one phrase: its expression."""
    return entry.get("expr", "?")


def _summary(values) -> str:
    """Values of many items: listed when few, else their count and range."""
    if len(values) <= 4:
        return ", ".join(show(v, 'brief') for v in values)
    if all(isinstance(v, (Decimal, int)) and not isinstance(v, bool) for v in values):
        total = f", total {show(sum(values), 'brief')}"
        return f"{len(values)} items from {show(min(values), 'brief')} to {show(max(values), 'brief')}{total}"
    distinct = list(dict.fromkeys(show(v, 'brief') for v in values))
    return f"{len(values)} items: " + ", ".join(distinct[:4]) + (" ..." if len(distinct) > 4 else "")


def _entry_lines(entry) -> list[str]:
    name = f"{entry['item']}.{entry['name']}" if entry.get("item") else entry["name"]
    where = ", ".join(f"{k} = {show(v, 'brief')}" for k, v in entry.get("inputs", {}).items())
    lines = [f"  {name} = {show(entry['value'], 'brief')} = {entry['expr']}" + (f"  [{where}]" if where else "")]
    for call in entry.get("calls", ()):   # the tables and tiers it called: which rows applied
        lines += [f"      {line}" for line in kind_of_call(call).explain(call)]
    return lines
