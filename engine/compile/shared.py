"""Shared rule data (rules/_shared/<name>.yaml) with dated values, as OpenFisca's
parameters have them: each value applies from its date, and counts for a decision only
once published. A decision uses, for each shared item it reads, the latest value whose
`from` is on or before its as_of among those published by its known_at, so a new
rate never rewrites an earlier decision; the decision's digest covers the
values it used, not the whole file.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from ..check import schema as schemacheck
from ..errors import NoVersionError, RuleError
from ..kinds import SECTIONS
from .model import _shown
from ..run.versions import fmt_ts
from ..load.yamlfile import load_yaml

KINDS = {"parameters": "parameter", **{section: kind.WORD for section, kind in SECTIONS.items()}}   # section -> word
_DATING = ("from", "published", "source", "assumed", "note")   # what a dated value says besides its data


@dataclass(frozen=True)
class DatedValue:
    effective_from: date
    published: datetime
    obj: object          # a model.Parameter, or a construct of engine.kinds: the item as of this value
    canonical: bytes     # what a decision's digest covers of it
    where: str


@dataclass(frozen=True)
class SharedItem:
    file: str            # the shared file's name (its stem)
    path: str            # the shared file, for messages
    kind: str            # its section: parameters, or a construct's (tiers, tables)
    name: str
    values: tuple        # DatedValue, ascending by (effective_from, published)

    def select(self, as_of: date, known_at: datetime) -> int | None:
        """The index of the value in effect, or None."""
        best = None
        for i, v in enumerate(self.values):
            if v.effective_from <= as_of and v.published <= known_at:
                best = i   # ascending: the last that applies is the latest
        return best

    def none_in_effect(self, as_of: date, known_at: datetime) -> NoVersionError:
        first = self.values[0]
        return NoVersionError(f"shared {KINDS[self.kind]} '{self.name}' ({self.path}) has no value in effect on "
                              f"{as_of} among those published by {fmt_ts(known_at)}; the first applies from "
                              f"{first.effective_from} (published {fmt_ts(first.published)})")


@dataclass(frozen=True)
class Shared:
    """A rules/_shared/<name>.yaml file."""

    name: str
    path: str
    raw: bytes
    items: dict          # name -> SharedItem

    def assumptions(self) -> list[tuple[str, str]]:
        out = []
        for item in self.items.values():
            for v in item.values:
                o, when = v.obj, f" (from {v.effective_from})" if len(item.values) > 1 else ""
                if getattr(o, "assumed", None):
                    shown = f" = {_shown(o.value)}" if item.kind == "parameters" else ""
                    out.append((v.where, f"{KINDS[item.kind]} '{item.name}'{shown}{when}: {o.assumed}"))
        return out


def _canonical(value):
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(type(value).__name__)


_FAST: dict = {}


def _fast_check(validator):
    """The compiled yes/no check of the shared-file schema (engine.check.fast), once per validator."""
    if id(validator) not in _FAST:
        from ..check.fast import compile_schema
        _FAST.clear()
        _FAST[id(validator)] = (validator, compile_schema(validator.schema))
    return _FAST[id(validator)][1]


def compile_shared(file: Path, display: str, shared_validator, compiler_for) -> Shared:
    """compiler_for(ctx, doc): a compiler whose _parameter/_table/_map build one item."""
    from .context import Ctx
    raw = Path(file).read_bytes()
    src = load_yaml(raw, display)
    ctx = Ctx(src)
    if not isinstance(src.data, dict):
        raise RuleError(src.diag((), "a shared file is a mapping (title, source, parameters, tables, maps)"))
    fast = _fast_check(shared_validator)
    if fast is None or not fast(src.data):   # jsonschema explains; valid files skip it (and its import)
        for path, message, at_key in schemacheck.explain(shared_validator, src.data):
            ctx.error(path, message, at_key)
    if ctx.errors:
        raise RuleError(ctx.errors)
    c = compiler_for(ctx, src.data)
    items = {}
    for kind in KINDS:
        for name, spec in (src.data.get(kind) or {}).items():
            static = {k: v for k, v in spec.items() if k != "values"}
            values, seen = [], {}
            for i, dated in enumerate(spec["values"]):
                at = (kind, name, "values", i)
                eff = date.fromisoformat(dated["from"])
                pub = schemacheck.parse_timestamp(dated["published"])
                if (eff, pub) in seen:
                    ctx.error(at, f"{KINDS[kind]} '{name}' has two values from {eff} published {fmt_ts(pub)} "
                                  f"(the other is value {seen[(eff, pub)] + 1}): which applies would be ambiguous")
                seen[(eff, pub)] = i
                merged = {**static, **{k: v for k, v in dated.items() if k in ("source", "assumed", "note")}}
                if kind == "parameters":
                    obj = c._parameter(name, {**merged, "value": dated["value"]}, at, value_at=at + ("value",))
                else:
                    data = {k: v for k, v in dated.items() if k not in _DATING}
                    obj = SECTIONS[kind].read(name, {**merged, **data}, at, src, ctx.errors)
                canonical = json.dumps({"file": Path(file).stem, "kind": kind, "name": name, "definition": static,
                                        "value": dated}, sort_keys=True, default=_canonical,
                                       ensure_ascii=False).encode("utf-8")
                values.append(DatedValue(eff, pub, obj, canonical, src.where(at)))
            values.sort(key=lambda v: (v.effective_from, v.published))
            items[name] = SharedItem(Path(file).stem, display, kind, name, tuple(values))
    if ctx.errors:
        raise RuleError(ctx.errors)
    return Shared(Path(file).stem, display, raw, items)


def selections(items, extra_dates=(), extra_times=()):
    """Every combination of values the items can have for some (as_of, known_at): the
    selection is constant between the dates values apply from and the times they were
    published, so trying each such date with each such time finds them all. Only
    combinations where every item has a value are returned."""
    dates = sorted({v.effective_from for it in items for v in it.values} | set(extra_dates))
    times = sorted({v.published for it in items for v in it.values} | set(extra_times))
    out = []
    for as_of in dates:
        for known_at in times:
            sel = tuple(it.select(as_of, known_at) for it in items)
            if None not in sel and sel not in out:
                out.append(sel)
    return out
