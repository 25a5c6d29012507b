"""The compiled, immutable shape of a policy version. Built by engine.compile, read by
engine.run.

Nothing here is mutated after loading, so one loaded rule set is safe to share between
threads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..values import show
from .expressions import Expression


def _shown(value) -> str:
    """A rule value as a person reads it (engine.values)."""
    return show(value, "readable")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any
    unit: str | None
    source: str | None
    assumed: str | None
    where: str
    description: str | None = None


@dataclass(frozen=True)
class Input:
    name: str
    path: tuple[str, ...]
    type: Any                      # an engine.types.Type
    default: Any
    has_default: bool
    where: str


@dataclass(frozen=True)
class Ref:
    """How a name in an expression is found: `kind` is param, value (an input or formula
    `up` scopes above) or child (the list of a field over a child collection's items)."""

    name: str
    kind: str
    target: str
    up: int = 0
    child: str | None = None
    via: tuple = ()                # child: the collections from the reading scope down to the items
    filter: Any = None             # child: (condition Expression, its refs), evaluated per item

    def keys(self):
        """(scope, name) of every value this reads: what must be computed first."""
        if self.kind in ("value", "child"):
            yield (self.child, self.target)
        if self.filter is not None:
            for ref in self.filter[1]:
                yield from ref.keys()


@dataclass(frozen=True)
class Formula:
    """A named value: an expression (`parts` holds it as ('expr', Expression)), evaluated
    once per item of its scope; the tables and tiers it calls are functions of it."""

    name: str
    scope: str                     # qualified scope name, '' for the top level
    kind: str
    text: str                      # as written, for traces and renderings
    parts: tuple[tuple[str, Expression], ...] = ()
    spec: Any = None
    refs: tuple[Ref, ...] = ()
    where: str = ""
    meta: tuple = ()               # (key, text) of description, unit, source, assumed, as written

    def part(self, label: str) -> Expression:
        for name, expr in self.parts:
            if name == label:
                return expr
        raise KeyError(label)


@dataclass(frozen=True)
class Condition:
    code: str
    scope: str
    when: Expression
    refs: tuple[Ref, ...]
    message: str
    message_refs: tuple[Ref, ...]
    severity: str                  # violation | warning | facts
    path: str | None               # for severity facts: the JSON path the error names
    where: str
    item: Ref | None = None        # what the violation names (default: the for_each item's key)
    meta: tuple = ()               # (key, text) of description, source, assumed, as written
    message_fields: tuple = ()     # (text, Expression, refs, format spec) of each {field} of the message
    message_parts: tuple = ()      # the message: text, and the index of a field where it goes


@dataclass(frozen=True)
class Rounding:
    name: str
    quantum: Decimal
    mode: str


@dataclass(frozen=True)
class ResultField:
    """One key of the result: `kind` value | each | violations | no_violations."""

    key: str
    kind: str                      # value | each | object | violations | violation_codes | no_violations
    ref: Ref | None = None
    rounding: Rounding | None = None
    scope: str | None = None       # for each: the child scope
    fields: tuple["ResultField", ...] = ()
    item_key_as: str | None = None
    when: Ref | None = None        # for object: null unless this is true


@dataclass
class Scope:
    """A level of evaluation: the top level, or a collection evaluated once per item."""

    name: str                      # collection name ('' at the top)
    qualified: str                 # 'a.b' path of collection names ('' at the top)
    path: tuple[str, ...]          # where the list is in the parent item's facts
    key: str | None
    entries: tuple[str, str] | None = None   # an object's entries as items: (key input, value input)
    facts_base: tuple = ()                   # the facts-schema path of its items ('[]' an array's items)
    inputs: dict[str, Input] = field(default_factory=dict)
    formula_names: tuple[str, ...] = ()
    children: dict[str, "Scope"] = field(default_factory=dict)
    parent: "Scope | None" = None
    where: str = ""


@dataclass(frozen=True)
class Version:
    policy: str
    version: str
    title: str
    source: dict
    published: datetime
    effective_from: date
    assumed: tuple[dict, ...]
    notes: tuple[str, ...]
    facts_schema: str
    facts_validator: Any
    facts_fast_check: Any          # a predicate (fastschema), or None: jsonschema decides alone
    as_of_default: Formula | None
    parameters: dict[str, Parameter]
    constructs: dict                # section (tiers, tables: engine.kinds) -> name -> construct; read as v.tables
    root: Scope
    scopes: dict[str, Scope]
    plan: tuple[Formula, ...]       # formulas in dependency order
    conditions: tuple[Condition, ...]
    result: tuple[ResultField, ...]
    digest: str
    path: str
    warnings: tuple = ()            # Diagnostics: unused data, formulas no result reaches
    dated: tuple = ()               # shared.SharedItem this version reads: their values are chosen per decision
    dated_names: tuple = ()
    variants: dict = field(default_factory=dict, compare=False, repr=False)   # selection -> Version
    schedule: tuple = ()            # the run order: engine.schedule (formulas, and facts conditions before them)
    plan_order: dict = field(default_factory=dict, compare=False, repr=False)      # id(formula) -> place in plan
    condition_needs: dict = field(default_factory=dict, compare=False, repr=False)  # index -> formula keys
    readers: dict = field(default_factory=dict, compare=False, repr=False)  # id(formula) -> evaluate.readers
    bound: dict = field(default_factory=dict, compare=False, repr=False)    # id(formula or condition) -> closures
    where_dates: str = ""           # file:line:col of effective_from
    where_assumed: tuple = ()       # file:line:col of each version-level assumption
    result_types: dict = field(default_factory=dict, compare=False, repr=False)  # id(ResultField) -> Type
    value_types: dict = field(default_factory=dict, compare=False, repr=False)   # (scope, name) -> Type
    call_sites: dict = field(default_factory=dict, compare=False, repr=False)    # (scope, name) -> typed call
    facts_schema_doc: Any = field(default=None, compare=False, repr=False)       # the facts JSON Schema, as data
    generated: dict = field(default_factory=dict, compare=False, repr=False)     # engine.compile.generate: source, functions
    by_dates: dict = field(default_factory=dict, compare=False, repr=False)      # (as_of, known_at) -> variant, recent ones

    def __getattr__(self, name):
        """v.tables, v.tiers: the constructs of each kind (engine.kinds), by section."""
        constructs = self.__dict__.get("constructs")
        if constructs is not None and name in constructs:
            return constructs[name]
        raise AttributeError(name)

    def for_dates(self, as_of, known_at) -> "Version":
        """This version with the shared values in effect on as_of, among those published by
        known_at (itself when it reads none). NoVersionError when a value it reads has none."""
        if not self.dated:
            return self
        cache = self.by_dates   # the same dates: the same variant
        found = cache.get((as_of, known_at))
        if found is not None:
            return found
        selection = []
        for item in self.dated:
            index = item.select(as_of, known_at)
            if index is None:
                raise item.none_in_effect(as_of, known_at)
            selection.append(index)
        variant = self.variants[tuple(selection)]
        if len(cache) > 256:
            cache.clear()
        cache[(as_of, known_at)] = variant
        return variant

    def assumptions(self) -> list[tuple[str, str]]:
        """(where, what is assumed and why) for everything this version marks as assumed."""
        out = [(where, f"{a['what']}: {a['why']}")
               for a, where in zip(self.assumed, self.where_assumed or (self.path,) * len(self.assumed))]
        out += [(p.where, f"parameter '{p.name}' = {_shown(p.value)}: {p.assumed}") for p in self.parameters.values() if p.assumed]
        from ..kinds import KINDS
        out += [(t.where, f"{k.WORD} '{t.name}': {t.assumed}") for k in KINDS
                for t in getattr(self, k.SECTION).values() if t.assumed]
        out += [(f.where, f"formula '{f.name}': {dict(f.meta)['assumed']}") for f in self.plan if dict(f.meta).get("assumed")]
        out += [(c.where, f"condition {c.code}: {dict(c.meta)['assumed']}") for c in self.conditions
                if dict(c.meta).get("assumed")]
        return out
