"""The rule data of a version (or of a shared file): parameters, tiers, decision tables and
rounding; the shared items a version uses, with the value chosen for this compilation;
and the digest of what a decision reads."""
from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from ..kinds import KINDS
from .functions import FUNCTIONS
from .model import Parameter, Rounding

ROUNDING_MODES = {"half_up": "ROUND_HALF_UP", "half_even": "ROUND_HALF_EVEN", "half_down": "ROUND_HALF_DOWN",
                  "down": "ROUND_DOWN", "up": "ROUND_UP", "floor": "ROUND_FLOOR", "ceiling": "ROUND_CEILING"}
MAX_QUANTUM_PLACES = 20   # with up to 40 digits before the point, a result still fits in 60 digits


class DataStage:
    def _data(self):
        """Parameters, tiers and decision tables: the rule data of a version or a shared file."""
        d, src, errors = self.doc, self.ctx.src, self.ctx.errors
        self.params = {name: self._parameter(name, spec, ("parameters", name)) for name, spec in
                       (d.get("parameters") or {}).items()}
        seen = {name: "parameter" for name in self.params}
        for kind in KINDS:   # self.tiers, self.tables: by the kind's rule-file key
            setattr(self, kind.SECTION, {name: kind.read(name, spec, (kind.SECTION, name), src, errors)
                                         for name, spec in (d.get(kind.SECTION) or {}).items()})
            for name in getattr(self, kind.SECTION):   # a call names one thing
                if name in FUNCTIONS:
                    self.ctx.error((kind.SECTION, name), f"{kind.WORD} '{name}' has the name of a function; rename it",
                                   key=True)
                elif name in seen:
                    other = seen[name] if seen[name].endswith("s") else f"a {seen[name]}"   # tiers, a table
                    self.ctx.error((kind.SECTION, name), f"{kind.WORD} '{name}' has the name of {other}; "
                                                         "names must be unique", key=True)
                seen.setdefault(name, kind.WORD)

    def _parameter(self, name, spec, at, value_at=None) -> Parameter:
        value = spec["value"]
        value_at = value_at or at + ("value",)
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)   # numbers from rule data are Decimal, whole or not
        elif isinstance(value, list):
            value = tuple(value)
        elif isinstance(value, str) and re.fullmatch(r"-?[0-9][0-9.,_ ]*%?|[-+]?(nan|inf|infinity)", value.strip(),
                                                     re.IGNORECASE):
            self.warnings.append(self.ctx.src.diag(value_at,
                f"parameter '{name}' is the text {value!r}; for a number write it without quotes"
                + (" and as a fraction (0.002% is 0.00002)" if value.strip().endswith("%") else "")))
        return Parameter(name, value, spec.get("unit"), spec.get("source"), spec.get("assumed"),
                         self.ctx.src.where(at, key=True), spec.get("description"))

    def _rounding(self):
        self.rounding = {name: Rounding(name, Decimal(str(spec["quantum"])), ROUNDING_MODES[spec["mode"]])
                         for name, spec in (self.doc.get("rounding") or {}).items()}
        for name, spec in self.rounding.items():
            at = ("rounding", name, "quantum")
            if spec.quantum <= 0:
                self.ctx.error(at, f"quantum must be positive, found {spec.quantum}")
            elif spec.quantum.normalize().as_tuple().digits != (1,) or spec.quantum > 1:
                self.ctx.error(at, f"quantum must be 1 or a power of ten below it (0.1, 0.01, ...), found "
                                   f"{format(spec.quantum, 'f')}: rounding rounds to decimal places")
            elif spec.quantum.normalize().as_tuple().exponent < -MAX_QUANTUM_PLACES:
                self.ctx.error(at, f"quantum {format(spec.quantum, 'f')} has more than {MAX_QUANTUM_PLACES} "
                                   "decimals: numbers keep 60 significant digits, so rounding to it could not be done")

    def _merge_shared(self):
        """The shared items of the files the version uses join its names, each with the value
        chosen for this compilation."""
        items, chosen = self.shared
        own = {"parameters": self.params, **{kind.SECTION: getattr(self, kind.SECTION) for kind in KINDS}}
        self.shared_names = set()
        for name, item in items.items():
            clash = next((k for k, d in own.items() if name in d), None)
            if clash:
                self.ctx.error((clash, name), f"'{name}' is also defined in the shared file {item.path}", key=True)
                continue
            own[item.kind][name] = item.values[chosen[name]].obj
            self.shared_names.add(name)

    def _dated_names(self) -> tuple:
        """The shared items this version reads: their values are chosen per decision."""
        used = self.used | self.used_callables
        return tuple(sorted(n for n in getattr(self, "shared_names", ()) if n in used))

    def _digest(self) -> str:
        """sha256 of the rule file and of the shared values this compilation reads."""
        items, chosen = self.shared
        parts = [items[n].values[chosen[n]].canonical for n in self._dated_names()]
        return "sha256:" + hashlib.sha256(self.raw + b"".join(parts)).hexdigest()
