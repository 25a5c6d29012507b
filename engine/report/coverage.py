"""What the YAML cases reach: formulas, tier rows, bands, switch cases and conditions,
per policy version, from the traces of the cases' decisions."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..run.cases import Outcome
from ..compile.model import Version


def _scope_of(label: str) -> str:
    """'orders[a].lines[3]' -> 'orders.lines'."""
    return re.sub(r"\[[^\]]*\]", "", label or "")


@dataclass
class Coverage:
    version: Version
    reached: set = field(default_factory=set)

    def targets(self) -> list[tuple[str, str]]:
        """(kind, name) of everything a case could reach in this version."""
        out = []
        for f in self.version.plan:
            name = f"{f.scope}.{f.name}" if f.scope else f.name
            out.append(("formula", name))
            if f.kind == "tiers" and f.spec["table"]:
                out += [("tier row", f"{f.spec['table'].name} row {i + 1} (from {r.low})")
                        for i, r in enumerate(f.spec["table"].rows)]
            if f.kind == "bands":
                out += [("band", f"{name} = {b.name}") for b in f.spec["bands"]]
            if f.kind == "switch":
                out += [("switch case", f"{name}: {label[5:]}") for label, _ in f.parts if label.startswith("case:")]
        out += [("condition", f"{c.code}" + (f" ({c.scope})" if c.scope else "")) for c in self.version.conditions]
        return out

    def add(self, outcome: Outcome):
        d = outcome.decision
        if d is None:
            return
        for entry in d.trace:
            scope = _scope_of(entry.get("item", "")) if entry.get("item") else ""
            name = f"{scope}.{entry['name']}" if scope else entry["name"]
            self.reached.add(("formula", name))
            if "rows" in entry:
                for i, row in enumerate(entry["rows"]):
                    if row.get("applies") or row.get("portion", 0) > 0:
                        self.reached.add(("tier row", f"{entry['tiers']} row {i + 1} (from {row['from']})"))
            if "bands" in entry:
                self.reached.add(("band", f"{name} = {entry['value']}"))
            if "case" in entry and "switch" in entry:
                self.reached.add(("switch case", f"{name}: {entry['case']}"))
        for index in d.raised:
            c = self.version.conditions[index]
            self.reached.add(("condition", f"{c.code}" + (f" ({c.scope})" if c.scope else "")))

    def report(self) -> tuple[float, list[str]]:
        targets = self.targets()
        missed = [f"{kind} {name}" for kind, name in targets if (kind, name) not in self.reached]
        share = 100.0 * (len(targets) - len(missed)) / len(targets) if targets else 100.0
        return share, missed


def coverage(outcomes: list[Outcome], versions: list[Version]) -> list[Coverage]:
    by_key = {(v.policy, v.version): Coverage(v) for v in versions}
    for o in outcomes:
        cov = by_key.get((o.case.policy, o.version))
        if cov:
            cov.add(o)
    return list(by_key.values())
