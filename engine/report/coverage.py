"""What the YAML cases reach: formulas, the rows of tables and tiers, and conditions, per
policy version, from the cases' decisions (a table's rows are counted wherever it is
called from: formulas, conditions, messages)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..run.cases import Outcome
from ..compile.model import Version
from ..kinds import SECTIONS


def _scope_of(label: str) -> str:
    """'orders[a].lines[3]' -> 'orders.lines'."""
    return re.sub(r"\[[^\]]*\]", "", label or "")


@dataclass
class Coverage:
    version: Version
    reached: set = field(default_factory=set)

    def targets(self) -> list[tuple[str, str]]:
        """(kind, name) of everything a case could reach in this version: formulas, the rows
        of its tables and tiers (as each construct lists them), conditions."""
        out = [("formula", f"{f.scope}.{f.name}" if f.scope else f.name) for f in self.version.plan]
        for section, kind in SECTIONS.items():
            for obj in getattr(self.version, section).values():
                out += [(what, label) for what, label, _key in kind.targets(obj)]
        out += [("condition", f"{c.code}" + (f" ({c.scope})" if c.scope else "")) for c in self.version.conditions]
        return out

    def add(self, outcome: Outcome):
        d = outcome.decision
        if d is None:
            return
        for entry in d.trace:
            scope = _scope_of(entry.get("item", "")) if entry.get("item") else ""
            self.reached.add(("formula", f"{scope}.{entry['name']}" if scope else entry["name"]))
        for section, kind in SECTIONS.items():   # the rows the decision used, whoever called them
            for obj in getattr(self.version, section).values():
                self.reached.update((what, label) for what, label, key in kind.targets(obj) if key in d.reached)
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
