"""`policy render`: a version as a document a reviewer reads beside its source."""
from __future__ import annotations

from ..values import sentence, show, with_unit
from .document import Doc
from ..compile.model import Formula, Version
from ..kinds import SECTIONS
from ..run.versions import fmt_ts


def describe(f: Formula) -> str:
    """A formula in one line: its expression."""
    return f.text


def meta_text(meta, skip=()) -> str:
    """A node's own notes (description, unit, source, assumed) in one line."""
    return "; ".join(f"{k}: {v}" if k != "description" else v for k, v in meta if k not in skip)


def _items_path(scope) -> str:
    """Where a collection's items are in the facts, as a JSON path ('a[].b[].')."""
    parts = []
    while scope is not None and scope.qualified:
        parts.append(".".join(scope.path) + "[]")
        scope = scope.parent
    return ".".join(reversed(parts)) + "." if parts else ""


def _value(v, unit=None) -> str:
    return "(none)" if isinstance(v, (list, tuple)) and not v else with_unit(v, unit)


def render(v: Version) -> Doc:
    doc = Doc(f"{v.policy} {v.version}: {v.title}")
    doc.h(1, "Version")
    doc.table(["", ""], [
        ["policy", v.policy], ["version", v.version], ["effective from", str(v.effective_from)],
        ["published", fmt_ts(v.published)], ["source", f"{v.source['document']} ({v.source['date']})"],
        ["rule file", v.path], ["digest", v.digest]])
    if v.source.get("note"):
        doc.p(v.source["note"])
    for also in v.source.get("also", ()):
        doc.p(f"Also: {also}")
    for note in v.notes:
        doc.p(note)
    assumptions = v.assumptions()
    doc.h(1, f"Assumed values ({len(assumptions)})")
    if assumptions:
        doc.table(["where", "what is assumed, and why"], [[w, t] for w, t in assumptions], [True] * len(assumptions))
    else:
        doc.p("None: every value is stated by a source.")

    if v.parameters:
        doc.h(1, "Parameters")
        rows, flags = [], []
        for p in v.parameters.values():
            rows.append([p.name, _value(p.value, p.unit), p.unit or "",
                         p.assumed and f"assumed: {p.assumed}" or p.source or ""])
            flags.append(bool(p.assumed))
        doc.table(["name", "value", "unit", "source"], rows, flags)
    for section, kind in SECTIONS.items():   # tiers, then decision tables: each as its construct shows it
        for obj in getattr(v, section).values():
            kind.render(doc, obj)

    if v.dated:
        doc.h(1, "Shared data, by date")
        doc.p("Values from rules/_shared/ apply from their date, once published: a decision uses the latest in "
              "effect on its as_of among those published by its known_at. The tables above show the values in "
              f"effect on this version's own dates ({v.effective_from}, published {fmt_ts(v.published)}).")
        rows, flags = [], []
        for item in v.dated:
            for dv in item.values:
                o = dv.obj
                shown = _value(o.value) if item.kind == "parameters" else f"{len(o.rows)} rows"
                note = o.assumed and f"assumed: {o.assumed}" or (o.source if item.kind == "parameters" else o.origin) or ""
                rows.append([f"{item.name} ({item.path})", str(dv.effective_from), fmt_ts(dv.published), shown, note or ""])
                flags.append(bool(o.assumed))
        doc.table(["item", "from", "published", "value", "source"], rows, flags)

    doc.h(1, "Inputs (from the facts)")
    rows = []
    for scope in v.scopes.values():
        for inp in scope.inputs.values():
            where = _items_path(scope)
            if scope.entries:   # an object read entry by entry: its keys and its values
                where = f"{_items_path(scope.parent)}{'.'.join(scope.path)}: each entry's " + ("key" if inp.name == scope.entries[0] else "value")
            rows.append([inp.name, where + ".".join(inp.path), str(inp.type),
                         "" if not inp.has_default else _value(inp.default)])
    doc.table(["name", "facts path", "type", "default"], rows)
    collections = [f"{s.qualified}: one item per {'entry of ' + '.'.join(s.path) if s.entries else 'element of ' + '.'.join(s.path)}"
                   + (f", keyed by {s.key}" if s.key else "") for s in v.scopes.values() if s.qualified]
    if collections:
        doc.p("Collections (evaluated per item):")
        doc.ul(collections)

    doc.h(1, "Formulas (in the order they are evaluated)")
    doc.table(["name", "per item of", "expression", "notes"],
              [[f.name, f.scope or "", describe(f), meta_text(f.meta)] for f in v.plan],
              [bool(dict(f.meta).get("assumed")) for f in v.plan])

    if v.conditions:
        doc.h(1, "Conditions")
        doc.table(["code", "severity", "per item of", "raised when", "message", "notes"],
                  [[c.code, c.severity, c.scope, c.when.text if c.when else "", sentence(c.message), meta_text(c.meta)]
                   for c in v.conditions], [bool(dict(c.meta).get("assumed")) for c in v.conditions])

    doc.h(1, "Result")
    rows = []

    def fields(fs, prefix=""):
        for f in fs:
            if f.kind == "value":
                rows.append([prefix + f.key, f.ref.name if f.ref else "", f"{f.rounding.name}: {show(f.rounding.quantum, 'readable')} "
                             f"{f.rounding.mode.removeprefix('ROUND_').lower()}" if f.rounding else ""])
            elif f.kind in ("each", "object"):
                what = f"one per item of {f.scope}" if f.kind == "each" else (f"null unless {f.when.name}" if f.when else "")
                rows.append([prefix + f.key, what, ""])
                fields(f.fields, prefix + f.key + ("[]." if f.kind == "each" else "."))
            else:
                rows.append([prefix + f.key, {"violations": "the violations raised", "violation_codes":
                             "the codes of the violations raised", "no_violations": "true if no violation"}[f.kind], ""])
    fields(v.result)
    doc.table(["key", "from", "rounding"], rows)
    return doc
