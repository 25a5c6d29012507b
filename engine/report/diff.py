"""`policy diff`: what a revision changes, in data (parameters, tables, tiers, formulas,
conditions, result, dates) and in outcomes (every case of the policy under both versions),
with a chart of the main output against its main input where the policy names one."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ..run.cases import load_cases
from .decision import to_plain
from .explain import num
from ..values import sentence, with_unit
from .document import Doc
from ..errors import Diagnostic, PolicyError
from ..compile.model import Version
from ..kinds import KINDS
from .render import describe
from ..run.ruleset import RuleSet
from .chart import chart, chart_files
from ..run.versions import fmt_ts


@dataclass(frozen=True)
class Change:
    what: str       # parameter, table, formula, ...
    name: str
    change: str     # added | removed | changed
    old: str
    new: str


def _with_meta(text: str, **meta) -> str:
    """A node's value with what it says about itself: a new source or assumption is a change."""
    notes = "; ".join(f"{k}: {v}" for k, v in meta.items() if v)
    return f"{text} [{notes}]" if notes else text


def _params(v: Version) -> dict:
    return {p.name: _with_meta(with_unit(p.value, p.unit) if not isinstance(p.value, (list, tuple))
                               else ", ".join(p.value),
                               unit=p.unit, source=p.source, assumed=p.assumed)
            for p in v.parameters.values()}


def _construct(kind):
    """name -> text of each part of the version's constructs of this kind (engine.kinds)."""
    return lambda v: {k: x for t in getattr(v, kind.SECTION).values() for k, x in kind.diff_entries(t).items()}


def _formulas(v: Version) -> dict:
    return {(f"{f.scope}." if f.scope else "") + f.name: _with_meta(describe(f), **dict(f.meta)) for f in v.plan}


def _conditions(v: Version) -> dict:
    out = {}
    for c in v.conditions:   # a code may be raised by several conditions: each is compared with its like
        key = (f"{c.scope}: " if c.scope else "") + c.code
        n = sum(1 for k in out if k == key or k.startswith(key + " #"))
        out[key if not n else f"{key} #{n + 1}"] = _with_meta(
            f"when {c.when.text if c.when else ''} ({c.severity}): {sentence(c.message)}", **dict(c.meta))
    return out


def _result(v: Version) -> dict:
    out = {}

    def walk(fields, prefix):
        for f in fields:
            if f.kind == "value":
                out[prefix + f.key] = (f.ref.name if f.ref else "") + (f" round {f.rounding.name}" if f.rounding else "")
            elif f.kind in ("each", "object"):
                out[prefix + f.key] = f.kind
                walk(f.fields, prefix + f.key + ("[]." if f.kind == "each" else "."))
            else:
                out[prefix + f.key] = f.kind
    walk(v.result, "")
    return out


def _meta(v: Version) -> dict:
    return {"title": v.title, "effective_from": str(v.effective_from), "published": fmt_ts(v.published),
            "source": f"{v.source['document']} ({v.source['date']})", "facts_schema": v.facts_schema,
            "assumptions": str(len(v.assumptions()))}


def data_diff(old: Version, new: Version) -> list[Change]:
    changes = []
    parts = [("version", _meta), ("parameter", _params)] + [(k.WORD, _construct(k)) for k in KINDS] + \
        [("formula", _formulas), ("condition", _conditions), ("result", _result)]
    for what, get in parts:
        a, b = get(old), get(new)
        for name in list(a) + [k for k in b if k not in a]:
            if name not in b:
                changes.append(Change(what, name, "removed", a[name], ""))
            elif name not in a:
                changes.append(Change(what, name, "added", "", b[name]))
            elif a[name] != b[name]:
                changes.append(Change(what, name, "changed", a[name], b[name]))
    return changes


def _leaves(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        for i, v in enumerate(value):
            key = v.get("id", v.get("account", i)) if isinstance(v, dict) else i
            yield from _leaves(v, f"{prefix}[{key}]")
    else:
        yield prefix, value


@dataclass(frozen=True)
class Outcome:
    case: str
    key: str
    old: object
    new: object

    @property
    def delta(self) -> Decimal | None:
        try:
            return Decimal(str(self.new)) - Decimal(str(self.old))
        except (ArithmeticError, ValueError, TypeError):
            return None


def outcome_diff(rules: RuleSet, policy: str, old: str, new: str):
    """(rows of changed results, number of cases, names of cases that changed, errors)."""
    rows, changed, errors, count = [], [], [], 0
    for case in load_cases(rules, [policy], checked=False):
        count += 1
        results = {}
        for version in (old, new):
            try:
                d = rules.evaluate(policy, case.facts, as_of=case.as_of, known_at=case.known_at, version=version,
                                   facts_name=case.name)
                results[version] = dict(_leaves(to_plain(d.result)))
            except PolicyError as exc:
                results[version] = None
                errors.append(f"{case.name} under {version}: {exc.diagnostics[0]}")
        a, b = results[old], results[new]
        if a is None or b is None:
            continue
        # keys in both versions that changed; keys only one version has are data changes (result)
        case_rows = [Outcome(case.name, k, a[k], b[k]) for k in a if k in b and a[k] != b[k]]
        if case_rows:
            changed.append(case.name)
            rows.extend(case_rows)
    return rows, count, changed, errors


def diff_document(rules: RuleSet, policy: str, old: Version, new: Version, with_chart: bool) -> Doc:
    doc = Doc(f"{policy}: {old.version} → {new.version}")
    doc.p(f"{old.version}: effective {old.effective_from}, published {fmt_ts(old.published)}. "
          f"{new.version}: effective {new.effective_from}, published {fmt_ts(new.published)}.")
    changes = data_diff(old, new)
    doc.h(1, f"What the data changes ({len(changes)})")
    if changes:
        doc.table(["what", "name", "change", old.version, new.version],
                  [[c.what, c.name, c.change, c.old, c.new] for c in changes])
    else:
        doc.p("Nothing: the two versions hold the same data.")
    rows, count, changed, errors = outcome_diff(rules, policy, old.version, new.version)
    doc.h(1, "What the outcomes change")
    moves = [r for r in rows if r.delta is not None]
    summary = f"{len(changed)} of {count} case{'' if count == 1 else 's'} change{'s' if len(changed) == 1 else ''}"
    if moves:
        big = max(moves, key=lambda r: abs(r.delta))
        summary += f"; the largest move is {big.key} in {big.case}: {_shown(big.old)} → {_shown(big.new)} " \
                   f"({'+' if big.delta > 0 else ''}{num(big.delta)})"
    doc.p(summary + ". Result keys that only one version has are listed above, under result.")
    if rows:
        doc.table(["case", "result", old.version, new.version, "change"],
                  [[r.case, r.key, _shown(r.old), _shown(r.new),
                    ("+" if r.delta > 0 else "") + num(r.delta) if r.delta is not None else ""] for r in rows])
    for e in errors:
        doc.p(f"Not compared: {e}")
    if with_chart:
        doc.h(1, "Chart")
        files = chart_files(rules, policy)
        for path in files:
            doc.svg(*chart(rules, policy, [old.version, new.version], path))
        if not files:
            doc.p(f"No chart: rules/{policy}/charts/ has no chart file.")
    return doc


def _shown(value) -> str:
    if isinstance(value, str):
        try:
            return num(Decimal(value))
        except ArithmeticError:
            return value
    return num(value)


__all__ = ["data_diff", "outcome_diff", "diff_document", "Change", "Diagnostic", "Path"]
