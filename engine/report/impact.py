"""`policy impact`'s report (DESIGN section 6): the contract's JSON object from a Tally, and
a document for a reviewer (text, Markdown, or one self-contained HTML page with a histogram
of the change per line, the top movers with their key inputs, the category shifts and the
data diff of the two versions)."""
from __future__ import annotations

import html
import json
from decimal import Decimal

from ..run.impact import _EXACT, Tally, bucket_floor
from ..values import json_scalar
from .diff import data_diff
from .document import Doc
from .explain import num
from ..run.versions import fmt_ts


def as_json(tally: Tally, order: list[str]) -> dict:
    """The contract's object. order: the result keys as the versions list them (the
    numbers and categories are written in that order, whatever order lines came in)."""
    rank = {key: i for i, key in enumerate(order)}

    def ordered(keys):
        return sorted(keys, key=lambda k: (rank.get(k, len(rank)), k))

    numbers = {}
    for key in ordered(tally.numbers):
        n = tally.numbers[key]
        delta = None if n.old_total is None or n.new_total is None else _EXACT.subtract(n.new_total, n.old_total)
        numbers[key] = {"old_total": _text(n.old_total), "new_total": _text(n.new_total), "delta": _text(delta),
                        "increased": n.increased, "decreased": n.decreased, "unchanged": n.unchanged,
                        "largest_increase": _move(max(n.up, default=None)),
                        "largest_decrease": _move(max(n.down, default=None))}
        if n.not_compared:   # a number under one version, text, yes/no or null under the other
            numbers[key]["not_compared"] = n.not_compared
    categories = {key: dict(sorted(tally.categories[key].items(), key=lambda kv: (-kv[1], kv[0])))
                  for key in ordered(tally.categories) if tally.categories[key] is not None}
    out = {"policy": tally.policy,
           "old": {"version": tally.old[0], "digest": tally.old[1]},
           "new": {"version": tally.new[0], "digest": tally.new[1]},
           "population": tally.population, "failed": tally.failed, "changed": tally.changed,
           "numbers": numbers, "categories": categories,
           "failures": [{"line": line, "error": error} for line, error in tally.failures]}
    uncounted = [key for key in ordered(tally.categories) if tally.categories[key] is None]
    if uncounted:
        out["uncounted_categories"] = uncounted   # more distinct old -> new pairs than a report can hold
    return out


def to_json(tally: Tally, order: list[str]) -> str:
    return json.dumps(as_json(tally, order), indent=2, ensure_ascii=False) + "\n"


def _text(value: Decimal | None):
    return None if value is None else json_scalar(value)


def _move(entry) -> dict | None:
    if entry is None:
        return None
    _size, _neg_line, line, old, new, _inputs = entry
    return {"line": line, "old": json_scalar(old), "new": json_scalar(new)}


def order_of(*versions) -> list[str]:
    keys = []
    for v in versions:
        keys += [f.key for f in v.result if f.key not in keys]
    return keys


# -- for a reviewer ---------------------------------------------------------------------------------

def document(tally: Tally, order: list[str], old_version, new_version, with_chart: bool) -> Doc:
    data = as_json(tally, order)
    doc = Doc(f"{tally.policy}: what {tally.new[0]} does to the population, against {tally.old[0]}")
    if old_version is not None:   # which rules, exactly
        doc.table(["version", "effective from", "published", "digest"],
                  [[v.version, str(v.effective_from), fmt_ts(v.published), v.digest]
                   for v in (old_version, new_version)])
    decided = tally.population - tally.failed
    doc.p(f"{tally.population:,} lines: {decided:,} decided under both versions, {tally.failed:,} failed; "
          f"{tally.changed:,} changed (a number both versions give differs).")
    doc.h(1, "Numbers")
    if data["numbers"]:
        def moves(n, name):   # blank where one version lacks the key: nothing was compared
            return "" if n["old_total"] is None or n["new_total"] is None else f"{n[name]:,}"
        doc.table(["result", f"total under {tally.old[0]}", f"total under {tally.new[0]}", "change", "up", "down",
                   "same"],
                  [[key, _num(n["old_total"]), _num(n["new_total"]), _signed(n["delta"]), moves(n, "increased"),
                    moves(n, "decreased"), moves(n, "unchanged")] for key, n in data["numbers"].items()])
        one_sided = [key for key, n in data["numbers"].items() if n["old_total"] is None or n["new_total"] is None]
        if one_sided:
            doc.p(f"Only one version has {', '.join(one_sided)}: their totals are shown, and no line is compared.")
    else:
        doc.p("No result is a decimal number in both versions.")
    for key in data["numbers"]:   # in the report's order, whatever order the partitions merged in
        number = tally.numbers[key]
        if not (number.up or number.down):
            continue
        for title, entries, count in (("rises", number.up, number.increased), ("falls", number.down, number.decreased)):
            if not entries:
                continue
            movers = sorted(entries, reverse=True)
            doc.h(2, f"{key}: the largest {title} ({len(movers)} of {count:,} lines)")
            inputs = []
            for entry in movers:
                inputs += [k for k, _ in (entry[5] or ()) if k not in inputs]
            doc.table(["line", tally.old[0], tally.new[0], "change", *inputs],
                      [[f"{e[2]:,}", num(e[3]), num(e[4]), _signed(json_scalar(_EXACT.subtract(e[4], e[3]))),
                        *[_input(dict(e[5] or ()), k) for k in inputs]] for e in movers])
            if len(movers) < count and movers[-1][0] == movers[0][0]:
                doc.p("These moves are equal: the earliest lines are shown.")
        if with_chart:
            doc.svg(histogram(number.bins, key), f"lines by the change of {key} per line ({tally.old[0]} → "
                                                 f"{tally.new[0]}); each bar from its label up to the next step of "
                                                 "1, 2, 5 × 10ⁿ")
    doc.h(1, "Text and yes/no results: old → new")
    moved = {key: {pair: n for pair, n in pairs.items() if _moved(pair)} for key, pairs in data["categories"].items()}
    if any(moved.values()):
        doc.table(["result", "old → new", "lines"],
                  [[key, pair.replace(" -> ", " → "), f"{n:,}"] for key, pairs in moved.items()
                   for pair, n in pairs.items()])
    same = [key for key, pairs in moved.items() if not pairs]
    if same:
        doc.p(f"The same under both versions for every line: {', '.join(same)}.")
    if not data["categories"]:
        doc.p("None.")
    for key in data.get("uncounted_categories", []):
        doc.p(f"{key}: more than a thousand distinct old → new pairs; not counted.")
    if tally.failures:
        doc.h(1, f"Failed lines ({tally.failed:,}; the first {len(tally.failures)})")
        doc.table(["line", "error"], [[f"{line:,}", error] for line, error in tally.failures])
    if old_version is not None:
        changes = data_diff(old_version, new_version)
        doc.h(1, f"What the data changes ({len(changes)})")
        if changes:
            doc.table(["what", "name", "change", tally.old[0], tally.new[0]],
                      [[c.what, c.name, c.change, c.old, c.new] for c in changes])
        else:
            doc.p("Nothing: the two versions hold the same data.")
    return doc


def _moved(pair: str) -> bool:
    old, _, new = pair.partition(" -> ")
    return old != new


def _num(text) -> str:
    return "(none)" if text is None else num(Decimal(text))


def _signed(text) -> str:
    if text is None:
        return ""
    value = Decimal(text)
    return ("+" if value > 0 else "") + num(value)


def _input(values: dict, key: str) -> str:
    if key not in values:
        return ""
    value = values[key]
    return "true" if value is True else "false" if value is False else "null" if value is None else num(value)


def histogram(bins: dict, key: str) -> str:
    """An SVG bar chart of lines by their change: every bucket from the largest fall to the
    largest rise (empty ones too, so the scale is even), each labelled with its lower edge;
    a bar's tooltip gives its range and count."""
    if not bins:
        return ""
    falls, rises = [b for b in bins if b < 0], [b for b in bins if b > 0]
    buckets = (list(range(min(falls), max(falls) + 1)) if falls else []) + [0] + \
        (list(range(min(rises), max(rises) + 1)) if rises else [])   # each side even, from its smallest move
    width, height, left, bottom, top = 760, 280, 56, 84, 24
    bar = (width - left - 10) / len(buckets)
    most = max(bins.values())
    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{e(key)}: lines by change" font-family="system-ui, sans-serif">',
             f'<text x="{left}" y="14" font-size="12">lines</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#556"/>']
    for i, b in enumerate(buckets):
        n = bins.get(b, 0)
        h = (height - bottom - top) * n / most
        x = left + i * bar
        colour = "#3b6fb6" if b > 0 else "#b6463b" if b < 0 else "#888"
        tip = f"{_range(b)}: {n:,} line{'' if n == 1 else 's'}"
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - bottom - h:.1f}" width="{max(bar - 2, 1):.1f}" '
                     f'height="{h:.1f}" fill="{colour}"><title>{e(tip)}</title></rect>')
        if n and bar >= 26:   # counts only where they fit; the tooltip has them anyway
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom - h - 4:.1f}" font-size="10" '
                         f'text-anchor="middle">{n:,}</text>')
        label = "0" if b == 0 else ("+" if b > 0 else "−") + num(bucket_floor(b))
        if b != 0 and i % max(1, round(13 / bar)) and b != buckets[0] and b != buckets[-1]:
            continue   # every few labels, where the bars are narrow
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 12}" font-size="10" text-anchor="end" '
                     f'transform="rotate(-60 {x + bar / 2:.1f} {height - bottom + 12})">{e(label)}</text>')
    parts.append(f'<text x="{width - 10}" y="{height - 4}" font-size="12" text-anchor="end">'
                 f'change of {e(key)} per line (each bar from its label to the next)</text>')
    parts.append("</svg>")
    return "".join(parts)


def _range(bucket: int) -> str:
    if bucket == 0:
        return "no change"
    lo, hi = num(bucket_floor(bucket)), num(bucket_floor(abs(bucket) + 1))
    return f"up by {lo} to under {hi}" if bucket > 0 else f"down by {lo} to under {hi}"
