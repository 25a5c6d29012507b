"""What every construct says of itself beside its data (description, unit, source, assumed),
as its document section opens and as one entry of a diff."""
from __future__ import annotations


def render_head(doc, title: str, t) -> None:
    """The section's heading, then its unit and source, then its assumption, flagged."""
    doc.h(2, title + (f": {t.description}" if t.description else ""))
    notes = [x for x in (t.unit and f"unit: {t.unit}", t.origin and f"source: {t.origin}") if x]
    if notes:
        doc.p("; ".join(notes))
    if t.assumed:
        doc.p(t.assumed, flag=True)


def diff_text(t) -> str:
    """'unit: ...; source: ...; assumed: ...', what of them is given."""
    return "; ".join(f"{k}: {v}" for k, v in (("unit", t.unit), ("source", t.origin), ("assumed", t.assumed)) if v)
